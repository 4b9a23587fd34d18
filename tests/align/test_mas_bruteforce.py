"""Both MAS back ends against an exhaustive search over every monotonic path."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from glowtts.align import maximum_path_cython, maximum_path_torch

BACKENDS = ["cython", "torch"]


def _run(backend: str, log_p, x_mask, y_mask):
    if backend == "cython":
        return maximum_path_cython(log_p, x_mask, y_mask)
    return maximum_path_torch(log_p, x_mask, y_mask)


def _monotonic_paths(T_x: int, T_y: int):
    """Every path from token 0 at frame 0 to token T_x-1 at frame T_y-1, steps 0 or +1."""
    for advances in itertools.combinations(range(1, T_y), T_x - 1):
        steps = set(advances)
        x, path = 0, []
        for y in range(T_y):
            x += y in steps
            path.append(x)
        yield tuple(path)


def _brute_force(value: torch.Tensor) -> tuple[tuple[int, ...], float]:
    """Best path for value [T_y, T_x] (float64 sums), ties broken like the backtracking rule.

    Backtracking from the end stays on the larger token whenever both predecessors are
    optimal, so among the maximal paths it returns the one whose frames, read from the last
    to the first, are lexicographically greatest.
    """
    T_y, T_x = value.shape
    v = value.double().tolist()
    best_key: tuple[float, tuple[int, ...]] | None = None
    for path in _monotonic_paths(T_x, T_y):
        key = (math.fsum(v[y][x] for y, x in enumerate(path)), path[::-1])
        if best_key is None or key > best_key:
            best_key = key
    assert best_key is not None
    return best_key[1][::-1], best_key[0]


def _padded_batch(items: list[torch.Tensor], dtype: torch.dtype, garbage: float, seed: int):
    """Pack [T_y_i, T_x_i] items into [B, T_y, T_x] with huge finite garbage in the padding."""
    g = torch.Generator().manual_seed(seed)
    B = len(items)
    T_y = max(v.shape[0] for v in items) + 2
    T_x = max(v.shape[1] for v in items) + 1
    log_p = garbage * (2 * torch.rand(B, T_y, T_x, generator=g) - 1)
    x_mask = torch.zeros(B, 1, T_x)
    y_mask = torch.zeros(B, 1, T_y)
    for b, v in enumerate(items):
        log_p[b, : v.shape[0], : v.shape[1]] = v
        y_mask[b, 0, : v.shape[0]] = 1
        x_mask[b, 0, : v.shape[1]] = 1
    return log_p.to(dtype), x_mask, y_mask


def _small_items(values: str, seed: int) -> list[torch.Tensor]:
    """One random [T_y, T_x] item per 1 <= T_x <= T_y <= 8 (T_x <= 5)."""
    g = torch.Generator().manual_seed(seed)
    items = []
    for T_y in range(1, 9):
        for T_x in range(1, min(T_y, 5) + 1):
            if values == "integer":  # few distinct values: many tied paths
                items.append(torch.randint(-2, 1, (T_y, T_x), generator=g).double())
            else:
                items.append(-5 * torch.rand(T_y, T_x, generator=g, dtype=torch.float64))
    return items


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("values", "dtype"),
    [("integer", torch.float32), ("integer", torch.float64), ("real", torch.float64)],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_exhaustive_search(mas_core, backend, values, dtype, seed):
    items = _small_items(values, seed)
    log_p, x_mask, y_mask = _padded_batch(items, dtype, garbage=1e30, seed=seed)
    indices = _run(backend, log_p, x_mask, y_mask)
    assert indices.dtype == torch.long and indices.shape == log_p.shape[:2]
    for b, v in enumerate(items):
        T_y, T_x = v.shape
        expected, best = _brute_force(v)
        got = tuple(indices[b, :T_y].tolist())
        total = sum(v[y, x].item() for y, x in enumerate(got))
        assert total == pytest.approx(best, abs=1e-9), (b, T_x, T_y, got, expected)
        assert got == expected, (b, T_x, T_y, v.tolist())
        assert indices[b, T_y:].eq(0).all(), "frames past y length must be 0"


@pytest.mark.parametrize("backend", BACKENDS)
def test_all_ties_stay_on_first_tokens_until_forced(mas_core, backend):
    # Constant scores: every path ties. Backtracking stays on a token while tied, so the
    # last token absorbs every surplus frame and the others get one frame each.
    T_x, T_y = 4, 9
    log_p = torch.zeros(1, T_y, T_x)
    indices = _run(backend, log_p, torch.ones(1, 1, T_x), torch.ones(1, 1, T_y))
    assert indices[0].tolist() == [0, 1, 2, 3, 3, 3, 3, 3, 3]
