"""Logging set-up for entry points (Snakemake scripts, the CLI, training); library code never calls it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType

__all__ = ["setup_logging"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_file: str | Path | None = None, level: int = logging.INFO) -> None:
    """Log to stderr and, when given, to ``log_file``; uncaught exceptions are logged too."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w", encoding="utf-8"))
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)

    def _hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        # A user's error (bad data, config) is a clear message; anything else keeps its traceback.
        user_error = issubclass(kind, (ValueError, FileNotFoundError, FileExistsError))
        logging.getLogger("glowtts").error(
            "%s: %s", kind.__name__, exc, exc_info=None if user_error else (kind, exc, tb)
        )

    sys.excepthook = _hook
