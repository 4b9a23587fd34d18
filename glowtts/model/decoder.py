"""Flow decoder: squeeze mel frames, n x [ActNorm -> InvConvNear -> AffineCoupling], unsqueeze."""

from __future__ import annotations

import torch
from torch import nn

from glowtts.model.flows import ActNorm, AffineCoupling, Flow, InvConvNear
from glowtts.model.packing import PackedLayout, pack, segment_sum, unpack

__all__ = ["FlowDecoder", "squeeze", "unsqueeze"]


def squeeze(x: torch.Tensor, x_mask: torch.Tensor, n_sqz: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold n_sqz consecutive frames into channels.

    Args:
        x: [B, C, T] with T a multiple of n_sqz.
        x_mask: [B, 1, T].

    Returns:
        ([B, C * n_sqz, T / n_sqz] where channel k * C + c holds frame n_sqz * t + k,
        mask [B, 1, T / n_sqz]).
    """
    B, C, T = x.shape
    x = x.view(B, C, T // n_sqz, n_sqz).permute(0, 3, 1, 2)  # [B, n_sqz, C, T/n_sqz]
    mask = x_mask[:, :, n_sqz - 1 :: n_sqz]
    return x.reshape(B, C * n_sqz, T // n_sqz) * mask, mask


def unsqueeze(
    x: torch.Tensor, x_mask: torch.Tensor, n_sqz: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`squeeze`: x [B, C, T], x_mask [B, 1, T] -> [B, C / n_sqz, T * n_sqz]."""
    B, C, T = x.shape
    x = x.view(B, n_sqz, C // n_sqz, T).permute(0, 2, 3, 1)  # [B, C/n_sqz, T, n_sqz]
    mask = x_mask.repeat_interleave(n_sqz, dim=2)  # [B, 1, T * n_sqz]
    return x.reshape(B, C // n_sqz, T * n_sqz) * mask, mask


class FlowDecoder(nn.Module):
    """Invertible map between mel frames y and latents z of the same shape.

    ``flows`` is the flat list [ActNorm, InvConvNear, AffineCoupling] * n_blocks acting on
    the squeezed [B, n_mels * n_sqz, T_y / n_sqz] tensor.

    Args:
        in_channels: n_mels.
        hidden_channels: WaveNet channels.
        kernel_size, dilation_rate, n_layers, p_dropout, sigmoid_scale: coupling settings.
        n_blocks: number of [ActNorm, InvConvNear, AffineCoupling] blocks.
        n_split: InvConvNear group size.
        n_sqz: frames folded into channels.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_blocks: int,
        n_layers: int,
        p_dropout: float,
        n_split: int,
        n_sqz: int,
        sigmoid_scale: bool,
    ) -> None:
        super().__init__()
        self.n_sqz = n_sqz
        # zero frames between packed items: the widest half-receptive field of one conv
        self.pack_gap = (kernel_size - 1) // 2 * dilation_rate ** (n_layers - 1)
        channels = in_channels * n_sqz
        flows: list[Flow] = []
        for _ in range(n_blocks):
            flows.append(ActNorm(channels))
            flows.append(InvConvNear(channels, n_split))
            flows.append(
                AffineCoupling(
                    channels=channels,
                    hidden_channels=hidden_channels,
                    kernel_size=kernel_size,
                    dilation_rate=dilation_rate,
                    n_layers=n_layers,
                    p_dropout=p_dropout,
                    sigmoid_scale=sigmoid_scale,
                )
            )
        self.flows = nn.ModuleList(flows)

    def forward(
        self, x: torch.Tensor, x_mask: torch.Tensor, reverse: bool = False, packed: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """y -> z (or z -> y with reverse).

        Args:
            x: [B, n_mels, T] with T a multiple of n_sqz.
            x_mask: [B, 1, T] float prefix mask whose lengths are multiples of n_sqz.
            packed: run the flows on the valid frames packed into one row (same result,
                no work on padding; one host sync for the lengths).

        Returns:
            (output [B, n_mels, T] masked, logdet [B] of the direction run).
        """
        h, mask = squeeze(x, x_mask, self.n_sqz)
        sq_mask = mask
        if packed:
            layout = PackedLayout.build(mask, self.pack_gap)
            h, mask = pack(h, layout), layout.mask
        # per-frame log-det [B, T], accumulated in float64: items sum thousands of frames
        logdet = torch.zeros(h.size(0), h.size(2), device=h.device, dtype=torch.float64)
        flows: list[Flow] = list(self.flows)  # type: ignore[arg-type]
        for flow in reversed(flows) if reverse else flows:
            h, ld = flow.transform(h, mask, reverse=reverse)
            logdet = logdet + ld
        if packed:
            h, per_item = unpack(h, layout), segment_sum(logdet, layout)
        else:
            per_item = logdet.sum(dim=1)
        out, _ = unsqueeze(h, sq_mask, self.n_sqz)
        # at least float32: a batch's log-det (~ -1e5) overflows float16 under autocast
        return out, per_item.to(torch.promote_types(h.dtype, torch.float32))

    def generate(self, z: torch.Tensor, z_mask: torch.Tensor, packed: bool = False) -> torch.Tensor:
        """Latents to mel frames, the reverse pass alone: no log-determinant, no float64.

        Args:
            z: [B, n_mels, T] with T a multiple of n_sqz; z_mask: [B, 1, T] float prefix mask.
            packed: as in :meth:`forward` (padded for export: no host sync at all).

        Returns:
            [B, n_mels, T] masked.
        """
        h, mask = squeeze(z, z_mask, self.n_sqz)
        sq_mask = mask
        if packed:
            layout = PackedLayout.build(mask, self.pack_gap)
            h, mask = pack(h, layout), layout.mask
        flows: list[Flow] = list(self.flows)  # type: ignore[arg-type]
        for flow in reversed(flows):
            h = flow.inverse(h, mask)
        if packed:
            h = unpack(h, layout)
        out, _ = unsqueeze(h, sq_mask, self.n_sqz)
        return out

    @torch.no_grad()
    def data_dependent_init(self, x: torch.Tensor, x_mask: torch.Tensor) -> None:
        """Initialise every ActNorm from the statistics of its input on this batch.

        Args:
            x: [B, n_mels, T] mel frames (T a multiple of n_sqz), x_mask: [B, 1, T].
        """
        h, mask = squeeze(x, x_mask, self.n_sqz)
        for flow in self.flows:
            if isinstance(flow, ActNorm):
                flow.initialize(h, mask)
            h, _ = flow(h, mask)

    def cache_inverse(self) -> None:
        """Cache each InvConvNear's inverse for reverse (inference) passes."""
        for flow in self.flows:
            if isinstance(flow, InvConvNear):
                flow.cache_inverse()
