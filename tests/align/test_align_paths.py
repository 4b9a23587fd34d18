"""Alignment conversions: durations <-> dense paths <-> per-frame token indices."""

from __future__ import annotations

import pytest
import torch

from glowtts.align import (
    durations_from_indices,
    generate_path,
    indices_from_durations,
    maximum_path,
    path_from_indices,
)


def _masks(x_len: torch.Tensor, y_len: torch.Tensor, T_x: int, T_y: int):
    x_mask = (torch.arange(T_x) < x_len[:, None]).unsqueeze(1).float()  # [B, 1, T_x]
    y_mask = (torch.arange(T_y) < y_len[:, None]).unsqueeze(1).float()  # [B, 1, T_y]
    return x_mask, y_mask, x_mask.unsqueeze(-1) * y_mask.unsqueeze(2)  # [B, 1, T_x, T_y]


def _durations(B: int, seed: int):
    """Random durations (zeros included) with zeros on padded tokens; y_len = their sum."""
    g = torch.Generator().manual_seed(seed)
    x_len = torch.randint(1, 12, (B,), generator=g)
    T_x = int(x_len.max()) + 2
    d = torch.randint(0, 5, (B, T_x), generator=g)
    d[:, 0] += 1  # at least one frame per item
    d = d * (torch.arange(T_x) < x_len[:, None])
    y_len = d.sum(1)
    return d, x_len, y_len, T_x, int(y_len.max()) + 3


def _assert_valid_hard_path(path: torch.Tensor, durations: torch.Tensor, y_len: torch.Tensor):
    """path [B, 1, T_x, T_y]: one token per valid frame, tokens in order, spans = durations."""
    for b in range(path.shape[0]):
        p = path[b, 0]
        assert ((p == 0) | (p == 1)).all()
        per_frame = p.sum(0)  # [T_y]
        assert torch.equal(per_frame[: y_len[b]], torch.ones(int(y_len[b])))
        assert per_frame[y_len[b] :].eq(0).all()
        tokens = p[:, : y_len[b]].argmax(0)  # token of each valid frame
        assert (tokens.diff() >= 0).all(), "alignment must be monotonic"
        assert torch.equal(p.sum(1), durations[b].to(p.dtype))


@pytest.mark.parametrize("dtype", [torch.long, torch.float32])
@pytest.mark.parametrize("B", [1, 3])
def test_generate_path_spans_durations(dtype, B):
    d, x_len, y_len, T_x, T_y = _durations(B, seed=B)
    _, _, mask = _masks(x_len, y_len, T_x, T_y)
    path = generate_path(d.to(dtype), mask)
    assert path.shape == (B, 1, T_x, T_y) and path.dtype == mask.dtype
    _assert_valid_hard_path(path, d, y_len)
    # token i covers exactly frames [end_{i-1}, end_i)
    end = d.cumsum(1)
    for b in range(B):
        for i in range(T_x):
            frames = torch.nonzero(path[b, 0, i]).flatten().tolist()
            assert frames == list(range(int(end[b, i] - d[b, i]), int(end[b, i])))


def test_generate_path_honours_mask():
    d = torch.tensor([[2, 3, 1, 4]])  # padded token 3 has a duration; frames 6..9 exist
    _, _, mask = _masks(torch.tensor([3]), torch.tensor([5]), 4, 10)
    path = generate_path(d, mask)
    assert path[0, 0, 3].eq(0).all(), "masked token"
    assert path[0, 0, :, 5:].eq(0).all(), "masked frames"
    assert path[0, 0].sum(1).tolist() == [2, 3, 0, 0]
    assert path[0, 0].sum() == 5


@pytest.mark.parametrize("B", [1, 3])
def test_indices_from_durations_matches_generate_path(B):
    d, x_len, y_len, T_x, T_y = _durations(B, seed=10 + B)
    x_mask, y_mask, mask = _masks(x_len, y_len, T_x, T_y)
    indices = indices_from_durations(d.float(), y_mask)
    assert indices.dtype == torch.long and indices.shape == (B, T_y)
    assert torch.equal(path_from_indices(indices, x_mask, y_mask), generate_path(d, mask))
    for b in range(B):
        assert indices[b, y_len[b] :].eq(0).all(), "padding frames -> 0"
        expected = torch.repeat_interleave(torch.arange(T_x), d[b])
        assert torch.equal(indices[b, : y_len[b]], expected)


def test_indices_past_total_duration_are_zero():
    d = torch.tensor([[1, 2]])  # 3 frames of alignment, 5 valid frames
    indices = indices_from_durations(d, torch.ones(1, 1, 5))
    assert indices.tolist() == [[0, 1, 1, 0, 0]]


@pytest.mark.parametrize("B", [1, 3])
def test_maximum_path_gives_valid_path_with_every_token(mas_core, B):
    g = torch.Generator().manual_seed(B)
    x_len = torch.randint(1, 20, (B,), generator=g)
    y_len = x_len + torch.randint(0, 30, (B,), generator=g)
    T_x, T_y = int(x_len.max()), int(y_len.max())
    x_mask, y_mask, _ = _masks(x_len, y_len, T_x, T_y)
    log_p = torch.randn(B, T_y, T_x, generator=g)
    indices = maximum_path(log_p, x_mask, y_mask)
    path = path_from_indices(indices, x_mask, y_mask)
    durations = durations_from_indices(indices, y_mask, T_x)  # [B, 1, T_x]
    assert durations.shape == (B, 1, T_x)
    assert torch.equal(durations[:, 0], path.sum(-1)[:, 0])
    assert torch.equal(durations.sum((1, 2)), y_len.float())
    _assert_valid_hard_path(path, durations[:, 0], y_len)
    for b in range(B):
        assert (durations[b, 0, : x_len[b]] >= 1).all(), "every token gets a frame"
        assert durations[b, 0, x_len[b] :].eq(0).all()
    # the durations regenerate the same alignment
    assert torch.equal(indices_from_durations(durations[:, 0], y_mask), indices)


def test_reference_fixture_generated_path(shared_fixtures):
    ref = torch.load(shared_fixtures / "glowtts_reference_small.pt", weights_only=True)
    out = ref["infer_outputs"]
    w = torch.ceil(torch.exp(out["logw"]) * out["length_scale"]) * out["x_mask"]  # [B, 1, T_x]
    x_mask, y_mask = out["x_mask"], out["z_mask"]
    mask = x_mask.unsqueeze(-1) * y_mask.unsqueeze(2)
    assert torch.equal(generate_path(w[:, 0], mask), out["attn_gen"])
    indices = indices_from_durations(w[:, 0], y_mask)
    assert torch.equal(path_from_indices(indices, x_mask, y_mask), out["attn_gen"])
