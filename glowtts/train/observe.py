"""What training shows: key=value log lines or a tqdm bar, and TensorBoard (rank 0 only).

TensorBoard lands in ``<train dir>/tensorboard``: scalars (losses, learning rate, gradient norm
before clipping, step time, frames per second, skipped steps, padding), and at each
validation a target vs generated mel and the alignment (matplotlib figures) and the generated
audio (Griffin-Lim at the config's sample rate).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

    from glowtts.config import AudioConfig

__all__ = ["TrainingMonitor", "format_metrics", "read_scalars"]

log = logging.getLogger("glowtts.train")


def read_scalars(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The scalars a run logged to ``folder`` (its ``tensorboard`` folder), tag -> (steps, values).

    Events of a resumed run's abandoned steps are gone (the writer purges them), so each tag's
    steps ascend. An empty dict when the folder holds no event files.
    """
    from tensorboard.backend.event_processing.event_accumulator import (
        SCALARS,
        EventAccumulator,
    )

    if not any(Path(folder).glob("events.out.tfevents.*")):
        return {}
    events = EventAccumulator(str(folder), size_guidance={SCALARS: 0}).Reload()  # 0: keep all
    out = {}
    for tag in events.Tags()[SCALARS]:
        by_step = {e.step: e.value for e in events.Scalars(tag)}  # the last write of a step wins
        steps = np.array(sorted(by_step), dtype=np.int64)
        out[tag] = (steps, np.array([by_step[s] for s in steps], dtype=np.float64))
    return out


def format_metrics(metrics: dict[str, float]) -> str:
    """``{"loss/mle": 1.234}`` -> ``"loss/mle=1.234"``; 4 significant digits, ints plain."""
    parts = []
    for key, value in metrics.items():
        if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e9):
            parts.append(f"{key}={int(value)}")
        else:
            parts.append(f"{key}={value:.4g}")
    return " ".join(parts)


class TrainingMonitor:
    """Log lines, progress bar and TensorBoard for one training process.

    Args:
        folder: the training folder (TensorBoard goes to ``folder/tensorboard``).
        enabled: False on ranks other than 0 (they show and write nothing).
        total_steps: for the progress bar.
        start_step: where a resumed run starts (TensorBoard drops later events of the old run).
        progress: a tqdm bar (True on a terminal) instead of periodic log lines.
    """

    def __init__(
        self,
        folder: Path,
        *,
        enabled: bool,
        total_steps: int,
        start_step: int,
        progress: bool | None = None,
    ) -> None:
        self.enabled = enabled
        self._writer: Any = None
        self._bar: Any = None
        if not enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(str(folder / "tensorboard"), purge_step=start_step + 1)
        if progress is None:
            progress = sys.stderr.isatty()
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(total=total_steps, initial=start_step, unit="step", dynamic_ncols=True)

    def step(self, step: int, metrics: dict[str, float], log_line: bool) -> None:
        """Record one logging step's scalars; a log line (or the bar's postfix) too."""
        if not self.enabled:
            return
        for key, value in metrics.items():
            self._writer.add_scalar(key, value, step)
        if self._bar is not None:
            self._bar.n = step
            self._bar.set_postfix_str(format_metrics(_short(metrics)), refresh=True)
        elif log_line:
            log.info("step=%d %s", step, format_metrics(metrics))

    def validation(self, step: int, metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
        for key, value in metrics.items():
            self._writer.add_scalar(key, value, step)
        log.info("validation step=%d %s", step, format_metrics(metrics))

    def sample(
        self,
        step: int,
        *,
        target: np.ndarray,
        generated: np.ndarray,
        indices: np.ndarray,
        n_tokens: int,
        audio_cfg: AudioConfig,
        wav: torch.Tensor | None,
    ) -> None:
        """Images of one validation utterance (target/generated mel, MAS alignment) and audio."""
        if not self.enabled:
            return
        from glowtts.plots import alignment_figure, mel_figure

        hop = audio_cfg.hop_length / audio_cfg.sample_rate
        fig = mel_figure({"target": target, "generated": generated}, hop_seconds=hop)
        self._writer.add_figure("val/mel", fig, step)
        fig = alignment_figure(indices, n_tokens, title=f"MAS alignment, step {step}")
        self._writer.add_figure("val/alignment", fig, step)
        if wav is not None:
            self._writer.add_audio(
                "val/generated",
                wav.reshape(1, -1).clamp(-1, 1),
                step,
                sample_rate=audio_cfg.sample_rate,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        if self._writer is not None:
            self._writer.close()


def _short(metrics: dict[str, float]) -> dict[str, float]:
    keep = ("loss/mle", "loss/duration", "lr", "frames_per_s")
    return {k: metrics[k] for k in keep if k in metrics}
