"""Helpers shared by the training tests: the tiny config and the run paths."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from glowtts.config import Config, load
from glowtts.train import TrainPaths

REPO = Path(__file__).resolve().parents[2]


def tiny_config(**train: object) -> Config:
    """The workflow test config (tiny model), dropout off unless asked, with train overrides."""
    cfg = load(REPO / "config/config.yaml", REPO / ".test/config.yaml")
    base = {"steps": 6, "batch_size": 4, "warmup_steps": 50, "log_every": 1, "num_workers": 0}
    base |= {"validate_every": 3, "checkpoint_every": 2, "keep_checkpoints": 10}
    return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, **(base | train)))


def paths_in(data_dir: Path, out: Path) -> TrainPaths:
    return TrainPaths(
        store=data_dir / "store",
        train_list=data_dir / "train.tsv",
        val_list=data_dir / "val.tsv",
        folder=out,
        output=out / "glowtts.pt",
    )
