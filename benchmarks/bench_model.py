"""Benchmark the Glow-TTS model: base-size CPU training step, CPU inference RTF, GPU step times.

    python benchmarks/bench_model.py --out benchmarks/results/model.json

CPU rows: B = 8, text 100-345 tokens, mel 300-870 frames, fp32, forward + losses + backward +
Adam step, with the convolutions on packed valid frames (the CPU default) and on the padded batch (the reference's frame count;
both fold each coupling's start / end 1x1 convs into the WaveNet: 15 % fewer decoder FLOPs
than the reference). Inference: one 10 s utterance (861 frames at 22,050 Hz / hop 256), mel
only. GPU rows (B = 32; fp32, bf16, fp16 autocast; eager and torch.compile) run only where
CUDA is available.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from glowtts.config import ModelConfig, SynthesisConfig
from glowtts.model import GlowTTS, glowtts_losses

SAMPLE_RATE, HOP = 22050, 256
N_VOCAB, N_MELS = 149, 80


def _batch(B: int, device: torch.device, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """LJSpeech-like lengths: text 100-345 tokens, mel 300-870 frames, spread over the batch."""
    g = torch.Generator().manual_seed(seed)
    x_lens = torch.linspace(100, 345, B).round().long()
    y_lens = torch.linspace(300, 870, B).round().long()
    x = torch.randint(1, N_VOCAB, (B, int(x_lens.max())), generator=g)
    y = torch.randn(B, N_MELS, int(y_lens.max()), generator=g) * 2.0 - 5.0
    for b in range(B):
        x[b, x_lens[b] :] = 0
        y[b, :, y_lens[b] :] = 0
    return tuple(t.to(device) for t in (x, x_lens, y, y_lens))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def train_step_times(
    device: torch.device,
    B: int,
    steps: int,
    warmup: int,
    dtype: torch.dtype | None = None,
    compile_model: bool = False,
    packed: bool | None = None,
    mas_on_host: bool = False,
) -> dict[str, Any]:
    """Median seconds of forward / losses / backward / Adam over ``steps`` timed steps."""
    from glowtts import align

    torch.manual_seed(0)
    model = GlowTTS(ModelConfig(), N_VOCAB, N_MELS).to(device)
    x, xl, y, yl = _batch(B, device)
    model.data_dependent_init(y, yl)
    model.mas_on_host = mas_on_host
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    fwd = torch.compile(model, dynamic=True) if compile_model else model  # as training does
    rows: dict[str, list[float]] = {"step": [], "forward": [], "backward": [], "optimizer": []}
    mas: list[float] = []
    for i in range(warmup + steps):
        _sync(device)
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = fwd(x, xl, y, yl, packed=packed)
            losses = glowtts_losses(out)
        _sync(device)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        scaler.scale(losses.total).backward()
        _sync(device)
        t2 = time.perf_counter()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_value_(model.parameters(), 5.0)
        scaler.step(opt)
        scaler.update()
        _sync(device)
        t3 = time.perf_counter()
        if i >= warmup:
            rows["step"].append(t3 - t0)
            rows["forward"].append(t1 - t0)
            rows["backward"].append(t2 - t1)
            rows["optimizer"].append(t3 - t2)
            lp = out.log_p.float()
            _sync(device)
            t4 = time.perf_counter()
            align.maximum_path(lp, out.x_mask, out.y_mask, on_host=mas_on_host)
            _sync(device)
            mas.append(time.perf_counter() - t4)
    result = {k: statistics.median(v) for k, v in rows.items()}
    result["mas_in_forward"] = statistics.median(mas)
    result["min_step"] = min(rows["step"])
    result["all_steps"] = rows["step"]
    result["loss"] = losses.total.item()
    return result


def inference_rtf(device: torch.device, repeats: int, seconds: float = 10.0) -> dict[str, Any]:
    """Real-time factor of mel generation for one ``seconds``-long utterance."""
    torch.manual_seed(0)
    model = GlowTTS(ModelConfig(), N_VOCAB, N_MELS).to(device)
    model = copy.deepcopy(model).prepare_for_inference()
    frames = int(seconds * SAMPLE_RATE / HOP)  # 861 for 10 s
    T_x = 150  # ~LJSpeech speaking rate: 150 tokens in 10 s
    x = torch.randint(1, N_VOCAB, (1, T_x), device=device)
    xl = torch.tensor([T_x], device=device)
    per = torch.full((1, T_x), frames // T_x, dtype=torch.float32, device=device)
    per[0, : frames - int(per.sum())] += 1  # exactly `frames` frames
    times = []
    for i in range(repeats + 1):
        _sync(device)
        t0 = time.perf_counter()
        out = model.infer(x, xl, noise_scale=SynthesisConfig.noise_scale, durations=per)
        _sync(device)
        if i:
            times.append(time.perf_counter() - t0)
    audio_s = int(out.y_lengths[0]) * HOP / SAMPLE_RATE
    med = statistics.median(times)
    return {
        "frames": int(out.y_lengths[0]),
        "audio_s": audio_s,
        "seconds": med,
        "rtf": med / audio_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--gpu-steps", type=int, default=10)
    parser.add_argument("--note", default="", help="free text stored with the results")
    args = parser.parse_args(argv)

    cpu = torch.device("cpu")
    load_before = os.getloadavg()
    results: dict[str, Any] = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_avg_before": load_before,
        "note": args.note,
    }
    step = train_step_times(cpu, B=8, steps=args.steps, warmup=args.warmup)
    results["cpu_train_step_b8"] = step
    # The same step on the padded batch (the reference's frame count, less the FLOPs of the
    # folded coupling convs). The reference itself is compared only side by side, on one
    # machine, with the same weights and batch: see the README's model benchmark.
    padded = train_step_times(cpu, B=8, steps=args.steps, warmup=args.warmup, packed=False)
    results["cpu_train_step_b8_padded"] = padded
    results["cpu_inference_10s"] = inference_rtf(cpu, repeats=3)
    results["load_avg_after"] = os.getloadavg()

    gpu: dict[str, Any] = {}
    if torch.cuda.is_available():
        dev = torch.device("cuda")
        results["gpu_name"] = torch.cuda.get_device_name(0)
        for name, dtype in (("fp32", None), ("bf16", torch.bfloat16), ("fp16", torch.float16)):
            for compiled in (False, True):
                key = f"{name}{'_compile' if compiled else ''}"
                try:
                    r = train_step_times(dev, 32, args.gpu_steps, 3, dtype, compiled)
                    gpu[key] = {"step": r["step"], "mas": r["mas_in_forward"], "loss": r["loss"]}
                except Exception as exc:  # record the failure, keep measuring the rest
                    gpu[key] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        gpu["inference_10s"] = inference_rtf(dev, repeats=5)
    else:
        gpu = {"status": "not yet measured (no CUDA device here)"}
    results["gpu_train_step_b32"] = gpu

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "gpu_train_step_b32"}, indent=2))
    print(json.dumps(gpu, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
