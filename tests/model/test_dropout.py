"""Dropout's two mask samplers (geometric gaps, one uniform each) against Bernoulli statistics."""

from __future__ import annotations

import pytest
import torch

from glowtts.model import dropout as dropout_module
from glowtts.model.dropout import GEOMETRIC_MAX_P, Dropout


def _stats(p: float, shape: tuple[int, ...] = (300, 2000)) -> tuple[float, float, float]:
    """Drop rate, rate of adjacent dropped pairs, output mean of Dropout(p) on ones."""
    with torch.random.fork_rng():  # leave the global stream to the other tests
        torch.manual_seed(0)
        y = Dropout(p)(torch.ones(shape)).view(-1)
    dropped = y == 0
    pairs = (dropped[1:] & dropped[:-1]).float().mean().item()
    return dropped.float().mean().item(), pairs, y.mean().item()


@pytest.mark.parametrize("p", [0.05, GEOMETRIC_MAX_P, 0.5], ids=["geometric", "edge", "uniform"])
def test_drops_are_iid_bernoulli_and_keep_the_mean(p: float) -> None:
    rate, pairs, mean = _stats(p)
    n = 300 * 2000
    assert abs(rate - p) < 5 * (p * (1 - p) / n) ** 0.5, rate
    assert abs(pairs - p * p) < 5 * (p * p / n) ** 0.5 + 1e-4, pairs  # independent neighbours
    assert abs(mean - 1.0) < 0.01, mean


def test_geometric_sampler_draws_again_when_the_gaps_fall_short(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dropout_module, "_GAP_DRAW_SIGMAS", -1e9)  # one gap per draw
    with torch.random.fork_rng():
        torch.manual_seed(1)
        positions = dropout_module._drop_positions(20_000, 0.1, torch.device("cpu"))
    assert positions.unique().numel() == positions.numel()
    assert int(positions.min()) >= 0 and int(positions.max()) < 20_000
    assert abs(positions.numel() / 20_000 - 0.1) < 0.015


def test_tiny_and_odd_sizes() -> None:
    with torch.random.fork_rng():
        torch.manual_seed(2)
        for p in (0.05, 0.5):
            for n in (1, 3, 7):
                y = Dropout(p)(torch.ones(n))
                assert y.shape == (n,)
                assert bool(((y == 0) | (y == 1 / (1 - p))).all())
