"""Glow-TTS losses (REFERENCE.md "Losses"): Gaussian MLE of the latents and log-duration MSE."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from glowtts.model.glowtts import DURATION_EPS, HALF_LOG_2PI, TrainOutput

__all__ = ["DURATION_EPS", "Losses", "duration_loss", "glowtts_losses", "mle_loss"]


def mle_loss(
    z: torch.Tensor,
    z_m: torch.Tensor,
    z_logs: torch.Tensor,
    logdet: torch.Tensor,
    y_mask: torch.Tensor,
) -> torch.Tensor:
    """Negative log-likelihood per mel value (nats).

    [sum(z_logs) + 0.5 sum(exp(-2 z_logs) (z - z_m)^2) - sum(logdet)] / (C * sum(y_len))
    + 0.5 log(2 pi).

    Args:
        z: [B, C, T_y] latents (masked), z_m, z_logs: [B, C, T_y] prior expanded to frames
        (zero on padding), logdet: [B] decoder log-det, y_mask: [B, 1, T_y].

    Returns:
        scalar tensor.
    """
    n_values = y_mask.sum() * z.size(1)
    diff = (z - z_m) * y_mask
    quad = 0.5 * torch.sum(torch.exp(-2 * z_logs) * diff * diff)
    return (torch.sum(z_logs * y_mask) + quad - torch.sum(logdet)) / n_values + HALF_LOG_2PI


def duration_loss(
    logw: torch.Tensor, logw_target: torch.Tensor, x_lengths: torch.Tensor
) -> torch.Tensor:
    """sum((logw - logw_)^2) / sum(x_len).

    Args:
        logw: [B, 1, T_x] predicted log-durations (masked), logw_target: [B, 1, T_x]
        log(eps + MAS durations) (masked), x_lengths: [B].
    """
    return torch.sum((logw - logw_target) ** 2) / torch.sum(x_lengths)


@dataclass(frozen=True)
class Losses:
    """The training losses: ``total = mle + duration`` (scalar tensors)."""

    total: torch.Tensor
    mle: torch.Tensor
    duration: torch.Tensor


def glowtts_losses(out: TrainOutput) -> Losses:
    """Losses from the model's training forward."""
    mle = mle_loss(out.z, out.z_m, out.z_logs, out.logdet, out.y_mask)
    dur = duration_loss(out.logw, out.logw_target, out.x_mask.sum(dim=(1, 2)))
    return Losses(total=mle + dur, mle=mle, duration=dur)
