"""Vocoders of the evaluation stage (HiFi-GAN, Griffin-Lim), called alike.

``vocoder(mel [B, n_mels, T_y]) -> wav [B, 1, T_y * vocoder.hop_length]`` at
``vocoder.sample_rate``; :func:`check_vocoder_fits` checks a vocoder against the features.

:class:`HiFiGAN` takes weights only from a local file the user names (:func:`load_hifigan`);
nothing is downloaded. :class:`GriffinLim` needs no weights.

Framing: HiFi-GAN's public models were trained on mels framed without centre padding
(``(n_fft - hop) / 2`` reflect padding on each side, ``floor(N / 256)`` frames for N samples),
whereas ours use centre padding (``n_fft / 2``, ``floor(N / 256) + 1`` frames): our frames sit
half a hop earlier. Fed our mels, the public models work but are not exactly matched;
fine-tuning the vocoder on our mels removes the offset.
"""

from __future__ import annotations

from glowtts.config import AudioConfig
from glowtts.errors import UserValueError
from glowtts.vocoder.base import MelVocoder, Vocoder
from glowtts.vocoder.griffin_lim import GriffinLim
from glowtts.vocoder.hifigan import (
    HIFIGAN_PRESETS,
    HiFiGAN,
    HiFiGANConfig,
    hifigan_preset,
    load_hifigan,
)

__all__ = [
    "HIFIGAN_PRESETS",
    "GriffinLim",
    "HiFiGAN",
    "HiFiGANConfig",
    "MelVocoder",
    "Vocoder",
    "check_vocoder_fits",
    "hifigan_preset",
    "load_hifigan",
]


def check_vocoder_fits(vocoder: Vocoder, cfg: AudioConfig, source: str = "config") -> None:
    """Raise UserValueError when ``vocoder`` does not take the mels ``cfg`` describes.

    Args:
        vocoder: the vocoder.
        cfg: the audio parameters of the mels it will be fed.
        source: where ``cfg`` came from, for the message (e.g. the config file).
    """
    pairs = (
        ("sample_rate", vocoder.sample_rate, cfg.sample_rate),
        ("hop_length", vocoder.hop_length, cfg.hop_length),
        ("n_mels", vocoder.n_mels, cfg.n_mels),
    )
    for field, theirs, ours in pairs:
        if theirs != ours:
            raise UserValueError(
                f"{source}: audio.{field} is {ours} but vocoder {vocoder.name} takes {theirs}; "
                f"use a vocoder trained on these features or Griffin-Lim"
            )
