"""The corpus and split stages of the workflow, as plain functions of the typed config."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from glowtts.atomic import write_text
from glowtts.config import Config
from glowtts.data.corpus import CorpusError, CorpusReport, read_corpus
from glowtts.data.manifest import SPLITS, Utterance, read_manifest, write_manifest
from glowtts.data.split import split_corpus
from glowtts.errors import UserValueError

if TYPE_CHECKING:
    from glowtts.text import TextFrontend

__all__ = [
    "UnknownCharacterError",
    "check_characters",
    "check_tokens",
    "prepare_corpus",
    "prepare_split",
]

log = logging.getLogger(__name__)


class UnknownCharacterError(UserValueError):
    """The corpus has characters outside the symbol table and text.on_unknown_char is 'error'."""


def _write_json(path: str | Path, data: object) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _lenient_frontend(cfg: Config) -> TextFrontend:
    """``cfg.text``'s frontend that drops unknown characters (these checks report them)."""
    from glowtts.text import TextFrontend

    return TextFrontend(dataclasses.replace(cfg.text, on_unknown_char="drop"))


def check_characters(
    rows: list[Utterance], cfg: Config, *, frontend: TextFrontend | None = None
) -> dict[str, dict[str, object]]:
    """Report characters the text frontend would drop; raise when the config says to fail.

    ``frontend`` (default: ``cfg.text``'s) may be shared with :func:`check_tokens`.
    """
    frontend = frontend if frontend is not None else _lenient_frontend(cfg)
    unknown = frontend.unknown_characters((u.id, u.normalized_text) for u in rows)
    ranked = sorted(unknown.values(), key=lambda u: -u.count)
    for u in ranked:
        log.warning("unknown character %s", u.describe())
    if ranked and cfg.text.on_unknown_char == "error":
        raise UnknownCharacterError(
            f"the corpus has {len(ranked)} character(s) outside the symbol table after cleaning: "
            f"{'; '.join(u.describe() for u in ranked)}. Fix the transcripts, or set "
            "text.on_unknown_char: drop to drop them with a warning."
        )
    return {u.char: {"count": u.count, "first_ids": list(u.utt_ids)} for u in ranked}


def check_tokens(
    rows: list[Utterance],
    cfg: Config,
    report: CorpusReport,
    *,
    frontend: TextFrontend | None = None,
) -> None:
    """Refuse transcripts that encode to no symbol, naming each one's metadata.csv line.

    The features stage would stop at the first such row; here every one is listed at once.
    Unknown characters are dropped for this check (:func:`check_characters` reports them);
    ``frontend`` is as there.

    Raises:
        CorpusError: one problem per row, ``<metadata.csv>:<line>: ...`` with id and text.
    """
    frontend = frontend if frontend is not None else _lenient_frontend(cfg)
    problems = []
    for u in rows:
        ids = frontend.encode(u.normalized_text, utt_id=u.id)
        if not ids or (cfg.text.add_blank and len(ids) == 1):  # [blank] alone: no symbol
            problems.append(
                f"{report.where(u.id)}: id {u.id!r}: normalised text {u.normalized_text!r} "
                f"leaves no symbol after {cfg.text.cleaners}; write the words out or remove "
                "the row"
            )
    if problems:
        raise CorpusError(report.metadata.parent, problems)


def prepare_corpus(
    cfg: Config, corpus_dir: str | Path, manifest: str | Path, report_path: str | Path
) -> int:
    """Validate a corpus folder, write the manifest and a JSON report; return the clip count.

    Wavs under the working folder (the workflow's) are written relative to the manifest, so
    moving the workflow folder keeps the manifest valid (see :mod:`glowtts.data.manifest`).
    """
    ds = cfg.dataset
    rows, report = read_corpus(
        corpus_dir,
        sample_rate=cfg.audio.sample_rate,
        on_rate_mismatch=ds.on_rate_mismatch,
        min_seconds=ds.min_seconds,
        max_seconds=ds.max_seconds,
    )
    if not rows:
        raise UserValueError(
            f"{corpus_dir}: no clip is within dataset.min_seconds={ds.min_seconds} and "
            f"dataset.max_seconds={ds.max_seconds} ({report.too_short} too short, {report.too_long} too long)"
        )
    frontend = _lenient_frontend(cfg)  # one frontend: CMUdict and number words loaded once
    unknown = check_characters(rows, cfg, frontend=frontend)
    check_tokens(rows, cfg, report, frontend=frontend)
    write_manifest(manifest, rows, root=Path.cwd())
    _write_json(
        report_path,
        {
            **report.counts(),
            "hours_kept": report.seconds_kept / 3600,
            "unknown_characters": unknown,
        },
    )
    return len(rows)


def prepare_split(
    cfg: Config, manifest: str | Path, out: Mapping[str, str | Path]
) -> dict[str, int]:
    """Split the manifest into the filelists named by ``out`` (keys train, val, test)."""
    parts = split_corpus(read_manifest(manifest), cfg.split, cfg.seed)
    return {name: write_manifest(out[name], parts[name], root=Path.cwd()) for name in SPLITS}
