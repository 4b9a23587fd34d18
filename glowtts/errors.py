"""The user-error classes: mistakes a user can fix (config, data, input) versus bugs.

Entry points (Snakemake scripts, the ``glowtts`` command, training) log a :class:`UserError`
as one line naming the file, line or field and what to do, without a traceback; any other
exception is a bug and keeps its full traceback in the log.
"""

from __future__ import annotations

__all__ = ["InputNotFoundError", "UserError", "UserValueError", "check_scales"]


class UserError(Exception):
    """A mistake the user can fix; the message says where (file, line, field) and what to do."""


class UserValueError(UserError, ValueError):
    """Bad config, data or input (also a ValueError, for callers that catch those)."""


class InputNotFoundError(UserError, FileNotFoundError):
    """A file or folder the user named (or a stage should have made) does not exist."""


def check_scales(noise_scale: float | None, length_scale: float | None) -> None:
    """Refuse a noise scale that is not finite and >= 0, or a length scale not finite and > 0."""
    import math

    if noise_scale is not None and not (math.isfinite(noise_scale) and noise_scale >= 0):
        raise UserValueError(
            f"noise scale {noise_scale}: use a finite number >= 0 (0: the prior mean)"
        )
    if length_scale is not None and not (math.isfinite(length_scale) and length_scale > 0):
        raise UserValueError(f"length scale {length_scale}: use a finite number > 0 (> 1 slower)")
