"""Cython monotonic alignment search kernel; importable whether or not it is compiled.

Build it with ``python -m monotonic_align.build`` (or ``snakemake build_mas``). The
torch-facing API lives in :mod:`glowtts.align`; this package only holds the kernel.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["BUILD_HINT", "is_built", "load_core", "openmp_enabled"]

BUILD_HINT = (
    "the monotonic_align Cython extension is not built: run `snakemake build_mas` "
    "or `python -m monotonic_align.build`"
)


def load_core() -> ModuleType:
    """Import and return the compiled kernel module ``monotonic_align._core``.

    Raises:
        ImportError: the extension is not built (the message says how to build it).
    """
    try:
        return importlib.import_module("monotonic_align._core")
    except ImportError as err:
        raise ImportError(f"{BUILD_HINT} ({err})") from err


def is_built() -> bool:
    """True when the compiled extension can be imported."""
    try:
        load_core()
    except ImportError:
        return False
    return True


def openmp_enabled() -> bool:
    """True when the extension was compiled with OpenMP (False when serial or not built)."""
    try:
        return bool(load_core().OPENMP)
    except ImportError:
        return False
