"""CPU back end of MAS: the Cython/OpenMP kernel called on the tensors' own memory."""

from __future__ import annotations

import torch

from glowtts.align.lengths import alignment_lengths, kernel_values

__all__ = ["extension_available", "maximum_path_cython"]


def extension_available() -> bool:
    """True when ``monotonic_align._core`` is compiled and importable."""
    from monotonic_align import is_built

    return is_built()


def maximum_path_cython(
    log_p: torch.Tensor,
    x_mask: torch.Tensor,
    y_mask: torch.Tensor,
    num_threads: int | None = None,
) -> torch.Tensor:
    """Hard monotonic alignment with the compiled kernel, threads across the batch.

    The kernel reads ``log_p`` in place (no copy when it is a contiguous float32/float64
    CPU tensor) and writes the compact per-frame index tensor; no dense path is built.

    Args:
        log_p: [B, T_y, T_x] CPU scores (frames outer, tokens inner).
        x_mask: [B, 1, T_x] float text mask.
        y_mask: [B, 1, T_y] float mel mask.
        num_threads: OpenMP threads; default ``torch.get_num_threads()``.

    Returns:
        [B, T_y] int64: the token index of every frame, 0 past each item's y length.

    Raises:
        ImportError: the extension is not built (run ``snakemake build_mas`` or
            ``python -m monotonic_align.build``).
        ValueError: bad shapes, device, or an item with more tokens than frames.
    """
    from monotonic_align import load_core

    if log_p.device.type != "cpu":
        raise ValueError(
            f"maximum_path_cython: log_p is on {log_p.device}; use maximum_path, "
            "which runs the torch implementation there"
        )
    core = load_core()
    x_len, y_len = alignment_lengths(log_p, x_mask, y_mask)  # [B], [B]
    value = kernel_values(log_p)  # [B, T_y, T_x], the caller's memory when possible
    B, T_y, _ = value.shape
    out = torch.zeros(B, T_y, dtype=torch.long)  # [B, T_y]
    order = torch.argsort(x_len * y_len, descending=True, stable=True)  # longest first
    threads = num_threads if num_threads is not None else torch.get_num_threads()
    core.maximum_path(
        value.numpy(), out.numpy(), x_len.numpy(), y_len.numpy(), order.numpy(), threads
    )
    return out
