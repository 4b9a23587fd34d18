"""Griffin-Lim vocoder: HiFi-GAN's call shape, exact length, agreement with audio.griffin_lim."""

from __future__ import annotations

import pytest
import torch

from glowtts.audio import griffin_lim
from glowtts.config import AudioConfig
from glowtts.errors import UserValueError
from glowtts.vocoder import GriffinLim, Vocoder, check_vocoder_fits

CFG = AudioConfig()
N_ITER = 4


def _mel(B: int, T_y: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, CFG.n_mels, T_y, generator=g) - 4.0  # [B, n_mels, T_y]


@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("T_y", [20, 1, 2, 3])
def test_exact_length_and_finite_audio(B: int, T_y: int) -> None:
    wav = GriffinLim(CFG, N_ITER)(_mel(B, T_y))
    assert wav.shape == (B, 1, T_y * CFG.hop_length)
    assert wav.dtype == torch.float32
    assert torch.isfinite(wav).all()


def test_wraps_audio_griffin_lim_and_zero_pads_the_last_hop() -> None:
    mel = _mel(3, 20)
    wav = GriffinLim(CFG, N_ITER, momentum=0.5, power=1.5, seed=7)(mel)[:, 0]  # [B, T]
    ref = griffin_lim(mel, CFG, N_ITER, momentum=0.5, power=1.5, seed=7)  # [B, 19 * hop]
    n = ref.shape[-1]
    assert n == 19 * CFG.hop_length
    assert torch.equal(wav[:, :n], ref)
    assert torch.equal(wav[:, n:], torch.zeros(3, CFG.hop_length))


def test_deterministic_per_seed() -> None:
    mel = _mel(1, 20)
    assert torch.equal(GriffinLim(CFG, N_ITER, seed=1)(mel), GriffinLim(CFG, N_ITER, seed=1)(mel))
    assert not torch.equal(
        GriffinLim(CFG, N_ITER, seed=1)(mel), GriffinLim(CFG, N_ITER, seed=2)(mel)
    )


def test_vocoder_interface() -> None:
    vocoder: Vocoder = GriffinLim(CFG)
    assert (vocoder.name, vocoder.sample_rate, vocoder.hop_length, vocoder.n_mels) == (
        "griffin_lim",
        CFG.sample_rate,
        CFG.hop_length,
        CFG.n_mels,
    )
    check_vocoder_fits(vocoder, CFG)
    with pytest.raises(UserValueError, match="audio.n_mels is 64 but vocoder griffin_lim"):
        check_vocoder_fits(vocoder, AudioConfig(n_mels=64))


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(UserValueError, match="n_iter must be >= 0"):
        GriffinLim(CFG, -1)
    with pytest.raises(UserValueError, match="momentum must be in"):
        GriffinLim(CFG, momentum=1.0)
    with pytest.raises(UserValueError, match=r"expected a log-mel \[B, 80, T_y\]"):
        GriffinLim(CFG)(torch.zeros(CFG.n_mels, 20))
