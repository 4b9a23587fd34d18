"""MCD-DTW and pitch metrics against the math: zero for identical inputs, known distortions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glowtts.config import AudioConfig
from glowtts.metrics import f0_errors, f0_track, mcd_dtw, mel_cepstrum

DB = 10.0 / math.log(10.0)


def _log_mel(rng: np.random.Generator, n_mels: int = 80, frames: int = 50) -> np.ndarray:
    return rng.normal(-4.0, 2.0, size=(n_mels, frames))


def test_cepstrum_inverts_to_the_log_mel_cosine_series() -> None:
    """c_k as the module defines them: ln|mel|[m] = mean + sum_k c_k cos(pi k (m + 1/2) / M)."""
    rng = np.random.default_rng(0)
    m = 16
    log_mel = _log_mel(rng, n_mels=m, frames=3)
    cep = mel_cepstrum(log_mel, order=m - 1)  # [T, M - 1]
    k = np.arange(1, m)[:, None]
    basis = np.cos(np.pi * k * (np.arange(m)[None, :] + 0.5) / m)  # [M - 1, M]
    rebuilt = log_mel.mean(axis=0)[None, :] + basis.T @ cep.T  # [M, T]
    np.testing.assert_allclose(rebuilt, log_mel, atol=1e-10)


def test_mcd_is_zero_for_identical_inputs_and_the_rms_db_difference_otherwise() -> None:
    rng = np.random.default_rng(1)
    log_mel = _log_mel(rng)
    same = mcd_dtw(mel_cepstrum(log_mel), mel_cepstrum(log_mel))
    assert same.mcd_db == 0.0
    np.testing.assert_array_equal(same.path, np.stack([np.arange(50)] * 2, axis=1))

    # A level change (c0 only) costs nothing; a cosine of index 3 and amplitude a (ln units)
    # costs (10 / ln 10) * sqrt(2) * a on every frame: its RMS in dB of amplitude.
    a, m = 0.3, log_mel.shape[0]
    ripple = a * np.cos(np.pi * 3 * (np.arange(m) + 0.5) / m)[:, None]
    assert mcd_dtw(mel_cepstrum(log_mel), mel_cepstrum(log_mel + 5.0)).mcd_db < 1e-9
    shifted = mcd_dtw(mel_cepstrum(log_mel), mel_cepstrum(log_mel + ripple))
    assert shifted.mcd_db == pytest.approx(DB * math.sqrt(2) * a, rel=1e-9)
    rms_db = 20 / math.log(10) * float(np.sqrt(np.mean(ripple**2)))
    assert shifted.mcd_db == pytest.approx(rms_db, rel=1e-9)

    # With every coefficient, MCD is the RMS dB difference of any level-free change.
    change = rng.normal(0, 0.2, size=log_mel.shape)
    change -= change.mean(axis=0)
    full = mcd_dtw(mel_cepstrum(log_mel, order=m - 1), mel_cepstrum(log_mel + change, order=m - 1))
    per_frame = 20 / math.log(10) * np.sqrt(np.mean(change**2, axis=0))
    assert full.mcd_db == pytest.approx(float(per_frame.mean()), rel=1e-9)


def test_mcd_grows_with_distortion_and_dtw_absorbs_a_time_stretch() -> None:
    rng = np.random.default_rng(2)
    log_mel = np.repeat(_log_mel(rng, frames=20), 3, axis=1)  # 60 frames of 20 sounds
    ref = mel_cepstrum(log_mel)
    values = [
        mcd_dtw(ref, mel_cepstrum(log_mel + rng.normal(0, s, log_mel.shape))).mcd_db
        for s in (0.05, 0.2, 0.8)
    ]
    assert values[0] < values[1] < values[2]
    slower = np.repeat(log_mel, 2, axis=1)  # every frame twice: same sounds, twice as long
    stretched = mcd_dtw(ref, mel_cepstrum(slower))
    assert stretched.mcd_db < 1e-9 and stretched.path[-1].tolist() == [59, 119]


def test_mcd_rejects_mismatched_orders() -> None:
    with pytest.raises(ValueError, match="one order"):
        mcd_dtw(np.zeros((4, 24)), np.zeros((4, 12)))
    with pytest.raises(ValueError, match="order must be in 1..79"):
        mel_cepstrum(np.zeros((80, 3)), order=80)


def _tone(hz: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.3 * np.sin(2 * np.pi * hz * t) + 0.1 * np.sin(2 * np.pi * 2 * hz * t)


def test_f0_rmse_is_zero_for_identical_input_and_near_the_shift_for_a_shifted_tone() -> None:
    audio = AudioConfig()
    kw = {"hop_length": audio.hop_length}
    ref = f0_track(_tone(200.0, 1.0, audio.sample_rate), audio.sample_rate, **kw)
    assert len(ref.hz) == 1 + audio.sample_rate // audio.hop_length  # the mel's frames
    low_rate = f0_track(_tone(200.0, 1.0, 8000), 8000, hop_length=64)  # any rate works
    assert len(low_rate.hz) == 1 + 8000 // 64 and low_rate.voiced.mean() > 0.8
    diagonal = np.stack([np.arange(len(ref.hz))] * 2, axis=1)
    same = f0_errors(ref, ref, diagonal)
    assert same["log_f0_rmse_cents"] == 0.0 and same["voicing_error"] == 0.0
    assert same["voiced_pairs"] > 0.8 * len(ref.hz)

    up = 200.0 * 2 ** (300 / 1200)  # three semitones higher
    gen = f0_track(_tone(up, 1.0, audio.sample_rate), audio.sample_rate, **kw)
    shifted = f0_errors(ref, gen, diagonal)
    assert shifted["log_f0_rmse_cents"] == pytest.approx(300.0, abs=15.0)
    assert shifted["voicing_error"] < 0.1


def test_voicing_error_counts_frames_voiced_in_one_signal_only() -> None:
    audio = AudioConfig()
    kw = {"hop_length": audio.hop_length}
    rate = audio.sample_rate
    tone = _tone(150.0, 1.0, rate)
    half_silent = tone.copy()
    half_silent[rate // 2 :] = 1e-4 * np.random.default_rng(3).standard_normal(rate - rate // 2)
    ref = f0_track(tone, rate, **kw)
    gen = f0_track(half_silent, rate, **kw)
    diagonal = np.stack([np.arange(len(ref.hz))] * 2, axis=1)
    errors = f0_errors(ref, gen, diagonal)
    assert errors["voicing_error"] == pytest.approx(0.5, abs=0.08)
    assert errors["log_f0_rmse_cents"] < 20.0  # the frames voiced in both agree
