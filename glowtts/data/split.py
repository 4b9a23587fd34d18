"""Train/val/test split: seeded and deterministic, or read from the user's own filelists.

A random split's sizes come from ``split.*_size``; a null val or test size is sized for the
corpus's ``n`` clips (after the length filter), halves rounded to even as Python's ``round``:

    val  = clamp(round(0.02 * n), 1, 100)
    test = clamp(round(0.05 * n), 1, 500)
    train = n - val - test (when split.train_size is null)

    n = 13,100 (LJSpeech) -> val 100, test 500, train 12,500 (the official split)
    n = 1,000 -> 20 / 50 / 930;  n = 50 -> 1 / 2 / 47;  n = 10 -> 1 / 1 / 8;  n = 3 -> 1 / 1 / 1

Fewer than 3 clips, or explicit sizes that add up to more than the corpus, is a SplitError.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path, PurePath

import numpy as np

from glowtts.config import SplitConfig
from glowtts.data.manifest import SPLITS, Utterance
from glowtts.errors import InputNotFoundError, UserValueError

__all__ = ["SPLITS", "SplitError", "read_filelist_ids", "split_corpus", "split_sizes"]

log = logging.getLogger(__name__)

VAL_PERCENT, VAL_MAX = 2, 100  # a null split.val_size: 2 % of the clips, 1..100
TEST_PERCENT, TEST_MAX = 5, 500  # a null split.test_size: 5 % of the clips, 1..500
MIN_CLIPS = 3  # one each for train, val and test


class SplitError(UserValueError):
    """The requested split cannot be made from this corpus."""


def _share(n: int, percent: int, most: int) -> int:
    """``percent`` % of ``n`` (halves to even, exactly), clamped to ``[1, most]``."""
    return min(max(round(Fraction(n * percent, 100)), 1), most)


def split_sizes(n: int, cfg: SplitConfig) -> dict[str, int]:
    """The train/val/test sizes of a random split of ``n`` clips (rules in the module docstring).

    Raises:
        SplitError: fewer than 3 clips, or sizes that do not fit in ``n``; the message names
            the sizes and the config values to change.
    """
    if n < MIN_CLIPS:
        raise SplitError(
            f"the corpus has {n} clip(s) after filtering; a split needs at least {MIN_CLIPS} "
            "(one each for train, val and test): add clips, or widen dataset.min_seconds/"
            "max_seconds"
        )
    val = cfg.val_size if cfg.val_size is not None else _share(n, VAL_PERCENT, VAL_MAX)
    test = cfg.test_size if cfg.test_size is not None else _share(n, TEST_PERCENT, TEST_MAX)
    train = cfg.train_size if cfg.train_size is not None else n - val - test
    if train < 1 or train + val + test > n:
        explicit = [
            f"split.{name}_size ({value})"
            for name, value in (
                ("train", cfg.train_size),
                ("val", cfg.val_size),
                ("test", cfg.test_size),
            )
            if value is not None
        ]
        them = "it" if len(explicit) == 1 else "them"
        raise SplitError(
            f"the corpus has {n} clips after filtering, too few for train={train}, val={val}, "
            f"test={test}; lower {' or '.join(explicit)}, or set {them} to null to size "
            f"{them} for the corpus"
        )
    return {"train": train, "val": val, "test": test}


def _random_split(rows: list[Utterance], cfg: SplitConfig, seed: int) -> dict[str, list[Utterance]]:
    n = len(rows)
    sizes = split_sizes(n, cfg)
    val, test = sizes["val"], sizes["test"]
    log.info(
        "split sizes for %d clips: train=%d val=%d test=%d (config: train_size=%s val_size=%s "
        "test_size=%s)",
        n,
        sizes["train"],
        val,
        test,
        cfg.train_size,
        cfg.val_size,
        cfg.test_size,
    )
    ordered = sorted(rows, key=lambda u: u.id)  # independent of the manifest's row order
    perm = np.random.default_rng([seed, 10]).permutation(n)
    shuffled = [ordered[i] for i in perm]
    parts = {
        "val": shuffled[:val],
        "test": shuffled[val : val + test],
        "train": shuffled[val + test : val + test + sizes["train"]],
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
