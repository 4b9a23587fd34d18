"""glowtts.data.dataset: subsets of a feature store, collate's padding and counts, workers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from glowtts.config import Config
from glowtts.data.dataset import Batch, TTSDataset, collate
from glowtts.data.manifest import Utterance, write_manifest
from glowtts.data.sampler import BucketBatchSampler
from glowtts.data.store import (
    INDEX_COLUMNS,
    INDEX_FILE,
    MELS_FILE,
    META_FILE,
    STORE_VERSION,
    TOKENS_FILE,
    FeatureStore,
)
from glowtts.errors import UserValueError

N_MELS = 4
FRAMES = {"A": 5, "B": 9, "C": 2, "D": 7, "E": 4, "F": 11}  # id -> mel frames
TOKENS = {"A": 3, "B": 6, "C": 1, "D": 4, "E": 2, "F": 5}  # id -> tokens


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> FeatureStore:
    """A store written in the layout of glowtts.data.store; no 0 among its values."""
    path = tmp_path_factory.mktemp("store")
    rng = np.random.default_rng(0)
    ids = sorted(FRAMES)
    mels = rng.uniform(1.0, 2.0, (sum(FRAMES.values()), N_MELS)).astype(np.float32)
    tokens = rng.integers(1, 40, sum(TOKENS.values())).astype(np.int32)
    np.save(path / MELS_FILE, mels)
    np.save(path / TOKENS_FILE, tokens)
    rows, mel_off, tok_off = ["\t".join(INDEX_COLUMNS)], 0, 0
    for uid in ids:
        rows.append(f"{uid}\t{mel_off}\t{FRAMES[uid]}\t{tok_off}\t{TOKENS[uid]}\t0.1")
        mel_off += FRAMES[uid]
        tok_off += TOKENS[uid]
    (path / INDEX_FILE).write_text("\n".join(rows) + "\n", encoding="utf-8")
    audio = dataclasses.asdict(dataclasses.replace(Config().audio, n_mels=N_MELS))
    meta = {"version": STORE_VERSION, "audio": audio, "dtype": "float32"}
    (path / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return FeatureStore(path)


def test_dataset_is_the_given_ids_in_order(store: FeatureStore) -> None:
    ids = ["D", "A", "F"]
    ds = TTSDataset(store, ids)
    assert len(ds) == 3 and ds.ids == ids
    for i, uid in enumerate(ids):
        tokens, mel = ds[i]
        ref_tokens, ref_mel = store.get(uid)
        assert tokens.dtype == torch.long and mel.dtype == torch.float32
        assert mel.shape == (N_MELS, FRAMES[uid])
        assert torch.equal(tokens, ref_tokens) and torch.equal(mel, ref_mel)
    assert ds.lengths.dtype == np.int64 and ds.lengths.tolist() == [7, 5, 11]
    assert ds.token_lengths.dtype == np.int64 and ds.token_lengths.tolist() == [4, 3, 5]


def test_from_filelist(store: FeatureStore, tmp_path: Path) -> None:
    rows = [Utterance(u, "t", "t", tmp_path / f"{u}.wav", 0.1, 22050) for u in ("E", "B")]
    write_manifest(tmp_path / "train.tsv", rows)
    assert TTSDataset.from_filelist(store, tmp_path / "train.tsv").ids == ["E", "B"]
    rows.append(Utterance("ZZ", "t", "t", tmp_path / "ZZ.wav", 0.1, 22050))
    write_manifest(tmp_path / "bad.tsv", rows)
    with pytest.raises(UserValueError, match=r"bad\.tsv: 1 of 3 utterances .* \('ZZ'\)"):
        TTSDataset.from_filelist(store, tmp_path / "bad.tsv")


def test_missing_ids_are_named(store: FeatureStore) -> None:
    missing = [f"X{k}" for k in range(8)]
    with pytest.raises(UserValueError) as err:
        TTSDataset(store, ["A", *missing])
    message = str(err.value)
    assert "8 of 9 utterances are not in the feature store" in message
    assert "'X0', 'X1', 'X2', 'X3', 'X4' and 3 more" in message
    assert "'X5'" not in message and "rerun the features stage" in message
    with pytest.raises(UserValueError, match="'A' is listed twice"):
        TTSDataset(store, ["A", "B", "A"])
    with pytest.raises(UserValueError, match="no utterances"):
        TTSDataset(store, [])


def _check_batch(batch: Batch, items: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    B = len(items)
    T_x = max(t.size(0) for t, _ in items)
    T_y = max(m.size(1) for _, m in items)
    assert batch.x.shape == (B, T_x) and batch.x.dtype == torch.long
    assert batch.y.shape == (B, N_MELS, T_y) and batch.y.dtype == torch.float32
    assert batch.x_lengths.dtype == torch.long and batch.y_lengths.dtype == torch.long
    assert batch.x_lengths.tolist() == [t.size(0) for t, _ in items]
    assert batch.y_lengths.tolist() == [m.size(1) for _, m in items]
    for b, (tokens, mel) in enumerate(items):
        n, f = tokens.size(0), mel.size(1)
        assert torch.equal(batch.x[b, :n], tokens) and not batch.x[b, n:].any()
        assert torch.equal(batch.y[b, :, :f], mel) and not batch.y[b, :, f:].any()
    y_len, x_len = batch.y_lengths, batch.x_lengths
    assert batch.valid_frames == int(y_len.sum()) and batch.total_frames == B * T_y
    assert batch.valid_cells == int((x_len * y_len).sum()) and batch.total_cells == B * T_x * T_y
    assert batch.frame_padding == pytest.approx(1 - batch.valid_frames / (B * T_y))
    assert batch.cell_padding == pytest.approx(1 - batch.valid_cells / (B * T_x * T_y))


@pytest.mark.parametrize("ids", [["B"], ["A", "F", "C"]], ids=["B1", "B3"])
def test_collate_pads_with_zeros_and_counts_padding(store: FeatureStore, ids: list[str]) -> None:
    ds = TTSDataset(store, ids)
    items = [ds[i] for i in range(len(ds))]
    batch = collate(items)
    _check_batch(batch, items)
    if len(ids) == 1:
        assert batch.frame_padding == 0.0 and batch.cell_padding == 0.0
    else:  # frames 5 + 11 + 2 of 3 * 11; cells 3*5 + 5*11 + 1*2 = 72 of 3 * 5 * 11
        assert batch.valid_frames == 18 and batch.total_frames == 33
        assert batch.valid_cells == 72 and batch.total_cells == 165


def test_batch_to_keeps_values_and_counts(store: FeatureStore) -> None:
    batch = collate([store.get("A"), store.get("B")])
    moved = batch.to("cpu", non_blocking=True)
    assert torch.equal(moved.y, batch.y) and moved.valid_cells == batch.valid_cells
    if torch.cuda.is_available():
        on_gpu = batch.pin_memory().to("cuda", non_blocking=True)
        assert on_gpu.x.is_cuda and torch.equal(on_gpu.y.cpu(), batch.y)


def test_dataloader_with_workers_and_the_bucket_sampler(store: FeatureStore) -> None:
    ds = TTSDataset(store, sorted(FRAMES))
    sampler = BucketBatchSampler(ds.lengths, batch_size=2, seed=0)
    loader = DataLoader(ds, batch_sampler=sampler, collate_fn=collate, num_workers=2)
    seen = []
    for indices, batch in zip(list(sampler), loader, strict=True):
        _check_batch(batch, [ds[i] for i in indices])
        seen.extend(indices)
    assert sorted(seen) == list(range(len(ds)))
