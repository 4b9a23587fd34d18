"""Length-bucketed batches for 1 or N processes: deterministic per (seed, epoch), resumable.

An epoch's plan is the same on every rank: shuffle all indices, cut them into chunks
("buckets") of ``bucket_size``, sort each chunk by mel length, cut it into batches (a fixed
``batch_size``, or a frame budget ``len(batch) * max(lengths) <= max_frames``), shuffle the
batch order. Whole batches are then dealt round-robin to the ranks; when their number does not
divide by ``num_replicas``, the first ``(-n) % num_replicas`` batches of the epoch's order are
dealt again (``drop_last=False``: every index at least once, a few twice) or the last
``n % num_replicas`` are dropped (``drop_last=True``). Every rank gets the same number of batches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from glowtts.errors import UserValueError

__all__ = [
    "DEFAULT_BUCKET_SIZE",
    "BucketBatchSampler",
    "mas_padding_fraction",
    "padding_fraction",
]

logger = logging.getLogger(__name__)

# Items per sorted chunk. A batch of b spans about b / bucket_size of the length quantiles, so
# mel padding is roughly 0.65 * b / bucket_size on LJSpeech: 1.1 % at b = 32 (1.9 % with 1024,
# 32 % for random batches; benchmarks/results/padding.json). Larger chunks pad less, but a
# batch's members then vary less from epoch to epoch.
DEFAULT_BUCKET_SIZE = 2048
_STATE_KEYS = ("epoch", "batches_done")


def padding_fraction(lengths: np.ndarray, batches: Iterable[Sequence[int] | np.ndarray]) -> float:
    """Share of padded mel frames over ``batches``: ``1 - sum(lengths) / sum(B * max_len)``.

    Args:
        lengths: [N] frames of each item.
        batches: index lists into ``lengths``.
    """
    lengths = np.asarray(lengths)
    valid = total = 0
    for batch in batches:
        sizes = lengths[np.asarray(batch, dtype=np.int64)]
        valid += int(sizes.sum())
        total += len(sizes) * int(sizes.max())
    return 1.0 - valid / total if total else 0.0


def mas_padding_fraction(
    x_lengths: np.ndarray, y_lengths: np.ndarray, batches: Iterable[Sequence[int] | np.ndarray]
) -> float:
    """Share of padded alignment cells: ``1 - sum(x_len * y_len) / sum(B * T_x * T_y)``.

    Args:
        x_lengths: [N] tokens of each item; y_lengths: [N] mel frames of each item.
        batches: index lists into both.
    """
    x_lengths, y_lengths = np.asarray(x_lengths), np.asarray(y_lengths)
    valid = total = 0
    for batch in batches:
        idx = np.asarray(batch, dtype=np.int64)
        x, y = x_lengths[idx], y_lengths[idx]
        valid += int((x * y).sum())
        total += len(idx) * int(x.max()) * int(y.max())
    return 1.0 - valid / total if total else 0.0


def _frame_budget_cuts(sorted_lengths: np.ndarray, max_frames: int) -> list[int]:
    """Start positions of greedy batches over ascending lengths, each ``size * last <= budget``."""
    starts = [0]
    for j in range(1, len(sorted_lengths)):
        # Lengths ascend, so item j is the longest of [start, j]: it joins if the batch fits.
        if (j - starts[-1] + 1) * int(sorted_lengths[j]) > max_frames:
            starts.append(j)
    return starts


class BucketBatchSampler:
    """Batches of similar mel length, the same count on every rank (see the module docstring).

    Use as a DataLoader's ``batch_sampler``; call ``set_epoch(epoch)`` before each epoch.
    ``len(sampler)`` is the number of batches this rank gets in the current epoch (constant with
    ``batch_size``; it can vary by epoch with ``max_frames``). A resumed epoch
    (``load_state_dict`` or ``set_epoch(epoch, start_batch=k)``) yields batches ``k:`` of it.

    Args:
        lengths: [N] mel frames of each dataset item (``TTSDataset.lengths``).
        batch_size: items per batch on this rank; or
        max_frames: a budget per batch: ``len(batch) * max(lengths[batch]) <= max_frames``.
            Exactly one of the two. An item longer than the budget forms a batch of its own
            (a warning lists them once, at construction).
        num_replicas, rank: processes and this process's rank (1 and 0 when not distributed).
        seed: with the epoch, seeds the plan: ``np.random.default_rng((seed, epoch))``.
        shuffle: False keeps index order (chunks still sorted by length; batches in order).
        drop_last: drop the final incomplete batch (``batch_size``) and the batches that do
            not divide evenly among the replicas, instead of dealing some twice.
        bucket_size: items per sorted chunk; with ``batch_size`` rounded up to a multiple of it.
    """

    def __init__(
        self,
        lengths: np.ndarray | Sequence[int],
        *,
        batch_size: int | None = None,
        max_frames: int | None = None,
        num_replicas: int = 1,
        rank: int = 0,
        seed: int = 0,
        shuffle: bool = True,
        drop_last: bool = False,
        bucket_size: int = DEFAULT_BUCKET_SIZE,
    ) -> None:
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.ndim != 1 or len(self.lengths) == 0:
            raise UserValueError(
                f"lengths must be a non-empty 1-D array of frame counts, got shape "
                f"{self.lengths.shape}; is the training filelist empty?"
            )
        if (batch_size is None) == (max_frames is None):
            raise UserValueError(
                f"give exactly one of batch_size and max_frames (train.batch_size, "
                f"train.max_frames), got batch_size={batch_size}, max_frames={max_frames}"
            )
        for name, value in (("batch_size", batch_size), ("max_frames", max_frames)):
            if value is not None and value < 1:
                raise UserValueError(f"{name} must be >= 1, got {value}")
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise UserValueError(
                f"rank must be in [0, num_replicas), got rank={rank}, num_replicas={num_replicas}"
            )
        if seed < 0:
            raise UserValueError(f"seed must be >= 0, got {seed}")
        if bucket_size < 1:
            raise UserValueError(f"bucket_size must be >= 1, got {bucket_size}")
        self.batch_size = batch_size
        self.max_frames = max_frames
        self.num_replicas = num_replicas
        self.rank = rank
        self.seed = seed
        self.shuffle = shuffle
        self.drop_last = drop_last
        if batch_size is not None:
            bucket_size = -(-bucket_size // batch_size) * batch_size  # whole batches per chunk
        self.bucket_size = bucket_size
        if max_frames is not None:
            too_long = np.flatnonzero(self.lengths > max_frames)
            if len(too_long):
                logger.warning(
                    "max_frames=%d: %d items are longer and form batches of their own "
                    "(indices %s; longest %d frames)",
                    max_frames,
                    len(too_long),
                    too_long[:10].tolist(),
                    int(self.lengths[too_long].max()),
                )
        self.epoch = 0
        self.start_batch = 0
        self._yielded = 0  # batches yielded by the current iteration
        self._cached: tuple[int, list[np.ndarray]] | None = None  # (epoch, this rank's batches)
        self._rank_batches(0)  # refuse, now, a dataset too small for the replicas

    # ------------------------------------------------------------------ the epoch's plan

    def epoch_batches(self, epoch: int) -> list[np.ndarray]:
        """The epoch's batches before they are dealt to ranks (identical on every rank)."""
        if epoch < 0:
            raise UserValueError(f"epoch must be >= 0, got {epoch}")
        n = len(self.lengths)
        rng = np.random.default_rng((self.seed, epoch))
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        batches: list[np.ndarray] = []
        for start in range(0, n, self.bucket_size):
            chunk = order[start : start + self.bucket_size]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]  # ascending length
            if self.batch_size is not None:
                cuts = list(range(0, len(chunk), self.batch_size))
            else:
                assert self.max_frames is not None
                cuts = _frame_budget_cuts(self.lengths[chunk], self.max_frames)
            batches.extend(np.split(chunk, cuts[1:]))
        if self.drop_last and self.batch_size is not None:
            batches = [b for b in batches if len(b) == self.batch_size]
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def _rank_batches(self, epoch: int) -> list[np.ndarray]:
        """This rank's batches of ``epoch``: every ``num_replicas``-th, after padding/dropping."""
        if self._cached is not None and self._cached[0] == epoch:
            return self._cached[1]
        batches = self.epoch_batches(epoch)
        n, R = len(batches), self.num_replicas
        if self.drop_last:
            batches = batches[: n - n % R]
        else:
            batches = batches + [batches[i % n] for i in range((-n) % R)]  # n >= 1 here
        mine = batches[self.rank :: R]
        if not mine:
            raise UserValueError(
                f"{len(self.lengths)} items make {n} batches, fewer than the {R} processes "
                "(drop_last); lower train.batch_size/train.max_frames or use fewer processes"
            )
        self._cached = (epoch, mine)
        return mine

    # ------------------------------------------------------------------ sampler protocol

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Make the next iterations yield ``epoch``'s batches from ``start_batch`` on."""
        n = len(self._rank_batches(epoch))
        if not 0 <= start_batch <= n:
            raise UserValueError(
                f"start_batch must be in [0, {n}] (batches per rank in epoch {epoch}), "
                f"got {start_batch}"
            )
        self.epoch, self.start_batch = epoch, start_batch

    def __len__(self) -> int:
        return len(self._rank_batches(self.epoch))

    def __iter__(self) -> Iterator[list[int]]:
        self._yielded = 0
        for batch in self._rank_batches(self.epoch)[self.start_batch :]:
            self._yielded += 1
            yield batch.tolist()

    # ------------------------------------------------------------------ resume

    def _plan_params(self) -> dict[str, Any]:
        """Everything besides (epoch, batches_done) that decides the batches."""
        return {
            "n_items": len(self.lengths),
            "total_frames": int(self.lengths.sum()),
            "batch_size": self.batch_size,
            "max_frames": self.max_frames,
            "num_replicas": self.num_replicas,
            "seed": self.seed,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
            "bucket_size": self.bucket_size,
        }

    def state_dict(self, consumed: int | None = None) -> dict[str, Any]:
        """Where the epoch stands: ``{"epoch", "batches_done", ...plan parameters}``.

        The same on every rank (it holds no rank), so rank 0's copy resumes them all.

        Args:
            consumed: batches the training loop has taken from the current iteration (since
                ``iter()``). Default: the batches this sampler has yielded, which is right when
                iterated directly or by a DataLoader with ``num_workers=0``; workers prefetch,
                so pass the loop's own count then.
        """
        done = self.start_batch + (self._yielded if consumed is None else consumed)
        return {"epoch": self.epoch, "batches_done": done, **self._plan_params()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue ``state``'s epoch with exactly its remaining batches.

        Raises UserValueError naming each field that differs from this sampler's plan (other
        data, batch settings, seed or number of processes cannot resume exactly).
        """
        missing = [k for k in (*_STATE_KEYS, *self._plan_params()) if k not in state]
        if missing:
            raise UserValueError(f"sampler state lacks {missing}; it is not a sampler state")
        diffs = [
            f"{k}: saved {state[k]!r}, now {v!r}"
            for k, v in self._plan_params().items()
            if state[k] != v
        ]
        if diffs:
            raise UserValueError(
                "cannot resume the epoch exactly; the batch plan differs from the checkpoint's "
                f"({'; '.join(diffs)}). Resume with the same data, train settings and number "
                "of processes, or start a new run."
            )
        self.set_epoch(int(state["epoch"]), start_batch=int(state["batches_done"]))
