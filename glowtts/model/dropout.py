"""Dropout with cheaper random masks than ``nn.Dropout`` on CPU (same distribution)."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["GEOMETRIC_MAX_P", "Dropout"]

GEOMETRIC_MAX_P = 0.2  # on CPU, p up to this draws geometric gaps between drops
_GAP_DRAW_SIGMAS = 8.0  # gaps drawn beyond the expected count: a second draw ~never needed


def _drop_positions(n: int, p: float, device: torch.device) -> torch.Tensor:
    """Positions in [0, n) dropped by n iid Bernoulli(p) trials, as long [K].

    The gaps between successive drops of a Bernoulli(p) sequence are iid geometric(p)
    (>= 1), so ~n * p random numbers replace n of them.
    """
    count = max(1, int(n * p + _GAP_DRAW_SIGMAS * math.sqrt(n * p) + 16))
    chunks = []
    last = -1.0  # position of the latest drop
    while last < n:
        u = torch.rand(count, dtype=torch.float64, device=device)
        gaps = torch.floor(torch.log1p(-u) / math.log1p(-p)) + 1  # P(gap > m) = (1 - p)^m
        positions = gaps.cumsum(0) + last
        chunks.append(positions)
        last = float(positions[-1])
    positions = torch.cat(chunks)
    return positions[positions < n].long()


class Dropout(nn.Module):
    """Inverted dropout, same distribution as ``nn.Dropout`` (a different random stream).

    On CPU with p <= ``GEOMETRIC_MAX_P`` (the decoder's 0.05, the encoder's 0.1) the
    dropped positions come from geometric gaps (~n * p draws; the step's ~70 M dropout
    elements cost ~3x less than with one uniform each). Otherwise one uniform per element
    (p exact to 2^-24, as ``nn.Dropout``'s), turned into a float mask: multiplying by a bool
    mask takes a slow type-promotion path on CPU.

    Args:
        p: probability of zeroing an element.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: any shape -> same shape."""
        if not self.training or self.p == 0.0:
            return x
        scale = 1.0 / (1.0 - self.p)
        if x.device.type == "cpu" and self.p <= GEOMETRIC_MAX_P:
            n = x.numel()
            keep_scale = torch.full((n,), scale, dtype=x.dtype, device=x.device)
            keep_scale.index_fill_(0, _drop_positions(n, self.p, x.device), 0.0)
            return x * keep_scale.view(x.shape)
        keep_scale = (torch.rand_like(x) >= self.p).to(x.dtype).mul_(scale)
        return x * keep_scale

    def extra_repr(self) -> str:
        return f"p={self.p}"
