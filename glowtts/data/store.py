"""The read side of the feature store: one memory-mapped directory for the whole corpus.

Layout of a store directory (written by :func:`glowtts.data.features.gather_shards`)::

    mels.npy     [total_frames, n_mels] float32 or float16; an utterance's frames are
                 consecutive rows, so its slice is one contiguous block
    tokens.npy   [total_tokens] int32, every utterance's token ids concatenated
    index.tsv    id, mel_offset, n_frames, token_offset, n_tokens, seconds (sorted by id)
    store.json   format version, audio and text config, dtype, seed, counts

Reading opens three files once, whatever the number of utterances; ``store.json`` lets a
reader refuse a store built with other audio or text parameters.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from glowtts.config import AudioConfig, TextConfig
from glowtts.errors import InputNotFoundError, UserValueError

if TYPE_CHECKING:
    import torch

__all__ = [
    "INDEX_COLUMNS",
    "INDEX_FILE",
    "MELS_FILE",
    "META_FILE",
    "STORE_VERSION",
    "TOKENS_FILE",
    "FeatureStore",
    "check_meta",
]

STORE_VERSION = 1
MELS_FILE = "mels.npy"
TOKENS_FILE = "tokens.npy"
INDEX_FILE = "index.tsv"
META_FILE = "store.json"
INDEX_COLUMNS = ("id", "mel_offset", "n_frames", "token_offset", "n_tokens", "seconds")


def check_meta(
    meta: dict[str, Any],
    source: Path,
    *,
    audio: AudioConfig | None = None,
    text: TextConfig | None = None,
    seed: int | None = None,
) -> None:
    """Raise ValueError naming ``source`` and every field whose stored value differs.

    Args:
        meta: the stored metadata (``store.json`` or a shard's ``meta``).
        source: the file it came from, for the message.
        audio, text, seed: the expected values; ``None`` skips that check.
    """
    if meta.get("version") != STORE_VERSION:
        raise UserValueError(
            f"{source}: format version {meta.get('version')!r}, this code reads "
            f"version {STORE_VERSION}; rerun the features stage"
        )
    problems: list[str] = []
    for section, expected in (("audio", audio), ("text", text)):
        if expected is None:
            continue
        stored = meta.get(section, {})
        for key, value in asdict(expected).items():
            if stored.get(key) != value:
                problems.append(f"{section}.{key}: stored {stored.get(key)!r}, expected {value!r}")
    if seed is not None and meta.get("seed") != seed:
        problems.append(f"seed: stored {meta.get('seed')!r}, expected {seed!r}")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise UserValueError(
            f"{source}: features were built with other parameters:\n{lines}\n"
            "Delete it and rerun the features stage with the current config."
        )


class FeatureStore:
    """Read-only, memory-mapped feature store (see the module docstring for the layout).

    ``store[i]`` returns ``(tokens, mel)``: a LongTensor ``[T_x]`` and a FloatTensor
    ``[n_mels, T_y]`` (float32 even when stored as float16), both fresh copies.
    ``ids``, ``n_frames``, ``n_tokens`` and ``seconds`` are per-utterance arrays for
    length bucketing; ``index_of(utt_id)`` and ``get(utt_id)`` look up by id.

    Args:
        path: the store directory.
        audio, text: when given, refuse (ValueError) a store built with other values.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        audio: AudioConfig | None = None,
        text: TextConfig | None = None,
    ) -> None:
        self.path = Path(path)
        meta_path = self.path / META_FILE
        if not meta_path.is_file():
            raise InputNotFoundError(
                f"{meta_path} does not exist: {self.path} is not a feature store; run the "
                "features stage first"
            )
        self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        check_meta(self.meta, meta_path, audio=audio, text=text)
        self._read_index()
        self._mels: np.ndarray | None = None
        self._tokens: np.ndarray | None = None
        self._open()

    def _read_index(self) -> None:
        index_path = self.path / INDEX_FILE
        with index_path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader, None)
            if header is None or tuple(header) != INDEX_COLUMNS:
                raise UserValueError(
                    f"{index_path}:1: expected header {INDEX_COLUMNS}, got {header}"
                )
            rows = list(reader)
        self.ids: list[str] = [r[0] for r in rows]
        numbers = np.array([r[1:5] for r in rows], dtype=np.int64).reshape(len(rows), 4)
        self.mel_offsets = numbers[:, 0]
        self.n_frames = numbers[:, 1]
        self.token_offsets = numbers[:, 2]
        self.n_tokens = numbers[:, 3]
        self.seconds = np.array([float(r[5]) for r in rows], dtype=np.float64)
        self._position = {uid: i for i, uid in enumerate(self.ids)}
        if len(self._position) != len(self.ids):
            raise UserValueError(f"{index_path}: duplicate utterance ids; rebuild the store")

    def _open(self) -> None:
        self._mels = np.load(self.path / MELS_FILE, mmap_mode="r")  # [total_frames, n_mels]
        self._tokens = np.load(self.path / TOKENS_FILE, mmap_mode="r")  # [total_tokens]
        total_frames = int(self.n_frames.sum())
        if self._mels.shape != (total_frames, self.n_mels):
            raise UserValueError(
                f"{self.path / MELS_FILE}: shape {self._mels.shape}, the index expects "
                f"({total_frames}, {self.n_mels}); rebuild the store"
            )

    # Memory maps are reopened, not pickled, when a DataLoader worker receives the store.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_mels"] = state["_tokens"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._open()

    def digest(self, utt_ids: Iterable[str]) -> str:
        """sha256 over these utterances' ids, mel frames and token ids, in id order: the
        identity of the data a training run reads (other utterances of the store do not count).
        Reads their rows once (about a second per GB)."""
        import hashlib

        digest = hashlib.sha256()
        for uid in sorted(set(utt_ids)):
            i = self.index_of(uid)
            digest.update(uid.encode("utf-8") + b"\0")
            digest.update(np.ascontiguousarray(self.mel_array(i)).tobytes())
            digest.update(np.ascontiguousarray(self.token_array(i)).tobytes())
        return digest.hexdigest()

    @property
    def n_mels(self) -> int:
        return int(self.meta["audio"]["n_mels"])

    @property
    def dtype(self) -> str:
        return str(self.meta["dtype"])

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.path)!r}, utterances={len(self)}, dtype={self.dtype})"

    def __contains__(self, utt_id: object) -> bool:
        return utt_id in self._position

    def index_of(self, utt_id: str) -> int:
        """Position of an utterance id; KeyError naming the store when absent."""
        try:
            return self._position[utt_id]
        except KeyError:
            raise KeyError(
                f"utterance {utt_id!r} is not in the feature store {self.path}"
            ) from None

    def mel_array(self, i: int) -> np.ndarray:
        """Read-only memory-mapped view of utterance ``i``'s log-mel ``[T_y, n_mels]``."""
        assert self._mels is not None
        start = int(self.mel_offsets[i])
        return self._mels[start : start + int(self.n_frames[i])]

    def token_array(self, i: int) -> np.ndarray:
        """Read-only memory-mapped view of utterance ``i``'s token ids ``[T_x]``."""
        assert self._tokens is not None
        start = int(self.token_offsets[i])
        return self._tokens[start : start + int(self.n_tokens[i])]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens [T_x] long, mel [n_mels, T_y] float32)`` of utterance ``i``."""
        import torch

        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for a store of {len(self)} utterances")
        i = i % len(self)
        tokens = torch.from_numpy(self.token_array(i).astype(np.int64))  # [T_x]
        mel = np.ascontiguousarray(self.mel_array(i).T, dtype=np.float32)  # [n_mels, T_y]
        return tokens, torch.from_numpy(mel)

    def get(self, utt_id: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``store[store.index_of(utt_id)]``."""
        return self[self.index_of(utt_id)]
