"""What every vocoder module shares: its rate, hop and mel count, and the input check."""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn

from glowtts.errors import UserValueError

__all__ = ["MelSizes", "MelVocoder", "Vocoder"]


class MelSizes(Protocol):
    """The sizes a vocoder and the features must agree on."""

    @property
    def sample_rate(self) -> int: ...

    @property
    def hop_length(self) -> int: ...

    @property
    def n_mels(self) -> int: ...


class Vocoder(MelSizes, Protocol):
    """What synthesis and evaluation need of a vocoder."""

    @property
    def name(self) -> str: ...

    def __call__(self, mel: torch.Tensor) -> torch.Tensor:
        """Log-mel ``[B, n_mels, T_y]`` -> waveform ``[B, 1, T_y * hop_length]``."""
        ...


class MelVocoder(nn.Module):
    """Base of the vocoders: ``self.cfg`` gives ``sample_rate``, ``hop_length``, ``n_mels``."""

    name: str
    cfg: MelSizes

    @property
    def sample_rate(self) -> int:
        return self.cfg.sample_rate

    @property
    def hop_length(self) -> int:
        return self.cfg.hop_length

    @property
    def n_mels(self) -> int:
        return self.cfg.n_mels

    def check_mel(self, mel: torch.Tensor) -> None:
        """Refuse anything but a log-mel ``[B, n_mels, T_y]``, naming the shape."""
        if mel.dim() != 3 or mel.shape[1] != self.n_mels:
            raise UserValueError(
                f"{self.name}: expected a log-mel [B, {self.n_mels}, T_y], "
                f"got shape {tuple(mel.shape)}"
            )
