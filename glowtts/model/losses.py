"""Glow-TTS losses (Kim et al. 2020, Sec. 3; the reference's models.py): Gaussian MLE of the
latents and log-duration MSE."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from glowtts.model.glowtts import DURATION_EPS, HALF_LOG_2PI, TrainOutput

__all__ = ["DURATION_EPS", "LossTotals", "Losses", "duration_loss", "glowtts_losses", "mle_loss"]


def mle_loss(
    z: torch.Tensor,
    z_m: torch.Tensor,
    z_logs: torch.Tensor,
    logdet: torch.Tensor,
    y_mask: torch.Tensor,
    n_values: torch.Tensor | None = None,
) -> torch.Tensor:
    """Negative log-likelihood per mel value (nats).

    [sum(z_logs) + 0.5 sum(exp(-2 z_logs) (z - z_m)^2) - sum(logdet)] / (C * sum(y_len))
    + 0.5 log(2 pi).

    Args:
        z: [B, C, T_y] latents (masked), z_m, z_logs: [B, C, T_y] prior expanded to frames
        (zero on padding), logdet: [B] decoder log-det, y_mask: [B, 1, T_y].
        n_values: the denominator C * sum(y_len) when it is not this batch's own (data
        parallel training divides every process's sum by the global count).

    Returns:
        scalar tensor.
    """
    if n_values is None:
        n_values = y_mask.sum() * z.size(1)
    diff = (z - z_m) * y_mask
    quad = 0.5 * torch.sum(torch.exp(-2 * z_logs) * diff * diff)
    return (torch.sum(z_logs * y_mask) + quad - torch.sum(logdet)) / n_values + HALF_LOG_2PI


def duration_loss(
    logw: torch.Tensor,
    logw_target: torch.Tensor,
    x_lengths: torch.Tensor,
    n_tokens: torch.Tensor | None = None,
) -> torch.Tensor:
    """sum((logw - logw_)^2) / sum(x_len).

    Args:
        logw: [B, 1, T_x] predicted log-durations (masked), logw_target: [B, 1, T_x]
        log(eps + MAS durations) (masked), x_lengths: [B].
        n_tokens: the denominator when it is not this batch's own sum(x_len).
    """
    denominator = torch.sum(x_lengths) if n_tokens is None else n_tokens
    return torch.sum((logw - logw_target) ** 2) / denominator


@dataclass(frozen=True)
class Losses:
    """The training losses: ``total = mle + duration`` (scalar tensors)."""

    total: torch.Tensor
    mle: torch.Tensor
    duration: torch.Tensor


def glowtts_losses(
    out: TrainOutput, n_values: torch.Tensor | None = None, n_tokens: torch.Tensor | None = None
) -> Losses:
    """Losses from the model's training forward, in float32 whatever the autocast dtype.

    Args:
        n_values, n_tokens: global denominators (mel values, tokens) for data-parallel
            training; default this batch's own.
    """
    f32 = torch.float32
    mle = mle_loss(
        out.z.to(f32),
        out.z_m.to(f32),
        out.z_logs.to(f32),
        out.logdet.to(f32),
        out.y_mask.to(f32),
        n_values,
    )
    dur = duration_loss(
        out.logw.to(f32), out.logw_target.to(f32), out.x_mask.sum(dim=(1, 2)).to(f32), n_tokens
    )
    return Losses(total=mle + dur, mle=mle, duration=dur)


@dataclass
class LossTotals:
    """Losses over many batches, each weighted by its mel values and tokens: the exact means
    over a whole split (not a mean of batch means)."""

    mle: float = 0.0  # sum of (mle - 0.5 log 2 pi) * mel values
    values: float = 0.0
    duration: float = 0.0  # sum of duration loss * tokens
    tokens: float = 0.0

    def add(self, out: TrainOutput) -> Losses:
        """Add one batch's training-forward output; return its own losses."""
        losses = glowtts_losses(out)
        n_values = float(out.y_mask.sum()) * out.z.size(1)
        n_tokens = float(out.x_mask.sum())
        self.mle += (float(losses.mle) - HALF_LOG_2PI) * n_values
        self.duration += float(losses.duration) * n_tokens
        self.values += n_values
        self.tokens += n_tokens
        return losses

    @property
    def mean_mle(self) -> float:
        return self.mle / self.values + HALF_LOG_2PI

    @property
    def mean_duration(self) -> float:
        return self.duration / self.tokens
