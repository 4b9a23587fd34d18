"""The one checkpoint format, for training, synthesis and export.

A checkpoint is a ``torch.save`` of a plain dict that ``torch.load(weights_only=True)`` reads::

    format            "glowtts-checkpoint"
    version           CHECKPOINT_VERSION (a reader refuses newer versions)
    package_version   glowtts.__version__ of the writer
    config            the run config (glowtts.config.to_dict): model, audio, text, train, ...
    known             the config fields the writer was given (dotted paths), or None for all;
                      the others (for a training checkpoint: dataset, split, feature shards)
                      hold defaults, not the run's values
    n_vocab, n_mels   the model's input and output sizes
    model             the GlowTTS state_dict (training form: weight norm present)
    pronunciations    {"name", "sha256"} of the pronouncing dictionary, or None (letters only)
    source            where the weights came from (e.g. a converted reference checkpoint), or None
    train             optional training state (optimizer, scaler, scheduler, step, epoch,
                      sampler position, RNG states), written by glowtts.train

The config is validated through :mod:`glowtts.config` on load, the weights load strictly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glowtts.config import Config, ConfigError, ModelConfig, from_dict, to_dict
from glowtts.errors import InputNotFoundError, UserValueError

if TYPE_CHECKING:
    import torch

    from glowtts.model.glowtts import GlowTTS

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "UnreadableCheckpointError",
    "build_model",
    "load_checkpoint",
    "model_config_differences",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "glowtts-checkpoint"
CHECKPOINT_VERSION = 2  # 2 added ``known``; version 1 files (without it) still load
_KEYS = frozenset(
    {
        "format",
        "version",
        "package_version",
        "config",
        "n_vocab",
        "n_mels",
        "model",
        "pronunciations",
        "source",
        "train",
        "known",
    }
)


class CheckpointError(UserValueError):
    """A file is not a checkpoint of this format or version, or does not fit the model."""


class UnreadableCheckpointError(CheckpointError):
    """The file is not a readable torch file at all (damaged, cut short, or something else)."""


@dataclass
class Checkpoint:
    """A loaded (or to be saved) checkpoint; see the module docstring for the fields."""

    config: Config
    n_vocab: int
    n_mels: int
    model: dict[str, torch.Tensor]
    pronunciations: dict[str, str] | None = None
    source: dict[str, str] | None = None
    train: dict[str, Any] | None = None
    package_version: str = ""
    known: list[str] | None = None  # config fields the writer knew; None: all

    @property
    def step(self) -> int | None:
        """The training step the weights are from (None: no training state, e.g. converted)."""
        progress = (self.train or {}).get("progress") or {}
        return int(progress["step"]) if "step" in progress else None


def save_checkpoint(path: str | Path, ckpt: Checkpoint) -> Path:
    """Write ``ckpt`` to ``path`` atomically (temporary file, fsync, rename)."""
    import torch

    from glowtts import __version__
    from glowtts.atomic import atomic_path

    data = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "package_version": __version__,
        "config": to_dict(ckpt.config),
        "n_vocab": int(ckpt.n_vocab),
        "n_mels": int(ckpt.n_mels),
        "model": dict(ckpt.model),
        "pronunciations": ckpt.pronunciations,
        "source": ckpt.source,
        "train": ckpt.train,
        "known": ckpt.known,
    }
    with atomic_path(path) as tmp:
        torch.save(data, tmp)
    return Path(path)


def load_checkpoint(path: str | Path, map_location: str | None = "cpu") -> Checkpoint:
    """Read a checkpoint (``weights_only=True``) and validate its format, version and config.

    Raises:
        InputNotFoundError: no such file.
        CheckpointError: another format (e.g. a reference checkpoint: convert it first), a
            newer version, missing or unknown fields, or a config the schema refuses.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"checkpoint {path} does not exist")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableCheckpointError(
            f"{path}: not a readable checkpoint ({reason}): damaged, cut short, or not a "
            "torch file; we write checkpoints to a temporary name first, so check the disk and "
            "the path"
        ) from None
    if not isinstance(data, Mapping) or data.get("format") != CHECKPOINT_FORMAT:
        found = data.get("format") if isinstance(data, Mapping) else type(data).__name__
        raise CheckpointError(
            f"{path}: not a {CHECKPOINT_FORMAT} file (format {found!r}); a jaywalnut310/glow-tts "
            "checkpoint is converted first with `glowtts convert G_*.pth config.json -o OUT`"
        )
    version = data.get("version")
    if not isinstance(version, int) or version > CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: {CHECKPOINT_FORMAT} version {version!r}, written by glowtts "
            f"{data.get('package_version')!r}; this glowtts reads versions up to "
            f"{CHECKPOINT_VERSION}: update glowtts"
        )
    required = _KEYS if version >= 2 else _KEYS - {"known"}
    missing = sorted(required - set(data))
    unknown = sorted(set(data) - _KEYS)
    if missing or unknown:
        raise CheckpointError(f"{path}: missing field(s) {missing}, unknown field(s) {unknown}")
    try:
        config = from_dict(data["config"], source=f"{path} (its config)")
    except ConfigError as exc:
        raise CheckpointError(str(exc)) from None
    model = data["model"]
    if not isinstance(model, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in model.values()
    ):
        raise CheckpointError(f"{path}: 'model' is not a state_dict of tensors")
    return Checkpoint(
        config=config,
        n_vocab=int(data["n_vocab"]),
        n_mels=int(data["n_mels"]),
        model=dict(model),
        pronunciations=data["pronunciations"],
        source=data["source"],
        train=data["train"],
        package_version=str(data["package_version"]),
        known=data.get("known"),
    )


def build_model(ckpt: Checkpoint, source: str = "checkpoint") -> GlowTTS:
    """The GlowTTS of a checkpoint, weights loaded strictly (missing/unexpected keys named)."""
    from glowtts.model.glowtts import GlowTTS

    model = GlowTTS(ckpt.config.model, ckpt.n_vocab, ckpt.n_mels)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(ckpt.model))
    unexpected = sorted(set(ckpt.model) - set(expected))
    wrong = sorted(
        f"{k}: {tuple(ckpt.model[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in ckpt.model and ckpt.model[k].shape != v.shape
    )
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"{source}: weights do not fit the model its config describes: missing "
            f"{missing[:5]}{'...' if len(missing) > 5 else ''}, unexpected "
            f"{unexpected[:5]}{'...' if len(unexpected) > 5 else ''}, wrong shapes {wrong[:5]}"
        )
    model.load_state_dict(ckpt.model, strict=True)
    return model


def model_config_differences(stored: ModelConfig, current: ModelConfig) -> list[str]:
    """``"model.<field>: checkpoint X, config Y"`` for every field that differs."""
    a, b = dataclasses.asdict(stored), dataclasses.asdict(current)
    return [f"model.{k}: checkpoint {a[k]!r}, config {b[k]!r}" for k in a if a[k] != b[k]]
