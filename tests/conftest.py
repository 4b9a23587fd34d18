"""Shared pytest fixtures."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable
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


ArchiveMaker = Callable[..., bytes]


def _ljspeech_like_archive(path: Path, n: int = 4) -> bytes:
    """A small LJSpeech-format .tar.bz2: LJSpeech-1.1/{metadata.csv, README, wavs/*.wav}."""
    import numpy as np
    import soundfile as sf

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        rows = []
        for i in range(n):
            uid = f"LJ001-{i:04d}"
            wav = io.BytesIO()
            noise = np.random.default_rng(i).normal(0, 0.1, 22050 + 1000 * i)
            sf.write(wav, noise, 22050, format="WAV", subtype="PCM_16")
            data = wav.getvalue()
            info = tarfile.TarInfo(f"LJSpeech-1.1/wavs/{uid}.wav")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            rows.append(f"{uid}|Text number {i}.|Text number {i}.\n")
        for name, data in (("metadata.csv", "".join(rows).encode()), ("README", b"readme\n")):
            info = tarfile.TarInfo(f"LJSpeech-1.1/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    payload = buf.getvalue()
    path.write_bytes(payload)
    return payload


@pytest.fixture
def make_ljspeech_archive() -> ArchiveMaker:
    """Writes a small LJSpeech-format .tar.bz2 to a path and returns its bytes."""
    return _ljspeech_like_archive
