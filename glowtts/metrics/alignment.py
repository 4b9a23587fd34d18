"""Text-to-frame alignment scores: per-symbol durations (frames) against the ground truth.

The demo corpus (``glowtts.data.demo``) writes the true number of mel frames of every symbol;
the model gives per-token durations (MAS in training, the duration predictor at inference).
All functions are pure functions of 1-D integer arrays for ONE utterance, in frames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "aggregate",
    "alignment_scores",
    "boundary_shifts",
    "durations_to_indices",
    "merge_blanks",
]

#: Keys of ``alignment_scores`` that are fractions of frames (weighted by ``n_frames``).
_FRAME_KEYS = ("frames_exact", "frames_within_1")


def _as_durations(durations: np.ndarray, name: str) -> np.ndarray:
    """Validate a 1-D array of non-negative whole frame counts; return it as int64."""
    d = np.asarray(durations)
    if d.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of frames per token, got shape {d.shape}")
    if d.dtype.kind not in "iuf" and d.size:
        raise ValueError(f"{name}: expected numbers of frames, got dtype {d.dtype}")
    if d.size and (not np.all(np.isfinite(d)) or np.any(d != np.round(d)) or np.any(d < 0)):
        raise ValueError(
            f"{name}: durations must be non-negative whole numbers of frames, got {d.tolist()}"
        )
    return d.astype(np.int64)


def durations_to_indices(durations: np.ndarray) -> np.ndarray:
    """Expand frames per token into the token index of every frame.

    Args:
        durations: [T_x] non-negative whole numbers of frames per token.

    Returns:
        [sum(durations)] int64 token index per frame, non-decreasing; a token with 0 frames
        does not appear. Example: ``[2, 0, 1] -> [0, 0, 2]``.
    """
    d = _as_durations(durations, "durations")
    return np.repeat(np.arange(d.size, dtype=np.int64), d)


def merge_blanks(durations: np.ndarray, blank_mask: np.ndarray) -> np.ndarray:
    """Give the frames of blank tokens to symbols: per-token durations -> per-symbol durations.

    Rule: a blank between two symbols splits its ``d`` frames between the nearest symbol on
    its left, which gets ``ceil(d / 2)``, and the nearest symbol on its right, which gets
    ``floor(d / 2)``. Blanks before the first symbol give all their frames to the first
    symbol; blanks after the last symbol give all theirs to the last symbol. Consecutive
    blanks follow the same rule each, with the nearest symbols on either side. The total
    number of frames is kept.

    Example (``text.add_blank`` layout ``_ a _ b _``): durations ``[1, 2, 3, 4, 2]`` with
    blanks at 0, 2, 4 -> ``a = 1 + 2 + 1 = 4``, ``b = 1 + 4 + 2 = 7`` -> ``[4, 7]``.

    Args:
        durations: [T_x] frames per token (blanks included).
        blank_mask: [T_x] bool, True where the token is a blank.

    Returns:
        [N] int64 frames per symbol, N = number of non-blank tokens, in order.

    Raises:
        ValueError: shapes differ, or there is no symbol to give the frames to.
    """
    d = _as_durations(durations, "durations")
    is_blank = np.asarray(blank_mask, dtype=bool)
    if is_blank.shape != d.shape:
        raise ValueError(
            f"merge_blanks: blank_mask shape {is_blank.shape} must equal durations shape "
            f"{d.shape} (one flag per token)"
        )
    symbol_pos = np.flatnonzero(~is_blank)  # [N] token positions of the symbols
    if symbol_pos.size == 0:
        raise ValueError(f"merge_blanks: no non-blank token among {d.size} tokens")
    out = d[symbol_pos].copy()
    n = symbol_pos.size
    for pos in np.flatnonzero(is_blank):
        # index (into symbols) of the first symbol right of this blank
        right = int(np.searchsorted(symbol_pos, pos))
        frames = int(d[pos])
        if right == 0:
            out[0] += frames
        elif right == n:
            out[n - 1] += frames
        else:
            out[right - 1] += (frames + 1) // 2  # left neighbour gets the extra frame
            out[right] += frames // 2
    return out


def _paired(
    true_durations: np.ndarray, predicted_durations: np.ndarray, caller: str
) -> tuple[np.ndarray, np.ndarray]:
    """Both duration arrays checked (whole frames) and of one length, per symbol."""
    true_d = _as_durations(true_durations, "true_durations")
    pred_d = _as_durations(predicted_durations, "predicted_durations")
    if true_d.shape != pred_d.shape:
        raise ValueError(
            f"{caller}: {true_d.size} true durations but {pred_d.size} predicted; "
            "merge blank tokens first (merge_blanks) so both are per symbol"
        )
    return true_d, pred_d


def alignment_scores(
    true_durations: np.ndarray, predicted_durations: np.ndarray
) -> dict[str, float]:
    """Score predicted per-symbol durations against the true ones for one utterance.

    Frame-level scores run over the TRUE length ``T = sum(true_durations)``: the predicted
    symbol-per-frame sequence is truncated when longer, and padded by repeating its last
    symbol when shorter (the last symbol, N - 1, when the prediction has no frames at all).
    Duration and boundary errors use the predicted durations as given, not padded.

    Args:
        true_durations: [N] frames per symbol (ground truth, e.g. demo ``durations.tsv``).
        predicted_durations: [N] frames per symbol (blanks already merged, see
            ``merge_blanks``).

    Returns:
        ``frames_exact``: fraction of the T frames whose predicted symbol is the true one.
        ``frames_within_1``: fraction of frames whose predicted symbol equals the true symbol
            of that frame, of the frame before, or of the frame after (so a boundary off by
            one frame costs nothing).
        ``duration_mae_frames``: mean over symbols of ``|true - predicted|`` frames.
        ``boundary_mae_frames``: mean over the N - 1 inner boundaries (cumulative end frame
            of symbols 0 .. N - 2) of the absolute shift, frames; 0.0 when N == 1.
        ``n_frames``, ``n_symbols``: T and N, the weights used by ``aggregate``.

    Raises:
        ValueError: the two arrays differ in length, are empty, or the truth has no frames.
    """
    true_d, pred_d = _paired(true_durations, predicted_durations, "alignment_scores")
    n = true_d.size
    if n == 0:
        raise ValueError("alignment_scores: no symbols to score")
    true_idx = durations_to_indices(true_d)  # [T]
    t = true_idx.size
    if t == 0:
        raise ValueError(f"alignment_scores: true durations {true_d.tolist()} sum to 0 frames")
    pred_idx = durations_to_indices(pred_d)[:t]
    if pred_idx.size < t:
        last = int(pred_idx[-1]) if pred_idx.size else n - 1
        pred_idx = np.concatenate([pred_idx, np.full(t - pred_idx.size, last, dtype=np.int64)])

    exact = pred_idx == true_idx
    # true symbol of the previous / next frame (edges repeat their own frame)
    true_prev = np.concatenate([true_idx[:1], true_idx[:-1]])
    true_next = np.concatenate([true_idx[1:], true_idx[-1:]])
    within_1 = exact | (pred_idx == true_prev) | (pred_idx == true_next)

    boundary_shift = np.abs(np.cumsum(true_d)[:-1] - np.cumsum(pred_d)[:-1])  # [N - 1]
    return {
        "frames_exact": float(exact.mean()),
        "frames_within_1": float(within_1.mean()),
        "duration_mae_frames": float(np.abs(true_d - pred_d).mean()),
        "boundary_mae_frames": float(boundary_shift.mean()) if n > 1 else 0.0,
        "n_frames": float(t),
        "n_symbols": float(n),
    }


def boundary_shifts(true_durations: np.ndarray, predicted_durations: np.ndarray) -> np.ndarray:
    """Signed shift of every inner boundary: where the prediction ends each symbol but the last,
    minus where the truth ends it.

    Args:
        true_durations: [N] frames per symbol (ground truth).
        predicted_durations: [N] frames per symbol (blanks already merged).

    Returns:
        [N - 1] int64 frames; positive where the prediction ends the symbol late. Example:
        true ``[2, 3, 1]``, predicted ``[3, 2, 1]`` -> ``[1, 0]``.

    Raises:
        ValueError: the two arrays differ in length or are not whole frame counts.
    """
    true_d, pred_d = _paired(true_durations, predicted_durations, "boundary_shifts")
    return (np.cumsum(pred_d) - np.cumsum(true_d))[:-1]


def aggregate(scores: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Combine per-utterance ``alignment_scores`` into corpus scores.

    Frame fractions (``frames_exact``, ``frames_within_1``) are weighted by ``n_frames``, so
    they equal the fractions over all frames of the corpus; ``duration_mae_frames`` is
    weighted by ``n_symbols`` (mean over all symbols) and ``boundary_mae_frames`` by
    ``n_symbols - 1`` (mean over all inner boundaries; 0.0 when there are none).
    ``n_frames`` and ``n_symbols`` are summed; ``n_utterances`` is added.

    Args:
        scores: dicts as returned by ``alignment_scores``, one per utterance.

    Raises:
        ValueError: ``scores`` is empty or an item lacks a key.
    """
    if not scores:
        raise ValueError("aggregate: no utterance scores to combine")
    needed = (*_FRAME_KEYS, "duration_mae_frames", "boundary_mae_frames", "n_frames", "n_symbols")
    for i, s in enumerate(scores):
        missing = [k for k in needed if k not in s]
        if missing:
            raise ValueError(
                f"aggregate: scores[{i}] lacks {missing}; pass the dicts of alignment_scores"
            )
    frames = np.array([s["n_frames"] for s in scores], dtype=np.float64)
    symbols = np.array([s["n_symbols"] for s in scores], dtype=np.float64)
    boundaries = symbols - 1.0
    out = {k: float(np.average([s[k] for s in scores], weights=frames)) for k in _FRAME_KEYS}
    out["duration_mae_frames"] = float(
        np.average([s["duration_mae_frames"] for s in scores], weights=symbols)
    )
    out["boundary_mae_frames"] = (
        float(np.average([s["boundary_mae_frames"] for s in scores], weights=boundaries))
        if boundaries.sum() > 0
        else 0.0
    )
    out["n_frames"] = float(frames.sum())
    out["n_symbols"] = float(symbols.sum())
    out["n_utterances"] = float(len(scores))
    return out
