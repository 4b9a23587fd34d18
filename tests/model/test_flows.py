"""Flows and the decoder: exact inverses, log-dets against brute-force Jacobians, masking, DDI."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from glowtts.model.decoder import FlowDecoder, squeeze, unsqueeze
from glowtts.model.flows import ActNorm, AffineCoupling, InvConvNear
from glowtts.model.masks import sequence_mask

C, T = 8, 6


def _randomise(module: torch.nn.Module, seed: int = 0, scale: float = 0.3) -> None:
    """Move every parameter off its (often zero / identity) initialisation."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))


def _flows() -> list[torch.nn.Module]:
    coupling = AffineCoupling(
        channels=C,
        hidden_channels=6,
        kernel_size=3,
        dilation_rate=2,
        n_layers=3,
        p_dropout=0.0,
        sigmoid_scale=False,
    )
    sig = AffineCoupling(
        channels=C,
        hidden_channels=4,
        kernel_size=5,
        dilation_rate=1,
        n_layers=2,
        p_dropout=0.0,
        sigmoid_scale=True,
    )
    flows = [ActNorm(C), InvConvNear(C, 4), coupling, sig, InvConvNear(C, 8)]
    for i, f in enumerate(flows):
        _randomise(f, seed=i)
        f.double().eval()
    return flows


FLOW_IDS = ["actnorm", "invconv4", "coupling", "coupling_sigmoid", "invconv8"]


def _batch(B: int = 2, lengths: tuple[int, ...] = (6, 4)) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    mask = sequence_mask(torch.tensor(lengths), T).double()
    x = torch.randn(B, C, T, generator=g, dtype=torch.float64) * mask
    return x, mask


@pytest.mark.parametrize("idx", range(5), ids=FLOW_IDS)
def test_flow_inverts(idx: int) -> None:
    flow = _flows()[idx]
    x, mask = _batch()
    y, ld = flow(x, mask)
    x_back, ld_rev = flow(y, mask, reverse=True)
    assert torch.allclose(x_back, x, atol=1e-10)
    assert torch.allclose(ld_rev, -ld, atol=1e-10)
    assert not torch.allclose(y, x)  # not trivially the identity


def _valid_jacobian_logdet(fn, x: torch.Tensor, mask: torch.Tensor) -> list[float]:
    """log|det J| of fn restricted to each item's valid frames (float64, brute force)."""
    out = []
    for b in range(x.size(0)):
        n = int(mask[b].sum())

        def f(v: torch.Tensor, b: int = b, n: int = n) -> torch.Tensor:
            full = torch.zeros(1, C, T, dtype=v.dtype)
            full[:, :, :n] = v.view(1, C, n)
            y, _ = fn(full, mask[b : b + 1])
            return y[:, :, :n].reshape(-1)

        jac = torch.autograd.functional.jacobian(f, x[b, :, :n].reshape(-1))
        out.append(torch.linalg.slogdet(jac)[1].item())
    return out


@pytest.mark.parametrize("idx", range(5), ids=FLOW_IDS)
def test_flow_logdet_matches_bruteforce_jacobian(idx: int) -> None:
    flow = _flows()[idx]
    x, mask = _batch()
    _, ld = flow(x, mask)
    expected = _valid_jacobian_logdet(flow, x, mask)
    assert ld.tolist() == pytest.approx(expected, abs=1e-8)


def _tiny_decoder() -> FlowDecoder:
    dec = FlowDecoder(
        in_channels=4,
        hidden_channels=6,
        kernel_size=3,
        dilation_rate=1,
        n_blocks=2,
        n_layers=2,
        p_dropout=0.0,
        n_split=4,
        n_sqz=2,
        sigmoid_scale=False,
    )
    _randomise(dec, seed=5)
    return dec.double().eval()


def test_decoder_inverts_and_logdet_matches_jacobian() -> None:
    dec = _tiny_decoder()
    g = torch.Generator().manual_seed(3)
    lengths = torch.tensor([8, 4])
    mask = sequence_mask(lengths, 8).double()
    y = torch.randn(2, 4, 8, generator=g, dtype=torch.float64) * mask
    z, ld = dec(y, mask)
    y_back, ld_rev = dec(z, mask, reverse=True)
    assert torch.allclose(y_back, y, atol=1e-10)
    assert torch.allclose(ld_rev, -ld, atol=1e-9)
    for b in range(2):
        n = int(lengths[b])

        def f(v: torch.Tensor, b: int = b, n: int = n) -> torch.Tensor:
            full = torch.zeros(1, 4, 8, dtype=v.dtype)
            full[:, :, :n] = v.view(1, 4, n)
            return dec(full, mask[b : b + 1])[0][:, :, :n].reshape(-1)

        jac = torch.autograd.functional.jacobian(f, y[b, :, :n].reshape(-1))
        assert ld[b].item() == pytest.approx(torch.linalg.slogdet(jac)[1].item(), abs=1e-8)


def test_decoder_float32_inverse_within_1e5() -> None:
    # seeded weights too: with other random weights the error reaches 2e-4 (200 seeds; it
    # depends on the conditioning of the 1x1 convs), which made this test order-dependent
    torch.manual_seed(0)
    dec = _tiny_decoder().float()
    mask = sequence_mask(torch.tensor([8, 6, 2]), 8)
    g = torch.Generator().manual_seed(11)  # 5.4e-6 with these weights
    y = torch.randn(3, 4, 8, generator=g) * mask
    z, _ = dec(y, mask)
    assert torch.allclose(dec(z, mask, reverse=True)[0], y, atol=1e-5)


def test_padding_does_not_change_valid_frames() -> None:
    dec = _tiny_decoder()
    g = torch.Generator().manual_seed(4)
    y = torch.randn(1, 4, 4, generator=g, dtype=torch.float64)
    alone, ld_alone = dec(y, torch.ones(1, 1, 4, dtype=torch.float64))
    padded = torch.cat([y, 100 * torch.ones(1, 4, 6, dtype=torch.float64)], dim=2)  # junk pad
    mask = sequence_mask(torch.tensor([4]), 10).double()
    out, ld = dec(padded, mask)
    assert torch.allclose(out[:, :, :4], alone, atol=1e-10)
    assert torch.all(out[:, :, 4:] == 0)
    assert torch.allclose(ld, ld_alone, atol=1e-10)


def test_squeeze_layout_and_unsqueeze() -> None:
    x = torch.arange(2 * 3 * 6.0).view(2, 3, 6)
    mask = sequence_mask(torch.tensor([6, 4]), 6)
    s, m = squeeze(x, mask, 2)
    assert s.shape == (2, 6, 3)
    # channel k * C + c holds frame 2 t + k
    assert torch.equal(s[0, 3 + 1, 2], x[0, 1, 2 * 2 + 1])
    assert m.tolist() == [[[1, 1, 1]], [[1, 1, 0]]]
    u, mu = unsqueeze(s, m, 2)
    assert torch.equal(u, x * mask)
    assert torch.equal(mu, mask)


def test_invconv_matches_grouped_formulation_and_has_positive_det() -> None:
    torch.manual_seed(0)
    f = InvConvNear(16, 4)
    assert torch.det(f.weight) > 0
    assert torch.allclose(f.weight @ f.weight.T, torch.eye(4), atol=1e-5)  # QR init
    _randomise(f)
    x = torch.randn(2, 16, 5)
    y, _ = f(x, torch.ones(2, 1, 5))
    # channels -> n_split groups as the reference: view(b, 2, c/n, n/2, t), groups = (2, n/2)
    b, c, t, n = 2, 16, 5, 4
    g = x.view(b, 2, c // n, n // 2, t).permute(0, 1, 3, 2, 4).reshape(b, n, c // n, t)
    z = F.conv2d(g, f.weight.view(n, n, 1, 1))
    z = z.view(b, 2, n // 2, c // n, t).permute(0, 1, 3, 2, 4).reshape(b, c, t)
    assert torch.allclose(y, z, atol=1e-6)


def test_invconv_cached_inverse_is_used_and_invalidated() -> None:
    f = InvConvNear(8, 4)
    _randomise(f)
    f.eval()
    mask = torch.ones(1, 1, 3)
    x = torch.randn(1, 8, 3, generator=torch.Generator().manual_seed(3))
    f.cache_inverse()
    assert f._inverse is not None
    with torch.no_grad():
        f._inverse.mul_(2.0)  # a stale marker: the cached matrix is what reverse uses
    y, _ = f(x, mask, reverse=True)
    with torch.no_grad():
        f.weight.mul_(1.5)  # an in-place update bumps the version: the cache is ignored
    y2, _ = f(x, mask, reverse=True)
    fwd, _ = f(y2, mask)
    assert torch.allclose(fwd, x, atol=1e-5)
    assert not torch.allclose(y, y2)


def _exact_inverse(f: InvConvNear, x: torch.Tensor, mask: torch.Tensor) -> bool:
    y, _ = f(x, mask, reverse=True)
    return torch.allclose(f(y, mask)[0], x, atol=1e-5)


def test_invconv_cache_never_serves_training_or_new_weights() -> None:
    """Updates that do not bump the version (fused optimizers, .data writes) cannot leave a
    stale inverse: training mode ignores and drops the cache, and loading weights drops it."""
    f = InvConvNear(8, 4)
    _randomise(f)
    mask = torch.ones(1, 1, 3)
    x = torch.randn(1, 8, 3, generator=torch.Generator().manual_seed(4))
    f.eval()
    f.cache_inverse()
    f.train()
    assert f._inverse is None
    f.weight.data.mul_(1.5)  # a .data write, invisible to the version counter
    assert _exact_inverse(f, x, mask)
    f.eval()
    f.cache_inverse()
    other = InvConvNear(8, 4)
    _randomise(other, seed=9)
    f.load_state_dict(other.state_dict())
    assert f._inverse is None and _exact_inverse(f, x, mask)


def test_actnorm_data_dependent_init_normalises_valid_frames() -> None:
    torch.manual_seed(0)
    mask = sequence_mask(torch.tensor([7, 3, 5]), 7)
    x = (3.0 + 2.5 * torch.randn(3, C, 7)) * mask + 50.0 * (1 - mask)  # junk in padding
    an = ActNorm(C)
    an.initialize(x, mask)
    y, ld = an(x, mask)
    n = mask.sum()
    mean = (y * mask).sum(dim=(0, 2)) / n
    var = (y * y * mask).sum(dim=(0, 2)) / n - mean**2
    assert torch.allclose(mean, torch.zeros(C), atol=1e-5)
    assert torch.allclose(var, torch.ones(C), atol=1e-4)
    assert torch.allclose(ld, an.logs.sum() * mask.sum(dim=(1, 2)))


def test_decoder_ddi_initialises_every_actnorm() -> None:
    dec = _tiny_decoder().float()
    mask = sequence_mask(torch.tensor([8, 6]), 8)
    y = (1.0 + 4.0 * torch.randn(2, 4, 8)) * mask
    dec.data_dependent_init(y, mask)
    h, m = squeeze(y, mask, 2)
    for flow in dec.flows:
        if isinstance(flow, ActNorm):
            out, _ = flow(h, m)
            mean = (out * m).sum(dim=(0, 2)) / m.sum()
            var = (out * out * m).sum(dim=(0, 2)) / m.sum() - mean**2
            assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-4)
            assert torch.allclose(var, torch.ones_like(var), atol=1e-3)
        h, _ = flow(h, m)


def test_coupling_starts_as_identity() -> None:
    c = AffineCoupling(
        channels=C,
        hidden_channels=4,
        kernel_size=3,
        dilation_rate=1,
        n_layers=2,
        p_dropout=0.0,
        sigmoid_scale=False,
    )
    x, mask = _batch()
    y, ld = c.float()(x.float(), mask.float())
    assert torch.equal(y, x.float())
    assert torch.all(ld == 0)


@pytest.mark.parametrize("dilation", [1, 2])
def test_packed_decoder_equals_padded(dilation: int) -> None:
    dec = FlowDecoder(
        in_channels=4,
        hidden_channels=6,
        kernel_size=5,
        dilation_rate=dilation,
        n_blocks=2,
        n_layers=3,
        p_dropout=0.0,
        n_split=4,
        n_sqz=2,
        sigmoid_scale=False,
    )
    _randomise(dec, seed=9)
    dec = dec.double()
    assert dec.pack_gap == 2 * dilation**2
    lengths = torch.tensor([12, 4, 8, 2])
    mask = sequence_mask(lengths, 12).double()
    y = torch.randn(4, 4, 12, dtype=torch.float64) * mask
    y.requires_grad_(True)
    for reverse in (False, True):
        a, la = dec(y, mask, reverse=reverse)
        b, lb = dec(y, mask, reverse=reverse, packed=True)
        assert torch.allclose(a, b, atol=1e-12)
        assert torch.allclose(la, lb, atol=1e-10)
    ga = torch.autograd.grad((a.square().sum() + la.sum()), [y, *dec.parameters()])
    gb = torch.autograd.grad((b.square().sum() + lb.sum()), [y, *dec.parameters()])
    assert all(torch.allclose(u, v, atol=1e-10) for u, v in zip(ga, gb, strict=True))


@pytest.mark.parametrize("sigmoid_scale", [False, True])
def test_folded_start_and_end_convs_equal_the_plain_coupling(sigmoid_scale: bool) -> None:
    """start folded into the first dilated conv, end into the skip convs: same values and
    gradients (and garbage in x's padding still does not reach the valid frames)."""
    coupling = AffineCoupling(
        channels=C,
        hidden_channels=12,
        kernel_size=5,
        dilation_rate=2,
        n_layers=3,
        p_dropout=0.0,
        sigmoid_scale=sigmoid_scale,
    )
    _randomise(coupling, seed=11)
    coupling = coupling.double()
    assert coupling.fold_start and coupling.fold_end
    x, mask = _batch()
    x = x + 5.0 * (1 - mask)  # non-zero padding
    results = []
    for fold in (True, False):
        coupling.fold_start = coupling.fold_end = fold
        coupling.zero_grad()
        xi = x.clone().requires_grad_(True)
        for reverse in (False, True):
            y, ld = coupling(xi, mask, reverse=reverse)
            (y * mask).square().sum().add(ld.sum()).backward()
        grads = [xi.grad] + [p.grad for p in coupling.parameters()]
        results.append((y * mask, ld, grads))
    (ya, la, ga), (yb, lb, gb) = results
    assert torch.allclose(ya, yb, atol=1e-12) and torch.allclose(la, lb, atol=1e-12)
    for a, b in zip(ga, gb, strict=True):
        assert a is not None and b is not None and torch.allclose(a, b, atol=1e-10)
