"""Batched torch MAS: vectorised over batch and tokens, one step per mel frame.

Used for CUDA (and other non-CPU) tensors so the scores never leave the device; it also
runs on CPU, where tests check it against the Cython kernel and brute force. It follows
the same recursion and tie-breaking as the kernel (see ``monotonic_align/core.pyx``):
cells outside each item's band hold -inf, so the out-of-band predecessor at x == 0 and
x == y can never win, and ties (``Q[x, y-1] == Q[x-1, y-1]``) stay on the same token.
"""

from __future__ import annotations

import torch

from glowtts.align.lengths import alignment_lengths, kernel_values

__all__ = ["maximum_path_torch"]


def _band(x_len: torch.Tensor, y_len: torch.Tensor, T_y: int, T_x: int) -> torch.Tensor:
    """[B, T_y, T_x] bool: max(0, x_len + y - y_len) <= x < min(x_len, y + 1)."""
    device = x_len.device
    y = torch.arange(T_y, device=device).view(1, T_y, 1)
    x = torch.arange(T_x, device=device).view(1, 1, T_x)
    lo = (x_len - y_len).view(-1, 1, 1) + y  # [B, T_y, 1]; past y_len lo >= x_len: empty
    return (x >= lo) & (x <= y) & (x < x_len.view(-1, 1, 1))


def maximum_path_torch(
    log_p: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor
) -> torch.Tensor:
    """Hard monotonic alignment computed with torch ops on log_p's device.

    Args:
        log_p: [B, T_y, T_x] scores (frames outer, tokens inner), any device.
        x_mask: [B, 1, T_x] float text mask.
        y_mask: [B, 1, T_y] float mel mask.

    Returns:
        [B, T_y] int64 on log_p's device: each frame's token index, 0 past y length.

    Raises:
        ValueError: bad shapes or an item with more tokens than frames.
    """
    with torch.no_grad():
        x_len, y_len = alignment_lengths(log_p, x_mask, y_mask)  # [B], [B]
        value = kernel_values(log_p)  # [B, T_y, T_x]
        B, T_y, T_x = value.shape
        device, dtype = value.device, value.dtype
        neg_inf = torch.tensor(float("-inf"), device=device, dtype=dtype)
        v = torch.where(_band(x_len, y_len, T_y, T_x), value, neg_inf)  # [B, T_y, T_x]

        # q[t + 1, :, 1 + x] = Q[x, t]. Row 0 is a virtual frame -1 with Q[0, -1] = 0, so
        # frame 0 gives Q[0, 0] = value[0, 0]; column 0 is a permanent -inf "token -1".
        # Keeping every row lets one vectorised comparison recover all the decisions, so
        # each frame costs two kernels (a GPU runs this loop launch-bound).
        q = torch.full((T_y + 1, B, T_x + 1), float("-inf"), device=device, dtype=dtype)
        q[0, :, 1] = 0.0
        for t in range(T_y):
            row = q[t + 1, :, 1:]  # [B, T_x]
            torch.maximum(q[t, :, 1:], q[t, :, :-1], out=row)  # max(Q[x, t-1], Q[x-1, t-1])
            row.add_(v[:, t])
        # strict: ties stay on the token; padding frames never step
        frames = torch.arange(T_y, device=device)
        active = frames.view(1, T_y) < y_len.view(B, 1)  # [B, T_y]
        from_prev = torch.lt(q[:-1, :, 1:], q[:-1, :, :-1])  # [T_y, B, T_x]
        from_prev = (from_prev & active.t().unsqueeze(-1)).to(torch.uint8)
        steps = from_prev.unbind(0)  # T_y x [B, T_x]

        index = (x_len - 1).view(B, 1)  # [B, 1], start on the last token
        per_frame: list[torch.Tensor] = [index] * T_y
        for t in range(T_y - 1, -1, -1):
            per_frame[t] = index
            index = index - torch.gather(steps[t], 1, index)
        out = torch.cat(per_frame, dim=1) if T_y else index.new_zeros(B, 0)  # [B, T_y]
        return out * active
