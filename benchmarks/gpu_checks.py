"""Every GPU check of the training issue in one short run, for a session lent a GPU.

    python benchmarks/gpu_checks.py --out $OUT/gpu_checks.json          # on the GPU machine
    python benchmarks/gpu_checks.py --device cpu --quick --out /tmp/x.json   # a CPU dry run

It measures, at B = 32 with LJSpeech-like lengths (text 100-345 tokens, mel 300-870 frames):
1. MAS on the GPU: the batched torch path vs ``train.mas_on_host`` (pinned copy + OpenMP
   kernel), median ms, and that both give the CPU kernel's indices;
2. the base-size training step (forward + MAS + losses + backward + clipping + Adam) in fp32,
   bf16 and fp16 autocast, eager and ``torch.compile(dynamic=True)``: seconds, mel frames/s,
   peak memory, the MAS share, and the LJSpeech epoch time projected from it (12,500 clips);
3. host synchronisations in a training forward (``torch.cuda.set_sync_debug_mode``): the
   count of synchronising calls beyond MAS's one.
Failures of one measurement are recorded and the others still run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from bench_model import N_MELS, N_VOCAB, _batch, _sync, train_step_times

from glowtts.config import ModelConfig
from glowtts.model import GlowTTS

LJSPEECH_TRAIN_CLIPS = 12_500


def _mas_comparison(device: torch.device, repeats: int) -> dict[str, Any]:
    from glowtts.align import maximum_path, maximum_path_cython

    torch.manual_seed(0)
    model = GlowTTS(ModelConfig(), N_VOCAB, N_MELS).to(device)
    x, xl, y, yl = _batch(32, device)
    model.data_dependent_init(y, yl)
    with torch.no_grad():
        out = model(x, xl, y, yl)
    lp, xm, ym = out.log_p.float(), out.x_mask, out.y_mask
    expected = maximum_path_cython(lp.cpu(), xm.cpu(), ym.cpu())
    result: dict[str, Any] = {"scores_mb": lp.numel() * 4 / 1e6}
    for name, on_host in (("device_torch_path", False), ("host_openmp", True)):
        times = []
        for _ in range(repeats):
            _sync(device)
            t0 = time.perf_counter()
            got = maximum_path(lp, xm, ym, on_host=on_host)
            _sync(device)
            times.append(time.perf_counter() - t0)
        result[name] = {
            "median_ms": 1e3 * statistics.median(times),
            "min_ms": 1e3 * min(times),
            "equal_to_cpu_kernel": bool(torch.equal(got.cpu(), expected)),
        }
    return result


def _sync_count(device: torch.device) -> dict[str, Any]:
    """Synchronising calls in one training forward + losses (MAS needs one)."""
    from glowtts.model import glowtts_losses

    if device.type != "cuda":
        return {"status": "needs CUDA"}
    torch.manual_seed(0)
    model = GlowTTS(ModelConfig(), N_VOCAB, N_MELS).to(device)
    x, xl, y, yl = _batch(8, device)
    model.data_dependent_init(y, yl)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            glowtts_losses(model(x, xl, y, yl)).total.backward()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = [str(w.message).splitlines()[0][:200] for w in caught if "synchroniz" in str(w.message)]
    return {"synchronising_calls": len(syncs), "first": syncs[:10]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="few steps (a dry run of the script)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --device cpu --quick for a dry run")
    steps, repeats, B = (1, 2, 2) if args.quick else (10, 20, 32)
    results: dict[str, Any] = {"torch": torch.__version__, "device": str(device), "batch": B}
    if device.type == "cuda":
        results["gpu"] = torch.cuda.get_device_name(device)
        torch.backends.cuda.matmul.allow_tf32 = True  # as training sets it
        torch.backends.cudnn.allow_tf32 = True
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every measurement: a run cut short keeps what it measured
        args.out.write_text(json.dumps(results, indent=2) + "\n")

    try:
        results["mas_b32"] = _mas_comparison(device, repeats)
    except Exception as exc:
        results["mas_b32"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    save()
    results["sync_debug"] = _sync_count(device)
    save()
    frames = float(_batch(B, torch.device("cpu"))[3].sum())
    precisions = (("fp32", None), ("bf16", torch.bfloat16), ("fp16", torch.float16))
    # eager first, torch.compile (minutes of compilation) last
    for compiled in (False, True) if device.type == "cuda" else (False,):
        for name, dtype in precisions:
            for on_host in (False, True) if not compiled else (False,):
                key = f"step_{name}{'_compile' if compiled else ''}{'_mas_host' if on_host else ''}"
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(device)
                try:
                    r = train_step_times(
                        device,
                        B,
                        steps,
                        1 if args.quick else 3,
                        dtype,
                        compiled,
                        mas_on_host=on_host,
                    )
                    row = {"step_s": r["step"], "frames_per_s": frames / r["step"]}
                    row |= {"loss": r["loss"], "mas_share": r["mas_in_forward"] / r["step"]}
                    row["ljspeech_epoch_min"] = LJSPEECH_TRAIN_CLIPS / B * r["step"] / 60
                    if device.type == "cuda":
                        row["peak_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
                except Exception as exc:
                    row = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                results[key] = row
                save()
                print(key, json.dumps(row), flush=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
