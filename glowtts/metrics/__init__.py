"""Scores of a model's output: alignment against known durations, MCD-DTW and pitch against
recordings. Import-light: librosa and scipy load on first use."""

from glowtts.metrics.alignment import (
    aggregate,
    alignment_scores,
    boundary_shifts,
    durations_to_indices,
    merge_blanks,
)
from glowtts.metrics.mcd import MCD_ORDER, MCDResult, mcd_dtw, mel_cepstrum
from glowtts.metrics.pitch import F0Track, f0_errors, f0_track

__all__ = [
    "MCD_ORDER",
    "F0Track",
    "MCDResult",
    "aggregate",
    "alignment_scores",
    "boundary_shifts",
    "durations_to_indices",
    "f0_errors",
    "f0_track",
    "mcd_dtw",
    "mel_cepstrum",
    "merge_blanks",
]
