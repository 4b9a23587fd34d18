"""Training: the loop (one code path from a CPU to many GPUs on many nodes), the Noam
schedule, the process group, checkpoints and exact resume, TensorBoard.

``python -m glowtts.train`` (alone or under ``torchrun``) is the entry point; see
:mod:`glowtts.train.__main__`. Importing this package does not import torch's heavy parts
until :func:`train` is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glowtts.train.loop import NonFiniteLossError, TrainPaths, train

__all__ = ["NonFiniteLossError", "TrainPaths", "train"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from glowtts.train import loop

        return getattr(loop, name)
    raise AttributeError(f"module 'glowtts.train' has no attribute {name!r}")
