"""The user-error classes: mistakes a user can fix (config, data, input) versus bugs.

Entry points (Snakemake scripts, the ``glowtts`` command, training) log a :class:`UserError`
as one line naming the file, line or field and what to do, without a traceback; any other
exception is a bug and keeps its full traceback in the log.
"""

from __future__ import annotations

__all__ = ["InputNotFoundError", "UserError", "UserValueError"]


class UserError(Exception):
    """A mistake the user can fix; the message says where (file, line, field) and what to do."""


class UserValueError(UserError, ValueError):
    """Bad config, data or input (also a ValueError, for callers that catch those)."""


class InputNotFoundError(UserError, FileNotFoundError):
    """A file or folder the user named (or a stage should have made) does not exist."""
