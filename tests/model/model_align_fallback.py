"""A naive MAS and alignment helpers (the glowtts.align contract) for the model tests.

Used only where glowtts.align does not (yet) provide a name; the real module wins otherwise.
Straight loops over REFERENCE.md "Monotonic Alignment Search", tiny sizes only.
"""

from __future__ import annotations

import pytest
import torch


def naive_maximum_path(log_p: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor):
    """log_p [B, T_y, T_x] -> per-frame token indices [B, T_y]."""
    B, T_y, _ = log_p.shape
    out = torch.zeros(B, T_y, dtype=torch.long)
    neg = float("-inf")
    for b in range(B):
        tx, ty = int(x_mask[b].sum()), int(y_mask[b].sum())
        if tx > ty:
            raise ValueError(f"batch index {b}: x length {tx} > y length {ty}")
        v = log_p[b].double().tolist()
        q = [[neg] * ty for _ in range(tx)]
        for y in range(ty):
            for x in range(max(0, tx + y - ty), min(tx, y + 1)):
                if y == 0:
                    prev = 0.0 if x == 0 else neg
                else:
                    same = q[x][y - 1]
                    diag = q[x - 1][y - 1] if x > 0 else neg
                    prev = max(same, diag)
                q[x][y] = v[y][x] + prev
        x = tx - 1
        for y in range(ty - 1, -1, -1):
            out[b, y] = x
            if y > 0 and x > 0 and (x == y or q[x][y - 1] < q[x - 1][y - 1]):
                x -= 1
    return out.to(log_p.device)


def naive_durations_from_indices(indices, y_mask, T_x: int):
    B = indices.size(0)
    d = torch.zeros(B, 1, T_x, dtype=y_mask.dtype)
    return d.scatter_add_(2, indices[:, None, :], y_mask)


def naive_indices_from_durations(durations, y_mask):
    B, T_y = y_mask.size(0), y_mask.size(2)
    out = torch.zeros(B, T_y, dtype=torch.long)
    for b in range(B):
        t = 0
        for i, d in enumerate(durations[b].long().tolist()):
            for _ in range(d):
                if t < int(y_mask[b].sum()):
                    out[b, t] = i
                t += 1
    return out


def naive_path_from_indices(indices, x_mask, y_mask):
    B, T_x, T_y = x_mask.size(0), x_mask.size(2), y_mask.size(2)
    path = torch.zeros(B, 1, T_x, T_y)
    for b in range(B):
        for t in range(int(y_mask[b].sum())):
            path[b, 0, indices[b, t], t] = 1.0
    return path


FALLBACKS = {
    "maximum_path": naive_maximum_path,
    "durations_from_indices": naive_durations_from_indices,
    "indices_from_durations": naive_indices_from_durations,
    "path_from_indices": naive_path_from_indices,
}


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give glowtts.align every contract name it lacks (the real implementation wins)."""
    import glowtts.align as align

    for name, fn in FALLBACKS.items():
        if not hasattr(align, name):
            monkeypatch.setattr(align, name, fn, raising=False)
