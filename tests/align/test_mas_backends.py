"""Cython and torch MAS back ends: agreement on realistic sizes, edge cases, errors, API."""

from __future__ import annotations

import sys

import pytest
import torch

from glowtts.align import (
    maximum_path,
    maximum_path_cython,
    maximum_path_torch,
    path_from_indices,
)


def _batch(B: int, seed: int, dtype: torch.dtype, *, quantise: bool = False):
    """Random lengths (x <= y), log-likelihood-like scores, huge garbage in the padding."""
    g = torch.Generator().manual_seed(seed)
    x_len = torch.randint(5, 60, (B,), generator=g)
    y_len = x_len + torch.randint(0, 140, (B,), generator=g)
    T_x, T_y = int(x_len.max()) + 3, int(y_len.max()) + 5
    log_p = -0.5 * (3 * torch.randn(B, T_y, T_x, generator=g, dtype=torch.float64)) ** 2
    if quantise:  # coarse values: tied predecessors occur all the time
        log_p = log_p.round()
    x_mask = (torch.arange(T_x) < x_len[:, None]).unsqueeze(1).float()  # [B, 1, T_x]
    y_mask = (torch.arange(T_y) < y_len[:, None]).unsqueeze(1).float()  # [B, 1, T_y]
    valid = y_mask.transpose(1, 2) * x_mask  # [B, T_y, T_x]
    garbage = 1e30 * (2 * torch.rand(B, T_y, T_x, generator=g, dtype=torch.float64) - 1)
    log_p = torch.where(valid > 0, log_p, garbage).to(dtype)
    return log_p, x_mask, y_mask


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("quantise", [False, True])
@pytest.mark.parametrize("B", [1, 3, 9])
def test_backends_agree_on_realistic_sizes(mas_core, dtype, quantise, B):
    log_p, x_mask, y_mask = _batch(B, seed=B + 10 * quantise, dtype=dtype, quantise=quantise)
    expected = maximum_path_torch(log_p, x_mask, y_mask)
    for threads in (1, 2, 4):
        got = maximum_path_cython(log_p, x_mask, y_mask, num_threads=threads)
        assert torch.equal(got, expected), threads


def test_result_is_a_valid_alignment_and_beats_perturbations(mas_core):
    log_p, x_mask, y_mask = _batch(4, seed=3, dtype=torch.float64)
    indices = maximum_path(log_p, x_mask, y_mask)
    x_len = x_mask.sum((1, 2)).long()
    y_len = y_mask.sum((1, 2)).long()
    for b in range(4):
        idx = indices[b, : y_len[b]]
        steps = idx.diff()
        assert idx[0] == 0 and idx[-1] == x_len[b] - 1
        assert ((steps == 0) | (steps == 1)).all()
        best = log_p[b, torch.arange(y_len[b]), idx].sum()
        # moving any one token boundary by one frame (when the result is still a valid
        # path) must not score more
        for y in torch.nonzero(steps == 1).flatten().tolist():  # idx[y + 1] = idx[y] + 1
            for frame, token in ((y, idx[y + 1]), (y + 1, idx[y])):
                alt = idx.clone()
                alt[frame] = token
                alt_steps = alt.diff()
                valid = alt[0] == 0 and alt[-1] == x_len[b] - 1
                if valid and ((alt_steps == 0) | (alt_steps == 1)).all():
                    assert log_p[b, torch.arange(y_len[b]), alt].sum() <= best


@pytest.mark.parametrize("fn", [maximum_path_cython, maximum_path_torch])
def test_square_single_token_and_single_frame(mas_core, fn):
    log_p = torch.randn(3, 7, 7)
    x_mask = torch.zeros(3, 1, 7)
    y_mask = torch.zeros(3, 1, 7)
    x_mask[0, :, :7], y_mask[0, :, :7] = 1, 1  # T_x == T_y: the diagonal
    x_mask[1, :, :1], y_mask[1, :, :5] = 1, 1  # T_x == 1: every frame on token 0
    x_mask[2, :, :1], y_mask[2, :, :1] = 1, 1  # T_y == 1 (and T_x == 1)
    indices = fn(log_p, x_mask, y_mask)
    assert indices.tolist() == [list(range(7)), [0] * 7, [0] * 7]
    path = path_from_indices(indices, x_mask, y_mask)
    assert torch.equal(path[0, 0], torch.eye(7))
    assert path[1].sum() == 5 and path[2].sum() == 1


@pytest.mark.parametrize("fn", [maximum_path_cython, maximum_path_torch])
def test_more_tokens_than_frames_names_the_item(mas_core, fn):
    log_p = torch.zeros(3, 6, 6)
    x_mask = torch.ones(3, 1, 6)
    y_mask = torch.ones(3, 1, 6)
    x_mask[1, :, 5:] = 0  # 5 tokens
    y_mask[1, :, 3:] = 0  # 3 frames
    with pytest.raises(ValueError, match=r"batch item 1 has 5 text tokens and 3 mel frames"):
        fn(log_p, x_mask, y_mask)
    x_mask[1] = 0  # no tokens at all
    with pytest.raises(ValueError, match=r"batch item 1 has 0 text tokens"):
        fn(log_p, x_mask, y_mask)


def test_wrong_layout_is_rejected(mas_core):
    log_p = torch.zeros(2, 4, 9)  # [B, T_x, T_y] by mistake
    with pytest.raises(ValueError, match=r"\[B, T_y, T_x\]"):
        maximum_path(log_p, torch.ones(2, 1, 4), torch.ones(2, 1, 9))


def test_input_untouched_no_grad_and_views(mas_core):
    log_p, x_mask, y_mask = _batch(3, seed=5, dtype=torch.float32)
    leaf = log_p.clone().requires_grad_(True)
    before = leaf.detach().clone()
    indices = maximum_path(leaf, x_mask, y_mask)
    assert torch.equal(leaf.detach(), before), "the kernel must not write its input"
    assert not indices.requires_grad and indices.dtype == torch.long
    # a non-contiguous view ([B, T_x, T_y] transposed) gives the same answer
    view = log_p.transpose(1, 2).contiguous().transpose(1, 2)
    assert not view.is_contiguous()
    assert torch.equal(maximum_path(view, x_mask, y_mask), indices)
    # half precision is upcast, both back ends agree
    half = log_p.clamp(min=-6e4).half()
    assert torch.equal(
        maximum_path_cython(half, x_mask, y_mask), maximum_path_torch(half, x_mask, y_mask)
    )


def test_empty_batch(mas_core):
    out = maximum_path(torch.zeros(0, 5, 3), torch.zeros(0, 1, 3), torch.zeros(0, 1, 5))
    assert out.shape == (0, 5)


def test_missing_extension_says_how_to_build(monkeypatch):
    monkeypatch.setitem(sys.modules, "monotonic_align._core", None)  # import now fails
    from monotonic_align import is_built

    assert not is_built()
    with pytest.raises(ImportError, match=r"python -m monotonic_align\.build"):
        maximum_path(torch.zeros(1, 2, 2), torch.ones(1, 1, 2), torch.ones(1, 1, 2))


def test_reference_fixture_alignment(mas_core, shared_fixtures):
    ref = torch.load(shared_fixtures / "glowtts_reference_small.pt", weights_only=True)
    out = ref["train_outputs"]
    log_p = out["logp"].transpose(1, 2).contiguous()  # reference [B, T_x, T_y] -> ours
    x_mask, y_mask = out["x_mask"], out["z_mask"]
    for fn in (maximum_path_cython, maximum_path_torch):
        path = path_from_indices(fn(log_p, x_mask, y_mask), x_mask, y_mask)
        assert torch.equal(path, out["attn"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("on_host", [False, True])
def test_cuda_matches_cpu(mas_core, on_host):
    log_p, x_mask, y_mask = _batch(5, seed=7, dtype=torch.float32)
    got = maximum_path(log_p.cuda(), x_mask.cuda(), y_mask.cuda(), on_host=on_host)
    assert got.device.type == "cuda"
    assert torch.equal(got.cpu(), maximum_path_cython(log_p, x_mask, y_mask))


def test_the_host_path_copies_and_gives_the_kernels_answer(mas_core):
    """maximum_path_on_host (what a GPU run with train.mas_on_host uses), from CPU tensors:
    the same indices as the kernel, in a new tensor on the scores' device."""
    from glowtts.align.search import maximum_path_on_host

    log_p, x_mask, y_mask = _batch(4, seed=3, dtype=torch.float32)
    got = maximum_path_on_host(log_p, x_mask, y_mask, num_threads=1)
    assert got.device == log_p.device and got.dtype == torch.long
    assert torch.equal(got, maximum_path_cython(log_p, x_mask, y_mask))


@pytest.mark.parametrize(
    ("x_len", "y_len", "order", "match"),
    [
        ([4, 3], [5, 5], [0, 1], "item 0 has x_len 4"),  # more tokens than T_x
        ([1, 3], [6, 5], [0, 1], "item 0 has x_len 1 and y_len 6"),  # more frames than T_y
        ([3, 3], [2, 5], [0, 1], "item 0 has x_len 3 and y_len 2"),  # tokens > frames
        ([1, 3], [5, 5], [1, 1], "permutation"),
        ([1, 3], [5, 5], [0, 2], "permutation"),
    ],
)
def test_kernel_checks_its_arguments(mas_core, x_len, y_len, order, match):
    # the raw kernel trusts nothing it could write out of bounds with
    log_p, out = torch.zeros(2, 5, 3), torch.zeros(2, 5, dtype=torch.long)
    args = [torch.tensor(a).numpy() for a in (x_len, y_len, order)]
    with pytest.raises(ValueError, match=match):
        mas_core.maximum_path(log_p.numpy(), out.numpy(), *args, 2)
    with pytest.raises(ValueError, match=r"out must be \(2, 5\)"):
        mas_core.maximum_path(log_p.numpy(), out[:, :4].contiguous().numpy(), *args, 2)
