"""README command 1 from a clean copy: wall time per stage and the demo voice's evaluation goals.

    python benchmarks/bench_demo.py --out benchmarks/results/demo.json [--cores 2] [--runs 1]

Copies the workflow as a fresh clone has it (no results, no built MAS kernel) into a temporary
folder, runs ``snakemake --cores N`` there (the README's first command after the install), and
records the wall time, each rule's time from its benchmark file, and the evaluation's metrics
against the goals of the demo: on the test split, at least 98 % of frames within one frame of
the right symbol and 90 % exactly, and at most 1.25 frames of duration error per symbol, for
the MAS alignment and for the predicted durations; the whole run under 5 minutes on 2 cores.
With ``--runs`` > 1, each run gets another seed (``--config seed=...``), for the spread.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PARTS = ["Snakefile", "rules", "scripts", "config", "envs", "profiles", "report", "glowtts"]
PARTS += ["monotonic_align"]
GOALS = {
    "wall_s": ("<=", 300.0),
    "align_mas_frames_within_1": (">=", 0.98),
    "align_mas_frames_exact": (">=", 0.90),
    "align_mas_duration_mae_frames": ("<=", 1.25),
    "align_predicted_frames_within_1": (">=", 0.98),
    "align_predicted_frames_exact": (">=", 0.90),
    "align_predicted_duration_mae_frames": ("<=", 1.25),
}


def _copy(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.c", "build.json", "build", "results")
    for part in PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(src, dest / part)


def _rule_seconds(bench_dir: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for tsv in sorted(bench_dir.rglob("*.tsv")):
        with tsv.open() as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if rows:
            out[str(tsv.relative_to(bench_dir).with_suffix(""))] = float(rows[-1]["s"])
    return out


def run_once(cores: int, seed: int | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench_demo_") as tmp:
        work = Path(tmp)
        _copy(work)
        extra = ["--config", f"seed={seed}"] if seed is not None else []
        env = {**os.environ, "PYTHONPATH": str(work)}
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "snakemake", "--cores", str(cores), *extra],
            cwd=work, env=env, capture_output=True, text=True,
        )  # fmt: skip
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        run = work / "results" / "demo"
        metrics = json.loads((run / "eval" / "metrics.json").read_text())
        rules = _rule_seconds(run / "benchmarks")
        rules.update({f"mas/{k}": v for k, v in _rule_seconds(work / "logs").items()})
    values = {"wall_s": wall, **metrics}
    goals = {
        key: {
            "value": values.get(key),
            "goal": f"{op} {limit}",
            "met": _met(values.get(key), op, limit),
        }
        for key, (op, limit) in GOALS.items()
    }
    return {"seed": seed, "wall_s": wall, "rule_s": rules, "metrics": metrics, "goals": goals}


def _met(value: Any, op: str, limit: float) -> bool | None:
    if not isinstance(value, int | float):
        return None
    return value <= limit if op == "<=" else value >= limit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    runs = [run_once(args.cores, None if k == 0 else 1234 + k) for k in range(args.runs)]
    result = {
        "benchmark": "bench_demo",
        "command": f"snakemake --cores {args.cores} (fresh copy, after the install)",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for r in runs:
        print(f"seed={r['seed']} wall={r['wall_s']:.0f}s")
        for key, g in r["goals"].items():
            value = g["value"]
            shown = f"{value:.4g}" if isinstance(value, float) else value
            print(
                f"  {key:38s} {shown!s:>8} goal {g['goal']:8s} {'met' if g['met'] else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
