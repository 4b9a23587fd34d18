"""glowtts.train.schedule: the Noam formula at known steps, and the LambdaLR that applies it."""

from __future__ import annotations

import math

import pytest
import torch

from glowtts.errors import UserValueError
from glowtts.train.schedule import noam_lr, noam_scheduler

D, WARMUP = 192, 4000  # the reference's hidden_channels and warmup_steps


def _formula(t: int, scale: float = 1.0) -> float:
    return scale * D**-0.5 * min(t**-0.5, t * WARMUP**-1.5)


@pytest.mark.parametrize("t", [1, 2, 3999, 4000, 4001, 240000])
def test_noam_lr_is_the_formula(t: int) -> None:
    assert noam_lr(t, scale=1.0, d_model=D, warmup_steps=WARMUP) == pytest.approx(_formula(t))


def test_noam_lr_known_values() -> None:
    lr = lambda t: noam_lr(t, scale=1.0, d_model=D, warmup_steps=WARMUP)  # noqa: E731
    assert lr(1) == pytest.approx(1 / (math.sqrt(D) * WARMUP**1.5))  # 2.85e-7
    assert lr(4000) == pytest.approx(1.1411e-3, rel=1e-4)  # the peak
    assert lr(240000) == pytest.approx(1.4731e-4, rel=1e-4)
    assert lr(4000) > lr(3999) and lr(4000) > lr(4001)
    assert noam_lr(4000, scale=2.0, d_model=D, warmup_steps=WARMUP) == pytest.approx(2 * lr(4000))


@pytest.mark.parametrize(
    ("step", "d_model", "warmup"), [(0, D, WARMUP), (-1, D, WARMUP), (1, 0, WARMUP), (1, D, 0)]
)
def test_noam_lr_rejects_bad_arguments(step: int, d_model: int, warmup: int) -> None:
    with pytest.raises(UserValueError):
        noam_lr(step, scale=1.0, d_model=d_model, warmup_steps=warmup)


def _optimizer(scale: float) -> torch.optim.Optimizer:
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(3))], lr=scale, betas=(0.9, 0.98))


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_scheduler_step_k_uses_t_k_plus_1(scale: float) -> None:
    opt = _optimizer(scale)
    sched = noam_scheduler(opt, d_model=D, warmup_steps=WARMUP)
    for k in range(20):  # lr in force for the (k+1)-th optimizer step
        expected = noam_lr(k + 1, scale=scale, d_model=D, warmup_steps=WARMUP)
        assert opt.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12)
        assert sched.get_last_lr()[0] == pytest.approx(expected, rel=1e-12)
        opt.step()
        sched.step()


def test_scheduler_resumes_with_the_optimizer_state() -> None:
    """Resume = load the optimizer's state (it holds the current lr) and the scheduler's."""
    opt = _optimizer(1.0)
    sched = noam_scheduler(opt, d_model=D, warmup_steps=WARMUP)
    for _ in range(7):
        opt.step()
        sched.step()
    opt2 = _optimizer(1.0)
    sched2 = noam_scheduler(opt2, d_model=D, warmup_steps=WARMUP)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    expected = noam_lr(8, scale=1.0, d_model=D, warmup_steps=WARMUP)
    assert opt2.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12)
    for _ in range(3):
        opt.step()
        sched.step()
        opt2.step()
        sched2.step()
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
