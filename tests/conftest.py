"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_fixtures_dir() -> Path | None:
    """../shared/fixtures beside the checkout (CI has it), or $GLOWTTS_SHARED_FIXTURES."""
    candidates = [os.environ.get("GLOWTTS_SHARED_FIXTURES"), REPO.parent / "shared" / "fixtures"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return None


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """Directory of the reference's fixtures; the test is skipped where it is absent."""
    d = _shared_fixtures_dir()
    if d is None:
        pytest.skip("../shared/fixtures is not beside this checkout")
    return d
