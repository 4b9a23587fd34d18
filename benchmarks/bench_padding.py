"""Padding of random versus length-bucketed batches on LJSpeech's length distribution.

    python benchmarks/bench_padding.py --out benchmarks/results/padding.json

LJSpeech itself is not needed: clip lengths are synthesised (13,100 clips, 1.1-10.1 s, mean
6.57 s, 22,050 Hz, hop 256, frames = 1 + samples // 256) by the generator of
bench_ljspeech_scale.py (a clipped normal rescaled to LJSpeech's 86,117 s) and, as a check, by
a beta distribution with the same range and mean. Token counts follow the frames at the rate
of the store that benchmark built (117 tokens per 567 frames) times a log-normal speaking-rate
factor (sd 0.1). Reported: the share of padded mel frames and of padded MAS cells
(``B * T_x * T_y``) per epoch, averaged over epochs, and the time to plan an epoch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's glowtts first

from bench_ljspeech_scale import N_CLIPS, SR, _lengths  # noqa: E402

from glowtts.data.sampler import (  # noqa: E402
    DEFAULT_BUCKET_SIZE,
    BucketBatchSampler,
    mas_padding_fraction,
    padding_fraction,
)

HOP = 256
MIN_S, MAX_S, MEAN_S = 1.1, 10.1, 86_117.0 / N_CLIPS
TOKENS_PER_FRAME = 1_534_274 / 7_423_854  # benchmarks/results/ljspeech_scale.json's store
RATE_SD = 0.1  # log-normal spread of tokens per frame (speaking rate)
BATCH = 32
EPOCHS = 5


def _beta_seconds(rng: np.random.Generator) -> np.ndarray:
    """Beta(3, b) on [1.1, 10.1] with b set for LJSpeech's mean."""
    m = (MEAN_S - MIN_S) / (MAX_S - MIN_S)
    a = 3.0
    return MIN_S + (MAX_S - MIN_S) * rng.beta(a, a * (1 - m) / m, N_CLIPS)


def _distribution(seconds: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    frames = 1 + (seconds * SR).astype(np.int64) // HOP
    rate = TOKENS_PER_FRAME * np.exp(RATE_SD * rng.standard_normal(len(frames)))
    tokens = np.maximum(1, np.round(frames * rate)).astype(np.int64)
    return {"seconds": seconds, "frames": frames, "tokens": tokens}


def _measure(
    plan: Callable[[int], list[np.ndarray]], frames: np.ndarray, tokens: np.ndarray
) -> dict[str, Any]:
    mel: list[float] = []
    cells: list[float] = []
    sizes: list[int] = []
    plan_ms: list[float] = []
    for epoch in range(EPOCHS):
        t0 = time.perf_counter()
        batches = plan(epoch)
        plan_ms.append(1e3 * (time.perf_counter() - t0))
        mel.append(padding_fraction(frames, batches))
        cells.append(mas_padding_fraction(tokens, frames, batches))
        sizes.extend(len(b) for b in batches)
    return {
        "mel_padding": round(float(np.mean(mel)), 4),
        "mas_cell_padding": round(float(np.mean(cells)), 4),
        "batches_per_epoch": round(len(sizes) / EPOCHS, 1),
        "mean_batch_size": round(float(np.mean(sizes)), 2),
        "plan_ms": round(float(np.median(plan_ms)), 2),
    }


def _cases(frames: np.ndarray, tokens: np.ndarray, max_frames: list[int]) -> dict[str, Any]:
    def random_plan(epoch: int) -> list[np.ndarray]:
        order = np.random.default_rng((0, epoch)).permutation(len(frames))
        return [order[i : i + BATCH] for i in range(0, len(order), BATCH)]

    def bucketed(**kwargs: Any) -> Callable[[int], list[np.ndarray]]:
        return BucketBatchSampler(frames, seed=0, **kwargs).epoch_batches

    cases = {f"random_b{BATCH}": _measure(random_plan, frames, tokens)}
    for size in sorted({256, 512, 1024, DEFAULT_BUCKET_SIZE, 4096, len(frames)}):
        plan = bucketed(batch_size=BATCH, bucket_size=size)
        cases[f"bucketed_b{BATCH}_bucket{size}"] = _measure(plan, frames, tokens)
    for budget in max_frames:
        plan = bucketed(max_frames=budget)
        cases[f"bucketed_max_frames{budget}_bucket{DEFAULT_BUCKET_SIZE}"] = _measure(
            plan, frames, tokens
        )
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/padding.json")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    distributions = {
        "clipped_normal": (
            "bench_ljspeech_scale._lengths: normal(6.9 s, 2.3 s) clipped to [1.1, 10.1] s, "
            "rescaled to 86,117 s in all",
            _lengths(np.random.default_rng(0)),
        ),
        "beta": ("Beta(3, b) on [1.1, 10.1] s with LJSpeech's mean", _beta_seconds(rng)),
    }
    result: dict[str, Any] = {
        "note": (
            "synthetic LJSpeech-like lengths (LJSpeech is not used); frames = 1 + samples // 256 "
            "at 22,050 Hz; tokens = frames * 0.2067 * lognormal(0, 0.1); averages over "
            f"{EPOCHS} epochs; default bucket_size {DEFAULT_BUCKET_SIZE}"
        ),
        "distributions": {},
    }
    for name, (description, seconds) in distributions.items():
        d = _distribution(seconds, rng)
        frames, tokens = d["frames"], d["tokens"]
        mean_frames = int(frames.mean())
        result["distributions"][name] = {
            "description": description,
            "clips": len(frames),
            "seconds": {
                "min": round(float(seconds.min()), 2),
                "mean": round(float(seconds.mean()), 2),
                "max": round(float(seconds.max()), 2),
                "sd": round(float(seconds.std()), 2),
            },
            "frames": {"min": int(frames.min()), "mean": mean_frames, "max": int(frames.max())},
            "tokens_mean": round(float(tokens.mean()), 1),
            # Budgets of 32 average clips, and of 32 of the longest (no batch smaller than 32).
            "cases": _cases(frames, tokens, [BATCH * mean_frames, BATCH * int(frames.max())]),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
