"""MAS front end: picks the back end from the device of the scores."""

from __future__ import annotations

import torch

from glowtts.align.cpu import maximum_path_cython
from glowtts.align.torch_impl import maximum_path_torch

__all__ = ["maximum_path"]


def maximum_path(
    log_p: torch.Tensor,
    x_mask: torch.Tensor,
    y_mask: torch.Tensor,
    num_threads: int | None = None,
) -> torch.Tensor:
    """Most likely monotonic alignment of mel frames to text tokens (no autograd).

    Q[x, y] = log_p[y, x] + max(Q[x, y-1], Q[x-1, y-1]) inside the band
    max(0, T_x + y - T_y) <= x < min(T_x, y + 1); backtracking from the last token steps
    back a token when x == y or Q[x, y-1] < Q[x-1, y-1] strictly (ties stay). CPU tensors
    go to the Cython/OpenMP kernel, other devices to the batched torch implementation.

    Args:
        log_p: [B, T_y, T_x] float32/float64 scores, frames outer and tokens inner.
        x_mask: [B, 1, T_x] float text mask (1.0 = valid; lengths are its sums).
        y_mask: [B, 1, T_y] float mel mask.
        num_threads: OpenMP threads of the CPU kernel (default: torch's intra-op threads).

    Returns:
        [B, T_y] int64 on log_p's device: the token index of every frame, 0 for frames past
        an item's y length.

    Raises:
        ValueError: bad shapes, or an item with more tokens than frames (names the batch
            index and both lengths).
        ImportError: on CPU, the Cython extension is not built (run ``snakemake build_mas``
            or ``python -m monotonic_align.build``).
    """
    if log_p.device.type == "cpu":
        return maximum_path_cython(log_p, x_mask, y_mask, num_threads)
    return maximum_path_torch(log_p, x_mask, y_mask)
