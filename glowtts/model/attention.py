"""Multi-head self-attention with windowed relative position embeddings (Shaw et al. 2018)."""

from __future__ import annotations

import torch
from torch import nn

from glowtts.model.dropout import Dropout

__all__ = ["MASKED_SCORE", "RelativeSelfAttention"]

MASKED_SCORE = -1e4  # score given to padded key positions (the reference's value)


class RelativeSelfAttention(nn.Module):
    """Self-attention over [B, C, T] with key and value relative embeddings.

    Relative positions -window..window have one learned embedding each, shared across
    heads; positions farther apart get none. ``window_size=None`` gives plain attention. Query, key and value projections are one fused
    1x1 convolution (``qkv``; the converter concatenates the reference's three).

    Args:
        channels: C, divisible by ``n_heads``.
        n_heads: number of heads.
        window_size: relative window w (2w + 1 embeddings), or None for none.
        p_dropout: dropout on the attention weights.
    """

    def __init__(
        self, *, channels: int, n_heads: int, window_size: int | None, p_dropout: float
    ) -> None:
        super().__init__()
        if channels % n_heads:
            raise ValueError(f"channels ({channels}) must be divisible by n_heads ({n_heads})")
        self.n_heads = n_heads
        self.head_channels = channels // n_heads
        self.window_size = window_size
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.out = nn.Conv1d(channels, channels, 1)
        self.dropout = Dropout(p_dropout)
        self.rel_key: nn.Parameter | None = None
        self.rel_value: nn.Parameter | None = None
        if window_size is not None:
            std = self.head_channels**-0.5
            n_rel = 2 * window_size + 1
            self.rel_key = nn.Parameter(torch.randn(1, n_rel, self.head_channels) * std)
            self.rel_value = nn.Parameter(torch.randn(1, n_rel, self.head_channels) * std)
        for i in range(3):  # xavier per projection, as three separate C x C matrices
            nn.init.xavier_uniform_(self.qkv.weight[i * channels : (i + 1) * channels])

    @staticmethod
    def _band_index(T: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """For each (query i, key j): embedding index j - i + w clamped, and |j - i| <= w."""
        pos = torch.arange(T, device=device)
        offset = pos[None, :] - pos[:, None]  # [T, T] = j - i
        return (offset + w).clamp(0, 2 * w), offset.abs() <= w

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        """Attend over valid positions.

        Args:
            x: [B, C, T] input.
            x_mask: [B, 1, T] float mask.

        Returns:
            [B, C, T] output (not masked; the caller masks).
        """
        B, C, T = x.shape
        H, D, w = self.n_heads, self.head_channels, self.window_size
        qkv = self.qkv(x).view(B, 3, H, D, T)
        q = qkv[:, 0].transpose(2, 3) * D**-0.5  # [B, H, T, D], pre-scaled
        k = qkv[:, 1]  # [B, H, D, T]
        v = qkv[:, 2].transpose(2, 3)  # [B, H, T, D]

        scores = torch.matmul(q, k)  # [B, H, T, D] x [B, H, D, T] = [B, H, T, T]
        if w is not None and self.rel_key is not None:
            rel_idx, in_band = self._band_index(T, w, x.device)
            rel_logits = torch.matmul(q, self.rel_key.transpose(1, 2))  # [B, H, T, 2w+1]
            rel_scores = rel_logits.gather(3, rel_idx.expand(B, H, T, T))  # [B, H, T, T]
            scores = scores + rel_scores * in_band

        pad = (x_mask[:, :, None, :] * x_mask[:, :, :, None]) == 0  # [B, 1, T, T] True = padded
        scores = scores.masked_fill(pad, MASKED_SCORE)
        p_attn = self.dropout(torch.softmax(scores, dim=-1))  # [B, H, T, T]
        out = torch.matmul(p_attn, v)  # [B, H, T, D]

        if w is not None and self.rel_value is not None:
            # weight each relative offset r gets: p_attn[i, i + r - w] (0 outside the sequence)
            p_padded = nn.functional.pad(p_attn, (w, w))  # [B, H, T, T + 2w]
            gather_idx = torch.arange(T, device=x.device)[:, None] + torch.arange(
                2 * w + 1, device=x.device
            )
            rel_weights = p_padded.gather(
                3, gather_idx.expand(B, H, T, 2 * w + 1)
            )  # [B, H, T, 2w+1]
            out = out + torch.matmul(rel_weights, self.rel_value)  # [B, H, T, D]
        out = out.transpose(2, 3).reshape(B, C, T)
        return self.out(out)
