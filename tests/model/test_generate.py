"""The tensor-only inference core: generate() equals infer() (and the reference), draws its noise
from a seed, and runs without log-determinants, float64 or packing."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from model_helpers import reference_model
from scipy import stats

from glowtts.model import GlowTTS
from glowtts.noise import counter_normal

ATOL = 1e-4


@pytest.fixture()
def prepared(reference: dict[str, Any]) -> GlowTTS:
    return reference_model(reference).prepare_for_inference()


def _scalars(noise: float, length: float, seed: int) -> tuple[torch.Tensor, ...]:
    return torch.tensor(noise), torch.tensor(length), torch.tensor(seed)


def test_generate_at_noise_zero_is_the_references_inference(
    prepared: GlowTTS, reference: dict[str, Any]
) -> None:
    inp, ref = reference["inputs"], reference["infer_outputs"]
    assert ref["noise_scale"] == 0
    with torch.no_grad():
        mel, y_lengths, w = prepared.generate(
            inp["x"], inp["x_lengths"], *_scalars(0.0, ref["length_scale"], seed=5)
        )
    assert torch.equal(y_lengths, ref["y_lengths_gen"])
    assert torch.equal(w.sum(1).long(), ref["y_lengths_before_sqz_floor"])
    assert mel.shape == ref["y_gen"].shape
    assert (mel - ref["y_gen"]).abs().max().item() <= ATOL


@pytest.mark.parametrize(("noise_scale", "length_scale"), [(0.667, 1.0), (0.333, 1.3), (1.0, 0.7)])
def test_generate_equals_infer_with_the_seeded_noise(
    prepared: GlowTTS, reference: dict[str, Any], noise_scale: float, length_scale: float
) -> None:
    inp = reference["inputs"]
    x, xl = inp["x"], inp["x_lengths"]
    with torch.no_grad():
        mel, y_lengths, w = prepared.generate(x, xl, *_scalars(noise_scale, length_scale, 11))
        noise = counter_normal(torch.tensor(11), x.size(0), prepared.n_mels, torch.arange(4000))
        for packed in (False, True):
            out = prepared.infer(
                x, xl, noise_scale=noise_scale, length_scale=length_scale, noise=noise,
                packed=packed,
            )  # fmt: skip
            assert torch.equal(out.y_lengths, y_lengths) and torch.equal(out.durations, w)
            assert (out.mel - mel).abs().max().item() <= ATOL, packed
            seeded = prepared.infer(
                x, xl, noise_scale=noise_scale, length_scale=length_scale, seed=11, packed=packed
            )  # the same noise from the seed alone, as an exported voice draws it
            assert torch.equal(seeded.y_lengths, y_lengths)
            assert (seeded.mel - mel).abs().max().item() <= ATOL, packed


def test_generate_computes_no_float64_and_no_log_determinant(
    prepared: GlowTTS, reference: dict[str, Any]
) -> None:
    inp = reference["inputs"]
    seen: list[str] = []
    from torch.overrides import TorchFunctionMode

    class Spy(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            out = func(*args, **(kwargs or {}))
            name = getattr(func, "__name__", str(func))
            if isinstance(out, torch.Tensor) and out.dtype == torch.float64:
                seen.append(f"float64 from {name}")
            if name in ("slogdet", "linalg_slogdet", "det", "inv", "linalg_inv", "searchsorted"):
                seen.append(name)  # log-determinants, inversions, sorted search
            return out

    with torch.no_grad(), Spy():
        prepared.generate(inp["x"], inp["x_lengths"], *_scalars(0.667, 1.0, 3))
    assert seen == []


def test_counter_noise_is_standard_normal_and_independent() -> None:
    noise = counter_normal(torch.tensor(7), 3, 80, torch.arange(1000))
    assert noise.dtype == torch.float32 and torch.isfinite(noise).all()
    assert abs(noise.mean().item()) < 0.01 and abs(noise.std().item() - 1) < 0.01
    assert stats.kstest(noise.flatten().numpy(), "norm").pvalue > 0.01
    for lagged in ((noise[:, :, 1:], noise[:, :, :-1]), (noise[:, 1:], noise[:, :-1])):
        a, b = (t.flatten() for t in lagged)
        assert abs(torch.corrcoef(torch.stack([a, b]))[0, 1].item()) < 0.01
    a, b = noise[:, :40].flatten(), noise[:, 40:].flatten()  # Box-Muller's cos and sin halves
    assert abs(torch.corrcoef(torch.stack([a, b]))[0, 1].item()) < 0.01
    assert counter_normal(torch.tensor(7), 1, 5, torch.arange(10)).shape == (1, 5, 10)  # odd C
    longer = counter_normal(torch.tensor(7), 3, 80, torch.arange(1500))
    assert torch.equal(longer[:, :, :1000], noise)  # an element does not depend on the size
    assert not torch.equal(counter_normal(torch.tensor(8), 3, 80, torch.arange(1000)), noise)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_frames_of_matches_a_sorted_search(dtype: torch.dtype) -> None:
    """Token per frame as align.indices_from_durations finds it (searchsorted), for zero-frame
    tokens, padding, long tokens, and half-precision durations (whole numbers up to 300)."""
    from glowtts import align
    from glowtts.config import ModelConfig

    model = GlowTTS(ModelConfig(hidden_channels=8, filter_channels=8, filter_channels_dp=8,
                                n_layers_enc=1, n_blocks_dec=1, n_block_layers=1), 148, 80)  # fmt: skip
    g = torch.Generator().manual_seed(0)
    w = torch.randint(0, 6, (4, 30), generator=g).float()
    w[0, :5] = 0  # tokens with no frame
    w[1, 20:] = 0  # padding
    w[2, 3] = 300  # a long token
    w[3] = 0  # nothing at all
    y_lengths, y_mask, indices = model.frames_of(w.to(dtype))
    expected = align.indices_from_durations(w, y_mask.float())
    assert torch.equal(indices, expected)
    assert torch.equal(y_lengths, torch.clamp_min(w.sum(1), 1).long() // 2 * 2)
