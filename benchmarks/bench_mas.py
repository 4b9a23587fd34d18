"""Benchmark monotonic alignment search, tensor in -> tensor out.

    python benchmarks/bench_mas.py --out benchmarks/results/mas.json [--md benchmarks/mas.md]

Cases: an LJSpeech-like batch (B = 32, text 100-360 tokens, mel 300-870 frames, mel >= text,
seed 0) and one long item (B = 1, 360 tokens x 870 frames). Implementations: the Cython
kernel through ``glowtts.align.maximum_path`` on 1 and 2 threads (and the bare kernel call),
the batched torch implementation on CPU, a serial numpy version written here in the manner
of the reference's numpy fallback (batched over items and tokens, a loop over frames, a
dense direction table and a dense float path out), and torch on CUDA when a GPU is present.
Every implementation's alignment is checked against the Cython one before timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
# Run as a script, sys.path[0] is benchmarks/; put this checkout first so that its in-place
# extension in monotonic_align/ is the one imported.
sys.path.insert(0, str(REPO))

from glowtts.align import maximum_path, maximum_path_torch  # noqa: E402
from monotonic_align import build, load_core  # noqa: E402

REFERENCE_MS = {"B32": 43.0, "B1": 0.5}  # jaywalnut310/glow-tts through its wrapper, 2 cores
NEG_INF = -np.inf


def make_batch(case: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """log_p [B, T_y, T_x] float32 (log-likelihood-like), x_mask [B, 1, T_x], y_mask [B, 1, T_y]."""
    g = torch.Generator().manual_seed(seed)
    if case == "B32":
        B = 32
        x_len = torch.randint(100, 361, (B,), generator=g)
        low = torch.clamp(x_len, min=300)
        y_len = low + (torch.rand(B, generator=g) * (871 - low)).long()  # U[max(300, x), 870]
    else:
        x_len, y_len = torch.tensor([360]), torch.tensor([870])
    T_x, T_y = int(x_len.max()), int(y_len.max())
    log_p = -0.5 * (2.0 * torch.randn(len(x_len), T_y, T_x, generator=g)) ** 2 - 73.5
    x_mask = (torch.arange(T_x) < x_len[:, None]).unsqueeze(1).float()
    y_mask = (torch.arange(T_y) < y_len[:, None]).unsqueeze(1).float()
    return log_p, x_mask, y_mask


def numpy_maximum_path(
    log_p: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor
) -> torch.Tensor:
    """Serial numpy MAS in the reference's fallback style; returns the dense [B, 1, T_x, T_y] path."""
    value = log_p.detach().cpu().numpy().astype(np.float32)  # [B, T_y, T_x]
    x_len = x_mask.sum((1, 2)).long().numpy()
    y_len = y_mask.sum((1, 2)).long().numpy()
    B, T_y, T_x = value.shape
    x = np.arange(T_x)[None, :]
    q = np.full((B, T_x), NEG_INF, dtype=np.float32)
    q[:, 0] = 0.0  # virtual frame -1
    direction = np.zeros((B, T_y, T_x), dtype=np.int64)
    for y in range(T_y):
        prev = np.pad(q, [[0, 0], [1, 0]], constant_values=NEG_INF)[:, :-1]
        from_prev = q < prev
        direction[:, y] = from_prev
        lo = (x_len - y_len + y)[:, None]
        band = (x >= lo) & (x <= y) & (x < x_len[:, None])
        q = np.where(band, np.where(from_prev, prev, q) + value[:, y], NEG_INF)
    path = np.zeros((B, T_x, T_y), dtype=np.float32)
    index = x_len - 1
    rows = np.arange(B)
    for y in reversed(range(T_y)):
        active = y < y_len
        path[rows[active], index[active], y] = 1.0
        index = index - (direction[rows, y, index] * active)
    return torch.from_numpy(path).unsqueeze(1)


def _time(
    fn: Callable[..., Any],
    *args: Any,
    repeats: int,
    sync: Callable[[], None] | None = None,
    before: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """Median, min and p90 wall time of ``fn(*args)`` in ms, after one warm-up call.

    ``before`` runs untimed ahead of every call (e.g. evicting the caches).
    """
    fn(*args)
    times = []
    for _ in range(repeats):
        if before:
            before()
        if sync:
            sync()
        start = time.perf_counter()
        fn(*args)
        if sync:
            sync()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 4),
        "min_ms": round(times[0], 4),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 4),
        "repeats": repeats,
    }


def _cache_evictor() -> Callable[[], Any]:
    """A function that streams 128 MB (4x the L3 of our machine) so log_p starts cold."""
    buffer = np.ones(16 * 2**20)  # 128 MB of float64

    def evict() -> float:
        return float(buffer.sum())

    return evict


def _kernel_only(core: Any, log_p: torch.Tensor, x_len, y_len, threads: int) -> torch.Tensor:
    """The bare extension call with the wrapper's allocations (no mask sums or checks)."""
    B, T_y, _ = log_p.shape
    out = torch.zeros(B, T_y, dtype=torch.long)
    order = torch.argsort(x_len * y_len, descending=True)
    core.maximum_path(
        log_p.numpy(), out.numpy(), x_len.numpy(), y_len.numpy(), order.numpy(), threads
    )
    return out


def bench_case(case: str, core: Any, repeats: int) -> dict[str, Any]:
    """Time every implementation on one case; all must give the same alignment."""
    log_p, x_mask, y_mask = make_batch(case)
    B, T_y, T_x = log_p.shape
    x_len = x_mask.sum((1, 2)).long()
    y_len = y_mask.sum((1, 2)).long()
    expected = maximum_path(log_p, x_mask, y_mask)
    slow_repeats = max(3, repeats // 20)
    rows: dict[str, Any] = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        rows[f"cython_{threads}t"] = _time(maximum_path, log_p, x_mask, y_mask, repeats=repeats)
        rows[f"cython_{threads}t_cold"] = _time(
            maximum_path, log_p, x_mask, y_mask, repeats=repeats // 4, before=_cache_evictor()
        )
        assert torch.equal(_kernel_only(core, log_p, x_len, y_len, threads), expected)
        rows[f"cython_kernel_only_{threads}t"] = _time(
            _kernel_only, core, log_p, x_len, y_len, threads, repeats=repeats
        )
    torch.set_num_threads(2)
    assert torch.equal(maximum_path_torch(log_p, x_mask, y_mask), expected)
    rows["torch_cpu_2t"] = _time(maximum_path_torch, log_p, x_mask, y_mask, repeats=slow_repeats)
    dense = numpy_maximum_path(log_p, x_mask, y_mask)  # [B, 1, T_x, T_y]
    assert torch.equal(dense.argmax(2)[:, 0] * y_mask[:, 0].long(), expected)
    torch.set_num_threads(1)
    rows["numpy_1t"] = _time(numpy_maximum_path, log_p, x_mask, y_mask, repeats=slow_repeats)
    torch.set_num_threads(2)
    if torch.cuda.is_available():
        lp, xm, ym = log_p.cuda(), x_mask.cuda(), y_mask.cuda()
        assert torch.equal(maximum_path(lp, xm, ym).cpu(), expected)
        rows["torch_cuda"] = _time(
            maximum_path, lp, xm, ym, repeats=max(5, repeats // 5), sync=torch.cuda.synchronize
        )
        rows["torch_cuda"]["device"] = torch.cuda.get_device_name()
    else:
        rows["torch_cuda"] = "not yet measured (no CUDA device on this machine)"
    return {
        "shape_B_Ty_Tx": [B, T_y, T_x],
        "cells_in_lengths": int((x_len * y_len).sum()),
        "log_p_MB": round(log_p.numel() * log_p.element_size() / 1e6, 2),
        "results": rows,
    }


def run(repeats: int) -> dict[str, Any]:
    """Build the extension if needed, then benchmark both cases."""
    if build.needs_build():
        build.build()
    core = load_core()
    results: dict[str, Any] = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "torch": torch.__version__,
            "openmp": bool(core.OPENMP),
            "loadavg_before": os.getloadavg(),
        },
        "reference_ms": REFERENCE_MS,
        "cases": {case: bench_case(case, core, repeats) for case in ("B32", "B1")},
    }
    results["machine"]["loadavg_after"] = os.getloadavg()
    return results


_LABELS = {
    "cython_1t": "Cython kernel, 1 thread (`maximum_path`)",
    "cython_2t": "Cython kernel, 2 threads (`maximum_path`)",
    "cython_1t_cold": "same, 1 thread, caches evicted before each call",
    "cython_2t_cold": "same, 2 threads, caches evicted before each call",
    "cython_kernel_only_1t": "Cython kernel call alone, 1 thread",
    "cython_kernel_only_2t": "Cython kernel call alone, 2 threads",
    "torch_cpu_2t": "batched torch, CPU, 2 threads",
    "numpy_1t": "numpy (reference-style fallback), serial",
    "torch_cuda": "batched torch, CUDA",
}


def markdown(results: dict[str, Any]) -> str:
    """The README table: median (min) milliseconds per case and the B = 32 speed-up."""
    b32, b1 = results["cases"]["B32"], results["cases"]["B1"]

    def cell(row: Any) -> str:
        if isinstance(row, str):
            return "not yet measured"
        return f"{row['median_ms']:.2f} ({row['min_ms']:.2f})"

    def speedup(row: Any) -> str:
        if isinstance(row, str):
            return "-"
        ref = REFERENCE_MS["B32"]
        return f"{ref / row['median_ms']:.1f}x ({ref / row['min_ms']:.1f}x)"

    lines = [
        "| MAS, tensor in -> tensor out | B = 32 LJSpeech-like, ms | B = 32 vs reference "
        "| B = 1, 360 x 870, ms |",
        "|---|---|---|---|",
        f"| reference glow-tts (its monotonic_align, measured on 2 cores) | {REFERENCE_MS['B32']:.0f} | 1x "
        "| 0.4-0.6 |",
    ]
    for key, label in _LABELS.items():
        r32, r1 = b32["results"][key], b1["results"][key]
        lines.append(f"| {label} | {cell(r32)} | {speedup(r32)} | {cell(r1)} |")
    m = results["machine"]
    load = max(m["loadavg_before"][0], m["loadavg_after"][0])
    lines += [
        "",
        f"Median (min) wall time of repeated runs; {m['cpu_count']} CPU cores, torch "
        f"{m['torch']}, OpenMP {'on' if m['openmp'] else 'off'}; load average "
        f"{m['loadavg_before'][0]:.2f} before and {m['loadavg_after'][0]:.2f} after the run. "
        f"B = 32 has {b32['cells_in_lengths']:,} cells inside the lengths; log_p is "
        f"{b32['log_p_MB']} MB of float32 that the kernel reads in place.",
    ]
    if load > 1.0:
        lines += [
            "",
            "Load average above 1: the 2 cores were shared with other jobs. When another "
            "process holds a core, a 2-thread call waits for its descheduled thread, so a "
            "2-thread median well above its minimum measures that load, not the kernel.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="results JSON")
    parser.add_argument("--md", type=Path, default=None, help="also write the markdown table")
    parser.add_argument("--repeats", type=int, default=100, help="timed runs per Cython row")
    args = parser.parse_args(argv)
    results = run(args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    if args.md:
        args.md.write_text("# Monotonic alignment search benchmark\n\n" + table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
