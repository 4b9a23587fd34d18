"""Entry-point logging: a user's error is one clear line in the log; a bug keeps its traceback."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from glowtts.logs import setup_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    hook, root = sys.excepthook, logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in root.handlers:
        if h not in handlers:
            h.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook = hook


def _raise(exc: BaseException) -> None:
    try:
        raise exc
    except BaseException as caught:
        sys.excepthook(type(caught), caught, caught.__traceback__)


def test_user_errors_are_logged_without_traceback(tmp_path: Path, restore_logging: None) -> None:
    setup_logging(tmp_path / "logs" / "rule.log")
    _raise(ValueError("corpus x: metadata.csv:3: empty text"))
    logging.getLogger().handlers[-1].flush()
    text = (tmp_path / "logs" / "rule.log").read_text()
    assert "ValueError: corpus x: metadata.csv:3: empty text" in text
    assert "Traceback" not in text


def test_bugs_keep_their_traceback(tmp_path: Path, restore_logging: None) -> None:
    setup_logging(tmp_path / "rule.log")
    _raise(RuntimeError("unexpected"))
    logging.getLogger().handlers[-1].flush()
    text = (tmp_path / "rule.log").read_text()
    assert "RuntimeError: unexpected" in text and "Traceback" in text and "_raise" in text
