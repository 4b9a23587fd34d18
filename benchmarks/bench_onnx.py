"""ONNX vs eager torch: the acoustic model's real-time factor on the CPU, demo and base size.

    python benchmarks/bench_onnx.py --out benchmarks/results/onnx.json [--threads 2]

One 10 s utterance (150 tokens, the length scale set for 861 frames, floored to 860 by the frame pairs, 10 s at
22,050 Hz / hop 256), batch 1, noise 0.667; both sides compute the same thing
(``GlowTTS.generate`` with weight norm folded and the inverse 1x1 weights cached, exported by
``glowtts.export``). Weights are random (perturbed from the initialisation, so no coupling is
the identity): speed does not depend on their values. Median of ``--repeats`` runs after two
warm-up runs; torch and onnxruntime each on ``--threads`` threads. Goal: ONNX at least 1.5x
faster than eager torch on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from glowtts.checkpoint import Checkpoint, build_model  # noqa: E402
from glowtts.config import load  # noqa: E402
from glowtts.export import export_onnx  # noqa: E402
from glowtts.model import GlowTTS  # noqa: E402

TOKENS = 150
FRAMES = 861  # 10.0 s at 22,050 Hz, hop 256


def _voice(preset: list[str]) -> Checkpoint:
    cfg = load(*(REPO / p for p in preset))
    torch.manual_seed(0)
    model = GlowTTS(cfg.model, 148, cfg.audio.n_mels)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    return Checkpoint(config=cfg, n_vocab=148, n_mels=80, model=model.state_dict())


def _median_s(fn: Any, repeats: int) -> float:
    fn()
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(name: str, preset: list[str], threads: int, repeats: int) -> dict[str, Any]:
    import onnxruntime as ort

    ckpt = _voice(preset)
    model = build_model(ckpt).prepare_for_inference()
    tokens = torch.randint(12, 64, (1, TOKENS))
    lengths = torch.tensor([TOKENS])
    with torch.no_grad():  # the length scale that gives FRAMES frames
        _, _, logw, _ = model.encode(tokens, lengths)
        scale = 1.0
        for _ in range(50):
            frames = int(torch.ceil(torch.exp(logw[:, 0]) * scale).sum())
            if abs(frames - FRAMES) <= 1:
                break
            scale *= FRAMES / frames
    args = (torch.tensor(0.667), torch.tensor(scale), torch.tensor(1), torch.ones(1, TOKENS))
    torch.set_num_threads(threads)

    def run_torch() -> None:
        with torch.no_grad():
            model.generate(tokens, lengths, *args)

    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(ckpt, Path(tmp) / "voice.onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        feeds = {
            "tokens": tokens.numpy(),
            "token_lengths": lengths.numpy(),
            "noise_scale": np.array(0.667, np.float32),
            "length_scale": np.array(scale, np.float32),
            "seed": np.array(1, np.int64),
            "duration_scale": np.ones((1, TOKENS), np.float32),
        }
        mel, mel_lengths = session.run(None, feeds)
        with torch.no_grad():
            ref, _, _ = model.generate(tokens, lengths, *args)
        max_diff = float(np.abs(mel - ref.numpy()).max())
        onnx_s = _median_s(lambda: session.run(None, feeds), repeats)
    torch_s = _median_s(run_torch, repeats)
    audio_s = int(mel_lengths[0]) * ckpt.config.audio.hop_length / ckpt.config.audio.sample_rate
    return {
        "size": name,
        "parameters": sum(p.numel() for p in build_model(ckpt).parameters()),  # before folding
        "frames": int(mel_lengths[0]),
        "audio_s": audio_s,
        "torch_eager_s": torch_s,
        "onnxruntime_s": onnx_s,
        "rtf_torch": torch_s / audio_s,
        "rtf_onnx": onnx_s / audio_s,
        "speedup": torch_s / onnx_s,
        "max_abs_diff": max_diff,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import onnxruntime

    rows = [
        bench("demo", ["config/config.yaml"], args.threads, args.repeats),
        bench("base", ["config/config.yaml", "config/ljspeech.yaml"], args.threads, args.repeats),
    ]
    result = {
        "benchmark": "bench_onnx",
        "threads": args.threads,
        "repeats": args.repeats,
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for r in rows:
        print(
            f"{r['size']:5s} {r['parameters']:>10,d} params  {r['audio_s']:.1f} s audio  "
            f"torch {r['torch_eager_s'] * 1000:.0f} ms (RTF {r['rtf_torch']:.4f})  "
            f"onnx {r['onnxruntime_s'] * 1000:.0f} ms (RTF {r['rtf_onnx']:.4f})  "
            f"{r['speedup']:.2f}x  max diff {r['max_abs_diff']:.2g}"
        )


if __name__ == "__main__":
    main()
