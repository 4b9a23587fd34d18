"""Pack the valid frames of a padded batch into one row, so convolutions skip the padding.

Items are laid end to end with ``gap`` zero frames between them. When every temporal
convolution's input is masked (true in the encoder's convolutions and the decoder) and
``gap`` is at least the largest half-receptive field of one convolution, each valid output
frame is exactly what the padded computation gives, and the padding (a third of the frames
of a typical LJSpeech batch) costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["PackedLayout", "pack", "segment_sum", "unpack"]


@dataclass(frozen=True)
class PackedLayout:
    """Where each packed column comes from.

    Attributes:
        batch, time: sizes B, T of the padded tensor.
        mask: [1, 1, P] float, 1.0 on packed columns holding valid frames.
        source: [P] long, column of the [C, B * T + 1] flattened input (B * T: a zero column).
        valid: [N] long, the packed columns holding valid frames.
        target: [N] long, their flat position b * T + t in the padded layout.
        item: [N] long, their batch index b.
        starts, lengths: first packed column and length of each item.
    """

    batch: int
    time: int
    mask: torch.Tensor
    source: torch.Tensor
    valid: torch.Tensor
    target: torch.Tensor
    item: torch.Tensor
    starts: tuple[int, ...]
    lengths: tuple[int, ...]

    @staticmethod
    def build(x_mask: torch.Tensor, gap: int) -> PackedLayout:
        """Layout of the valid frames of x_mask [B, 1, T] (prefix masks), ``gap`` apart."""
        B, _, T = x_mask.shape
        lengths = x_mask.sum(dim=(1, 2)).long().tolist()  # host sync: the packed size
        source, valid, target, item, starts = [], [], [], [], []
        pos = 0
        for b, n in enumerate(lengths):
            starts.append(pos)
            source.append(torch.arange(b * T, b * T + n))
            source.append(torch.full((gap,), B * T))  # the zero column
            valid.append(torch.arange(pos, pos + n))
            target.append(torch.arange(b * T, b * T + n))
            item.append(torch.full((n,), b))
            pos += n + gap
        dev = x_mask.device
        valid_t = torch.cat(valid).to(dev)
        mask = torch.zeros(1, 1, pos, device=dev, dtype=x_mask.dtype)
        mask[0, 0, valid_t] = 1.0
        return PackedLayout(
            batch=B,
            time=T,
            mask=mask,
            source=torch.cat(source).to(dev),
            valid=valid_t,
            target=torch.cat(target).to(dev),
            item=torch.cat(item).to(dev),
            starts=tuple(starts),
            lengths=tuple(lengths),
        )


def pack(x: torch.Tensor, layout: PackedLayout) -> torch.Tensor:
    """Padded [B, C, T] -> packed [1, C, P] (zero between items)."""
    B, C, T = x.shape
    flat = x.transpose(0, 1).reshape(C, B * T)  # [C, B * T]
    flat = torch.cat([flat, flat.new_zeros(C, 1)], dim=1)  # [C, B * T + 1]
    return flat.index_select(1, layout.source).unsqueeze(0)  # [1, C, P]


def unpack(packed: torch.Tensor, layout: PackedLayout) -> torch.Tensor:
    """Packed [1, C, P] -> padded [B, C, T] (zero on padding)."""
    C = packed.size(1)
    cols = packed[0].index_select(1, layout.valid)  # [C, N]
    flat = packed.new_zeros(C, layout.batch * layout.time).index_copy(1, layout.target, cols)
    return flat.view(C, layout.batch, layout.time).transpose(0, 1)  # [B, C, T]


def segment_sum(frame_values: torch.Tensor, layout: PackedLayout) -> torch.Tensor:
    """Per-column values [1, P] -> their sum over each item's valid frames [B]."""
    zeros = frame_values.new_zeros(layout.batch)
    return zeros.index_add(0, layout.item, frame_values[0].index_select(0, layout.valid))
