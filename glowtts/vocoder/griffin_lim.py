"""Griffin-Lim as a vocoder with HiFi-GAN's call shape: ``[B, n_mels, T_y] -> [B, 1, T_y * hop]``."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from glowtts.audio import LOG_EPS, griffin_lim
from glowtts.config import AudioConfig
from glowtts.errors import UserValueError
from glowtts.vocoder.base import MelVocoder

__all__ = ["GriffinLim"]


class GriffinLim(MelVocoder):
    """Fast Griffin-Lim over :func:`glowtts.audio.griffin_lim` (no weights, deterministic).

    ``griffin_lim`` returns ``(T_y - 1) * hop`` samples (frame t centred on sample t * hop);
    the last hop is zero-padded so the output has exactly ``T_y * hop`` samples, as HiFi-GAN's.
    Clips shorter than its reflect padding needs are extended with silent frames (log of
    :data:`glowtts.audio.LOG_EPS`) and trimmed back.

    Args:
        cfg: the audio parameters the log-mels were made with.
        n_iter: Griffin-Lim iterations (0: random phase only).
        momentum: the "fast" Griffin-Lim momentum, in [0, 1); 0 gives the classic algorithm.
        power: exponent applied to the linear magnitude (> 1 sharpens).
        seed: seed of the initial random phase (the same for every call).
    """

    cfg: AudioConfig

    name = "griffin_lim"

    def __init__(
        self,
        cfg: AudioConfig,
        n_iter: int = 60,
        *,
        momentum: float = 0.99,
        power: float = 1.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if n_iter < 0:
            raise UserValueError(f"GriffinLim: n_iter must be >= 0, got {n_iter}")
        if not 0.0 <= momentum < 1.0:
            raise UserValueError(f"GriffinLim: momentum must be in [0, 1), got {momentum}")
        self.cfg = cfg
        self.n_iter = n_iter
        self.momentum = momentum
        self.power = power
        self.seed = seed
        # The STFT's reflect padding (n_fft // 2) must be shorter than the (T_y - 1) * hop
        # samples griffin_lim rebuilds.
        self.min_frames = (cfg.n_fft // 2) // cfg.hop_length + 2

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """Log-mel ``[B, n_mels, T_y]`` -> waveform ``[B, 1, T_y * hop_length]`` float32."""
        self.check_mel(mel)
        T_y = mel.shape[-1]
        silence = math.log(LOG_EPS)
        mel = F.pad(mel, (0, max(0, self.min_frames - T_y)), value=silence)  # [B, n_mels, >= T_y]
        wav = griffin_lim(
            mel,
            self.cfg,
            self.n_iter,
            momentum=self.momentum,
            power=self.power,
            seed=self.seed,
        )  # [B, (max(T_y, min_frames) - 1) * hop]
        length = T_y * self.cfg.hop_length
        wav = F.pad(wav, (0, max(0, length - wav.shape[-1])))[:, :length]  # [B, T_y * hop]
        return wav.unsqueeze(1)
