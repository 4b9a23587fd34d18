"""glowtts.audio: loading (dither, resampling, bad input), log-mel vs librosa, Griffin-Lim."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch

from glowtts.audio import (
    AudioError,
    MelSpectrogram,
    SampleRateMismatchError,
    SilentAudioError,
    UnreadableAudioError,
    dither_seed,
    griffin_lim,
    load_wav,
    num_frames,
)
from glowtts.config import AudioConfig

CFG = AudioConfig()


def _chirp(seconds: float, sr: int = 22050, seed: int = 0) -> np.ndarray:
    """A 100 Hz -> 8 kHz chirp plus white noise, float32 ``[T]``."""
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    phase = 2 * np.pi * (100 * t + (8000 - 100) / (2 * seconds) * t**2)
    return (0.5 * np.sin(phase) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def _librosa_log_mel(x: np.ndarray, cfg: AudioConfig) -> np.ndarray:
    """The reference's features computed with librosa: ``[T]`` -> ``[n_mels, T_y]``."""
    spec = np.abs(
        librosa.stft(
            x,
            n_fft=cfg.n_fft,
            hop_length=cfg.hop_length,
            win_length=cfg.win_length,
            window="hann",
            center=True,
            pad_mode="reflect",
        )
    )
    basis = librosa.filters.mel(
        sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax
    )
    return np.log(np.maximum(basis @ spec, 1e-5))


def _write(path: Path, samples: np.ndarray, sr: int = 22050, subtype: str = "PCM_16") -> Path:
    sf.write(str(path), samples, sr, subtype=subtype)
    return path


# ----------------------------------------------------------------------------- log-mel


@pytest.mark.parametrize("batch", [1, 3])
def test_mel_matches_librosa_including_edge_frames(batch: int) -> None:
    clips = [_chirp(0.75, seed=s) for s in range(batch)]
    ours = MelSpectrogram(CFG)(torch.from_numpy(np.stack(clips))).numpy()  # [B, n_mels, T_y]
    for b, clip in enumerate(clips):
        ref = _librosa_log_mel(clip, CFG)
        assert ours[b].shape == ref.shape == (80, num_frames(clip.size, 256))
        np.testing.assert_allclose(ours[b], ref, atol=1e-4, rtol=0)
        np.testing.assert_allclose(ours[b][:, [0, 1, -2, -1]], ref[:, [0, 1, -2, -1]], atol=1e-4)


def test_mel_matches_librosa_with_short_window_and_odd_length() -> None:
    cfg = dataclasses.replace(CFG, win_length=800, n_fft=1024, hop_length=200, n_mels=64)
    clip = _chirp(0.5)[:10_007]
    ours = MelSpectrogram(cfg)(torch.from_numpy(clip)).numpy()  # [n_mels, T_y]
    ref = _librosa_log_mel(clip, cfg)
    assert ours.shape == ref.shape == (64, 1 + 10_007 // 200)
    np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=0)


def test_mel_is_not_zero_padded_at_the_edges() -> None:
    """librosa >= 0.10 zero-pads by default; the reference reflects. Edge frames must differ."""
    clip = _chirp(0.5)
    ours = MelSpectrogram(CFG)(torch.from_numpy(clip)).numpy()
    zero_padded = librosa.feature.melspectrogram(
        y=clip,
        sr=22050,
        n_fft=1024,
        hop_length=256,
        power=1.0,
        n_mels=80,
        fmax=8000,
        pad_mode="constant",
    )
    assert np.abs(ours[:, 0] - np.log(np.maximum(zero_padded[:, 0], 1e-5))).max() > 1e-2


def test_mel_floor_and_frame_major_layout() -> None:
    mel = MelSpectrogram(CFG)
    silent = torch.zeros(2, 4000)
    assert torch.equal(mel(silent), torch.full((2, 80, 1 + 4000 // 256), float(np.log(1e-5))))
    x = torch.from_numpy(np.stack([_chirp(0.3, seed=1), _chirp(0.3, seed=2)]))
    assert torch.equal(mel.frames(x).transpose(1, 2), mel(x))
    assert mel.mel_basis.shape == (80, 513) and mel.window.shape == (1024,)


# ----------------------------------------------------------------------------- loading


def test_load_wav_int16_semantics_and_deterministic_dither(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ints = rng.integers(-20000, 20000, size=5000).astype(np.int16)
    path = _write(tmp_path / "a.wav", ints)
    plain = load_wav(path, dataclasses.replace(CFG, dither=False)).wav
    assert plain.dtype == np.float32
    np.testing.assert_array_equal(plain, ints.astype(np.float32) / 32768.0)

    a = load_wav(path, CFG, utt_id="LJ001-0001", seed=1234).wav
    noise = a.astype(np.float64) * 32768.0 - ints
    assert noise.min() >= -1e-3 and noise.max() < 1.0 + 1e-3  # U[0, 1) in int16 units
    assert abs(noise.mean() - 0.5) < 0.02 and abs(noise.var() - 1 / 12) < 0.01
    np.testing.assert_array_equal(a, load_wav(path, CFG, utt_id="LJ001-0001", seed=1234).wav)
    assert not np.array_equal(a, load_wav(path, CFG, utt_id="LJ001-0002", seed=1234).wav)
    assert not np.array_equal(a, load_wav(path, CFG, utt_id="LJ001-0001", seed=1235).wav)
    # default id is the file's stem
    np.testing.assert_array_equal(
        load_wav(path, CFG, seed=7).wav, load_wav(path, CFG, utt_id="a", seed=7).wav
    )


def test_dither_seed_is_stable_and_unsalted() -> None:
    # A pinned value: Python's salted hash() would change between processes.
    assert dither_seed(1234, "LJ001-0001") == 7403716818217428587
    assert dither_seed(1234, "LJ001-0001") != dither_seed(1234, "LJ001-0002")
    assert dither_seed(1, "23") != dither_seed(12, "3")


def test_max_wav_value_scales(tmp_path: Path) -> None:
    ints = np.array([0, 1000, -1000, 16000] * 300, dtype=np.int16)
    path = _write(tmp_path / "b.wav", ints)
    cfg = dataclasses.replace(CFG, dither=False, max_wav_value=16384.0)
    np.testing.assert_array_equal(load_wav(path, cfg).wav, ints.astype(np.float32) / 16384.0)


def test_resampled_16k_input_gives_frames_at_config_rate(tmp_path: Path) -> None:
    seconds = 1.0
    t16 = np.arange(int(16000 * seconds)) / 16000
    t22 = np.arange(int(22050 * seconds)) / 22050
    path16 = _write(tmp_path / "s16.wav", 0.4 * np.sin(2 * np.pi * 440 * t16), sr=16000)
    path22 = _write(tmp_path / "s22.wav", 0.4 * np.sin(2 * np.pi * 440 * t22), sr=22050)
    cfg = dataclasses.replace(CFG, dither=False)
    wav16, wav22 = load_wav(path16, cfg).wav, load_wav(path22, cfg).wav
    assert wav16.size == wav22.size == 22050
    mel = MelSpectrogram(cfg)
    m16, m22 = mel(torch.from_numpy(wav16)), mel(torch.from_numpy(wav22))
    assert m16.shape == m22.shape == (80, num_frames(22050, 256))
    inner = slice(4, -4)  # resampler's edge transients aside, the spectra agree
    assert torch.equal(m16[:, inner].argmax(0), m22[:, inner].argmax(0))
    loud = m22[:, inner] > -3.0  # the bins that carry the tone
    assert (m16[:, inner][loud] - m22[:, inner][loud]).abs().max() < 0.05


def test_rate_mismatch_error_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "s16.wav", _chirp(0.2, sr=16000), sr=16000)
    with pytest.raises(SampleRateMismatchError, match=r"s16\.wav: sample rate 16000 Hz"):
        load_wav(path, CFG, on_rate_mismatch="error")


def test_stereo_is_averaged(tmp_path: Path) -> None:
    left = np.full(3000, 1000, dtype=np.int16)
    right = np.full(3000, 3000, dtype=np.int16)
    path = _write(tmp_path / "st.wav", np.stack([left, right], axis=1))
    np.testing.assert_array_equal(
        load_wav(path, dataclasses.replace(CFG, dither=False)).wav,
        np.full(3000, 2000 / 32768, np.float32),
    )


# ----------------------------------------------------------------------------- bad input


def test_unreadable_wav_is_a_named_error(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.wav"
    bad.write_bytes(b"RIFF\x00\x00not really a wav file" * 10)
    with pytest.raises(UnreadableAudioError, match=r"garbage\.wav: not a readable audio file"):
        load_wav(bad, CFG)
    with pytest.raises(
        FileNotFoundError,
        match=r"missing\.wav: wav file does not exist; the manifest's wav path may be stale"
        r".*`snakemake --forcerun corpus`",
    ):
        load_wav(tmp_path / "missing.wav", CFG)


def test_float_wav_with_nan_is_a_named_error(tmp_path: Path) -> None:
    x = _chirp(0.2)
    x[100] = np.nan
    path = _write(tmp_path / "nan.wav", x, subtype="FLOAT")
    with pytest.raises(UnreadableAudioError, match=r"nan\.wav: contains NaN or infinite"):
        load_wav(path, CFG)


def test_float_and_24_bit_wavs_keep_int16_units(tmp_path: Path) -> None:
    ints = np.array([0, 123, -4567, 32000, -32001] * 200, dtype=np.int16)
    cfg = dataclasses.replace(CFG, dither=False)
    for subtype in ("FLOAT", "PCM_24"):
        path = _write(
            tmp_path / f"{subtype}.wav", ints.astype(np.float64) / 32768.0, subtype=subtype
        )
        np.testing.assert_array_equal(load_wav(path, cfg).wav, ints.astype(np.float32) / 32768.0)


def test_truncated_wav_is_a_named_error(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.wav", _chirp(0.2))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[:30])  # header cut mid-way
    with pytest.raises(UnreadableAudioError, match=r"cut\.wav"):
        load_wav(cut, CFG)


def test_silent_and_empty_wavs_are_errors(tmp_path: Path) -> None:
    silent = _write(tmp_path / "silent.wav", np.zeros(22050, dtype=np.int16))
    with pytest.raises(SilentAudioError, match=r"silent\.wav: every sample is zero"):
        load_wav(silent, CFG)
    empty = _write(tmp_path / "empty.wav", np.zeros(0, dtype=np.int16))
    with pytest.raises(SilentAudioError, match=r"empty\.wav: contains no samples"):
        load_wav(empty, CFG)


def test_too_short_wav_is_an_error(tmp_path: Path) -> None:
    short = _write(tmp_path / "short.wav", np.ones(300, dtype=np.int16))
    with pytest.raises(AudioError, match=r"short\.wav: 300 samples"):
        load_wav(short, CFG)


def test_clipped_wav_is_flagged_and_loud_wav_is_not(tmp_path: Path) -> None:
    t = np.arange(22050) / 22050
    clipped = _write(tmp_path / "clipped.wav", np.clip(2.0 * np.sin(2 * np.pi * 200 * t), -1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the flag is returned, never warned
        wav, is_clipped, fraction = load_wav(clipped, CFG)
    assert wav.size == 22050 and is_clipped
    assert 0.5 < fraction < 0.8  # 2 sin(x) >= 1 for two thirds of each period
    loud = load_wav(_write(tmp_path / "loud.wav", 0.99 * np.sin(2 * np.pi * 200 * t)), CFG)
    assert not loud.clipped and loud.full_scale_fraction == 0.0
    edge = np.zeros(10_000)
    edge[:10], edge[10:] = 1.0, 0.1  # 10 of 10,000 at full scale: 0.1 %, not more
    assert not load_wav(_write(tmp_path / "edge.wav", edge), CFG).clipped
    edge[10] = -1.0
    assert load_wav(_write(tmp_path / "edge.wav", edge), CFG).clipped


# ----------------------------------------------------------------------------- Griffin-Lim


def _spectral_error(wav: torch.Tensor, target: torch.Tensor, mel: MelSpectrogram) -> float:
    """Spectral convergence on mel magnitudes: ||M(wav) - M|| / ||M||."""
    rebuilt = mel(wav).exp()
    return float(torch.linalg.norm(rebuilt - target.exp()) / torch.linalg.norm(target.exp()))


def test_griffin_lim_reconstructs_a_harmonic_signal() -> None:
    t = np.arange(int(0.5 * 22050)) / 22050
    x = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate([220, 440, 660, 880], 1))
    x = torch.from_numpy((0.3 * x).astype(np.float32))
    mel = MelSpectrogram(CFG)
    target = mel(x)  # [80, T_y]
    rough = griffin_lim(target, CFG, n_iter=0)
    good = griffin_lim(target, CFG, n_iter=32)
    assert good.shape == rough.shape == ((target.shape[-1] - 1) * 256,)
    classic = griffin_lim(target, CFG, n_iter=32, momentum=0.0)
    e0, e32 = _spectral_error(rough, target, mel), _spectral_error(good, target, mel)
    e_classic = _spectral_error(classic, target, mel)
    assert e32 < 0.3 * e0 and e32 < 0.2 and e32 < e_classic, (e0, e32, e_classic)
    batch = griffin_lim(torch.stack([target, target]), CFG, n_iter=2)
    assert batch.shape == (2, good.shape[0]) and torch.isfinite(batch).all()
    with pytest.raises(ValueError, match="momentum"):
        griffin_lim(target, CFG, momentum=1.0)
