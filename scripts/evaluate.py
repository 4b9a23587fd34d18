"""Rule evaluate: synthesise and score the test split, write the report's pages."""

from pathlib import Path

import torch
from _workflow import start

from glowtts.evaluate import EvalPaths, evaluate

cfg = start(snakemake)
torch.set_num_threads(max(1, snakemake.threads))
inp = snakemake.input
evaluate(
    cfg,
    EvalPaths(
        checkpoint=Path(inp.checkpoint),
        store=Path(inp.store),
        filelists={name: Path(inp[name]) for name in ("train", "val", "test")},
        # Namedlist: `in` would test the paths, keys() tests the names
        durations=Path(inp.demo) / "durations.tsv" if "demo" in inp.keys() else None,  # noqa: SIM118
        tensorboard=Path(snakemake.params.tensorboard),
        out=Path(snakemake.output.metrics).parent,
    ),
)
