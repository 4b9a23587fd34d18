"""Scores of a model's output against known truth (alignment against demo durations)."""

from glowtts.metrics.alignment import (
    aggregate,
    alignment_scores,
    durations_to_indices,
    merge_blanks,
)

__all__ = ["aggregate", "alignment_scores", "durations_to_indices", "merge_blanks"]
