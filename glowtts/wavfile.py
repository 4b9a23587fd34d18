"""Writing generated speech: float waveforms to 16-bit wav files (numpy and soundfile only)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

__all__ = ["CLIP_WARN_FRACTION", "write_wav"]

log = logging.getLogger("glowtts.synthesis")

CLIP_WARN_FRACTION = 1e-3  # warn when more than 0.1 % of the samples clip


def write_wav(path: str | Path, wav: np.ndarray, sample_rate: int) -> Path:
    """Write a float waveform in [-1, 1] as 16-bit PCM, atomically."""
    import soundfile as sf

    from glowtts.atomic import atomic_path

    clipped = float(np.mean(np.abs(wav) > 1.0)) if wav.size else 0.0
    if clipped > CLIP_WARN_FRACTION:
        log.warning(
            "%s: %.1f %% of the samples exceed full scale and are clipped (peak %.1f): the "
            "generated mel is louder than the training data (an undertrained voice?)",
            path,
            100 * clipped,
            float(np.abs(wav).max()),
        )
    with atomic_path(path) as tmp:
        sf.write(str(tmp), np.clip(wav, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
    return Path(path)
