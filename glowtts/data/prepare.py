"""The corpus and split stages of the workflow, as plain functions of the typed config."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path

from glowtts.config import Config
from glowtts.data.corpus import read_corpus
from glowtts.data.manifest import SPLITS, Utterance, read_manifest, write_manifest
from glowtts.data.split import split_corpus
from glowtts.errors import UserValueError

__all__ = ["UnknownCharacterError", "check_characters", "prepare_corpus", "prepare_split"]

log = logging.getLogger(__name__)


class UnknownCharacterError(UserValueError):
    """The corpus has characters outside the symbol table and text.on_unknown_char is 'error'."""


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def check_characters(rows: list[Utterance], cfg: Config) -> dict[str, dict[str, object]]:
    """Report characters the text frontend would drop; raise when the config says to fail."""
    from glowtts.text import TextFrontend

    unknown = TextFrontend(cfg.text).unknown_characters((u.id, u.normalized_text) for u in rows)
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


def prepare_corpus(
    cfg: Config, corpus_dir: str | Path, manifest: str | Path, report_path: str | Path
) -> int:
    """Validate a corpus folder, write the manifest and a JSON report; return the clip count."""
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
    unknown = check_characters(rows, cfg)
    write_manifest(manifest, rows)
    _write_json(
        Path(report_path),
        {**asdict(report), "hours_kept": report.seconds_kept / 3600, "unknown_characters": unknown},
    )
    return len(rows)


def prepare_split(cfg: Config, manifest: str | Path, out: dict[str, str | Path]) -> dict[str, int]:
    """Split the manifest into the filelists named by ``out`` (keys train, val, test)."""
    parts = split_corpus(read_manifest(manifest), cfg.split, cfg.seed)
    return {name: write_manifest(out[name], parts[name]) for name in SPLITS}
