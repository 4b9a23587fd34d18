"""The process group under torchrun: rank, world size and device from the environment.

One code path for every scale: a plain ``python -m glowtts.train`` is rank 0 of 1 and starts
no process group; under ``torchrun`` (one node or many, c10d rendezvous) the ranks come from
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``, the backend is NCCL on GPUs and gloo on CPUs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from glowtts.errors import UserValueError

__all__ = ["DistEnv", "all_reduce_sum", "init_distributed", "select_device", "shutdown"]


@dataclass(frozen=True)
class DistEnv:
    """Where this process stands: its rank among ``world_size`` and its device."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that logs, validates and writes."""
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise UserValueError(f"environment variable {name}={value!r} is not an integer") from None


def select_device(choice: str, local_rank: int) -> torch.device:
    """``train.device``: auto takes GPU ``local_rank`` when CUDA is available, else the CPU."""
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise UserValueError(
                "train.device is 'cuda' but this machine has no usable CUDA GPU; set "
                "train.device: auto (or cpu)"
            )
        n = torch.cuda.device_count()
        if local_rank >= n:
            raise UserValueError(
                f"LOCAL_RANK {local_rank} but this node has {n} GPU(s): start at most {n} "
                "processes per node (torchrun --nproc_per_node)"
            )
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def init_distributed(device_choice: str = "auto") -> DistEnv:
    """Read the torchrun environment, pick the device and, with several processes, join the
    process group (NCCL on CUDA, gloo on CPU)."""
    rank = _env_int("RANK", 0)
    world_size = _env_int("WORLD_SIZE", 1)
    local_rank = _env_int("LOCAL_RANK", 0)
    device = select_device(device_choice, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, device_id=device if backend == "nccl" else None)
    return DistEnv(rank=rank, local_rank=local_rank, world_size=world_size, device=device)


def all_reduce_sum(t: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """The sum of ``t`` over all processes (``t`` itself with one process); out of place."""
    if not env.distributed:
        return t
    out = t.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out


def shutdown(env: DistEnv) -> None:
    """Leave the process group (a no-op with one process)."""
    if env.distributed and dist.is_initialized():
        dist.destroy_process_group()
