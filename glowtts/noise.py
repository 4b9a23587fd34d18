"""Seeded standard-normal noise from integer tensor ops alone, identical in torch and ONNX.

An exported model cannot take a ``torch.Generator``, and noise passed in as an input must be as
long as the output, which is only known inside the model. So the exported voice draws its own
noise from a seed: every element ``(b, c, t)`` hashes ``(seed, b, c, t)`` to two uniforms by a
keyed permutation of the integers modulo the prime ``P = 2^31 - 1`` (two rounds of
``x -> x^5 + k``, a bijection as ``gcd(5, P - 1) = 1``, then one more round for each uniform);
Box-Muller turns the pair into two normal values, for channels ``c`` and ``c + C/2``. Every
intermediate stays below 2^62, so int64 arithmetic is exact everywhere; an element's value does
not depend on the tensor's size, so a longer output extends the same noise.

Quality is that of a hash, enough for sampling latents (tests check the moments, independence
across time and channels, and the normal distribution), not for cryptography.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["batch_seed", "counter_normal"]

_P = 2_147_483_647  # 2^31 - 1, prime
_ROUND_KEYS = (1_234_567, 987_654_321, 555_555_557, 1_618_033_988)
_STRIDES = (1_000_003, 7_919, 104_729, 1_299_709)  # seed, batch, channel, frame


def batch_seed(seed: int, first_row: int) -> int:
    """The seed under which batch row 0 draws what row ``first_row`` draws under ``seed``.

    The key is linear in seed and row, so a list split into batches, each run with the seed
    of its first row, gets the noise of one big batch (plain ints: no torch needed).
    """
    shift = first_row * _STRIDES[1] * pow(_STRIDES[0], -1, _P)
    return (seed % _P + shift) % _P


def _mix(x: torch.Tensor, keys: tuple[int, ...]) -> torch.Tensor:
    """A keyed permutation of [0, P): rounds of x -> (x^5 + k) mod P on int64."""
    for key in keys:
        x2 = (x * x) % _P
        x4 = (x2 * x2) % _P
        x = (x4 * x + key) % _P
    return x


def counter_normal(
    seed: torch.Tensor, batch: int, channels: int, frames: torch.Tensor
) -> torch.Tensor:
    """Standard normal noise ``[batch, channels, T]`` for ``frames = arange(T)``.

    Args:
        seed: 0-dim int64 tensor (any value; taken modulo P).
        batch, channels: sizes B and C.
        frames: [T] int64 frame indices (``torch.arange(T)``: T may be a traced size).

    Returns:
        [B, C, T] float32.
    """
    import torch

    device = frames.device
    half = (channels + 1) // 2  # Box-Muller gives two normals per pair of uniforms
    b = torch.arange(batch, device=device, dtype=torch.int64).view(-1, 1, 1)
    c = torch.arange(half, device=device, dtype=torch.int64).view(1, -1, 1)
    t = frames.to(torch.int64).view(1, 1, -1)
    s = torch.remainder(seed.to(torch.int64), _P)
    key = (s * _STRIDES[0] + b * _STRIDES[1] + c * _STRIDES[2] + t * _STRIDES[3]) % _P
    key = _mix(key, _ROUND_KEYS[:2])  # [B, C/2, T] in [0, P)
    u1 = (_mix((key * 2 + 1) % _P, _ROUND_KEYS[2:3]).to(torch.float32) + 0.5) / _P  # (0, 1]
    u2 = (_mix((key * 2 + 2) % _P, _ROUND_KEYS[3:]).to(torch.float32) + 0.5) / _P
    radius = torch.sqrt(-2.0 * torch.log(u1))
    angle = 2.0 * math.pi * u2
    pairs = torch.cat([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return pairs[:, :channels]
