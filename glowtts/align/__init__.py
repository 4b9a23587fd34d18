"""Monotonic alignment search (MAS): Cython/OpenMP on CPU, batched torch elsewhere."""

from glowtts.align.cpu import extension_available, maximum_path_cython
from glowtts.align.paths import (
    durations_from_indices,
    generate_path,
    indices_from_durations,
    path_from_indices,
)
from glowtts.align.search import maximum_path
from glowtts.align.torch_impl import maximum_path_torch

__all__ = [
    "durations_from_indices",
    "extension_available",
    "generate_path",
    "indices_from_durations",
    "maximum_path",
    "maximum_path_cython",
    "maximum_path_torch",
    "path_from_indices",
]
