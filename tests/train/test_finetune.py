"""Fine-tuning (train.init_from): a trained voice adapts to another corpus faster than a fresh
model learns it; mismatches are named; frozen parts stay as loaded."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from train_helpers import build_data, paths_in, tiny_config

from glowtts.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from glowtts.config import Config
from glowtts.data.dataset import collate
from glowtts.data.manifest import read_manifest
from glowtts.data.store import FeatureStore
from glowtts.errors import UserValueError
from glowtts.model import GlowTTS
from glowtts.model.losses import LossTotals
from glowtts.train import train

STEPS = 12


@pytest.fixture(scope="module")
def other_voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another demo voice: other chords and other symbol durations."""
    return build_data(tmp_path_factory.mktemp("other_voice"), seed=99)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    cfg = tiny_config(steps=60, checkpoint_every=60, validate_every=1000, log_every=1000)
    return train(cfg, paths_in(data_dir, tmp_path_factory.mktemp("pretrained")))


def _finetune_config(**train: object) -> Config:
    return tiny_config(steps=STEPS, checkpoint_every=STEPS, validate_every=1000, **train)


def _val_loss(checkpoint: Path, data: Path) -> float:
    ckpt = load_checkpoint(checkpoint)
    model = GlowTTS(ckpt.config.model, ckpt.n_vocab, ckpt.n_mels)
    model.load_state_dict(ckpt.model)
    model.eval()
    store = FeatureStore(data / "store")
    batch = collate([store.get(u.id) for u in read_manifest(data / "val.tsv")])
    totals = LossTotals()
    with torch.no_grad():
        totals.add(model(batch.x, batch.x_lengths, batch.y, batch.y_lengths))
    return totals.mean_mle + totals.mean_duration


def test_a_trained_voice_adapts_faster_than_a_fresh_model(
    pretrained: Path, other_voice: Path, tmp_path: Path
) -> None:
    tuned = train(
        _finetune_config(init_from=str(pretrained)), paths_in(other_voice, tmp_path / "tuned")
    )
    scratch = train(_finetune_config(), paths_in(other_voice, tmp_path / "scratch"))
    assert _val_loss(tuned, other_voice) < _val_loss(scratch, other_voice)
    start = load_checkpoint(pretrained).model
    after = load_checkpoint(tuned).model
    assert any(not torch.equal(start[k], after[k]) for k in start)  # it trained


def test_frozen_parts_stay_as_loaded(pretrained: Path, other_voice: Path, tmp_path: Path) -> None:
    cfg = _finetune_config(init_from=str(pretrained), freeze=("encoder", "duration_predictor"))
    tuned = load_checkpoint(train(cfg, paths_in(other_voice, tmp_path / "frozen"))).model
    start = load_checkpoint(pretrained).model
    for key in start:
        same = torch.equal(start[key], tuned[key])
        if key.startswith(("text_encoder.", "duration_predictor.")):
            assert same, key
    assert any(not torch.equal(start[k], tuned[k]) for k in start if k.startswith("decoder."))


def test_a_mismatched_vocabulary_is_named(data_dir: Path, tmp_path: Path) -> None:
    cfg = tiny_config()
    blanks = dataclasses.replace(cfg, text=dataclasses.replace(cfg.text, add_blank=True))
    other = save_checkpoint(
        tmp_path / "blanks.pt",
        Checkpoint(
            config=blanks,
            n_vocab=149,
            n_mels=80,
            model=GlowTTS(cfg.model, 149, 80).state_dict(),
        ),
    )
    with pytest.raises(CheckpointError) as err:
        train(_finetune_config(init_from=str(other)), paths_in(data_dir, tmp_path / "run"))
    message = str(err.value)
    assert "cannot fine-tune from it" in message and "blanks.pt" in message
    assert "vocabulary: the checkpoint reads 149 symbols (text.add_blank True)" in message
    assert "text.add_blank: checkpoint True, config False" in message
    assert not (tmp_path / "run" / "checkpoints").exists() or not list(
        (tmp_path / "run" / "checkpoints").iterdir()
    )


def test_freezing_needs_a_checkpoint_to_start_from(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UserValueError, match=r"train.freeze \['encoder'\] needs train.init_from"):
        train(_finetune_config(freeze=("encoder",)), paths_in(data_dir, tmp_path / "run"))


def test_a_run_does_not_resume_across_another_starting_voice(
    pretrained: Path, data_dir: Path, tmp_path: Path
) -> None:
    """A run trained from scratch, rerun with init_from: refused by name, not silently resumed."""
    train(_finetune_config(), paths_in(data_dir, tmp_path / "run"))
    with pytest.raises(
        CheckpointError, match=r"train.init_from: checkpoint '', config '.*glowtts.pt'"
    ):
        train(_finetune_config(init_from=str(pretrained)), paths_in(data_dir, tmp_path / "run"))
