"""What exact resume needs besides the weights: RNG states, and the checkpoint files on disk.

Checkpoints live in ``<train dir>/checkpoints/step-XXXXXXXX.pt`` (our checkpoint format with
its ``train`` part filled in); the newest ``keep`` are kept.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "capture_rng",
    "checkpoint_path",
    "latest_checkpoint",
    "list_checkpoints",
    "prune_checkpoints",
    "remove_stale_temporaries",
    "restore_rng",
]

_NAME = re.compile(r"^step-(\d{8})\.pt$")


def capture_rng(device: torch.device) -> dict[str, Any]:
    """Every generator this process draws from: torch (CPU and the CUDA device), numpy, random."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": _numpy_state(),
        "python": _python_state(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict[str, Any], device: torch.device) -> None:
    """Undo :func:`capture_rng`: the next random draw is the one the captured process made."""
    torch.set_rng_state(state["torch"])
    keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state(
        ("MT19937", keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(gauss))
    )
    version, internal, gauss_next = state["python"]
    random.setstate((int(version), tuple(int(v) for v in internal.tolist()), gauss_next))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _numpy_state() -> tuple[torch.Tensor, int, int, float]:
    """numpy's legacy global state as tensors and numbers (``weights_only`` loads these)."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    return (
        torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        int(pos),
        int(has_gauss),
        float(gauss),
    )


def _python_state() -> tuple[int, torch.Tensor, float | None]:
    version, internal, gauss_next = random.getstate()
    return int(version), torch.tensor(internal, dtype=torch.int64), gauss_next


def checkpoint_path(folder: Path, step: int) -> Path:
    """``folder/step-00001200.pt``."""
    return folder / f"step-{step:08d}.pt"


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        m = _NAME.match(path.name)
        if m:
            found.append((int(m.group(1)), path))
    return sorted(found)


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint in ``folder``, or None."""
    found = list_checkpoints(folder)
    return found[-1][1] if found else None


def prune_checkpoints(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` checkpoints; return the deleted paths."""
    found = list_checkpoints(folder)
    doomed = [p for _, p in found[: max(0, len(found) - keep)]]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete half-written checkpoints a killed save left (``.step-*.pt.tmp-PID``)."""
    if not folder.is_dir():
        return []
    stale = [p for p in folder.iterdir() if p.name.startswith(".step-") and ".tmp-" in p.name]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
