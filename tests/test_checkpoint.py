"""The one checkpoint format: round trip, strict weights, named errors for other files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from glowtts.checkpoint import (
    CHECKPOINT_VERSION,
    Checkpoint,
    CheckpointError,
    build_model,
    load_checkpoint,
    model_config_differences,
    save_checkpoint,
)
from glowtts.config import load
from glowtts.errors import InputNotFoundError, UserError
from glowtts.model import GlowTTS


@pytest.fixture(scope="module")
def tiny(repo_root: Path) -> Checkpoint:
    cfg = load(repo_root / "config/config.yaml", repo_root / ".test/config.yaml")
    torch.manual_seed(0)
    model = GlowTTS(cfg.model, 148, cfg.audio.n_mels)
    return Checkpoint(config=cfg, n_vocab=148, n_mels=cfg.audio.n_mels, model=model.state_dict())


def test_round_trip_keeps_config_weights_and_training_state(
    tiny: Checkpoint, tmp_path: Path
) -> None:
    state = {"step": 12, "rng": {"torch": torch.get_rng_state()}, "sampler": {"epoch": 1}}
    path = save_checkpoint(tmp_path / "a" / "ckpt.pt", dataclasses.replace(tiny, train=state))
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.pt"]  # no temporary left
    back = load_checkpoint(path)
    assert back.config == tiny.config and back.n_vocab == 148 and back.package_version
    assert back.train is not None and back.train["step"] == 12
    assert torch.equal(back.train["rng"]["torch"], state["rng"]["torch"])
    model = build_model(back)
    for k, v in model.state_dict().items():
        assert torch.equal(v, tiny.model[k]), k


def test_a_file_of_another_format_is_refused_by_name(tmp_path: Path) -> None:
    torch.save({"model": {}, "iteration": 3}, tmp_path / "G_3.pth")  # a reference checkpoint
    with pytest.raises(
        CheckpointError, match=r"G_3.pth: not a glowtts-checkpoint file.*glowtts convert"
    ):
        load_checkpoint(tmp_path / "G_3.pth")
    (tmp_path / "junk.pt").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="junk.pt: not a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(InputNotFoundError, match="nope.pt does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


def test_a_newer_version_is_refused(tiny: Checkpoint, tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "c.pt", tiny)
    raw = torch.load(path, weights_only=True)
    raw["version"] = CHECKPOINT_VERSION + 1
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match=f"version {CHECKPOINT_VERSION + 1}.*update glowtts"):
        load_checkpoint(path)


def test_version_1_files_without_known_still_load(tiny: Checkpoint, tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "v1.pt", tiny)
    raw = torch.load(path, weights_only=True)
    raw["version"] = 1
    del raw["known"]
    torch.save(raw, path)
    back = load_checkpoint(path)
    assert back.known is None and back.config == tiny.config


def test_pickled_objects_are_not_loaded(tiny: Checkpoint, tmp_path: Path) -> None:
    """weights_only: a checkpoint holding an arbitrary Python object is refused."""
    path = save_checkpoint(tmp_path / "c.pt", tiny)
    raw = torch.load(path, weights_only=True)
    raw["source"] = {"evil": Path("/")}
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path)


def test_config_is_validated_through_the_schema(tiny: Checkpoint, tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "c.pt", tiny)
    raw = torch.load(path, weights_only=True)
    raw["config"]["model"]["hidden_channels"] = "wide"
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match="model.hidden_channels: 'wide' has type str"):
        load_checkpoint(path)


def test_weights_that_do_not_fit_are_named(tiny: Checkpoint) -> None:
    weights = dict(tiny.model)
    weights.pop("text_encoder.embedding.weight")
    weights["extra.weight"] = torch.zeros(1)
    with pytest.raises(
        UserError, match=r"missing \['text_encoder.embedding.weight'\].*extra.weight"
    ):
        build_model(dataclasses.replace(tiny, model=weights))


def test_model_config_differences_name_fields(tiny: Checkpoint) -> None:
    other = dataclasses.replace(tiny.config.model, hidden_channels=48, n_heads=3)
    assert model_config_differences(tiny.config.model, other) == [
        "model.hidden_channels: checkpoint 32, config 48",
        "model.n_heads: checkpoint 2, config 3",
    ]
