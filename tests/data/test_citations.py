"""The data modules cite public sources (the paper, the reference implementation's files)."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "glowtts.audio",
    "glowtts.summary",
    "glowtts.data.corpus",
    "glowtts.data.download",
    "glowtts.data.features",
    "glowtts.data.manifest",
    "glowtts.data.prepare",
    "glowtts.data.split",
    "glowtts.data.store",
]


@pytest.mark.parametrize("name", MODULES)
def test_no_citation_of_a_private_document(name: str) -> None:
    source = inspect.getsource(importlib.import_module(name))
    assert "REFERENCE.md" not in source


def test_audio_names_the_reference_files_it_follows() -> None:
    doc = importlib.import_module("glowtts.audio").__doc__ or ""
    for part in ("jaywalnut310/glow-tts", "commons.py", "stft.py", "data_utils.py"):
        assert part in doc, part


def test_the_clipping_warning_class_is_gone() -> None:
    """Clipping is returned by load_wav, not routed through the warnings machinery."""
    audio = importlib.import_module("glowtts.audio")
    assert not hasattr(audio, "ClippedAudioWarning") and "LoadedWav" in audio.__all__
