"""The training dataset: a filelist's utterances read from the feature store, and their batches.

:class:`TTSDataset` maps positions ``0..len-1`` to the store's rows of the given ids;
:func:`collate` pads items into a :class:`Batch`, which also counts its padding so that the
trainer can log the share of padded mel frames and alignment (MAS) cells. DataLoader workers
receive the dataset by pickling; the store reopens its memory maps there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from glowtts.data.manifest import read_manifest
from glowtts.data.store import FeatureStore
from glowtts.errors import UserValueError

__all__ = ["Batch", "TTSDataset", "collate"]

_SHOW_MISSING = 5  # ids named in the "not in the store" message


class TTSDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """A subset of a :class:`FeatureStore` given by utterance ids, in the order given.

    ``dataset[i]`` is ``(tokens [T_x] long, mel [n_mels, T_y] float32)`` of ``ids[i]``.

    Args:
        store: the feature store.
        ids: utterance ids (e.g. a filelist's); each must be in the store, once.
        source: where the ids came from (a filelist path), for error messages.

    Raises:
        UserValueError: an id is repeated, or missing from the store (the first few are named).
    """

    def __init__(
        self, store: FeatureStore, ids: Sequence[str], *, source: str | Path | None = None
    ) -> None:
        where = f"{source}: " if source is not None else ""
        if not ids:
            raise UserValueError(f"{where}no utterances; check the split stage's filelists")
        seen: set[str] = set()
        for uid in ids:
            if uid in seen:
                raise UserValueError(f"{where}utterance {uid!r} is listed twice; remove one")
            seen.add(uid)
        missing = [uid for uid in ids if uid not in store]
        if missing:
            shown = ", ".join(repr(u) for u in missing[:_SHOW_MISSING])
            more = (
                f" and {len(missing) - _SHOW_MISSING} more" if len(missing) > _SHOW_MISSING else ""
            )
            raise UserValueError(
                f"{where}{len(missing)} of {len(ids)} utterances are not in the feature store "
                f"{store.path} ({shown}{more}); rerun the features stage for this filelist"
            )
        self.store = store
        self.ids = list(ids)
        self.indices = np.array([store.index_of(uid) for uid in ids], dtype=np.int64)  # [N]

    @classmethod
    def from_filelist(cls, store: FeatureStore, filelist: str | Path) -> TTSDataset:
        """The utterances of a filelist (a manifest, see :mod:`glowtts.data.manifest`)."""
        return cls(store, [u.id for u in read_manifest(filelist)], source=filelist)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens [T_x] long, mel [n_mels, T_y] float32)``."""
        return self.store[int(self.indices[i])]

    @property
    def lengths(self) -> np.ndarray:
        """[N] int64 mel frames of each item (what the batch sampler buckets by)."""
        return self.store.n_frames[self.indices]

    @property
    def token_lengths(self) -> np.ndarray:
        """[N] int64 tokens of each item."""
        return self.store.n_tokens[self.indices]


@dataclass(frozen=True)
class Batch:
    """Padded tensors of a batch (padding is 0) and counts of that padding.

    Attributes:
        x: [B, T_x] long token ids; x_lengths: [B] long.
        y: [B, n_mels, T_y] float32 log-mels; y_lengths: [B] long.
        valid_frames, total_frames: ``sum(y_lengths)`` and ``B * T_y``.
        valid_cells, total_cells: alignment cells ``sum(x_lengths * y_lengths)`` and
            ``B * T_x * T_y``. Python ints, so logging them needs no device sync.
    """

    x: torch.Tensor
    x_lengths: torch.Tensor
    y: torch.Tensor
    y_lengths: torch.Tensor
    valid_frames: int
    total_frames: int
    valid_cells: int
    total_cells: int

    @property
    def frame_padding(self) -> float:
        """Share of the mel tensor's frames that are padding."""
        return 1.0 - self.valid_frames / self.total_frames

    @property
    def cell_padding(self) -> float:
        """Share of the ``[T_x, T_y]`` alignment cells that are padding."""
        return 1.0 - self.valid_cells / self.total_cells

    def _with(self, x: torch.Tensor, xl: torch.Tensor, y: torch.Tensor, yl: torch.Tensor) -> Batch:
        counts = (self.valid_frames, self.total_frames, self.valid_cells, self.total_cells)
        return Batch(x, xl, y, yl, *counts)

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        """The batch on ``device`` (``non_blocking`` pays off from pinned memory)."""
        t = [
            v.to(device, non_blocking=non_blocking)
            for v in (self.x, self.x_lengths, self.y, self.y_lengths)
        ]
        return self._with(*t)

    def pin_memory(self) -> Batch:
        """The batch in page-locked memory (the DataLoader calls this with ``pin_memory=True``)."""
        return self._with(
            self.x.pin_memory(),
            self.x_lengths.pin_memory(),
            self.y.pin_memory(),
            self.y_lengths.pin_memory(),
        )


def collate(batch: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> Batch:
    """Pad ``(tokens [T_x], mel [n_mels, T_y])`` items into a :class:`Batch` (order kept).

    Returns a Batch with ``x [B, T_x]`` long, ``y [B, n_mels, T_y]`` float32 (both 0-padded to
    the longest item) and ``x_lengths``, ``y_lengths`` ``[B]`` long.
    """
    if not batch:
        raise ValueError("collate got an empty batch")
    x_lengths = torch.tensor([tokens.size(0) for tokens, _ in batch], dtype=torch.long)  # [B]
    y_lengths = torch.tensor([mel.size(1) for _, mel in batch], dtype=torch.long)  # [B]
    B, n_mels = len(batch), batch[0][1].size(0)
    T_x, T_y = int(x_lengths.max()), int(y_lengths.max())
    x = torch.zeros(B, T_x, dtype=torch.long)
    y = torch.zeros(B, n_mels, T_y, dtype=torch.float32)
    for b, (tokens, mel) in enumerate(batch):
        x[b, : tokens.size(0)] = tokens
        y[b, :, : mel.size(1)] = mel
    return Batch(
        x=x,
        x_lengths=x_lengths,
        y=y,
        y_lengths=y_lengths,
        valid_frames=int(y_lengths.sum()),
        total_frames=B * T_y,
        valid_cells=int((x_lengths * y_lengths).sum()),
        total_cells=B * T_x * T_y,
    )
