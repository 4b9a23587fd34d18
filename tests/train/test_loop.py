"""The training loop: it learns, resumes exactly, skips non-finite steps, runs in bf16."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from train_helpers import paths_in, tiny_config

from glowtts.checkpoint import CheckpointError, build_model, load_checkpoint
from glowtts.data.dataset import collate
from glowtts.data.store import MELS_FILE, FeatureStore
from glowtts.model.losses import glowtts_losses
from glowtts.train import NonFiniteLossError, train
from glowtts.train.distributed import DistEnv
from glowtts.train.loop import clip_by_value, forward_backward
from glowtts.train.state import list_checkpoints

CPU = DistEnv(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path).model


def _batch_loss(model: torch.nn.Module, store: FeatureStore, ids: list[str]) -> float:
    batch = collate([store.get(u) for u in ids])
    model.eval()
    with torch.no_grad():
        out = model(batch.x, batch.x_lengths, batch.y, batch.y_lengths)
    return float(glowtts_losses(out).total)


def test_training_lowers_the_loss_of_a_fixed_batch(data_dir: Path, tmp_path: Path) -> None:
    """Four utterances, batch 4: every step sees the same batch; its loss falls."""
    four = tmp_path / "four.tsv"
    lines = (data_dir / "train.tsv").read_text().splitlines()
    four.write_text("\n".join(lines[:5]) + "\n")
    cfg = tiny_config(
        steps=12, warmup_steps=10, checkpoint_every=1, validate_every=100, keep_checkpoints=20
    )
    paths = dataclasses.replace(paths_in(data_dir, tmp_path / "run"), train_list=four)
    train(cfg, paths)
    store = FeatureStore(data_dir / "store")
    ids = [line.split("\t")[0] for line in lines[1:5]]
    ckpts = dict(list_checkpoints(tmp_path / "run" / "checkpoints"))
    first = _batch_loss(build_model(load_checkpoint(ckpts[1])), store, ids)
    last = _batch_loss(build_model(load_checkpoint(paths.output)), store, ids)
    assert last < first - 0.1, (first, last)


@pytest.mark.parametrize("stop_after", [2, 4])  # mid-epoch (4 batches an epoch), epoch end
def test_a_killed_run_resumes_bit_identically(
    data_dir: Path, tmp_path: Path, stop_after: int
) -> None:
    cfg = tiny_config(steps=6, checkpoint_every=2)
    whole = train(cfg, paths_in(data_dir, tmp_path / "whole"))
    resumed = paths_in(data_dir, tmp_path / "resumed")
    train(cfg, resumed, stop_after=stop_after)
    assert not resumed.output.exists()
    assert [s for s, _ in list_checkpoints(resumed.folder / "checkpoints")][-1] == stop_after
    torch.manual_seed(999)  # a fresh process would not share the first run's RNG either
    train(cfg, resumed)
    a, b = _weights(whole), _weights(resumed.output)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]
    state = load_checkpoint(resumed.output).train
    assert state is not None and state["progress"]["step"] == 6


def test_resume_refuses_other_model_or_feature_settings(data_dir: Path, tmp_path: Path) -> None:
    cfg = tiny_config(steps=2)
    train(cfg, paths_in(data_dir, tmp_path))
    wider = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, hidden_channels=48))
    wider = dataclasses.replace(wider, train=dataclasses.replace(cfg.train, steps=4))
    with pytest.raises(CheckpointError, match=r"model.hidden_channels: checkpoint 32, config 48"):
        train(wider, paths_in(data_dir, tmp_path))
    # features rebuilt with other text settings (the workflow reruns training then): a store
    # that says so is accepted, the checkpoint trained on the old features is not
    import json
    import shutil

    store = tmp_path / "rebuilt"
    shutil.copytree(data_dir / "store", store)
    meta = json.loads((store / "store.json").read_text())
    meta["text"]["cleaners"] = "basic_cleaners"
    (store / "store.json").write_text(json.dumps(meta))
    other = dataclasses.replace(cfg, text=dataclasses.replace(cfg.text, cleaners="basic_cleaners"))
    other = dataclasses.replace(other, train=dataclasses.replace(cfg.train, steps=4))
    paths = dataclasses.replace(paths_in(data_dir, tmp_path), store=store)
    with pytest.raises(CheckpointError, match=r"text.cleaners: checkpoint 'english_cleaners'"):
        train(other, paths)


def test_resume_refuses_other_training_data(data_dir: Path, tmp_path: Path) -> None:
    """The same settings on other data (a regenerated corpus, another split): the workflow
    reruns training, which must not resume the checkpoints of the old data. The test split is
    not training data: changing it does not block a resume."""
    import os
    import shutil

    from glowtts.checkpoint import save_checkpoint
    from glowtts.data.manifest import read_manifest

    cfg = tiny_config(steps=2)
    data = tmp_path / "data"
    shutil.copytree(data_dir / "store", data / "store")
    for name in ("train.tsv", "val.tsv", "test.tsv"):
        shutil.copy(data_dir / name, data / name)
    run = tmp_path / "run"
    train(cfg, paths_in(data, run))

    def steps(n: int) -> object:
        return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, steps=n))

    def change_mel(split: str) -> None:  # other recordings, same ids and lengths
        store = FeatureStore(data / "store")
        first = read_manifest(data / f"{split}.tsv")[0].id
        start = int(store.mel_offsets[store.index_of(first)])
        mels = np.load(data / "store" / MELS_FILE, mmap_mode="r+")
        mels[start, 0] += 1.0
        mels.flush()

    change_mel("test")
    train(steps(3), paths_in(data, run))  # resumed: the test split is not training data
    change_mel("train")
    with pytest.raises(CheckpointError, match=r"training data: train data changed since"):
        train(steps(4), paths_in(data, run))
    lines = (data / "val.tsv").read_text().splitlines(keepends=True)
    (data / "val.tsv").write_text("".join(lines[:-1]))  # another split
    with pytest.raises(CheckpointError, match=r"val data changed since the checkpoint"):
        train(steps(4), paths_in(data, run))

    # a checkpoint written before data digests: judged by the age of the data files
    legacy = tmp_path / "legacy"
    train(cfg, paths_in(data, legacy))
    [(_, newest)] = list_checkpoints(legacy / "checkpoints")[-1:]
    old = load_checkpoint(newest)
    assert old.train is not None
    save_checkpoint(newest, dataclasses.replace(old, train={**old.train, "data": None}))
    train(steps(3), paths_in(data, legacy))  # the data is older than the checkpoint: resumed
    [(_, newest)] = list_checkpoints(legacy / "checkpoints")[-1:]
    old = load_checkpoint(newest)
    assert old.train is not None
    save_checkpoint(newest, dataclasses.replace(old, train={**old.train, "data": None}))
    later = newest.stat().st_mtime + 10
    os.utime(data / "store" / "store.json", (later, later))  # the store rebuilt since
    with pytest.raises(CheckpointError, match=r"store.json was rebuilt after this checkpoint"):
        train(steps(4), paths_in(data, legacy))


def test_a_resumed_run_takes_the_new_learning_rate_and_precision(
    data_dir: Path, tmp_path: Path
) -> None:
    """After non-finite losses the advice is a lower learning rate: a rerun must use it."""
    cfg = tiny_config(steps=2, checkpoint_every=2)
    train(cfg, paths_in(data_dir, tmp_path))
    lower = dataclasses.replace(
        cfg, train=dataclasses.replace(cfg.train, steps=4, learning_rate=0.25, precision="bf16")
    )
    out = train(lower, paths_in(data_dir, tmp_path))
    state = load_checkpoint(out).train
    assert state is not None and state["progress"]["step"] == 4
    group = state["optimizer"]["param_groups"][0]
    assert group["initial_lr"] == 0.25
    assert state["scheduler"]["base_lrs"] == [0.25]
    expected = 0.25 * cfg.model.hidden_channels**-0.5 * min(5**-0.5, 5 * 50**-1.5)
    assert group["lr"] == pytest.approx(expected)  # t = 5 after 4 steps, warm-up 50


def test_an_unreadable_newest_checkpoint_falls_back_to_the_previous(
    data_dir: Path, tmp_path: Path
) -> None:
    cfg = tiny_config(steps=4, checkpoint_every=2)
    train(cfg, paths_in(data_dir, tmp_path), stop_after=4)
    newest = tmp_path / "checkpoints" / "step-00000004.pt"
    newest.write_bytes(b"")  # a disk that lost it
    (tmp_path / "checkpoints" / ".step-00000006.pt.tmp-123").write_bytes(b"half")
    train(cfg, paths_in(data_dir, tmp_path))
    assert not (tmp_path / "checkpoints" / ".step-00000006.pt.tmp-123").exists()
    state = load_checkpoint(tmp_path / "glowtts.pt").train
    assert state is not None and state["progress"]["step"] == 4


def test_a_newest_checkpoint_from_a_newer_glowtts_is_refused_not_skipped(
    data_dir: Path, tmp_path: Path
) -> None:
    cfg = tiny_config(steps=4, checkpoint_every=2)
    train(cfg, paths_in(data_dir, tmp_path), stop_after=4)
    newest = tmp_path / "checkpoints" / "step-00000004.pt"
    raw = torch.load(newest, weights_only=True)
    raw["version"] = 99
    torch.save(raw, newest)
    with pytest.raises(CheckpointError, match="version 99"):
        train(cfg, paths_in(data_dir, tmp_path))


def test_clipping_by_value_returns_the_norm_before_clipping() -> None:
    a = torch.nn.Parameter(torch.zeros(2))
    b = torch.nn.Parameter(torch.zeros(1))
    a.grad, b.grad = torch.tensor([3.0, -20.0]), torch.tensor([4.0])
    norm = clip_by_value([a, b], 5.0)
    assert float(norm) == pytest.approx(float(np.sqrt(9 + 400 + 16)))
    assert a.grad.tolist() == [3.0, -5.0] and b.grad.tolist() == [4.0]


def test_non_finite_steps_are_skipped_then_stop_training(data_dir: Path, tmp_path: Path) -> None:
    """A store whose mels are all NaN: every step is skipped; the third in a row stops."""
    store = tmp_path / "store"
    import shutil

    shutil.copytree(data_dir / "store", store)
    mels = np.load(store / MELS_FILE, mmap_mode="r+")
    mels[:] = np.nan
    mels.flush()
    del mels
    cfg = tiny_config(max_nonfinite_steps=3, steps=4)
    paths = dataclasses.replace(paths_in(data_dir, tmp_path / "run"), store=store)
    with pytest.raises(NonFiniteLossError, match=r"stopped at step 1: 3 steps in a row"):
        train(cfg, paths)


def test_a_non_finite_batch_is_skipped_and_counted(data_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    import shutil

    shutil.copytree(data_dir / "store", store)
    fs = FeatureStore(store)
    bad = fs.index_of(fs.ids[0])
    start, n = int(fs.mel_offsets[bad]), int(fs.n_frames[bad])
    mels = np.load(store / MELS_FILE, mmap_mode="r+")
    mels[start : start + n] = np.inf
    mels.flush()
    del mels
    lines = (data_dir / "train.tsv").read_text().splitlines()
    assert any(line.startswith(fs.ids[0] + "\t") for line in lines)
    cfg = tiny_config(steps=8, batch_size=4, checkpoint_every=100)
    paths = dataclasses.replace(paths_in(data_dir, tmp_path / "run"), store=store)
    train(cfg, paths)
    state = load_checkpoint(paths.output).train
    assert state is not None
    assert state["progress"]["step"] == 8 and state["progress"]["skipped"] >= 1
    assert all(torch.isfinite(v).all() for v in load_checkpoint(paths.output).model.values())


def test_bf16_autocast_step_keeps_losses_in_float32(data_dir: Path) -> None:
    cfg = tiny_config()
    store = FeatureStore(data_dir / "store")
    from glowtts.model import GlowTTS

    torch.manual_seed(0)
    model = GlowTTS(cfg.model, int(store.meta["n_vocab"]), cfg.audio.n_mels)
    batch = collate([store[i] for i in range(3)])
    model.data_dependent_init(batch.y, batch.y_lengths)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(batch.x, batch.x_lengths, batch.y, batch.y_lengths)
    assert out.logdet.dtype == torch.float32  # log-determinants and MAS scores stay float32
    assert out.log_p.dtype == torch.float32
    losses = glowtts_losses(out)
    assert losses.total.dtype == torch.float32 and torch.isfinite(losses.total)

    def bf16() -> torch.autocast:
        return torch.autocast("cpu", dtype=torch.bfloat16)

    mle, dur, _ = forward_backward(model, batch, CPU, autocast=bf16)
    assert mle.dtype == torch.float32 and np.isfinite(float(mle)) and np.isfinite(float(dur))
    assert all(q.grad is not None and q.grad.dtype == torch.float32 for q in model.parameters())


def test_tensorboard_holds_scalars_images_and_audio(data_dir: Path, tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = tiny_config(steps=4, validate_every=2, checkpoint_every=4)
    train(cfg, paths_in(data_dir, tmp_path))
    events = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"audio": 0})
    events.Reload()
    tags = events.Tags()
    for scalar in ("loss/mle", "loss/duration", "lr", "grad_norm", "step_time_s", "frames_per_s",
                   "skipped_steps", "padding/mel", "padding/mas", "val/loss/mle"):  # fmt: skip
        assert scalar in tags["scalars"], (scalar, tags["scalars"])
    assert [e.step for e in events.Scalars("loss/mle")] == [1, 2, 3, 4]
    assert {"val/mel", "val/alignment"} <= set(tags["images"])
    assert "val/generated" in tags["audio"]
    audio = events.Audio("val/generated")[-1]
    assert audio.sample_rate == cfg.audio.sample_rate and audio.step == 4
