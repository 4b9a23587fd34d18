"""The GlowTTS module: sizes, training forward, padding, DDI, inference controls, overfitting."""

from __future__ import annotations

import pytest
import torch

from glowtts.config import ModelConfig
from glowtts.model import ActNorm, GlowTTS, glowtts_losses

TINY = ModelConfig(
    hidden_channels=16,
    filter_channels=32,
    filter_channels_dp=16,
    n_heads=2,
    n_layers_enc=2,
    n_blocks_dec=2,
    n_block_layers=2,
    kernel_size_dec=3,
)
N_VOCAB, N_MELS = 20, 8


def _model(seed: int = 0, cfg: ModelConfig = TINY) -> GlowTTS:
    torch.manual_seed(seed)
    m = GlowTTS(cfg, N_VOCAB, N_MELS)
    g = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():  # leave the zero / identity inits so every path is exercised
        for p in m.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g))
    return m


def _batch(x_lens: list[int], y_lens: list[int], seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    B, T_x, T_y = len(x_lens), max(x_lens), max(y_lens)
    x = torch.randint(1, N_VOCAB, (B, T_x), generator=g)
    y = torch.randn(B, N_MELS, T_y, generator=g)
    for b in range(B):
        x[b, x_lens[b] :] = 0
        y[b, :, y_lens[b] :] = 0
    return x, torch.tensor(x_lens), y, torch.tensor(y_lens)


def test_parameter_counts_match_the_reference() -> None:
    for n_vocab, expected in ((148, 28_623_889), (149, 28_624_081)):
        m = GlowTTS(ModelConfig(), n_vocab, 80)
        assert sum(p.numel() for p in m.parameters()) == expected
        dec = sum(p.numel() for p in m.decoder.parameters())
        assert dec == 21_423_936
        assert sum(p.numel() for n, p in m.named_parameters() if "original0" in n) == 36_864


@pytest.mark.parametrize("lens", [([5], [11]), ([7, 3, 5], [16, 9, 12])], ids=["B1", "B3"])
def test_training_forward_shapes_and_gradients(lens: tuple[list[int], list[int]]) -> None:
    m = _model().train()
    x, xl, y, yl = _batch(*lens)
    out = m(x, xl, y, yl)
    B, T_x = x.shape
    T_y = (y.size(2) // 2) * 2
    assert out.z.shape == out.z_m.shape == (B, N_MELS, T_y)
    assert out.indices.shape == (B, T_y) and out.indices.dtype == torch.long
    assert out.log_p.shape == (B, T_y, T_x)
    assert torch.equal(out.y_lengths, (yl // 2) * 2)
    assert torch.equal(out.durations.sum(dim=1), out.y_lengths.float())
    # monotonic, every valid token used, starts at 0 and ends at the last token
    for b in range(B):
        idx = out.indices[b, : out.y_lengths[b]]
        assert idx[0] == 0 and idx[-1] == xl[b] - 1
        assert torch.all(idx.diff() >= 0) and torch.all(idx.diff() <= 1)
    losses = glowtts_losses(out)
    assert torch.isfinite(losses.total)
    losses.total.backward()
    assert all(p.grad is not None for p in m.parameters())
    # the duration predictor sees the encoder output detached
    m.zero_grad()
    glowtts_losses(m(x, xl, y, yl)).duration.backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in m.text_encoder.parameters())
    assert any(p.grad.abs().sum() > 0 for p in m.duration_predictor.parameters())


def test_padding_changes_neither_outputs_nor_losses() -> None:
    m = _model().eval()
    x_lens, y_lens = [7, 3, 5], [16, 9, 12]
    x, xl, y, yl = _batch(x_lens, y_lens)
    with torch.no_grad():
        out = m(x, xl, y, yl)
        losses = glowtts_losses(out)
        mle_sum, dur_sum = 0.0, 0.0
        for b in range(3):
            tx, ty = x_lens[b], y_lens[b]
            one = m(x[b : b + 1, :tx], xl[b : b + 1], y[b : b + 1, :, :ty], yl[b : b + 1])
            n = int(one.y_lengths[0])
            assert torch.allclose(out.z[b, :, :n], one.z[0, :, :n], atol=1e-5)
            assert torch.allclose(out.logdet[b], one.logdet[0], rtol=1e-5)
            assert torch.equal(out.indices[b, :n], one.indices[0, :n])
            assert torch.allclose(out.logw[b, :, :tx], one.logw[0], atol=1e-5)
            single = glowtts_losses(one)
            mle_sum += (single.mle.item() - 0.9189385332046727) * n * N_MELS
            dur_sum += single.duration.item() * tx
    total_frames = float(out.y_lengths.sum()) * N_MELS
    assert losses.mle.item() - 0.9189385332046727 == pytest.approx(mle_sum / total_frames, rel=1e-5)
    assert losses.duration.item() == pytest.approx(dur_sum / sum(x_lens), rel=1e-5)


def test_data_dependent_init_is_an_explicit_step() -> None:
    torch.manual_seed(0)
    m = GlowTTS(TINY, N_VOCAB, N_MELS)
    x, xl, y, yl = _batch([4, 6], [10, 13])
    y = 3.0 + 2.0 * y
    m(x, xl, y, yl)  # a forward does not initialise anything
    actnorms = [f for f in m.decoder.flows if isinstance(f, ActNorm)]
    assert all(torch.all(a.logs == 0) and torch.all(a.bias == 0) for a in actnorms)
    m.data_dependent_init(y, yl)
    out = m(x, xl, y, yl)
    assert all(torch.any(a.logs != 0) for a in actnorms)
    # the first ActNorm sees the squeezed mel: afterwards its output is standardised
    first = m.decoder.flows[0]
    from glowtts.model.decoder import squeeze

    yy, _, y_mask = m._floor_frames(y, yl)
    h, mask = squeeze(yy, y_mask, 2)
    o, _ = first(h, mask)
    mean = (o * mask).sum(dim=(0, 2)) / mask.sum()
    assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-5)
    assert torch.isfinite(glowtts_losses(out).total)


def test_inference_lengths_follow_durations_and_length_scale() -> None:
    m = _model().eval()
    x, xl, _, _ = _batch([7, 3, 5], [1, 1, 1])
    base = m.infer(x, xl, noise_scale=0.0)
    w = torch.ceil(torch.exp(base.logw.squeeze(1)) * base.x_mask.squeeze(1))
    assert torch.equal(base.durations, w)
    assert torch.equal(base.y_lengths, (w.sum(1).long() // 2) * 2)
    for b in range(3):  # frames per token in the alignment = durations (up to the floor)
        counts = torch.bincount(base.indices[b, : base.y_lengths[b]], minlength=x.size(1))
        assert torch.all(counts.float() <= w[b])
        assert int((w[b] - counts.float()).sum()) == int(w[b].sum()) - int(base.y_lengths[b])
    slow = m.infer(x, xl, noise_scale=0.0, length_scale=2.0)
    w2 = torch.ceil(torch.exp(base.logw.squeeze(1)) * 2.0 * base.x_mask.squeeze(1))
    assert torch.equal(slow.durations, w2)
    assert torch.all(slow.y_lengths >= base.y_lengths)


def test_duration_override_changes_only_the_chosen_tokens() -> None:
    m = _model().eval()
    x, xl, _, _ = _batch([7, 3, 5], [1, 1, 1])
    base = m.infer(x, xl, noise_scale=0.0)
    override = torch.zeros(3, 7)
    override[0, 2] = 9.0
    override[2, 4] = 2.2  # rounded up to 3
    out = m.infer(x, xl, noise_scale=0.0, durations=override)
    expected = base.durations.clone()
    expected[0, 2], expected[2, 4] = 9.0, 3.0
    assert torch.equal(out.durations, expected)
    assert torch.equal(out.y_lengths[1], base.y_lengths[1])
    # the untouched item's mel is unchanged
    n = int(base.y_lengths[1])
    assert torch.allclose(out.mel[1, :, :n], base.mel[1, :, :n], atol=1e-5)
    scale = torch.ones(3, 7)
    scale[1, 0] = 3.0
    scaled = m.infer(x, xl, noise_scale=0.0, duration_scale=scale)
    w = torch.ceil(torch.exp(base.logw.squeeze(1)) * scale * base.x_mask.squeeze(1))
    assert torch.equal(scaled.durations, w)
    assert torch.equal(scaled.durations[0], base.durations[0])


def test_inference_noise_is_reproducible_and_batched_equals_single() -> None:
    m = _model().eval()
    x, xl, _, _ = _batch([7, 3, 5], [1, 1, 1])
    a = m.infer(x, xl, noise_scale=0.667, generator=torch.Generator().manual_seed(3))
    b = m.infer(x, xl, noise_scale=0.667, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.mel, b.mel)
    noise = torch.randn(3, N_MELS, int(a.y_lengths.max()) + 4)
    c = m.infer(x, xl, noise_scale=0.5, noise=noise)
    z = (c.z_m + noise[:, :, : c.mel.size(2)] * 0.5) * c.y_mask
    assert torch.allclose(c.mel, m.decoder(z, c.y_mask, reverse=True)[0], atol=1e-6)
    with pytest.raises(ValueError, match="noise has shape"):
        m.infer(x, xl, noise_scale=1.0, noise=torch.zeros(3, N_MELS, 1))
    full = m.infer(x, xl, noise_scale=0.0)
    for i in range(3):
        one = m.infer(x[i : i + 1, : xl[i]], xl[i : i + 1], noise_scale=0.0)
        n = int(one.y_lengths[0])
        assert n == int(full.y_lengths[i])
        assert torch.allclose(full.mel[i, :, :n], one.mel[0, :, :n], atol=1e-5)
        assert torch.all(full.mel[i, :, n:] == 0)


def test_inference_at_noise_zero_draws_no_random_numbers() -> None:
    """noise_scale 0 is the prior mean: the global generator is left exactly as it was."""
    m = _model().eval()
    x, xl, _, _ = _batch([7, 3, 5], [1, 1, 1])
    torch.manual_seed(11)
    before = torch.get_rng_state()
    out = m.infer(x, xl, noise_scale=0.0)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.allclose(out.mel, m.decoder(out.z_m * out.y_mask, out.y_mask, reverse=True)[0])


def test_text_longer_than_mel_is_rejected() -> None:
    m = _model()
    x, xl, y, yl = _batch([6, 3], [5, 8])
    with pytest.raises(ValueError, match="0"):
        m(x, xl, y, yl)


def test_non_mean_only_prior_trains() -> None:
    cfg = ModelConfig(**{**TINY.__dict__, "mean_only": False, "sigmoid_scale": True})
    m = _model(cfg=cfg).eval()
    assert m.text_encoder.proj_log_std is not None
    x, xl, y, yl = _batch([4, 6], [10, 13])
    out = m(x, xl, y, yl)
    assert out.z_logs.abs().sum() > 0
    # MAS input equals the Gaussian log-density summed over channels
    normal = torch.distributions.Normal(
        out.x_m[0, :, None, :], torch.exp(out.x_logs[0, :, None, :])
    )
    direct = normal.log_prob(out.z[0, :, :, None]).sum(0)  # [T_y, T_x]
    assert torch.allclose(out.log_p[0], direct, rtol=1e-4, atol=1e-3)
    assert torch.isfinite(glowtts_losses(out).total)


def test_tiny_model_overfits_one_batch() -> None:
    torch.manual_seed(0)
    m = GlowTTS(TINY, N_VOCAB, N_MELS)
    x, xl, y, yl = _batch([6, 4, 5], [20, 14, 16], seed=1)
    y = y + torch.linspace(-1, 1, N_MELS)[None, :, None] * (yl[:, None, None] > 0)
    m.data_dependent_init(y, yl)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    m.train()
    history = []
    for _ in range(40):
        losses = glowtts_losses(m(x, xl, y, yl))
        opt.zero_grad()
        losses.total.backward()
        opt.step()
        history.append(losses.total.item())
    assert history[-1] < history[0] - 0.5, history


def test_dtype_conversions_keep_the_flows_consistent() -> None:
    m = _model().eval().double()  # .half()/.double() must reach every parameter and buffer
    x, xl, y, yl = _batch([4, 6], [10, 13])
    out = m(x, xl, y.double(), yl)
    y_back, _ = m.decoder(out.z, out.y_mask, reverse=True)
    assert torch.allclose(y_back, y.double()[:, :, :12] * out.y_mask, atol=1e-9)
    assert m.half().decoder.flows[1]._same_position.dtype == torch.float16


def test_packed_forward_equals_padded_forward() -> None:
    m = _model().double().eval()  # eval: no dropout (the prenet's 0.5 is not configurable)
    x, xl, y, yl = _batch([7, 3, 5], [16, 9, 12])
    results = []
    for packed in (False, True):
        m.zero_grad()
        out = m(x, xl, y.double(), yl, packed=packed)
        losses = glowtts_losses(out)
        losses.total.backward()
        grads = [p.grad.clone() for p in m.parameters()]
        results.append((out, losses, grads))
    (a, la, ga), (b, lb, gb) = results
    for name in ("z", "z_m", "logdet", "x_m", "logw", "log_p"):
        assert torch.allclose(getattr(a, name), getattr(b, name), atol=1e-10), name
    assert torch.equal(a.indices, b.indices)
    assert torch.allclose(la.total, lb.total, atol=1e-12)
    assert all(torch.allclose(u, v, atol=1e-10) for u, v in zip(ga, gb, strict=True))


def test_dropout_keeps_the_mean_and_is_off_in_eval() -> None:
    from glowtts.model.dropout import Dropout

    d = Dropout(0.25)
    x = torch.ones(200_000)
    y = d(x)
    assert abs((y == 0).float().mean().item() - 0.25) < 0.01
    assert abs(y.mean().item() - 1.0) < 0.01
    assert torch.equal(d.eval()(x), x)
    with pytest.raises(ValueError, match="1.0"):
        Dropout(1.0)


def test_autocast_keeps_mas_input_and_logdet_in_float32() -> None:
    m = _model().train()
    x, xl, y, yl = _batch([7, 3, 5], [16, 9, 12])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = m(x, xl, y, yl)
        losses = glowtts_losses(out)
    assert out.log_p.dtype == torch.float32 and out.logdet.dtype == torch.float32
    ref = m.eval()(x, xl, y, yl)
    assert torch.equal(out.y_lengths, ref.y_lengths)
    assert torch.isfinite(losses.total)
    losses.total.backward()


def test_infer_refuses_training_mode() -> None:
    m = _model().train()
    with pytest.raises(RuntimeError, match=r"needs eval mode: call model.eval\(\) first"):
        m.infer(torch.tensor([[1, 2, 3]]), torch.tensor([3]), noise_scale=0.0)
