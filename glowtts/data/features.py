"""The write side of the feature store: deterministic shards, computed in parallel, gathered.

The workflow scatters the utterances over ``features.shards`` jobs with :func:`shard_rows`,
each job writes one shard file with :func:`compute_shard` (:func:`compute_shard_job` does
both from Snakemake's ``scatteritem``), and :func:`gather_shards` joins them into the store
that :class:`glowtts.data.store.FeatureStore` reads. Every output is written to a temporary
name and renamed (:mod:`glowtts.atomic`), so an interrupted run keeps the finished shards
and never leaves half a file; a shard depends only on its rows and the config (the dither
is seeded per utterance), so recomputing one gives the same bytes.

A shard is an uncompressed ``.npz`` with fixed zip timestamps (hence byte-reproducible):
``ids`` [N] str, ``seconds`` [N] float64, ``n_frames`` [N] int64, ``mels``
[sum n_frames, n_mels] float32, ``n_tokens`` [N] int64, ``tokens`` [sum n_tokens] int32,
``meta`` JSON (version, audio, text, seed, n_vocab, clipped ids) as uint8 bytes.
"""

from __future__ import annotations

import heapq
import json
import logging
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

from glowtts.atomic import atomic_path, write_text
from glowtts.config import Config
from glowtts.data.manifest import Utterance, read_manifest
from glowtts.data.store import (
    INDEX_COLUMNS,
    INDEX_FILE,
    MELS_FILE,
    META_FILE,
    STORE_VERSION,
    TOKENS_FILE,
    check_meta,
)
from glowtts.errors import InputNotFoundError, UserValueError

__all__ = [
    "Encoder",
    "compute_shard",
    "compute_shard_job",
    "gather_shards",
    "read_shard",
    "shard_rows",
]

logger = logging.getLogger(__name__)

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps keep shard bytes reproducible
PROGRESS_EVERY = 500  # clips between progress log lines
_SCATTERITEM = re.compile(r"(\d+)-of-(\d+)")  # Snakemake's scatter item: "<k>-of-<n>", 1-based


class Encoder(Protocol):
    """What the store needs from the text frontend (``glowtts.text.TextFrontend``)."""

    @property
    def n_vocab(self) -> int: ...

    def encode(self, text: str, *, utt_id: str | None = None) -> list[int]: ...


def shard_rows(rows: Sequence[Utterance], n_shards: int, shard: int) -> list[Utterance]:
    """The rows of shard ``shard`` of ``n_shards``, balanced by total seconds.

    Greedy longest-first: rows sorted by (-seconds, id) each go to the shard with the least
    total so far (lowest index on ties). The assignment ignores the input order; the
    returned rows keep it.

    Raises:
        ValueError: ``n_shards < 1``, ``shard`` outside ``[0, n_shards)``, or duplicate ids.
    """
    if n_shards < 1:
        raise UserValueError(f"n_shards must be >= 1, got {n_shards}")
    if not 0 <= shard < n_shards:
        raise UserValueError(f"shard must be in [0, {n_shards}), got {shard}")
    counts = Counter(u.id for u in rows)
    if len(counts) != len(rows):
        dup = next(uid for uid, c in counts.items() if c > 1)
        raise UserValueError(f"duplicate utterance id {dup!r}; ids must be unique to shard")
    loads = [(0.0, k) for k in range(n_shards)]  # (total seconds, shard) min-heap
    mine: set[str] = set()
    for u in sorted(rows, key=lambda u: (-u.seconds, u.id)):
        total, k = heapq.heappop(loads)
        if k == shard:
            mine.add(u.id)
        heapq.heappush(loads, (total + u.seconds, k))
    return [u for u in rows if u.id in mine]


def _meta(cfg: Config, n_vocab: int, pronunciations: dict[str, str] | None) -> dict[str, Any]:
    """What a shard and the store record of how they were made; ``pronunciations`` is the
    pronouncing dictionary's name and sha256 (None: letters only)."""
    return {
        "version": STORE_VERSION,
        "audio": asdict(cfg.audio),
        "text": asdict(cfg.text),
        "seed": cfg.seed,
        "on_rate_mismatch": cfg.dataset.on_rate_mismatch,
        "n_vocab": n_vocab,
        "pronunciations": pronunciations,
    }


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an uncompressed, byte-reproducible .npz atomically."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(array), allow_pickle=False)


def read_shard(path: str | Path) -> dict[str, Any]:
    """A shard's arrays by name, with ``meta`` decoded to a dict."""
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"shard {path} does not exist; rerun the features stage")
    with np.load(path, allow_pickle=False) as npz:
        out: dict[str, Any] = {name: npz[name] for name in npz.files}
    out["meta"] = json.loads(bytes(out["meta"]).decode("utf-8"))
    return out


def _expected_frames(rows: Sequence[Utterance], cfg: Config) -> int:
    """Frames the manifest's durations promise: the first guess of a shard's buffer size."""
    from glowtts.audio import num_frames

    rate, hop = cfg.audio.sample_rate, cfg.audio.hop_length
    return sum(num_frames(round(u.seconds * rate), hop) for u in rows) + len(rows)


class _FrameBuffer:
    """Frames appended into one growing array, so a shard's mels are held in memory once."""

    def __init__(self, capacity: int, n_mels: int) -> None:
        self._data = np.empty((max(capacity, 1), n_mels), dtype=np.float32)
        self._used = 0

    def append(self, frames: np.ndarray) -> None:
        """Add ``[T_y, n_mels]`` frames; doubles the buffer when the guess was short."""
        end = self._used + frames.shape[0]
        if end > self._data.shape[0]:
            grown = np.empty((max(end, 2 * self._data.shape[0]), self._data.shape[1]), np.float32)
            grown[: self._used] = self._data[: self._used]
            self._data = grown
        self._data[self._used : end] = frames
        self._used = end

    def array(self) -> np.ndarray:
        """The frames so far, ``[total, n_mels]`` (a view)."""
        return self._data[: self._used]


def _default_encoder(cfg: Config) -> Encoder:
    from glowtts.text import TextFrontend

    return cast(Encoder, TextFrontend(cfg.text))


def compute_shard(
    rows: Sequence[Utterance],
    cfg: Config,
    out_path: str | Path,
    *,
    encoder: Encoder | None = None,
    num_threads: int | None = None,
) -> Path:
    """Load, dither and log-mel every row, encode its ``normalized_text``; write one shard.

    Args:
        rows: the shard's utterances (from :func:`shard_rows`).
        cfg: the run config (``audio``, ``text``, ``seed``, ``dataset.on_rate_mismatch``).
        out_path: the shard file (``.npz``), written atomically.
        encoder: text frontend; default ``glowtts.text.TextFrontend(cfg.text)``.
        num_threads: torch threads for this call (restored afterwards); default unchanged.

    Raises:
        FileNotFoundError, glowtts.audio.AudioError: a bad wav (named); nothing is written.
        ValueError: a transcript that encodes to no tokens.
    """
    import torch

    from glowtts.audio import MelSpectrogram, load_wav

    out_path = Path(out_path)
    encoder = encoder if encoder is not None else _default_encoder(cfg)
    previous_threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        mel_fn = MelSpectrogram(cfg.audio)
        mels = _FrameBuffer(_expected_frames(rows, cfg), cfg.audio.n_mels)
        n_frames: list[int] = []
        tokens: list[np.ndarray] = []
        seconds: list[float] = []
        clipped: list[str] = []
        start = time.perf_counter()
        for n, u in enumerate(rows, start=1):
            wav, is_clipped, full_scale = load_wav(
                u.wav,
                cfg.audio,
                utt_id=u.id,
                seed=cfg.seed,
                on_rate_mismatch=cfg.dataset.on_rate_mismatch,
            )
            if is_clipped:
                logger.warning(
                    "utterance=%s %s: %.2f%% of the samples are at full scale (clipped); the "
                    "clip is used, consider removing it from the corpus",
                    u.id,
                    u.wav,
                    100 * full_scale,
                )
                clipped.append(u.id)
            with torch.inference_mode():
                frames = mel_fn.frames(torch.from_numpy(wav).unsqueeze(0))[0]  # [T_y, n_mels]
            ids = encoder.encode(u.normalized_text, utt_id=u.id)
            if not ids or (cfg.text.add_blank and len(ids) == 1):  # [blank] alone: no symbol
                raise UserValueError(
                    f"utterance {u.id!r}: normalized_text {u.normalized_text!r} encodes to "
                    "no tokens; fix the transcript or remove the row"
                )
            mels.append(frames.numpy())
            n_frames.append(frames.shape[0])
            tokens.append(np.asarray(ids, dtype=np.int32))
            seconds.append(wav.size / cfg.audio.sample_rate)
            if n % PROGRESS_EVERY == 0:
                elapsed = time.perf_counter() - start
                logger.info(
                    "shard=%s clips=%d/%d elapsed_s=%.1f", out_path.name, n, len(rows), elapsed
                )
    finally:
        torch.set_num_threads(previous_threads)
    pronunciations = getattr(encoder, "pronunciations", None)  # TextFrontend's, not a stub's
    meta = _meta(cfg, encoder.n_vocab, pronunciations) | {"clipped": clipped}
    arrays = {
        "ids": np.array([u.id for u in rows], dtype=np.str_),
        "seconds": np.array(seconds, dtype=np.float64),
        "n_frames": np.array(n_frames, dtype=np.int64),
        "mels": mels.array(),
        "n_tokens": np.array([t.size for t in tokens], dtype=np.int64),
        "tokens": np.concatenate(tokens) if tokens else np.zeros(0, np.int32),
        "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
    }
    _write_npz(out_path, arrays)
    logger.info(
        "shard=%s clips=%d frames=%d clipped=%d seconds=%.1f",
        out_path.name,
        len(rows),
        arrays["mels"].shape[0],
        len(clipped),
        time.perf_counter() - start,
    )
    return out_path


def _parse_scatteritem(scatteritem: str) -> tuple[int, int]:
    """``"k-of-n"`` (Snakemake's ``{scatteritem}``, 1-based) -> ``(k - 1, n)``, 0-based."""
    match = _SCATTERITEM.fullmatch(scatteritem.strip())
    k, n = (int(g) for g in match.groups()) if match else (0, 0)
    if not 1 <= k <= n:
        raise UserValueError(
            f"scatter item {scatteritem!r}: expected '<k>-of-<n>' with 1 <= k <= n (as "
            "Snakemake's scatter writes it); check the features_shard rule's output pattern"
        )
    return k - 1, n


def compute_shard_job(
    filelists: Sequence[str | Path],
    scatteritem: str,
    cfg: Config,
    out_path: str | Path,
    num_threads: int | None = None,
    *,
    encoder: Encoder | None = None,
) -> Path:
    """One scattered features job: shard ``k`` of ``n`` of the filelists' rows, computed.

    Args:
        filelists: the manifests whose rows together make the store (train, val, test).
        scatteritem: Snakemake's ``"k-of-n"`` (1-based ``k``).
        cfg, out_path, num_threads, encoder: as for :func:`compute_shard`.

    Raises:
        ValueError: a malformed ``scatteritem``; and whatever :func:`compute_shard` raises.
    """
    shard, n_shards = _parse_scatteritem(scatteritem)
    rows = [u for path in filelists for u in read_manifest(path)]
    mine = shard_rows(rows, n_shards, shard)
    logger.info("shard=%d/%d clips=%d of %d", shard + 1, n_shards, len(mine), len(rows))
    return compute_shard(mine, cfg, out_path, encoder=encoder, num_threads=num_threads)


def _replace_dir(tmp: Path, out_dir: Path) -> None:
    """Move a finished directory into place; an existing one is swapped out, then removed."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old)


def gather_shards(shard_paths: Sequence[str | Path], out_dir: str | Path, cfg: Config) -> Path:
    """Join shards into a store directory (layout in :mod:`glowtts.data.store`), atomically.

    Utterances are ordered by id, so the store does not depend on how rows were sharded.
    Mels are cast to ``cfg.features.dtype``. Shards built with other audio/text parameters
    or seed, and ids present in two shards, are refused with a ValueError naming the shard.
    """
    from numpy.lib.format import open_memmap

    out_dir = Path(out_dir)
    paths = [Path(p) for p in shard_paths]
    owners: dict[str, tuple[int, int]] = {}  # id -> (shard, row in shard)
    sizes: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # n_frames, n_tokens, seconds
    n_vocab = 0
    clipped: list[str] = []
    pronunciations: dict[str, dict[str, str] | None] = {}  # shard -> its dictionary
    for k, path in enumerate(paths):
        if not path.is_file():
            raise InputNotFoundError(f"shard {path} does not exist; rerun the features stage")
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(bytes(npz["meta"]).decode("utf-8"))
            check_meta(meta, path, audio=cfg.audio, text=cfg.text, seed=cfg.seed)
            for row, uid in enumerate(npz["ids"].tolist()):
                if uid in owners:
                    other = paths[owners[uid][0]]
                    raise UserValueError(f"{path}: utterance {uid!r} is also in shard {other}")
                owners[uid] = (k, row)
            sizes.append((npz["n_frames"], npz["n_tokens"], npz["seconds"]))
        n_vocab = max(n_vocab, int(meta["n_vocab"]))
        clipped.extend(meta["clipped"])
        pronunciations[str(path)] = meta.get("pronunciations")
    if len({json.dumps(v, sort_keys=True) for v in pronunciations.values()}) > 1:
        raise UserValueError(
            f"shards were encoded with different pronouncing dictionaries {pronunciations}; "
            "delete the shards and rerun the features stage"
        )
    order = sorted(owners)  # the store's utterance order
    n_frames = np.array([sizes[owners[u][0]][0][owners[u][1]] for u in order], dtype=np.int64)
    n_tokens = np.array([sizes[owners[u][0]][1][owners[u][1]] for u in order], dtype=np.int64)
    seconds = [float(sizes[owners[u][0]][2][owners[u][1]]) for u in order]
    mel_offsets = np.concatenate([[0], np.cumsum(n_frames)]).astype(np.int64)
    token_offsets = np.concatenate([[0], np.cumsum(n_tokens)]).astype(np.int64)
    position = {u: i for i, u in enumerate(order)}

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the store is an ordinary output
        n_mels = cfg.audio.n_mels
        dtype = np.dtype(cfg.features.dtype)
        mels_out = open_memmap(
            tmp / MELS_FILE, mode="w+", dtype=dtype, shape=(int(mel_offsets[-1]), n_mels)
        )
        tokens_out = open_memmap(
            tmp / TOKENS_FILE, mode="w+", dtype=np.int32, shape=(int(token_offsets[-1]),)
        )
        for path in paths:  # one shard in memory at a time
            shard = read_shard(path)
            mel_start = tok_start = 0
            for row, uid in enumerate(shard["ids"].tolist()):
                i = position[uid]
                nf, nt = int(shard["n_frames"][row]), int(shard["n_tokens"][row])
                mels_out[mel_offsets[i] : mel_offsets[i] + nf] = shard["mels"][
                    mel_start : mel_start + nf
                ]
                tokens_out[token_offsets[i] : token_offsets[i] + nt] = shard["tokens"][
                    tok_start : tok_start + nt
                ]
                mel_start += nf
                tok_start += nt
        mels_out.flush()
        tokens_out.flush()
        del mels_out, tokens_out

        with (tmp / INDEX_FILE).open("w", encoding="utf-8", newline="") as fh:
            fh.write("\t".join(INDEX_COLUMNS) + "\n")
            for i, uid in enumerate(order):
                fh.write(
                    f"{uid}\t{mel_offsets[i]}\t{n_frames[i]}\t{token_offsets[i]}\t{n_tokens[i]}"
                    f"\t{seconds[i]!r}\n"
                )
        used = next(iter(pronunciations.values()), None)
        meta = _meta(cfg, n_vocab, used) | {
            "dtype": cfg.features.dtype,
            "mel_layout": "[total_frames, n_mels]",
            "n_utterances": len(order),
            "n_frames": int(mel_offsets[-1]),
            "n_tokens": int(token_offsets[-1]),
            "hours": sum(seconds) / 3600.0,
            "clipped": sorted(clipped),
        }
        write_text(tmp / META_FILE, json.dumps(meta, indent=2, sort_keys=True) + "\n")
        _replace_dir(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    logger.info(
        "store=%s utterances=%d frames=%d tokens=%d dtype=%s",
        out_dir,
        len(order),
        int(mel_offsets[-1]),
        int(token_offsets[-1]),
        cfg.features.dtype,
    )
    return out_dir
