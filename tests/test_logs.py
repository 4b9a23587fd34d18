"""Entry-point logging: a user's error is one clear line; a bug keeps its traceback; ranks."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from glowtts.errors import UserValueError
from glowtts.logs import process_rank, setup_logging


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


def _flush() -> None:
    for h in logging.getLogger().handlers:
        h.flush()


def test_user_errors_are_logged_without_traceback(tmp_path: Path, restore_logging: None) -> None:
    setup_logging(tmp_path / "logs" / "rule.log", rank=0)
    _raise(UserValueError("corpus x: metadata.csv:3: empty text"))
    _flush()
    text = (tmp_path / "logs" / "rule.log").read_text()
    assert "UserValueError: corpus x: metadata.csv:3: empty text" in text
    assert "Traceback" not in text


@pytest.mark.parametrize("exc", [RuntimeError("unexpected"), ValueError("a bug's ValueError")])
def test_bugs_keep_their_traceback(tmp_path: Path, restore_logging: None, exc: Exception) -> None:
    """Any exception that is not a UserError, ValueError included, keeps its traceback."""
    setup_logging(tmp_path / "rule.log", rank=0)
    _raise(exc)
    _flush()
    text = (tmp_path / "rule.log").read_text()
    assert f"{type(exc).__name__}: {exc}" in text and "Traceback" in text and "_raise" in text


def test_other_ranks_write_no_log_file_and_only_warnings(
    tmp_path: Path, restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(tmp_path / "rule.log", rank=3)
    logging.getLogger("glowtts.x").info("step=1 loss=2")
    logging.getLogger("glowtts.x").warning("non-finite loss skipped")
    _flush()
    err = capsys.readouterr().err
    assert not (tmp_path / "rule.log").exists()
    assert "step=1" not in err
    assert "[rank 3]" in err and "non-finite loss skipped" in err


def test_rank_comes_from_torchrun_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RANK", raising=False)
    assert process_rank() == 0
    monkeypatch.setenv("RANK", "5")
    assert process_rank() == 5
