"""Read and validate an LJSpeech-format corpus folder into a manifest.

A corpus folder holds ``metadata.csv`` (``id|text|normalised text`` or ``id|text``, UTF-8, no
header) and ``wavs/<id>.wav``. Validation reads every row and every wav header and reports all
problems at once, each naming the file and line, so a user fixes a corpus in one pass.
:func:`corpus_fingerprint` summarises the folder's content from metadata.csv and the wavs'
sizes and times, without reading the audio, so a workflow can tell when it changed.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path

from glowtts.data.manifest import Utterance
from glowtts.errors import InputNotFoundError, UserValueError

__all__ = ["CorpusError", "CorpusReport", "corpus_fingerprint", "find_corpus_root", "read_corpus"]

log = logging.getLogger(__name__)

MAX_LISTED_PROBLEMS = 50  # the error message lists this many, then counts the rest
FINGERPRINT_HEX_CHARS = 16  # 64 bits: a changed folder keeps its old fingerprint by chance 2**-64


class CorpusError(UserValueError):
    """The corpus has problems; ``problems`` lists every one of them."""

    def __init__(self, folder: Path, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:MAX_LISTED_PROBLEMS])
        more = len(problems) - MAX_LISTED_PROBLEMS
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"corpus {folder} has {len(problems)} problem(s):\n{shown}{tail}\n"
            "Fix these rows or files (or remove them from metadata.csv) and rerun."
        )


@dataclass
class CorpusReport:
    """What validation saw: counts for the log and for results/<run>/corpus/report.json.

    ``metadata`` and ``lines`` (each kept id's line in metadata.csv) locate rows for later
    messages (:meth:`where`); they are not part of :meth:`counts`, the report's JSON.
    """

    rows: int = 0
    kept: int = 0
    too_short: int = 0
    too_long: int = 0
    resampled: int = 0
    seconds_kept: float = 0.0
    sample_rates: dict[int, int] = field(default_factory=dict)
    metadata: Path = field(default=Path("metadata.csv"), metadata={"counted": False})
    lines: dict[str, int] = field(default_factory=dict, metadata={"counted": False})

    def counts(self) -> dict[str, object]:
        """The report's fields without the row locations: the keys of report.json."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.metadata.get("counted", True)
        }

    def where(self, utt_id: str) -> str:
        """``<metadata.csv>:<line>`` of a kept utterance, for a message that names its row."""
        return f"{self.metadata}:{self.lines[utt_id]}"


def find_corpus_root(folder: str | Path) -> Path:
    """The folder holding metadata.csv: ``folder`` itself or its only subfolder (as in an archive)."""
    folder = Path(folder)
    if (folder / "metadata.csv").is_file():
        return folder
    if folder.is_dir():
        subdirs = [d for d in folder.iterdir() if d.is_dir() and (d / "metadata.csv").is_file()]
        if len(subdirs) == 1:
            return subdirs[0]
    raise InputNotFoundError(
        f"{folder}: no metadata.csv found here or in a single subfolder; an LJSpeech-format corpus "
        "has metadata.csv (id|text|normalised text) and wavs/<id>.wav"
    )


def corpus_fingerprint(folder: str | Path) -> str:
    """A short hex digest of a corpus folder's content, cheap enough for every workflow run.

    It changes when metadata.csv's bytes change or a ``wavs/*.wav`` is added, removed, or
    changes size or modification time (``st_mtime_ns``), and stays the same otherwise, also
    when the folder is moved or copied with its times kept. The wavs are only stat'ed, never
    read: about 75 ms for LJSpeech's 13,100 (benchmarks/bench_fingerprint.py).
    """
    root = find_corpus_root(folder)
    digest = hashlib.blake2b(digest_size=FINGERPRINT_HEX_CHARS // 2)
    digest.update((root / "metadata.csv").read_bytes())
    for name, size, mtime_ns in _wav_stats(root / "wavs"):
        digest.update(f"\0{name}\0{size}\0{mtime_ns}".encode())
    return digest.hexdigest()


def _wav_stats(wavs: Path) -> list[tuple[str, int, int]]:
    """(name, size, mtime_ns) of each ``*.wav`` file in ``wavs``, sorted by name; [] if absent."""
    if not wavs.is_dir():
        return []
    stats = []
    with os.scandir(wavs) as entries:
        for entry in entries:
            if entry.name.endswith(".wav") and entry.is_file():
                st = entry.stat()
                stats.append((entry.name, st.st_size, st.st_mtime_ns))
    return sorted(stats)


def _decode_lines(meta: Path, problems: list[str]) -> list[tuple[int, str]]:
    """(line number, text) of each UTF-8 line; one problem names the first other line."""
    lines: list[tuple[int, str]] = []
    bad: list[tuple[int, int, bytes]] = []  # (line, column, offending bytes)
    for lineno, raw in enumerate(meta.read_bytes().splitlines(), start=1):
        if lineno == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            lines.append((lineno, raw.decode("utf-8")))
        except UnicodeDecodeError as exc:
            column = len(raw[: exc.start].decode("utf-8")) + 1
            bad.append((lineno, column, raw[exc.start : exc.end]))
    if bad:
        lineno, column, chunk = bad[0]
        others = f" ({len(bad) - 1} more line(s) too)" if len(bad) > 1 else ""
        problems.append(
            f"{meta}:{lineno}:{column}: not UTF-8 text (byte(s) {chunk.hex(' ')}){others}; "
            "re-save the file as UTF-8"
        )
    return lines


def _parse_rows(meta: Path, problems: list[str]) -> list[tuple[int, str, str, str]]:
    """(line, id, text, normalised text) for each well-formed row; problems appended."""
    rows: list[tuple[int, str, str, str]] = []
    for lineno, line in _decode_lines(meta, problems):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) not in (2, 3):
            problems.append(
                f"{meta}:{lineno}: malformed row, expected 'id|text' or 'id|text|normalised text', "
                f"got {len(fields)} field(s)"
            )
            continue
        uid = fields[0].strip()
        text = fields[1].strip()
        norm = fields[2].strip() if len(fields) == 3 else ""
        norm = norm or text
        if not uid or any(c in uid for c in "/\\\t") or uid in (".", ".."):
            problems.append(
                f"{meta}:{lineno}: malformed id {uid!r}; an id is a wav file name without .wav"
            )
            continue
        if not text:
            problems.append(f"{meta}:{lineno}: empty text for id {uid!r}")
            continue
        if "\t" in text or "\t" in norm:
            problems.append(
                f"{meta}:{lineno}: text of {uid!r} contains a tab; replace it with a space"
            )
            continue
        rows.append((lineno, uid, text, norm))
    return rows


def read_corpus(
    folder: str | Path,
    *,
    sample_rate: int,
    on_rate_mismatch: str = "resample",
    min_seconds: float = 0.0,
    max_seconds: float = float("inf"),
) -> tuple[list[Utterance], CorpusReport]:
    """Validate an LJSpeech-format folder and return its utterances within the length limits.

    Utterance wav paths are absolute (symlinks kept); ``report.lines`` maps each kept id to
    its line in metadata.csv.

    Args:
        folder: the corpus folder (or its parent, see :func:`find_corpus_root`).
        sample_rate: the config's rate; other rates are counted (``resample``) or refused (``error``).
        on_rate_mismatch: ``"resample"`` or ``"error"``.
        min_seconds, max_seconds: clips outside [min, max] are dropped and counted.

    Raises:
        FileNotFoundError: no metadata.csv.
        CorpusError: any row or wav is bad; the message lists every problem with file and line.
    """
    import soundfile as sf

    # Absolute but not resolved: a wav under the workflow folder stays under it even when a
    # folder on the way is a symlink, so the manifest can name it relative (see manifest.py).
    root = Path(os.path.abspath(find_corpus_root(folder)))
    meta = root / "metadata.csv"
    problems: list[str] = []
    rows = _parse_rows(meta, problems)
    report = CorpusReport(rows=len(rows), metadata=meta)

    first_line: dict[str, int] = {}
    for lineno, uid, _, _ in rows:
        if uid in first_line:
            problems.append(
                f"{meta}:{lineno}: duplicate id {uid!r} (first on line {first_line[uid]})"
            )
        else:
            first_line[uid] = lineno

    rates: Counter[int] = Counter()
    utterances: list[Utterance] = []
    for lineno, uid, text, norm in rows:
        wav = root / "wavs" / f"{uid}.wav"
        if not wav.is_file():
            problems.append(f"{meta}:{lineno}: wav for {uid!r} not found at {wav}")
            continue
        try:
            info = sf.info(str(wav))
        except (RuntimeError, sf.LibsndfileError) as exc:
            problems.append(f"{meta}:{lineno}: cannot read {wav}: {exc}")
            continue
        if info.channels != 1:
            problems.append(
                f"{wav}: {info.channels} channels; the pipeline needs mono audio (line {lineno})"
            )
            continue
        if info.frames == 0:
            problems.append(f"{wav}: no samples (line {lineno})")
            continue
        rates[info.samplerate] += 1
        if info.samplerate != sample_rate:
            if on_rate_mismatch == "error":
                problems.append(
                    f"{wav}: sample rate {info.samplerate} Hz, config audio.sample_rate is {sample_rate} Hz "
                    f"(line {lineno}); resample the corpus or set dataset.on_rate_mismatch: resample"
                )
                continue
            report.resampled += 1
        seconds = info.frames / info.samplerate
        if seconds < min_seconds:
            report.too_short += 1
            continue
        if seconds > max_seconds:
            report.too_long += 1
            continue
        utterances.append(Utterance(uid, text, norm, wav, seconds, info.samplerate))
        report.lines[uid] = lineno

    if problems:
        raise CorpusError(root, problems)
    report.kept = len(utterances)
    report.seconds_kept = sum(u.seconds for u in utterances)
    report.sample_rates = dict(sorted(rates.items()))
    log.info(
        "corpus=%s rows=%d kept=%d too_short=%d too_long=%d to_resample=%d hours=%.3f",
        root,
        report.rows,
        report.kept,
        report.too_short,
        report.too_long,
        report.resampled,
        report.seconds_kept / 3600,
    )
    if report.too_short or report.too_long:
        log.info(
            "dropped %d clip(s) shorter than %.2f s and %d longer than %.2f s (dataset.min/max_seconds)",
            report.too_short,
            min_seconds,
            report.too_long,
            max_seconds,
        )
    return utterances, report
