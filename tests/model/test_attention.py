"""Relative-position self-attention against a loop-by-loop evaluation of its definition."""

from __future__ import annotations

import math

import pytest
import torch

from glowtts.model.attention import RelativeSelfAttention
from glowtts.model.masks import sequence_mask


def _bruteforce(att: RelativeSelfAttention, x: torch.Tensor, n: int) -> torch.Tensor:
    """Attention of one item [1, C, T] over its first n positions, explicit sums."""
    C = x.size(1)
    H, D, w = att.n_heads, att.head_channels, att.window_size
    qkv = att.qkv(x)[0]  # [3C, T]
    q, k, v = qkv[:C], qkv[C : 2 * C], qkv[2 * C :]
    out = torch.zeros(C, n, dtype=x.dtype)
    for h in range(H):
        sl = slice(h * D, (h + 1) * D)
        for i in range(n):
            logits = []
            for j in range(n):
                s = q[sl, i] @ k[sl, j]
                if att.rel_key is not None and abs(j - i) <= w:
                    s = s + q[sl, i] @ att.rel_key[0, j - i + w]
                logits.append(s / math.sqrt(D))
            p = torch.softmax(torch.stack(logits), 0)
            for j in range(n):
                out[sl, i] += p[j] * v[sl, j]
                if att.rel_value is not None and abs(j - i) <= w:
                    out[sl, i] += p[j] * att.rel_value[0, j - i + w]
    return att.out(out[None])[0]


@pytest.mark.parametrize(
    "T,window", [(3, 4), (12, 4), (12, None)], ids=["short", "long", "no_window"]
)
def test_matches_bruteforce_with_padding(T: int, window: int | None) -> None:
    torch.manual_seed(0)
    att = RelativeSelfAttention(channels=8, n_heads=2, window_size=window, p_dropout=0.0)
    att = att.double()
    lengths = torch.tensor([T, max(T - 4, 1), 1])
    mask = sequence_mask(lengths, T).double()
    x = torch.randn(3, 8, T, dtype=torch.float64) * mask
    y = att(x, mask)
    for b in range(3):
        n = int(lengths[b])
        expected = _bruteforce(att, x[b : b + 1, :, :n], n)
        assert torch.allclose(y[b, :, :n], expected, atol=1e-10)


def test_key_and_value_embeddings_shared_across_heads() -> None:
    att = RelativeSelfAttention(channels=192, n_heads=2, window_size=4, p_dropout=0.1)
    assert att.rel_key.shape == (1, 9, 96)
    assert att.rel_value.shape == (1, 9, 96)
    assert att.qkv.weight.shape == (3 * 192, 192, 1)


def test_gradients_flow_to_relative_embeddings() -> None:
    torch.manual_seed(1)
    att = RelativeSelfAttention(channels=8, n_heads=2, window_size=2, p_dropout=0.0)
    x = torch.randn(2, 8, 7)
    att(x, torch.ones(2, 1, 7)).square().sum().backward()
    assert att.rel_key.grad is not None and att.rel_key.grad.abs().sum() > 0
    assert att.rel_value.grad is not None and att.rel_value.grad.abs().sum() > 0


@pytest.mark.parametrize("window", [4, None], ids=["window", "no_window"])
def test_packed_per_item_attention_equals_padded(window: int | None) -> None:
    from glowtts.model.packing import PackedLayout, pack, unpack

    g = torch.Generator().manual_seed(2)
    with torch.random.fork_rng():  # the global stream is left to the other tests
        att = RelativeSelfAttention(channels=8, n_heads=2, window_size=window, p_dropout=0.0)
    att = att.double()
    with torch.no_grad():
        for p in att.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    lengths = torch.tensor([9, 1, 6])
    mask = sequence_mask(lengths, 9).double()
    x = torch.randn(3, 8, 9, generator=g, dtype=torch.float64) * mask
    layout = PackedLayout.build(mask, gap=2)
    packed = att.forward_packed(pack(x, layout), layout)  # [1, C, P]
    assert torch.allclose(unpack(packed, layout), att(x, mask) * mask, atol=1e-12)
