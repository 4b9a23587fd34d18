"""Train/val/test split: seeded and deterministic, or read from the user's own filelists."""

from __future__ import annotations

import logging
from pathlib import Path, PurePath

import numpy as np

from glowtts.config import SplitConfig
from glowtts.data.manifest import SPLITS, Utterance
from glowtts.errors import InputNotFoundError, UserValueError

__all__ = ["SPLITS", "SplitError", "read_filelist_ids", "split_corpus"]

log = logging.getLogger(__name__)


class SplitError(UserValueError):
    """The requested split cannot be made from this corpus."""


def _random_split(rows: list[Utterance], cfg: SplitConfig, seed: int) -> dict[str, list[Utterance]]:
    n = len(rows)
    train = cfg.train_size if cfg.train_size is not None else n - cfg.val_size - cfg.test_size
    wanted = train + cfg.val_size + cfg.test_size
    if train < 1 or wanted > n:
        raise SplitError(
            f"the corpus has {n} clips after filtering, but split asks for train={cfg.train_size} "
            f"(resolved {train}), val={cfg.val_size}, test={cfg.test_size}; lower split.val_size/"
            "test_size/train_size or use a larger corpus"
        )
    ordered = sorted(rows, key=lambda u: u.id)  # independent of the manifest's row order
    perm = np.random.default_rng([seed, 10]).permutation(n)
    shuffled = [ordered[i] for i in perm]
    parts = {
        "val": shuffled[: cfg.val_size],
        "test": shuffled[cfg.val_size : cfg.val_size + cfg.test_size],
        "train": shuffled[cfg.val_size + cfg.test_size : wanted],
    }
    # Each list keeps corpus (id) order; the training sampler does its own shuffling.
    return {k: sorted(v, key=lambda u: u.id) for k, v in parts.items()}


def read_filelist_ids(path: str | Path) -> list[tuple[int, str]]:
    """(line, id) per row of a reference-format filelist (``wavs/<id>.wav|text``)."""
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"filelist {path} does not exist (split.*_filelist)")
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        wav, sep, _ = line.partition("|")
        if not sep or not wav.strip():
            raise SplitError(
                f"{path}:{lineno}: expected 'path/to/<id>.wav|text', got {line[:80]!r}"
            )
        out.append((lineno, PurePath(wav.strip()).stem))
    return out


def _split_from_filelists(rows: list[Utterance], cfg: SplitConfig) -> dict[str, list[Utterance]]:
    by_id = {u.id: u for u in rows}
    seen: dict[str, str] = {}
    parts: dict[str, list[Utterance]] = {}
    problems: list[str] = []
    missing = 0
    for name in SPLITS:
        path = Path(getattr(cfg, f"{name}_filelist"))
        parts[name] = []
        for lineno, uid in read_filelist_ids(path):
            if uid in seen:
                problems.append(
                    f"{path}:{lineno}: id {uid!r} is already in the {seen[uid]} filelist"
                )
                continue
            seen[uid] = f"{name}"
            if uid not in by_id:
                missing += 1
                log.warning(
                    "%s:%d: id %r is not in the corpus (or was filtered by length); skipped",
                    path,
                    lineno,
                    uid,
                )
                continue
            parts[name].append(by_id[uid])
    if problems:
        raise SplitError("the split filelists overlap:\n" + "\n".join(f"  - {p}" for p in problems))
    empty = [k for k, v in parts.items() if not v]
    if empty:
        raise SplitError(f"filelist(s) {empty} have no clip of the corpus; check split.*_filelist")
    if missing:
        log.warning("%d filelist id(s) were not in the corpus", missing)
    return parts


def split_corpus(rows: list[Utterance], cfg: SplitConfig, seed: int) -> dict[str, list[Utterance]]:
    """Split utterances into train/val/test, disjoint by id.

    Raises:
        SplitError: the sizes exceed the corpus, or user filelists overlap or miss the corpus.
    """
    parts = (
        _split_from_filelists(rows, cfg) if cfg.from_filelists else _random_split(rows, cfg, seed)
    )
    ids = [u.id for k in SPLITS for u in parts[k]]
    assert len(ids) == len(set(ids)), "split lists overlap"
    log.info("split " + " ".join(f"{k}={len(parts[k])}" for k in SPLITS))
    return parts
