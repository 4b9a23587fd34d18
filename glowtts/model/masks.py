"""Float sequence masks and the channel-wise LayerNorm shared by the model's modules."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LAYER_NORM_EPS", "ChannelLayerNorm", "sequence_mask"]

LAYER_NORM_EPS = 1e-4  # the reference's LayerNorm epsilon (the reference's modules.py LayerNorm)


def sequence_mask(lengths: torch.Tensor, max_length: int | None = None) -> torch.Tensor:
    """Float mask of valid positions.

    Args:
        lengths: [B] long, valid length of each item.
        max_length: T; defaults to ``lengths.max()`` (a host sync).

    Returns:
        [B, 1, T] float32, 1.0 where ``t < lengths[b]``.
    """
    if max_length is None:
        max_length = int(lengths.max())
    positions = torch.arange(max_length, device=lengths.device)
    return (positions[None, :] < lengths[:, None]).unsqueeze(1).float()


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of a [B, C, T] tensor (eps 1e-4, like the reference)."""

    def __init__(self, channels: int, eps: float = LAYER_NORM_EPS) -> None:
        super().__init__()
        self.eps = eps
        self.channels = channels  # a Python int: a constant when traced for export
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, C, T] -> [B, C, T]."""
        # layer_norm normalises trailing dims: move channels last, normalise, move back.
        y = nn.functional.layer_norm(
            x.transpose(1, 2), (self.channels,), self.weight, self.bias, self.eps
        )
        return y.transpose(1, 2)
