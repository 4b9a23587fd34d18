"""Mel-cepstral distortion with dynamic time warping (MCD-DTW), generated speech vs a recording.

The cepstrum: a mel-frequency cepstrum of the natural-log mel AMPLITUDE that training uses
(the features of ``glowtts.audio.MelSpectrogram``: centre-padded STFT, ``audio.n_mels`` bands),
one-sided as SPTK's mel-cepstra are: ``ln|mel|[m] = mean + sum_k c_k cos(pi k (m + 1/2) / M)``
over the M bands (a DCT-II divided by M). Coefficients ``c_1 .. c_order`` are kept (``order`` 24
by default); ``c_0``, the overall level, is left out, as usual for MCD.

Distortion of one frame pair: ``(10 / ln 10) * sqrt(2 * sum_k (c_k - c'_k)^2)`` dB (Kubichek
1993's constant for one-sided cepstra, as ESPnet's MCD uses it). The frames are paired by
librosa's DTW (``librosa.sequence.dtw``, Euclidean cost on the same cepstra, steps (1,1), (1,0),
(0,1)), and MCD is the mean over the warping path. With all ``M - 1`` coefficients it equals the
RMS over mel bands of the level-free difference in dB of amplitude (``20 log10``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["MCD_ORDER", "MCDResult", "mcd_dtw", "mel_cepstrum"]

MCD_ORDER = 24  # c_1 .. c_24
_DB = 10.0 / math.log(10.0)


def mel_cepstrum(log_mel: np.ndarray, order: int = MCD_ORDER) -> np.ndarray:
    """Mel cepstra ``c_1 .. c_order`` of natural-log mel amplitudes.

    Args:
        log_mel: [n_mels, T] natural-log mel amplitude (the training features).
        order: highest coefficient kept (``order < n_mels``).

    Returns:
        [T, order] float64.
    """
    from scipy.fft import dct

    log_mel = np.asarray(log_mel, dtype=np.float64)
    if log_mel.ndim != 2:
        raise ValueError(f"mel_cepstrum: expected [n_mels, T], got shape {log_mel.shape}")
    n_mels = log_mel.shape[0]
    if not 1 <= order < n_mels:
        raise ValueError(f"mel_cepstrum: order must be in 1..{n_mels - 1}, got {order}")
    # scipy's unnormalised DCT-II is 2 * sum_m x[m] cos(pi k (2m + 1) / 2M); its inverse is
    # x[m] = y_0 / 2M + sum_k (y_k / M) cos(...): the one-sided c_k are y_k / M
    cep = dct(log_mel, type=2, axis=0, norm=None) / n_mels  # [n_mels, T]
    return cep[1 : order + 1].T.copy()


@dataclass(frozen=True)
class MCDResult:
    """MCD of one utterance pair.

    Attributes:
        mcd_db: mean distortion over the warping path, dB.
        path: [L, 2] int64 frame pairs (reference frame, generated frame), in time order.
    """

    mcd_db: float
    path: np.ndarray


def mcd_dtw(reference: np.ndarray, generated: np.ndarray) -> MCDResult:
    """MCD-DTW between two cepstrum sequences (``mel_cepstrum`` of each).

    Args:
        reference: [T_ref, D] cepstra of the recording.
        generated: [T_gen, D] cepstra of the generated speech.
    """
    import librosa

    ref = np.asarray(reference, dtype=np.float64)
    gen = np.asarray(generated, dtype=np.float64)
    if ref.ndim != 2 or gen.ndim != 2 or ref.shape[1] != gen.shape[1]:
        raise ValueError(
            f"mcd_dtw: expected [T, D] cepstra of one order, got {ref.shape} and {gen.shape}"
        )
    if not len(ref) or not len(gen):
        raise ValueError(f"mcd_dtw: an empty sequence ({len(ref)} and {len(gen)} frames)")
    _, warp = librosa.sequence.dtw(X=ref.T, Y=gen.T, metric="euclidean")
    path = np.ascontiguousarray(warp[::-1], dtype=np.int64)  # librosa returns it end first
    diff = ref[path[:, 0]] - gen[path[:, 1]]  # [L, D]
    per_pair = _DB * np.sqrt(2.0 * np.sum(diff * diff, axis=1))
    return MCDResult(mcd_db=float(per_pair.mean()), path=path)
