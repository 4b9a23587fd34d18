"""Multi-head self-attention with windowed relative position embeddings (Shaw et al. 2018)."""

from __future__ import annotations

import torch
from torch import nn

from glowtts.model.dropout import Dropout
from glowtts.model.packing import PackedLayout

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
    def _band_index(T: int, w: int, device: torch.device) -> torch.Tensor:
        """[T, T] index into the 2w + 2 relative logits of each (query i, key j): j - i + w
        inside the window |j - i| <= w, else 2w + 1 (a zero column)."""
        pos = torch.arange(T, device=device)
        offset = pos[None, :] - pos[:, None]  # [T, T] = j - i
        return torch.where(offset.abs() <= w, offset + w, 2 * w + 1)

    @staticmethod
    def _diagonal_index(T: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """For query i and offset r: key column clamp(i + r - w) [T, 2w + 1] and whether that
        key exists (float [T, 2w + 1])."""
        key = torch.arange(T, device=device)[:, None] + torch.arange(-w, w + 1, device=device)
        inside = (key >= 0) & (key < T)
        return key.clamp(0, T - 1), inside.float()

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        """Attend over valid positions.

        Args:
            x: [B, C, T] input.
            x_mask: [B, 1, T] float mask.

        Returns:
            [B, C, T] output (not masked; the caller masks).
        """
        key_padded = (x_mask == 0).unsqueeze(2)  # [B, 1, 1, T]
        return self.out(self._attend(self.qkv(x), key_padded))

    def forward_packed(self, x: torch.Tensor, layout: PackedLayout) -> torch.Tensor:
        """Attend within each item of a packed row: each item's own [T_b, T_b] scores, no
        padding (half the score entries of the padded batch at LJSpeech lengths).

        Args:
            x: [1, C, P] packed input (:func:`glowtts.model.packing.pack`).
            layout: its layout.

        Returns:
            [1, C, P] output; columns between items hold the output bias (the caller masks).
        """
        qkv = self.qkv(x)  # [1, 3C, P]
        pieces = []
        end = 0
        for start, n in zip(layout.starts, layout.lengths, strict=True):
            if start > end:  # the zero columns before this item
                pieces.append(qkv.new_zeros(1, qkv.size(1) // 3, start - end))
            pieces.append(self._attend(qkv[:, :, start : start + n], None))  # [1, C, n]
            end = start + n
        if end < qkv.size(2):
            pieces.append(qkv.new_zeros(1, qkv.size(1) // 3, qkv.size(2) - end))
        return self.out(torch.cat(pieces, dim=2))

    def _attend(self, qkv: torch.Tensor, key_padded: torch.Tensor | None) -> torch.Tensor:
        """qkv: [B, 3C, T] projections, key_padded: [B, 1, 1, T] True = padded key (None: no
        padding) -> [B, C, T] attention output before the output projection."""
        B, C3, T = qkv.shape
        C, H, D, w = C3 // 3, self.n_heads, self.head_channels, self.window_size
        qkv = qkv.view(B, 3, H, D, T)
        q = qkv[:, 0].transpose(2, 3) * D**-0.5  # [B, H, T, D], pre-scaled
        k = qkv[:, 1]  # [B, H, D, T]
        v = qkv[:, 2].transpose(2, 3)  # [B, H, T, D]

        scores = torch.matmul(q, k)  # [B, H, T, D] x [B, H, D, T] = [B, H, T, T]
        if w is not None and self.rel_key is not None:
            rel_logits = torch.matmul(q, self.rel_key.transpose(1, 2))  # [B, H, T, 2w+1]
            rel_logits = nn.functional.pad(rel_logits, (0, 1))  # [B, H, T, 2w+2], last = 0
            band = self._band_index(T, w, qkv.device).expand(B, H, T, T)
            scores = scores + rel_logits.gather(3, band)  # [B, H, T, T]
        if key_padded is not None:
            # padded keys get no weight; padded query rows are left to the caller's mask
            scores = scores.masked_fill(key_padded, MASKED_SCORE)
        p_attn = self.dropout(torch.softmax(scores, dim=-1))  # [B, H, T, T]
        out = torch.matmul(p_attn, v)  # [B, H, T, D]

        if w is not None and self.rel_value is not None:
            # weight each relative offset r gets: p_attn[i, i + r - w] (0 outside the sequence)
            key, inside = self._diagonal_index(T, w, qkv.device)  # [T, 2w+1] each
            rel_weights = p_attn.gather(3, key.expand(B, H, T, 2 * w + 1)) * inside
            out = out + torch.matmul(rel_weights, self.rel_value)  # [B, H, T, D]
        return out.transpose(2, 3).reshape(B, C, T)
