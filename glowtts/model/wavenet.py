"""Weight-normed WaveNet-like network (gated dilated convolutions) used inside affine couplings."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrizations, parametrize

from glowtts.model.dropout import Dropout

__all__ = ["WaveNet", "remove_weight_norm", "weight_normed_conv"]


def weight_normed_conv(
    in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1
) -> nn.Conv1d:
    """A 'same'-padded Conv1d whose weight is g * v / ||v|| (per output channel)."""
    padding = dilation * (kernel_size - 1) // 2
    conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, padding=padding)
    return parametrizations.weight_norm(conv, name="weight", dim=0)


def remove_weight_norm(module: nn.Module) -> int:
    """Fold every weight-norm parametrization under ``module`` into a plain weight.

    Returns:
        how many were removed.
    """
    n = 0
    for m in module.modules():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
            n += 1
    return n


class WaveNet(nn.Module):
    """n x [dilated conv -> tanh * sigmoid gate -> 1x1 conv into residual and skip].

    The last layer has no residual half (its 1x1 conv outputs only the skip channels).

    Args:
        hidden_channels: H (even).
        kernel_size: odd kernel of the dilated convolutions.
        dilation_rate: layer i uses dilation ``dilation_rate ** i``.
        n_layers: number of layers.
        p_dropout: dropout on the dilated convolutions' output.
    """

    def __init__(
        self,
        *,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        p_dropout: float,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size_dec must be odd, got {kernel_size}")
        self.hidden_channels = hidden_channels
        self.in_layers = nn.ModuleList(
            weight_normed_conv(hidden_channels, 2 * hidden_channels, kernel_size, dilation_rate**i)
            for i in range(n_layers)
        )
        self.res_skip_layers = nn.ModuleList(
            weight_normed_conv(
                hidden_channels, 2 * hidden_channels if i < n_layers - 1 else hidden_channels, 1
            )
            for i in range(n_layers)
        )
        self.dropout = Dropout(p_dropout)

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        """x: [B, H, T], x_mask: [B, 1, T] -> skip sum [B, H, T] (masked)."""
        H = self.hidden_channels
        output: torch.Tensor | None = None
        n = len(self.in_layers)
        for i, (in_layer, res_skip) in enumerate(
            zip(self.in_layers, self.res_skip_layers, strict=True)
        ):
            # split(), not slicing: its backward concatenates instead of zero-filling per slice
            h_tanh, h_sigmoid = self.dropout(in_layer(x)).split(H, dim=1)  # 2 x [B, H, T]
            rs = res_skip(torch.tanh(h_tanh) * torch.sigmoid(h_sigmoid))
            if i < n - 1:
                res, skip = rs.split(H, dim=1)
                x = (x + res) * x_mask
            else:
                skip = rs
            output = skip if output is None else output + skip
        assert output is not None, "WaveNet needs at least one layer"
        return output * x_mask
