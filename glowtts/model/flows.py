"""Invertible flow layers of the decoder: ActNorm, grouped invertible 1x1 conv, affine coupling.

Every flow has the signature ``(x, x_mask, reverse=False) -> (y, logdet)`` with
x, y: [B, C, T], x_mask: [B, 1, T] float, logdet: [B] (the log|det J| of the direction run,
so reverse returns the negative of the forward log-det at the same point). ``transform`` is
the same map returning the log-det per frame, [B, T], which the decoder sums per item (also
when several items are packed into one row).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from glowtts.model.wavenet import WaveNet, weight_normed_conv

__all__ = [
    "ACTNORM_MIN_VAR",
    "SIGMOID_SCALE_EPS",
    "ActNorm",
    "AffineCoupling",
    "Flow",
    "InvConvNear",
]

ACTNORM_MIN_VAR = 1e-6  # variance floor of the data-dependent init
SIGMOID_SCALE_EPS = 1e-6  # log(eps + sigmoid(.)) when sigmoid_scale is on


class Flow(nn.Module):
    """Base of the decoder's flows: ``forward`` sums :meth:`transform`'s per-frame log-det."""

    def transform(
        self, x: torch.Tensor, x_mask: torch.Tensor, reverse: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, C, T], x_mask: [B, 1, T] -> (y [B, C, T], log-det per frame [B, T])."""
        raise NotImplementedError

    def inverse(self, y: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
        """The reverse direction alone (inference, export): y [B, C, T] -> x, no log-det."""
        raise NotImplementedError

    def forward(
        self, x: torch.Tensor, x_mask: torch.Tensor, reverse: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, C, T], x_mask: [B, 1, T] -> (y [B, C, T], logdet [B])."""
        y, logdet = self.transform(x, x_mask, reverse)
        return y, logdet.sum(dim=1)


class ActNorm(Flow):
    """Per-channel affine y = bias + exp(logs) * x, initialised from data by :meth:`initialize`."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.logs = nn.Parameter(torch.zeros(1, channels, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1))

    def transform(
        self, x: torch.Tensor, x_mask: torch.Tensor, reverse: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, C, T], x_mask: [B, 1, T] -> (y [B, C, T], log-det per frame [B, T])."""
        logdet = self.logs.sum() * x_mask[:, 0]  # [B, T]
        if reverse:
            return self.inverse(x, x_mask), -logdet
        return (self.bias + torch.exp(self.logs) * x) * x_mask, logdet

    def inverse(self, y: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
        return (y - self.bias) * torch.exp(-self.logs) * y_mask

    @torch.no_grad()
    def initialize(self, x: torch.Tensor, x_mask: torch.Tensor) -> None:
        """Data-dependent init: afterwards forward(x) is zero-mean, unit-variance per channel
        over the valid (batch, time) positions.

        Args:
            x: [B, C, T] this layer's input.
            x_mask: [B, 1, T] float mask.
        """
        n = x_mask.sum(dim=(0, 2))  # [1]
        mean = (x * x_mask).sum(dim=(0, 2)) / n  # [C]
        var = (x * x * x_mask).sum(dim=(0, 2)) / n - mean**2  # [C]
        logs = -0.5 * torch.log(var.clamp_min(ACTNORM_MIN_VAR))  # [C]
        self.logs.copy_(logs.view_as(self.logs))
        self.bias.copy_((-mean * torch.exp(logs)).view_as(self.bias))


class InvConvNear(Flow):
    """Invertible 1x1 convolution mixing channels in groups of ``n_split``.

    Channel c = a * C/2 + j * n_split/2 + k (a in {0, 1}, k < n_split/2) belongs to group
    a * n_split/2 + k at position j, as in the reference; the same n_split x n_split matrix
    mixes the groups at each position. It is applied as one block-structured [C, C] matrix
    (no permuted copies of x), and its inverse can be cached for inference with
    :meth:`cache_inverse`.

    Args:
        channels: C, divisible by ``n_split``.
        n_split: group size (even).
    """

    _group: torch.Tensor
    _same_position: torch.Tensor
    _inverse: torch.Tensor | None

    def __init__(self, channels: int, n_split: int) -> None:
        super().__init__()
        if n_split % 2 or channels % n_split:
            raise ValueError(
                f"n_split ({n_split}) must be even and divide the squeezed channels ({channels})"
            )
        self.n_split = n_split
        self.channels = channels
        w = torch.linalg.qr(torch.randn(n_split, n_split))[0]
        if torch.det(w) < 0:
            w[:, 0] = -w[:, 0]
        self.weight = nn.Parameter(w)
        ch = torch.arange(channels)
        half = channels // 2
        rem = ch % half
        group = (ch // half) * (n_split // 2) + rem % (n_split // 2)
        position = rem // (n_split // 2)
        self.register_buffer("_group", group, persistent=False)  # [C]
        same = (position[:, None] == position[None, :]).float()  # [C, C]
        self.register_buffer("_same_position", same, persistent=False)
        self.register_buffer("_inverse", None, persistent=False)
        self._inverse_version = -1

    def _full(self, w: torch.Tensor) -> torch.Tensor:
        """[n, n] group matrix -> [C, C] channel matrix (zero between different positions)."""
        return w[self._group][:, self._group] * self._same_position.to(w.dtype)

    def _inverse_group_matrix(self) -> torch.Tensor:
        w = self.weight
        if w.dtype in (torch.float16, torch.bfloat16):  # no half-precision inverse kernels
            return torch.linalg.inv(w.float()).to(w.dtype)
        return torch.linalg.inv(w)

    @torch.no_grad()
    def cache_inverse(self) -> None:
        """Compute the [C, C] inverse once for inference: reverse() in eval mode reuses it.

        The cache is dropped by ``train()`` and by loading a state_dict; a weight changed in
        place while in eval mode (e.g. an EMA copy through ``.data``) needs another call.
        """
        self._inverse = self._full(self._inverse_group_matrix())
        self._inverse_version = self.weight._version

    def train(self, mode: bool = True) -> InvConvNear:
        if mode:
            self._inverse = None  # training changes the weight: a cached inverse would go stale
        return super().train(mode)

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        self._inverse = None  # new weights: the cached inverse is not theirs
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def transform(
        self, x: torch.Tensor, x_mask: torch.Tensor, reverse: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, C, T], x_mask: [B, 1, T] -> (y [B, C, T], log-det per frame [B, T])."""
        logabsdet = torch.linalg.slogdet(self.weight)[1]
        logdet = logabsdet * (self.channels / self.n_split) * x_mask[:, 0]  # [B, T]
        if reverse:
            return self.inverse(x, x_mask), -logdet
        y = torch.matmul(self._full(self.weight).to(x.dtype), x)  # [C, C] x [B, C, T]
        return y * x_mask, logdet

    def inverse(self, y: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
        """With :meth:`cache_inverse` in eval mode, a constant [C, C] matrix (no inversion)."""
        cached = None if self.training else self._inverse
        if cached is not None and self._inverse_version == self.weight._version:
            full = cached
        else:
            full = self._full(self._inverse_group_matrix())
        return torch.matmul(full.to(y.dtype), y) * y_mask  # [C, C] x [B, C, T]


class AffineCoupling(Flow):
    """Affine coupling: the first half of the channels conditions a shift and log-scale of the
    second half through a weight-normed WaveNet (zero-initialised output: identity at start).

    Args:
        channels: C (even).
        hidden_channels: WaveNet channels.
        kernel_size, dilation_rate, n_layers, p_dropout: WaveNet hyperparameters.
        sigmoid_scale: log-scale = log(eps + sigmoid(s + 2)) instead of s.
    """

    def __init__(
        self,
        *,
        channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        p_dropout: float,
        sigmoid_scale: bool,
    ) -> None:
        super().__init__()
        self.half_channels = channels // 2
        self.sigmoid_scale = sigmoid_scale
        self.start = weight_normed_conv(self.half_channels, hidden_channels, 1)
        self.wavenet = WaveNet(
            hidden_channels=hidden_channels,
            kernel_size=kernel_size,
            dilation_rate=dilation_rate,
            n_layers=n_layers,
            p_dropout=p_dropout,
        )
        self.end = nn.Conv1d(hidden_channels, channels, 1)
        for p in self.end.parameters():  # zero output: the coupling starts as the identity
            nn.init.zeros_(p)
        # fold ``start`` into the first dilated conv when that conv then has fewer inputs, and
        # ``end`` into the WaveNet's skip convs when they then have fewer outputs
        self.fold_start = self.half_channels + 1 < hidden_channels
        self.fold_end = channels < hidden_channels

    def _first_layer(
        self, x_0: torch.Tensor, x_mask: torch.Tensor, w_start: torch.Tensor
    ) -> torch.Tensor:
        """``wavenet.in_layers[0](start(x_0) * x_mask)`` as one convolution over C/2 + 1 inputs.

        Both convolutions are linear and ``start`` is 1x1, so their product is one kernel on
        the masked x_0; ``start``'s bias, zero on padding, enters through an extra input
        channel holding the mask. Same values (up to rounding) for 2H x (C/2 + 1) x k instead
        of 2H x H x k multiply-adds per frame (base size: 81 inputs instead of 192).

        Args:
            x_0: [B, C/2, T], x_mask: [B, 1, T], w_start: [H, C/2, 1] start's weight.

        Returns:
            [B, 2H, T] the first layer's pre-activation.
        """
        in_layer = self.wavenet.in_layers[0]
        assert isinstance(in_layer, nn.Conv1d), type(in_layer)
        w_in = in_layer.weight  # [2H, H, k]
        w_start = w_start[:, :, 0]  # [H, C/2]
        w_x = torch.einsum("ohk,hc->ock", w_in, w_start)  # [2H, C/2, k]
        w_bias = torch.einsum("ohk,h->ok", w_in, self.start.bias).unsqueeze(1)  # [2H, 1, k]
        inputs = torch.cat([x_0 * x_mask, x_mask.to(x_0.dtype)], dim=1)  # [B, C/2 + 1, T]
        return nn.functional.conv1d(
            inputs,
            torch.cat([w_x, w_bias], dim=1),  # [2H, C/2 + 1, k]
            in_layer.bias,
            padding=in_layer.padding,
            dilation=in_layer.dilation,
        )

    def transform(
        self, x: torch.Tensor, x_mask: torch.Tensor, reverse: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, C, T], x_mask: [B, 1, T] -> (y [B, C, T], log-det per frame [B, T])."""
        x_0, x_1 = x.split(self.half_channels, dim=1)  # 2 x [B, C/2, T]
        m, logs = self._shift_and_log_scale(x_0, x_mask)
        logdet = (logs * x_mask).sum(dim=1)  # [B, T]
        if reverse:
            z_1 = (x_1 - m) * torch.exp(-logs) * x_mask
            logdet = -logdet
        else:
            z_1 = (m + torch.exp(logs) * x_1) * x_mask
        return torch.cat([x_0, z_1], dim=1), logdet

    def inverse(self, y: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
        y_0, y_1 = y.split(self.half_channels, dim=1)  # 2 x [B, C/2, T]
        m, logs = self._shift_and_log_scale(y_0, y_mask)
        return torch.cat([y_0, (y_1 - m) * torch.exp(-logs) * y_mask], dim=1)

    def _shift_and_log_scale(
        self, x_0: torch.Tensor, x_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The WaveNet's shift and log-scale of the second half, from the first: 2 x [B, C/2, T]."""
        w_start = self.start.weight  # [H, C/2, 1], weight norm evaluated once per call
        first = self._first_layer(x_0, x_mask, w_start) if self.fold_start else None
        h = nn.functional.conv1d(x_0, w_start, self.start.bias) * x_mask  # [B, H, T]
        if self.fold_end:
            stats = self.wavenet(h, x_mask, first, out_proj=self.end)  # [B, C, T]
        else:
            stats = self.end(self.wavenet(h, x_mask, first))
        m, logs = stats.split(self.half_channels, dim=1)  # 2 x [B, C/2, T]
        if self.sigmoid_scale:
            logs = torch.log(SIGMOID_SCALE_EPS + torch.sigmoid(logs + 2))
        return m, logs
