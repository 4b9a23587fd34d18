"""Duration predictor: log-durations per token from the (detached) encoder output."""

from __future__ import annotations

import torch
from torch import nn

from glowtts.model.dropout import Dropout
from glowtts.model.masks import ChannelLayerNorm

__all__ = ["DurationPredictor"]


class DurationPredictor(nn.Module):
    """2 x (conv k -> ReLU -> LayerNorm -> dropout) -> 1x1 conv -> log-duration.

    Args:
        in_channels: encoder hidden channels.
        filter_channels: hidden channels of the predictor (``filter_channels_dp``).
        kernel_size: convolution kernel.
        p_dropout: dropout after each block.
    """

    def __init__(
        self, *, in_channels: int, filter_channels: int, kernel_size: int, p_dropout: float
    ) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.convs = nn.ModuleList(
            [
                nn.Conv1d(in_channels, filter_channels, kernel_size, padding=pad),
                nn.Conv1d(filter_channels, filter_channels, kernel_size, padding=pad),
            ]
        )
        self.norms = nn.ModuleList(ChannelLayerNorm(filter_channels) for _ in range(2))
        self.dropout = Dropout(p_dropout)
        self.proj = nn.Conv1d(filter_channels, 1, 1)

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        """x: [B, H, T_x] (detach it first), x_mask: [B, 1, T_x] -> logw [B, 1, T_x] (masked)."""
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = self.dropout(norm(torch.relu(conv(x * x_mask))))
        return self.proj(x * x_mask) * x_mask
