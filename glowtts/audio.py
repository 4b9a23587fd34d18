"""Audio front end: wav loading (dither, resampling, sanity checks), log-mel, Griffin-Lim.

The log-mel follows the reference implementation exactly (jaywalnut310/glow-tts: ``commons.py``
``TacotronSTFT`` over ``stft.py``'s ``STFT`` and ``audio_processing.py``'s
``dynamic_range_compression``): magnitude STFT with centre REFLECT padding and a periodic Hann
window, librosa's Slaney mel basis, then ``log(clamp(x, 1e-5))`` with no normalisation.
Waveforms follow its ``data_utils.py`` (``TextMelLoader.get_mel``): samples in int16 units,
plus ``U[0, 1)`` dither (``add_noise``), divided by ``max_wav_value``. The dither is
deterministic per utterance (config seed + a stable hash of the utterance id), so a feature
store is reproducible byte for byte.
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import torch

from glowtts.config import AudioConfig
from glowtts.errors import InputNotFoundError, UserValueError

__all__ = [
    "CLIP_LEVEL",
    "CLIP_WARN_FRACTION",
    "INT16_FULL_SCALE",
    "LOG_EPS",
    "AudioError",
    "LoadedWav",
    "MelSpectrogram",
    "SampleRateMismatchError",
    "SilentAudioError",
    "UnreadableAudioError",
    "dither_seed",
    "griffin_lim",
    "load_wav",
    "num_frames",
]

logger = logging.getLogger(__name__)

LOG_EPS = 1e-5  # mel magnitude floor before the log (glow-tts audio_processing.py, clip_val)
INT16_FULL_SCALE = 32768.0  # soundfile maps int16 to [-1, 1) by dividing by this
CLIP_LEVEL = 32767.0  # a sample at or beyond this many int16 units sits at full scale
CLIP_WARN_FRACTION = 1e-3  # a clip is "clipped" when more than 0.1% of it sits at full scale
GRIFFIN_LIM_EPS = 1e-16  # keeps the phase normalisation finite where the spectrum is zero


class AudioError(UserValueError):
    """A wav file cannot be used; the message names the file and what to do."""


class UnreadableAudioError(AudioError):
    """The file exists but is not a readable audio file (corrupt, truncated, not audio)."""


class SilentAudioError(AudioError):
    """The clip has no samples or only zeros: there is nothing to learn from it."""


class SampleRateMismatchError(AudioError):
    """The file's sample rate differs from ``audio.sample_rate`` and resampling is off."""


class LoadedWav(NamedTuple):
    """What :func:`load_wav` returns: the waveform and whether the file is clipped."""

    wav: np.ndarray  # [T] float32 at audio.sample_rate
    clipped: bool  # more than CLIP_WARN_FRACTION of the file's samples at full scale
    full_scale_fraction: float  # the share of the file's samples at full scale


def dither_seed(seed: int, utt_id: str) -> int:
    """A 64-bit seed from the config seed and a stable (unsalted) hash of the utterance id.

    The dither is drawn from ``np.random.SFC64(dither_seed(seed, utt_id))``.
    """
    digest = hashlib.blake2b(f"{seed}\x00{utt_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _uniform(key: int, n: int) -> np.ndarray:
    """``n`` float32 samples of U[0, 1) from an SFC64 generator seeded with ``key``.

    The top 24 bits of each 32-bit draw times 2**-24, as numpy's float32 ``random`` does,
    from raw draws: about 1.5x faster than ``Generator.random`` on long clips.
    """
    raw = np.random.SFC64(key).random_raw((n + 1) // 2).view(np.uint32)[:n]  # [n]
    return (raw >> np.uint32(8)).astype(np.float32) * np.float32(2.0**-24)


def num_frames(n_samples: int, hop_length: int) -> int:
    """Frames of a centre-padded STFT of ``n_samples`` samples: ``1 + n_samples // hop``."""
    return 1 + n_samples // hop_length


def _read(path: Path) -> tuple[np.ndarray, int]:
    """Samples in int16 units ``[T]`` (float32, channels averaged) and the file's rate."""
    import soundfile as sf

    if not path.is_file():
        raise InputNotFoundError(
            f"{path}: wav file does not exist; the manifest's wav path may be stale (the corpus "
            "or the workflow folder moved): rerun the corpus stage with "
            "`snakemake --forcerun corpus`"
        )
    try:
        with sf.SoundFile(str(path)) as fh:
            rate, subtype = int(fh.samplerate), fh.subtype
            if subtype == "PCM_16":  # the common case: int16 is read 5x faster than float
                data = fh.read(dtype="int16", always_2d=True).astype(np.float32)  # [T, ch]
            else:  # float32 holds int24 exactly, so int16 units stay exact for PCM_24 too
                data = fh.read(dtype="float32", always_2d=True) * np.float32(INT16_FULL_SCALE)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise UnreadableAudioError(
            f"{path}: not a readable audio file ({exc}); re-extract the corpus or remove "
            "this clip from the manifest"
        ) from None
    if subtype != "PCM_16" and not np.isfinite(data).all():  # float files only
        raise UnreadableAudioError(
            f"{path}: contains NaN or infinite samples; re-export the file as PCM or remove "
            "it from the manifest"
        )
    if data.shape[1] > 1:
        logger.debug("downmix file=%s channels=%d", path, data.shape[1])
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    return np.ascontiguousarray(mono), rate


def _check_not_silent(path: Path, units: np.ndarray) -> None:
    """Raise on a clip with no samples or only zeros; ``units`` are int16 units ``[T]``."""
    if units.size == 0:
        raise SilentAudioError(f"{path}: contains no samples; remove it from the manifest")
    if not np.any(units):
        raise SilentAudioError(
            f"{path}: every sample is zero (silent clip, nothing to learn); remove it from "
            "the manifest"
        )


def _full_scale_fraction(units: np.ndarray) -> float:
    """The share of samples at or beyond full scale; ``units`` are int16 units ``[T]``."""
    return int(np.count_nonzero(np.abs(units) >= CLIP_LEVEL)) / units.size


def load_wav(
    path: str | Path,
    cfg: AudioConfig,
    *,
    utt_id: str | None = None,
    seed: int = 0,
    on_rate_mismatch: Literal["resample", "error"] = "resample",
) -> LoadedWav:
    """Read a wav as float32 in about ``[-1, 1)`` at ``cfg.sample_rate``; flag clipping.

    Samples are taken in int16 units, resampled if the file's rate differs, dithered with
    ``U[0, 1)`` when ``cfg.dither`` (generator seeded by :func:`dither_seed` of ``seed`` and
    ``utt_id``, default the file's stem), and divided by ``cfg.max_wav_value``.

    Returns:
        the waveform ``[T]`` float32, whether more than ``CLIP_WARN_FRACTION`` of the file's
        samples sit at full scale (the clip is usable but sounds distorted; the caller
        decides whether to warn), and that fraction.

    Raises:
        FileNotFoundError: no such file.
        UnreadableAudioError: not a readable audio file.
        SilentAudioError: no samples, or all zero.
        SampleRateMismatchError: another rate and ``on_rate_mismatch == "error"``.
        AudioError: shorter than half an FFT window (no reflect padding possible).
    """
    path = Path(path)
    units, rate = _read(path)
    _check_not_silent(path, units)
    full_scale = _full_scale_fraction(units)
    if rate != cfg.sample_rate:
        if on_rate_mismatch == "error":
            raise SampleRateMismatchError(
                f"{path}: sample rate {rate} Hz differs from audio.sample_rate "
                f"{cfg.sample_rate} Hz; resample the corpus or set "
                "dataset.on_rate_mismatch: resample"
            )
        import librosa

        logger.debug("resample file=%s from_hz=%d to_hz=%d", path, rate, cfg.sample_rate)
        units = librosa.resample(
            units, orig_sr=rate, target_sr=cfg.sample_rate, res_type="soxr_hq", fix=True
        ).astype(np.float32, copy=False)
    if units.size <= cfg.n_fft // 2:
        raise AudioError(
            f"{path}: {units.size} samples at {cfg.sample_rate} Hz is shorter than half an "
            f"FFT window ({cfg.n_fft // 2 + 1} samples needed); remove it from the manifest"
        )
    if cfg.dither:
        key = dither_seed(seed, utt_id if utt_id is not None else path.stem)
        units += _uniform(key, units.size)  # units is our own array
    units /= np.float32(cfg.max_wav_value)
    return LoadedWav(units, full_scale > CLIP_WARN_FRACTION, full_scale)


class MelSpectrogram(torch.nn.Module):
    """Batched log-mel spectrogram, exactly the reference's (see the module docstring).

    The periodic Hann window and the Slaney mel basis (``[n_mels, n_freq]``, from
    ``librosa.filters.mel``) are built once per instance as buffers.
    """

    window: torch.Tensor
    mel_basis: torch.Tensor
    _basis_used_t: torch.Tensor

    def __init__(self, cfg: AudioConfig) -> None:
        super().__init__()
        import librosa

        self.n_fft = cfg.n_fft
        self.hop_length = cfg.hop_length
        self.n_mels = cfg.n_mels
        hann = torch.hann_window(cfg.win_length, periodic=True, dtype=torch.float32)
        left = (cfg.n_fft - cfg.win_length) // 2  # centre a shorter window in the FFT frame
        window = torch.nn.functional.pad(hann, (left, cfg.n_fft - cfg.win_length - left))
        basis = librosa.filters.mel(
            sr=cfg.sample_rate,
            n_fft=cfg.n_fft,
            n_mels=cfg.n_mels,
            fmin=cfg.fmin,
            fmax=cfg.fmax,
            htk=False,
            norm="slaney",
        )
        mel_basis = torch.from_numpy(basis).to(torch.float32)  # [n_mels, n_freq]
        # Bins above the highest nonzero basis column (fmax) never reach the output: the
        # magnitude and the matmul skip them (the result differs only by float rounding).
        self.n_used = int(torch.nonzero(mel_basis.abs().sum(0)).max()) + 1
        self.register_buffer("window", window, persistent=False)  # [n_fft]
        self.register_buffer("mel_basis", mel_basis, persistent=False)  # [n_mels, n_freq]
        self.register_buffer(
            "_basis_used_t", mel_basis[:, : self.n_used].T.contiguous(), persistent=False
        )  # [n_used, n_mels]

    def magnitudes(self, wav: torch.Tensor, n_bins: int | None = None) -> torch.Tensor:
        """|STFT| frame-major: ``[B, T]`` -> ``[B, T_y, n_bins]`` (default all ``n_freq``).

        Centre REFLECT padding, periodic Hann; ``T_y = 1 + T // hop``.
        """
        T = wav.shape[-1]
        half = self.n_fft // 2
        assert half < T, f"waveform of {T} samples is too short for reflect padding ({half})"
        # Reflect padding by hand: several times faster than F.pad(mode="reflect") on CPU.
        left = wav[:, 1 : half + 1].flip(-1)  # [B, half]
        right = wav[:, T - half - 1 : T - 1].flip(-1)  # [B, half]
        padded = torch.cat([left, wav, right], dim=-1)  # [B, T + n_fft]
        frames = padded.unfold(-1, self.n_fft, self.hop_length)  # [B, T_y, n_fft] (a view)
        spec = torch.fft.rfft(frames * self.window, dim=-1)  # [B, T_y, n_freq] complex
        # |z| from squared real and imaginary parts: several times faster on CPU than the
        # complex abs kernel, and the same values up to rounding.
        power = torch.view_as_real(spec)[..., :n_bins, :].square()  # [B, T_y, n_bins, 2]
        return (power[..., 0] + power[..., 1]).sqrt_()

    def frames(self, wav: torch.Tensor) -> torch.Tensor:
        """Log-mel frame-major, the feature store's layout: ``[B, T]`` -> ``[B, T_y, n_mels]``."""
        mag = self.magnitudes(wav, self.n_used)  # [B, T_y, n_used]
        mel = torch.matmul(mag, self._basis_used_t)  # [B, T_y, n_mels]
        return mel.clamp_(min=LOG_EPS).log_()

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """Log-mel ``[B, T]`` -> ``[B, n_mels, T_y]`` (or ``[T]`` -> ``[n_mels, T_y]``).

        In a zero-padded batch, frames past a clip's ``num_frames(length)`` see the padding
        and its right-edge frames differ from the clip alone; mask or compute clips singly.
        """
        if wav.dim() == 1:
            return self.frames(wav.unsqueeze(0))[0].T
        return self.frames(wav).transpose(1, 2)


def griffin_lim(
    log_mel: torch.Tensor,
    cfg: AudioConfig,
    n_iter: int = 60,
    *,
    momentum: float = 0.99,
    power: float = 1.0,
    seed: int = 0,
) -> torch.Tensor:
    """Invert a log-mel to a waveform with fast Griffin-Lim (Perraudin et al. 2013).

    The linear magnitude is the mel basis' pseudo-inverse applied to ``exp(log_mel)``
    (clamped at zero) and raised to ``power``; phases start random from ``seed``.

    Args:
        log_mel: ``[n_mels, T_y]`` or ``[B, n_mels, T_y]``.
        cfg: the audio parameters the log-mel was made with.
        n_iter: Griffin-Lim iterations (0: random phase only).
        momentum: the "fast" Griffin-Lim momentum; 0 gives the classic algorithm.
        power: exponent applied to the magnitude (>1 sharpens, as Tacotron 2 used 1.5).
        seed: seed of the initial random phase.

    Returns:
        waveform ``[T]`` or ``[B, T]``, ``T = (T_y - 1) * hop_length``, float32.
    """
    if n_iter < 0:
        raise UserValueError(f"griffin_lim: n_iter must be >= 0, got {n_iter}")
    if not 0.0 <= momentum < 1.0:
        raise UserValueError(f"griffin_lim: momentum must be in [0, 1), got {momentum}")
    squeeze = log_mel.dim() == 2
    log_mel = log_mel.unsqueeze(0) if squeeze else log_mel  # [B, n_mels, T_y]
    mel = MelSpectrogram(cfg).to(log_mel.device)
    inverse_basis = torch.linalg.pinv(mel.mel_basis)  # [n_freq, n_mels]
    mag = torch.matmul(inverse_basis, log_mel.float().exp()).clamp_(min=0.0)  # [B, n_freq, T_y]
    mag = mag.pow(power)
    length = (log_mel.shape[-1] - 1) * cfg.hop_length
    hop, window = cfg.hop_length, mel.window

    def to_wav(spec: torch.Tensor) -> torch.Tensor:  # [B, n_freq, T_y] -> [B, T]
        return torch.istft(spec, cfg.n_fft, hop, cfg.n_fft, window, center=True, length=length)

    def to_spec(wav: torch.Tensor) -> torch.Tensor:  # [B, T] -> [B, n_freq, T_y]
        return torch.stft(
            wav,
            cfg.n_fft,
            hop,
            cfg.n_fft,
            window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )

    generator = torch.Generator(device="cpu").manual_seed(seed)
    phase = torch.rand(mag.shape, generator=generator).to(mag.device) * (2 * math.pi)
    angles = torch.polar(torch.ones_like(mag), phase)  # [B, n_freq, T_y] complex
    previous = torch.zeros_like(angles)
    for _ in range(n_iter):
        rebuilt = to_spec(to_wav(mag * angles))
        angles = rebuilt - (momentum / (1.0 + momentum)) * previous
        angles = angles / (angles.abs() + GRIFFIN_LIM_EPS)
        previous = rebuilt
    wav = to_wav(mag * angles)  # [B, T]
    return wav[0] if squeeze else wav
