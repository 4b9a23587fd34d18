"""MAS front end: picks the back end from the device of the scores."""

from __future__ import annotations

import torch

from glowtts.align.cpu import maximum_path_cython
from glowtts.align.torch_impl import maximum_path_torch

__all__ = ["maximum_path", "maximum_path_on_host"]


def maximum_path(
    log_p: torch.Tensor,
    x_mask: torch.Tensor,
    y_mask: torch.Tensor,
    num_threads: int | None = None,
    on_host: bool = False,
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
        on_host: for scores on a GPU, copy them to (pinned) host memory and run the CPU
            kernel, then copy the indices back, instead of the batched torch path.

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
    if on_host:
        return maximum_path_on_host(log_p, x_mask, y_mask, num_threads)
    return maximum_path_torch(log_p, x_mask, y_mask)


def maximum_path_on_host(
    log_p: torch.Tensor,
    x_mask: torch.Tensor,
    y_mask: torch.Tensor,
    num_threads: int | None = None,
) -> torch.Tensor:
    """MAS of scores on any device by the CPU kernel: one blocking copy of the scores into
    pinned host memory (when CUDA is present), the kernel, the indices copied back without
    blocking. Same arguments and result as :func:`maximum_path`."""
    pin = log_p.device.type == "cuda"
    host = torch.empty(log_p.shape, dtype=log_p.dtype, pin_memory=pin)  # [B, T_y, T_x]
    host.copy_(log_p)  # blocking: the kernel reads it next
    indices = maximum_path_cython(host, x_mask.cpu(), y_mask.cpu(), num_threads)  # [B, T_y]
    if pin:
        indices = indices.pin_memory()
    return indices.to(log_p.device, non_blocking=pin)
