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

    def forward(
        self,
        x: torch.Tensor,
        x_mask: torch.Tensor,
        first: torch.Tensor | None = None,
        out_proj: nn.Conv1d | None = None,
    ) -> torch.Tensor:
        """Run the layers.

        Args:
            x: [B, H, T] input, x_mask: [B, 1, T].
            first: [B, 2H, T] ``in_layers[0](x)`` when the caller computed it more cheaply.
            out_proj: a 1x1 convolution H -> C_out to apply to the masked skip sum. It is
                folded into each layer's skip half (products of the 1x1 weights), so the
                layers emit C_out skip channels instead of H: same values up to rounding,
                fewer multiply-adds when C_out < H.

        Returns:
            skip sum [B, H, T] (masked), or ``out_proj`` of it [B, C_out, T].
        """
        H = self.hidden_channels
        output: torch.Tensor | None = None
        n = len(self.in_layers)
        for i, (in_layer, res_skip) in enumerate(
            zip(self.in_layers, self.res_skip_layers, strict=True)
        ):
            # split(), not slicing: its backward concatenates instead of zero-filling per slice
            pre = first if i == 0 and first is not None else in_layer(x)  # [B, 2H, T]
            h_tanh, h_sigmoid = self.dropout(pre).split(H, dim=1)  # 2 x [B, H, T]
            gate = torch.tanh(h_tanh) * torch.sigmoid(h_sigmoid)  # [B, H, T]
            if out_proj is None:
                rs = res_skip(gate)  # [B, 2H or H, T]
            else:
                rs = _fold_skip_projection(res_skip, out_proj, gate)  # [B, H + C_out or C_out, T]
            if i < n - 1:
                res, skip = rs.split([H, rs.size(1) - H], dim=1)
                x = (x + res) * x_mask
            else:
                skip = rs
            output = skip if output is None else output + skip
        assert output is not None, "WaveNet needs at least one layer"
        if out_proj is None:
            return output * x_mask
        assert out_proj.bias is not None, "out_proj needs a bias"
        return output * x_mask + out_proj.bias[:, None]


def _fold_skip_projection(
    res_skip: nn.Module, out_proj: nn.Conv1d, gate: torch.Tensor
) -> torch.Tensor:
    """``res_skip(gate)`` with its last H (skip) outputs mapped through ``out_proj``'s weight.

    Args:
        res_skip: 1x1 conv H -> R + H (R = H residual channels, or 0 in the last layer).
        out_proj: 1x1 conv H -> C_out (its bias is added once, by the caller).
        gate: [B, H, T].

    Returns:
        [B, R + C_out, T].
    """
    H = gate.size(1)
    w, b = res_skip.weight, res_skip.bias
    assert isinstance(w, torch.Tensor) and isinstance(b, torch.Tensor), "res_skip is a Conv1d"
    w = w[:, :, 0]  # [R + H, H]
    w_out = out_proj.weight[:, :, 0]  # [C_out, H]
    weight = torch.cat([w[:-H], w_out @ w[-H:]])  # [R + C_out, H]
    bias = torch.cat([b[:-H], w_out @ b[-H:]])  # [R + C_out]
    return nn.functional.conv1d(gate, weight.unsqueeze(2), bias)
