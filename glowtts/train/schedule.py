"""The Noam learning-rate schedule, as the reference's ``commons.Adam`` applies it.

``lr(t) = scale * d_model**-0.5 * min(t**-0.5, t * warmup_steps**-1.5)`` with ``t`` counted
from 1: the reference's first optimizer step uses ``t = 1``, and after each step ``t`` grows
by one. The peak, at ``t = warmup_steps``, is ``scale * (d_model * warmup_steps)**-0.5``.
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import LambdaLR

from glowtts.errors import UserValueError

__all__ = ["noam_lr", "noam_scheduler"]


def noam_lr(step: int, *, scale: float, d_model: int, warmup_steps: int) -> float:
    """The learning rate of optimizer step ``step`` (1-based: the first step is ``step=1``).

    Args:
        step: t >= 1.
        scale: the schedule's scale (``train.learning_rate``; 1.0 in the reference).
        d_model: the model width (``model.hidden_channels``).
        warmup_steps: steps of linear warm-up (``train.warmup_steps``).
    """
    if step < 1:
        raise UserValueError(f"the Noam schedule counts steps from 1, got step={step}")
    if d_model < 1 or warmup_steps < 1:
        raise UserValueError(
            f"d_model and warmup_steps must be >= 1, got d_model={d_model}, "
            f"warmup_steps={warmup_steps}"
        )
    return scale * d_model**-0.5 * min(step**-0.5, step * warmup_steps**-1.5)


def noam_scheduler(
    optimizer: torch.optim.Optimizer, *, d_model: int, warmup_steps: int, last_epoch: int = -1
) -> LambdaLR:
    """A LambdaLR that sets ``lr = noam_lr(k + 1, scale=base_lr, ...)`` after ``k`` steps.

    The optimizer's own ``lr`` is the schedule's scale (``train.learning_rate``). Call
    ``scheduler.step()`` after each ``optimizer.step()``, as usual: on construction the lr is
    that of ``t = 1``, after ``k`` scheduler steps that of ``t = k + 1``. Its ``state_dict``
    (``last_epoch`` = k) resumes it.

    Args:
        optimizer: its param groups' ``lr`` is the scale.
        d_model, warmup_steps: as in :func:`noam_lr`.
        last_epoch: -1 for a new schedule (LambdaLR's convention).
    """
    noam_lr(1, scale=1.0, d_model=d_model, warmup_steps=warmup_steps)  # validate the arguments

    def factor(completed_steps: int) -> float:
        return noam_lr(completed_steps + 1, scale=1.0, d_model=d_model, warmup_steps=warmup_steps)

    return LambdaLR(optimizer, factor, last_epoch=last_epoch)
