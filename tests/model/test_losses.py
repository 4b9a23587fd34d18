"""Losses against their definitions (Gaussian log-density from torch.distributions)."""

from __future__ import annotations

import pytest
import torch

from glowtts.model.losses import duration_loss, mle_loss
from glowtts.model.masks import sequence_mask


def test_mle_loss_is_negative_log_likelihood_per_value() -> None:
    torch.manual_seed(0)
    lengths = torch.tensor([6, 2, 4])
    mask = sequence_mask(lengths, 6).double()
    z = torch.randn(3, 5, 6, dtype=torch.float64) * mask
    z_m = torch.randn(3, 5, 6, dtype=torch.float64) * mask
    z_logs = 0.3 * torch.randn(3, 5, 6, dtype=torch.float64) * mask
    logdet = torch.randn(3, dtype=torch.float64) * 10
    normal = torch.distributions.Normal(z_m, torch.exp(z_logs))
    nll = -(normal.log_prob(z) * mask).sum() - logdet.sum()
    expected = nll / (5 * lengths.sum())
    assert torch.allclose(mle_loss(z, z_m, z_logs, logdet, mask), expected, atol=1e-12)


def test_duration_loss() -> None:
    logw = torch.tensor([[[1.0, 2.0, 0.0]], [[0.5, 0.0, 0.0]]])
    target = torch.tensor([[[0.0, 2.0, 0.0]], [[1.5, 0.0, 0.0]]])
    assert duration_loss(logw, target, torch.tensor([2, 1])).item() == pytest.approx(2.0 / 3)
