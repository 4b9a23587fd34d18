"""Conversions between alignment forms: per-frame token indices, durations, dense paths."""

from __future__ import annotations

import torch

__all__ = [
    "durations_from_indices",
    "generate_path",
    "indices_from_durations",
    "path_from_indices",
]


def path_from_indices(
    indices: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor
) -> torch.Tensor:
    """Dense 0/1 alignment from per-frame token indices.

    Args:
        indices: [B, T_y] int64 token index of every frame.
        x_mask: [B, 1, T_x] float text mask.
        y_mask: [B, 1, T_y] float mel mask.

    Returns:
        [B, 1, T_x, T_y] in x_mask's dtype: 1 where frame y is aligned to token x,
        zero on masked tokens and frames.
    """
    T_x = x_mask.shape[-1]
    one_hot = torch.nn.functional.one_hot(indices, T_x).to(x_mask.dtype)  # [B, T_y, T_x]
    path = one_hot.transpose(1, 2).unsqueeze(1)  # [B, 1, T_x, T_y]
    return path * x_mask.unsqueeze(-1) * y_mask.unsqueeze(2)


def durations_from_indices(indices: torch.Tensor, y_mask: torch.Tensor, T_x: int) -> torch.Tensor:
    """Frames per token: a scatter-add of the mel mask.

    Args:
        indices: [B, T_y] int64 token index of every frame.
        y_mask: [B, 1, T_y] float mel mask (padding frames count 0).
        T_x: number of text positions.

    Returns:
        [B, 1, T_x] in y_mask's dtype.
    """
    B = indices.shape[0]
    durations = torch.zeros(B, T_x, dtype=y_mask.dtype, device=y_mask.device)
    durations.scatter_add_(1, indices, y_mask[:, 0])  # [B, T_x]
    return durations.unsqueeze(1)


def _cumulative(durations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Start and end frame of every token, int64 [B, T_x] each."""
    if durations.dim() != 2:
        raise ValueError(f"durations must be [B, T_x], got shape {tuple(durations.shape)}")
    d = durations.detach()
    d = d.round().long() if d.is_floating_point() else d.long()
    end = torch.cumsum(d, dim=1)  # [B, T_x]
    return end - d, end


def generate_path(durations: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Hard alignment from integer durations: token i covers frames [end_{i-1}, end_i).

    Args:
        durations: [B, T_x] frames per token, int64 or integer-valued float.
        mask: [B, 1, T_x, T_y] float, usually ``x_mask.unsqueeze(-1) * y_mask.unsqueeze(2)``.

    Returns:
        [B, 1, T_x, T_y] in mask's dtype, multiplied by the mask.
    """
    start, end = _cumulative(durations)  # [B, T_x] each
    T_y = mask.shape[-1]
    frames = torch.arange(T_y, device=mask.device).view(1, 1, T_y)
    covered = (frames >= start.unsqueeze(-1)) & (frames < end.unsqueeze(-1))  # [B, T_x, T_y]
    return covered.unsqueeze(1).to(mask.dtype) * mask


def indices_from_durations(durations: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
    """Per-frame token indices of the alignment :func:`generate_path` builds.

    Args:
        durations: [B, T_x] frames per token, int64 or integer-valued float.
        y_mask: [B, 1, T_y] float mel mask.

    Returns:
        [B, T_y] int64: the token whose span covers each frame; 0 for masked frames and
        for frames past the total duration (which generate_path leaves empty).
    """
    _, end = _cumulative(durations)  # [B, T_x]
    B, T_y = y_mask.shape[0], y_mask.shape[-1]
    frames = torch.arange(T_y, device=y_mask.device).expand(B, T_y).contiguous()
    index = torch.searchsorted(end.contiguous(), frames, right=True)  # tokens ending <= y
    covered = (index < end.shape[1]) & (y_mask[:, 0] > 0)  # [B, T_y]
    return index * covered
