"""Logging set-up for entry points (Snakemake scripts, the CLI, training); library code never calls it.

Under torchrun every process calls :func:`setup_logging` alike: rank 0 logs INFO to stderr and
to the log file; every other rank logs only warnings and errors, to stderr, each line prefixed
with its rank, so N processes do not write N copies of the log.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import TracebackType

from glowtts.errors import UserError

__all__ = ["FORMAT", "process_rank", "setup_logging"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def process_rank() -> int:
    """This process's global rank under torchrun (``RANK``), 0 when not distributed."""
    value = os.environ.get("RANK", "0")
    try:
        return int(value)
    except ValueError:
        raise UserError(f"environment variable RANK={value!r} is not an integer") from None


def setup_logging(
    log_file: str | Path | None = None, level: int = logging.INFO, rank: int | None = None
) -> None:
    """Log to stderr and, on rank 0, to ``log_file``; uncaught exceptions are logged too.

    A :class:`glowtts.errors.UserError` is logged as one line; any other exception with its
    traceback. Ranks other than 0 log warnings and errors only, prefixed ``[rank N]``.
    """
    rank = process_rank() if rank is None else rank
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    fmt = FORMAT
    if rank == 0:
        if log_file is not None:
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(log_file, mode="w", encoding="utf-8"))
    else:
        level = max(level, logging.WARNING)
        fmt = f"[rank {rank}] {FORMAT}"
    logging.basicConfig(level=level, format=fmt, handlers=handlers, force=True)

    def _hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        user_error = issubclass(kind, UserError)
        logging.getLogger("glowtts").error(
            "%s: %s", kind.__name__, exc, exc_info=None if user_error else (kind, exc, tb)
        )

    sys.excepthook = _hook
