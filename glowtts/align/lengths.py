"""Checks shared by both MAS back ends: shapes, dtype and per-item lengths from the masks."""

from __future__ import annotations

import torch

__all__ = ["alignment_lengths", "kernel_values"]


def alignment_lengths(
    log_p: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate MAS inputs and return the text and mel lengths.

    Args:
        log_p: [B, T_y, T_x] scores (frames outer, tokens inner).
        x_mask: [B, 1, T_x] float text mask, 1.0 = valid.
        y_mask: [B, 1, T_y] float mel mask, 1.0 = valid.

    Returns:
        x_len, y_len: [B] int64 on log_p's device (the number of valid entries).

    Raises:
        ValueError: a shape does not match, or an item has no tokens or more tokens than
            frames (the message names the batch index and both lengths).
    """
    if log_p.dim() != 3:
        raise ValueError(
            f"maximum_path: log_p must be [B, T_y, T_x] (frames outer, tokens inner), "
            f"got shape {tuple(log_p.shape)}"
        )
    B, T_y, T_x = log_p.shape
    if tuple(x_mask.shape) != (B, 1, T_x) or tuple(y_mask.shape) != (B, 1, T_y):
        raise ValueError(
            f"maximum_path: log_p {tuple(log_p.shape)} = [B, T_y, T_x] needs x_mask "
            f"[B, 1, T_x] = {(B, 1, T_x)} and y_mask [B, 1, T_y] = {(B, 1, T_y)}, got "
            f"x_mask {tuple(x_mask.shape)} and y_mask {tuple(y_mask.shape)}; "
            "pass log_p as [B, T_y, T_x], not [B, T_x, T_y]"
        )
    # counting (not summing floats) stays exact for fp16 masks longer than 2048
    x_len = (x_mask.detach() > 0).sum(dim=(1, 2))  # [B] int64
    y_len = (y_mask.detach() > 0).sum(dim=(1, 2))  # [B] int64
    bad = (x_len < 1) | (x_len > y_len)  # [B]
    if B and bool(bad.any()):  # one host sync on CUDA: a bool, never the values
        b = int(bad.nonzero()[0, 0])
        raise ValueError(
            f"maximum_path: batch item {b} has {int(x_len[b])} text tokens and "
            f"{int(y_len[b])} mel frames; a monotonic alignment needs "
            "1 <= tokens <= frames: drop or filter such utterances before training"
        )
    return x_len.to(log_p.device), y_len.to(log_p.device)


def kernel_values(log_p: torch.Tensor) -> torch.Tensor:
    """``log_p`` detached as C-contiguous float32/float64; copies only when it must.

    float32 and float64 contiguous tensors come back as they are (no copy); other
    floating types (fp16/bf16 under autocast) are upcast to float32, and a
    non-contiguous view is made contiguous.
    """
    value = log_p.detach()
    if value.dtype not in (torch.float32, torch.float64):
        if not value.is_floating_point():
            raise ValueError(f"maximum_path: log_p must be a float tensor, got {value.dtype}")
        value = value.float()
    return value.contiguous()
