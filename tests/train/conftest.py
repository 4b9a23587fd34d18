"""A tiny demo corpus, split and feature store for the training tests (built once)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from train_helpers import tiny_config

from glowtts.data.demo import generate_demo_corpus
from glowtts.data.features import compute_shard, gather_shards
from glowtts.data.manifest import read_manifest
from glowtts.data.prepare import prepare_corpus, prepare_split


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_data(tmp_path_factory.mktemp("train_data"))
