"""Pitch metrics: log-F0 RMSE over frames voiced in both signals, and the voicing error.

F0 comes from librosa's probabilistic YIN (``librosa.pyin``, 60-800 Hz, pitch bins of 0.2
semitone) every ``audio.hop_length`` samples, centred as the mel features are, so frame ``t``
of the F0 track is frame ``t`` of the mel. A frame holds two periods of the lowest pitch,
``2 * sample_rate / fmin`` samples rounded up to a power of two (2048 at 22,050 Hz), longer
than the mel's ``n_fft``; centring makes the frame count independent of it. The two signals' frames are paired along a given warping path
(the MCD-DTW path of :mod:`glowtts.metrics.mcd`), so the two metrics compare the same sounds.

- ``log_f0_rmse_cents``: RMS of ``1200 * log2(f0_gen / f0_ref)`` over the path's pairs that
  are voiced in both (cents; 100 = one semitone). NaN when no pair is voiced in both.
- ``voicing_error``: fraction of the path's pairs whose voiced/unvoiced decisions differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["F0_MAX_HZ", "F0_MIN_HZ", "F0_RESOLUTION", "F0Track", "f0_errors", "f0_track"]

F0_MIN_HZ = 60.0  # speech: below the lowest male voices' typical floor
F0_MAX_HZ = 800.0  # above sung or excited female speech
F0_RESOLUTION = 0.2  # semitones per pYIN pitch bin (librosa's 0.1 costs 4x in its Viterbi)


@dataclass(frozen=True)
class F0Track:
    """Frame-wise F0: ``hz`` [T] (NaN where unvoiced) and ``voiced`` [T] bool."""

    hz: np.ndarray
    voiced: np.ndarray


def f0_track(
    wav: np.ndarray,
    sample_rate: int,
    *,
    hop_length: int,
    fmin: float = F0_MIN_HZ,
    fmax: float = F0_MAX_HZ,
) -> F0Track:
    """pYIN F0 of a waveform [T] in [-1, 1]; ``1 + len(wav) // hop_length`` frames (centred)."""
    import librosa

    # pYIN needs two periods of fmin per frame; the frame count does not depend on it (centred)
    frame_length = 1 << math.ceil(math.log2(2 * sample_rate / fmin))
    hz, voiced, _ = librosa.pyin(
        np.asarray(wav, dtype=np.float64),
        fmin=fmin,
        fmax=min(fmax, sample_rate / 2 - 1),
        sr=sample_rate,
        frame_length=frame_length,
        hop_length=hop_length,
        center=True,
        resolution=F0_RESOLUTION,
    )
    voiced = np.asarray(voiced, dtype=bool) & np.isfinite(hz)
    return F0Track(hz=np.where(voiced, hz, np.nan), voiced=voiced)


def f0_errors(reference: F0Track, generated: F0Track, path: np.ndarray) -> dict[str, float]:
    """Log-F0 RMSE (cents) and voicing error of ``generated`` against ``reference``.

    Args:
        path: [L, 2] frame pairs (reference frame, generated frame); pairs beyond either
            track's end (a frame's difference in length between analyses) are dropped.

    Returns:
        ``log_f0_rmse_cents``, ``voicing_error`` (see the module docstring), ``pairs`` (L kept)
        and ``voiced_pairs`` (pairs voiced in both: the RMSE's weight).
    """
    path = np.asarray(path, dtype=np.int64).reshape(-1, 2)
    keep = (path[:, 0] < len(reference.voiced)) & (path[:, 1] < len(generated.voiced))
    i, j = path[keep, 0], path[keep, 1]
    if not i.size:
        raise ValueError("f0_errors: no frame pair falls inside both F0 tracks")
    v_ref, v_gen = reference.voiced[i], generated.voiced[j]
    both = v_ref & v_gen
    if both.any():
        cents = 1200.0 * np.log2(generated.hz[j][both] / reference.hz[i][both])
        rmse = float(np.sqrt(np.mean(cents * cents)))
    else:
        rmse = float("nan")
    return {
        "log_f0_rmse_cents": rmse,
        "voicing_error": float(np.mean(v_ref != v_gen)),
        "pairs": float(i.size),
        "voiced_pairs": float(both.sum()),
    }
