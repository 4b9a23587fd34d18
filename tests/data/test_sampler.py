"""glowtts.data.sampler: coverage per epoch, DDP balance, frame budgets, determinism, resume."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import pytest

from glowtts.data.sampler import BucketBatchSampler, mas_padding_fraction, padding_fraction
from glowtts.errors import UserValueError

N = 500


@pytest.fixture(scope="module")
def lengths() -> np.ndarray:
    """[N] mel frames, LJSpeech-like: a clipped normal over 95..870 frames."""
    rng = np.random.default_rng(0)
    return np.clip(rng.normal(600, 200, N), 95, 870).astype(np.int64)


def _epoch(sampler: BucketBatchSampler, epoch: int) -> list[list[int]]:
    sampler.set_epoch(epoch)
    return list(sampler)


MODES = [{"batch_size": 16}, {"batch_size": 7}, {"max_frames": 6000}]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shuffle", [True, False])
def test_one_replica_every_index_once(lengths: np.ndarray, mode: dict, shuffle: bool) -> None:
    sampler = BucketBatchSampler(lengths, seed=3, shuffle=shuffle, bucket_size=64, **mode)
    for epoch in range(3):
        batches = _epoch(sampler, epoch)
        assert len(batches) == len(sampler)
        assert sorted(i for b in batches for i in b) == list(range(N))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("replicas", [2, 3])
def test_replicas_cover_every_index_and_repeat_only_the_documented_batches(
    lengths: np.ndarray, mode: dict, replicas: int
) -> None:
    samplers = [
        BucketBatchSampler(lengths, num_replicas=replicas, rank=r, seed=5, bucket_size=64, **mode)
        for r in range(replicas)
    ]
    for epoch in range(2):
        per_rank = [_epoch(s, epoch) for s in samplers]
        assert len({len(b) for b in per_rank}) == 1  # the same number of batches on every rank
        assert [len(s) for s in samplers] == [len(b) for b in per_rank]
        plan = samplers[0].epoch_batches(epoch)
        n_extra = (-len(plan)) % replicas
        assert len(per_rank[0]) * replicas == len(plan) + n_extra
        # Dealt round-robin; the first n_extra batches of the plan are dealt again at the end.
        dealt = [per_rank[k % replicas][k // replicas] for k in range(len(plan) + n_extra)]
        assert dealt == [b.tolist() for b in plan] + [b.tolist() for b in plan[:n_extra]]
        counts = Counter(i for batches in per_rank for b in batches for i in b)
        assert set(counts) == set(range(N))  # no index lost
        repeated = Counter(i for b in plan[:n_extra] for i in b)
        assert counts == Counter(range(N)) + repeated


@pytest.mark.parametrize("mode", MODES)
def test_drop_last_gives_equal_counts_without_repeats(lengths: np.ndarray, mode: dict) -> None:
    per_rank = [
        _epoch(BucketBatchSampler(lengths, num_replicas=3, rank=r, drop_last=True, **mode), 0)
        for r in range(3)
    ]
    assert len({len(b) for b in per_rank}) == 1
    flat = [i for batches in per_rank for b in batches for i in b]
    assert len(flat) == len(set(flat))
    if "batch_size" in mode:
        assert all(len(b) == mode["batch_size"] for batches in per_rank for b in batches)


def test_frame_budget_is_honoured_and_long_items_get_their_own_batch(
    lengths: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    budget = 4000
    with_long = np.concatenate([lengths, [5000, 9000]])  # two items over the budget
    with caplog.at_level(logging.WARNING, logger="glowtts.data.sampler"):
        sampler = BucketBatchSampler(with_long, max_frames=budget, seed=1, bucket_size=128)
    assert len(caplog.records) == 1 and "2 items are longer" in caplog.text
    assert f"[{N}, {N + 1}]" in caplog.text
    for epoch in range(3):
        batches = _epoch(sampler, epoch)
        assert sorted(i for b in batches for i in b) == list(range(N + 2))
        for b in batches:
            assert len(b) * with_long[b].max() <= budget or len(b) == 1
        assert [N] in batches and [N + 1] in batches
    assert len(caplog.records) == 1  # warned once, not per epoch


def test_batches_group_similar_lengths(lengths: np.ndarray) -> None:
    sampler = BucketBatchSampler(lengths, batch_size=16, seed=0, bucket_size=N)
    for b in _epoch(sampler, 0):
        assert np.all(np.diff(lengths[b]) >= 0)  # sorted inside each batch
    assert padding_fraction(lengths, list(sampler)) < 0.03


def test_deterministic_per_seed_and_epoch(lengths: np.ndarray) -> None:
    a = BucketBatchSampler(lengths, batch_size=8, seed=11, bucket_size=64)
    b = BucketBatchSampler(lengths, batch_size=8, seed=11, bucket_size=64)
    assert _epoch(a, 4) == _epoch(b, 4)
    assert _epoch(a, 4) != _epoch(a, 5)
    other_seed = BucketBatchSampler(lengths, batch_size=8, seed=12, bucket_size=64)
    assert _epoch(other_seed, 4) != _epoch(a, 4)
    assert list(a) == list(a)  # iterating again repeats the epoch
    a.set_epoch(1)
    a.set_epoch(4)
    assert list(a) == _epoch(b, 4)  # no hidden state beyond (seed, epoch)


def test_shuffle_false_is_the_same_every_epoch(lengths: np.ndarray) -> None:
    sampler = BucketBatchSampler(lengths, batch_size=8, shuffle=False, bucket_size=64)
    assert _epoch(sampler, 0) == _epoch(sampler, 1)


@pytest.mark.parametrize("mode", [{"batch_size": 8}, {"max_frames": 5000}])
@pytest.mark.parametrize("replicas", [1, 2])
def test_resume_mid_epoch_yields_exactly_the_remaining_batches(
    lengths: np.ndarray, mode: dict, replicas: int
) -> None:
    kwargs = {"num_replicas": replicas, "seed": 9, "bucket_size": 64, **mode}
    full = _epoch(BucketBatchSampler(lengths, rank=replicas - 1, **kwargs), 2)
    sampler = BucketBatchSampler(lengths, rank=replicas - 1, **kwargs)
    sampler.set_epoch(2)
    it = iter(sampler)
    taken = [next(it) for _ in range(5)]
    assert taken == full[:5]
    state = sampler.state_dict()
    assert state["epoch"] == 2 and state["batches_done"] == 5
    assert sampler.state_dict(consumed=3)["batches_done"] == 3  # a loop's own count wins

    for rank in range(replicas):  # one rank's state resumes every rank
        resumed = BucketBatchSampler(lengths, rank=rank, **kwargs)
        resumed.load_state_dict(state)
        expected = _epoch(BucketBatchSampler(lengths, rank=rank, **kwargs), 2)[5:]
        assert list(resumed) == expected
        assert resumed.state_dict()["batches_done"] == len(full)
        resumed.set_epoch(3)
        assert list(resumed) == _epoch(BucketBatchSampler(lengths, rank=rank, **kwargs), 3)

    # Resuming a resumed epoch again counts from where the first resume started.
    again = BucketBatchSampler(lengths, rank=replicas - 1, **kwargs)
    again.load_state_dict(state)
    it = iter(again)
    next(it)
    assert again.state_dict()["batches_done"] == 6


def test_load_state_dict_refuses_another_plan(lengths: np.ndarray) -> None:
    state = BucketBatchSampler(lengths, batch_size=8, num_replicas=2).state_dict()
    for other in (
        BucketBatchSampler(lengths, batch_size=8),
        BucketBatchSampler(lengths, batch_size=9, num_replicas=2),
        BucketBatchSampler(lengths[:-1], batch_size=8, num_replicas=2),
    ):
        with pytest.raises(UserValueError, match="cannot resume the epoch exactly"):
            other.load_state_dict(state)
    with pytest.raises(UserValueError, match="lacks"):
        BucketBatchSampler(lengths, batch_size=8).load_state_dict({"epoch": 0})
    sampler = BucketBatchSampler(lengths, batch_size=8, num_replicas=2)
    with pytest.raises(UserValueError, match="start_batch must be in"):
        sampler.load_state_dict({**state, "batches_done": len(sampler) + 1})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one of batch_size and max_frames"),
        ({"batch_size": 8, "max_frames": 1000}, "exactly one of batch_size and max_frames"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"max_frames": 0}, "max_frames must be >= 1"),
        ({"batch_size": 8, "rank": 2, "num_replicas": 2}, "rank must be in"),
        ({"batch_size": 8, "seed": -1}, "seed must be >= 0"),
        ({"batch_size": 8, "bucket_size": 0}, "bucket_size must be >= 1"),
    ],
)
def test_bad_arguments_raise(lengths: np.ndarray, kwargs: dict, match: str) -> None:
    with pytest.raises(UserValueError, match=match):
        BucketBatchSampler(lengths, **kwargs)


def test_too_few_batches_for_the_replicas() -> None:
    with pytest.raises(UserValueError, match="fewer than the 4 processes"):
        BucketBatchSampler([10, 20, 30], batch_size=1, num_replicas=4, drop_last=True)
    with pytest.raises(UserValueError, match="non-empty"):
        BucketBatchSampler([], batch_size=1)
    # Without drop_last a tiny dataset still fills every rank, by repeating batches.
    per_rank = [
        list(BucketBatchSampler([10, 20], batch_size=1, num_replicas=3, rank=r)) for r in range(3)
    ]
    assert all(len(b) == 1 for b in per_rank)
    assert {i for b in per_rank for i in b[0]} == {0, 1}


def test_padding_fractions_by_construction() -> None:
    y = np.array([1, 2, 3, 4])
    x = np.array([2, 2, 1, 3])
    assert padding_fraction(y, [[0, 1], [2, 3]]) == pytest.approx(1 - 10 / 12)
    assert padding_fraction(y, [[0], [1], [2], [3]]) == 0.0
    assert padding_fraction(y, []) == 0.0
    # cells: [0, 1]: valid 2 + 4 = 6 of 2 * 2 * 2 = 8; [2, 3]: 3 + 12 = 15 of 2 * 3 * 4 = 24
    assert mas_padding_fraction(x, y, [[0, 1], [2, 3]]) == pytest.approx(1 - 21 / 32)


def test_bucketed_batches_pad_less_than_random(lengths: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    random_batches = np.array_split(rng.permutation(N), N // 16)
    bucketed = list(BucketBatchSampler(lengths, batch_size=16, seed=1, bucket_size=256))
    random_pad, bucket_pad = (
        padding_fraction(lengths, random_batches),
        padding_fraction(lengths, bucketed),
    )
    assert random_pad > 0.25
    assert bucket_pad < 0.1
    assert bucket_pad < random_pad / 4
