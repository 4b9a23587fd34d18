"""Fixtures for the MAS tests: the Cython extension, built once per session when missing."""

from __future__ import annotations

from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def mas_core() -> ModuleType:
    """The compiled kernel; built in place with the same function as the Snakemake rule."""
    from monotonic_align import build, load_core

    if build.needs_build():
        build.build()
    return load_core()
