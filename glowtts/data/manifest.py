"""The corpus manifest and filelists: one tab-separated row per utterance.

Every corpus kind (demo, LJSpeech, a user's folder) ends in ``corpus/metadata.tsv``; the
train/val/test filelists are subsets of its rows in the same format. Columns::

    id  text  normalized_text  wav  seconds  sample_rate

``text`` is the transcript as written, ``normalized_text`` the corpus's own normalisation
(LJSpeech's third column; equal to ``text`` where the corpus has none) and is what the text
frontend reads. ``wav`` is written relative to the manifest's own folder when the wav lies
inside the ``root`` given to :func:`write_manifest` (the workflow passes its working folder),
else absolute; so moving the whole workflow folder, or a results folder together with the
corpus inside it, keeps the manifest valid. :func:`read_manifest` resolves a relative ``wav``
against the manifest's folder: an :class:`Utterance` always holds an absolute path.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from glowtts.atomic import atomic_path
from glowtts.errors import InputNotFoundError, UserValueError

__all__ = ["COLUMNS", "SPLITS", "Utterance", "read_manifest", "write_manifest"]

SPLITS = ("train", "val", "test")  # the filelists a split writes
COLUMNS = ("id", "text", "normalized_text", "wav", "seconds", "sample_rate")
_HEADER = "\t".join(COLUMNS)


@dataclass(frozen=True)
class Utterance:
    """One row of a manifest."""

    id: str
    text: str
    normalized_text: str
    wav: Path
    seconds: float
    sample_rate: int


def _wav_column(wav: Path, folder: Path, root: Path | None) -> str:
    """``wav`` relative to ``folder`` when it lies inside ``root``, else absolute."""
    wav = Path(os.path.abspath(wav))
    if root is not None and wav.is_relative_to(root):
        return os.path.relpath(wav, folder)
    return str(wav)


def _wav_path(column: str, folder: Path) -> Path:
    """The absolute path of a ``wav`` column: a relative one is taken from ``folder``."""
    if os.path.isabs(column):
        return Path(column)
    return Path(os.path.normpath(folder / column))


def write_manifest(
    path: str | Path, rows: Iterable[Utterance], root: str | Path | None = None
) -> int:
    """Write rows atomically; return how many were written.

    Args:
        path: the manifest or filelist (``.tsv``).
        rows: the utterances, written in this order.
        root: a wav inside this folder is written relative to ``path``'s folder (lexically,
            symlinks are not resolved); any other wav, or every wav when None, absolutely.
    """
    path = Path(path)
    folder = Path(os.path.abspath(path.parent))
    base = Path(os.path.abspath(root)) if root is not None else None
    n = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(_HEADER + "\n")
        for u in rows:
            for name, value in (
                ("id", u.id),
                ("text", u.text),
                ("normalized_text", u.normalized_text),
            ):
                if "\t" in value or "\n" in value:
                    raise UserValueError(f"utterance {u.id!r}: {name} contains a tab or newline")
            wav = _wav_column(u.wav, folder, base)
            fh.write(
                f"{u.id}\t{u.text}\t{u.normalized_text}\t{wav}\t{u.seconds:.6f}\t{u.sample_rate}\n"
            )
            n += 1
    return n


def read_manifest(path: str | Path) -> list[Utterance]:
    """Read a manifest or filelist written by :func:`write_manifest`; every ``wav`` absolute.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the header or a row is malformed (the message names file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(
            f"manifest {path} does not exist; rerun the workflow's corpus stage"
        )
    folder = Path(os.path.abspath(path.parent))
    rows: list[Utterance] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None or tuple(header) != COLUMNS:
            raise UserValueError(f"{path}:1: expected the header {_HEADER!r}, got {header!r}")
        for lineno, fields in enumerate(reader, start=2):
            if len(fields) != len(COLUMNS):
                raise UserValueError(
                    f"{path}:{lineno}: expected {len(COLUMNS)} tab-separated fields, got {len(fields)}"
                )
            uid, text, norm, wav, seconds, rate = fields
            try:
                rows.append(
                    Utterance(uid, text, norm, _wav_path(wav, folder), float(seconds), int(rate))
                )
            except ValueError:
                raise UserValueError(
                    f"{path}:{lineno}: seconds {seconds!r} or sample_rate {rate!r} is not a number"
                ) from None
    return rows
