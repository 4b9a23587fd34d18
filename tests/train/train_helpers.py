"""Helpers shared by the training tests: the tiny config, the run paths, the tiny corpus."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from glowtts.config import Config, load
from glowtts.data.demo import generate_demo_corpus
from glowtts.data.features import compute_shard, gather_shards
from glowtts.data.manifest import read_manifest
from glowtts.data.prepare import prepare_corpus, prepare_split
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


def build_data(root: Path, seed: int | None = None) -> Path:
    """corpus -> filelists (16 train, 4 val, 4 test) -> feature store, under ``root``; another
    ``seed`` gives another demo voice (other chords and symbol durations)."""
    cfg = tiny_config()
    if seed is not None:
        cfg = dataclasses.replace(cfg, seed=seed)
    generate_demo_corpus(root / "corpus", cfg.dataset.demo, cfg.audio, cfg.seed)
    prepare_corpus(cfg, root / "corpus", root / "metadata.tsv", root / "report.json")
    lists = {s: root / f"{s}.tsv" for s in ("train", "val", "test")}
    prepare_split(cfg, root / "metadata.tsv", dict(lists))
    rows = [u for s in ("train", "val", "test") for u in read_manifest(lists[s])]
    compute_shard(rows, cfg, root / "shard.npz")
    gather_shards([root / "shard.npz"], root / "store", cfg)
    return root
