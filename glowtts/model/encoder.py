"""Text encoder: scaled embedding, convolutional prenet, relative-position transformer, prior."""

from __future__ import annotations

import math

import torch
from torch import nn

from glowtts.model.attention import RelativeSelfAttention
from glowtts.model.dropout import Dropout
from glowtts.model.masks import ChannelLayerNorm
from glowtts.model.packing import PackedLayout, pack, unpack

__all__ = ["FeedForward", "Prenet", "TextEncoder", "Transformer", "TransformerLayer"]

PRENET_KERNEL_SIZE = 5
PRENET_LAYERS = 3
PRENET_DROPOUT = 0.5


class Prenet(nn.Module):
    """n x (conv -> LayerNorm -> ReLU -> dropout), then a zero-initialised 1x1 projection
    added to the input (so the prenet starts as the identity)."""

    def __init__(
        self,
        *,
        channels: int,
        kernel_size: int = PRENET_KERNEL_SIZE,
        n_layers: int = PRENET_LAYERS,
        p_dropout: float = PRENET_DROPOUT,
    ) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
            for _ in range(n_layers)
        )
        self.norms = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(n_layers))
        self.dropout = Dropout(p_dropout)
        self.proj = nn.Conv1d(channels, channels, 1)
        for p in self.proj.parameters():  # zero output: the prenet starts as the identity
            nn.init.zeros_(p)

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        """x: [B, C, T_x], x_mask: [B, 1, T_x] -> [B, C, T_x] (masked)."""
        h = x
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = self.dropout(torch.relu(norm(conv(h * x_mask))))
        return (x + self.proj(h)) * x_mask


class FeedForward(nn.Module):
    """conv k -> ReLU -> dropout -> conv k, masked before each convolution."""

    def __init__(self, *, channels: int, filter_channels: int, kernel_size: int, p_dropout: float):
        super().__init__()
        self.conv_in = nn.Conv1d(channels, filter_channels, kernel_size, padding=kernel_size // 2)
        self.conv_out = nn.Conv1d(filter_channels, channels, kernel_size, padding=kernel_size // 2)
        self.dropout = Dropout(p_dropout)

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        """x: [B, C, T], x_mask: [B, 1, T] -> [B, C, T] (masked)."""
        h = self.dropout(torch.relu(self.conv_in(x * x_mask)))
        return self.conv_out(h * x_mask) * x_mask


class TransformerLayer(nn.Module):
    """Post-LN layer: x = LN(x + attn(x)); x = LN(x + ffn(x))."""

    def __init__(
        self,
        *,
        channels: int,
        filter_channels: int,
        n_heads: int,
        kernel_size: int,
        window_size: int | None,
        p_dropout: float,
    ) -> None:
        super().__init__()
        self.attention = RelativeSelfAttention(
            channels=channels, n_heads=n_heads, window_size=window_size, p_dropout=p_dropout
        )
        self.attention_norm = ChannelLayerNorm(channels)
        self.ffn = FeedForward(
            channels=channels,
            filter_channels=filter_channels,
            kernel_size=kernel_size,
            p_dropout=p_dropout,
        )
        self.ffn_norm = ChannelLayerNorm(channels)
        self.dropout = Dropout(p_dropout)

    def forward(
        self,
        x: torch.Tensor,
        x_mask: torch.Tensor,
        layout: PackedLayout | None = None,
    ) -> torch.Tensor:
        """x: [B, C, T] (masked), x_mask: [B, 1, T] -> [B, C, T] (not masked).

        With ``layout``, x and x_mask are packed ([1, C, P], [1, 1, P]) and the attention
        runs within each item.
        """
        if layout is None:
            a = self.attention(x, x_mask)
        else:
            a = self.attention.forward_packed(x, layout)
        x = self.attention_norm(x + self.dropout(a))
        return self.ffn_norm(x + self.dropout(self.ffn(x, x_mask)))


class Transformer(nn.Module):
    """A stack of post-LN relative-position transformer layers."""

    def __init__(
        self,
        *,
        channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        window_size: int | None,
        p_dropout: float,
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            TransformerLayer(
                channels=channels,
                filter_channels=filter_channels,
                n_heads=n_heads,
                kernel_size=kernel_size,
                window_size=window_size,
                p_dropout=p_dropout,
            )
            for _ in range(n_layers)
        )

    def forward(
        self,
        x: torch.Tensor,
        x_mask: torch.Tensor,
        layout: PackedLayout | None = None,
    ) -> torch.Tensor:
        """x: [B, C, T], x_mask: [B, 1, T] -> [B, C, T] (masked); packed as TransformerLayer."""
        for layer in self.layers:
            x = layer(x * x_mask, x_mask, layout)
        return x * x_mask


class TextEncoder(nn.Module):
    """Token ids -> hidden states and the prior's per-token mean (and log-std).

    Args:
        n_vocab: number of symbols.
        out_channels: prior channels (n_mels).
        hidden_channels, filter_channels, n_heads, n_layers, kernel_size, window_size,
        p_dropout: transformer hyperparameters (ModelConfig; window_size None: no relative
        position embeddings).
        prenet: use the convolutional prenet.
        mean_only: the prior's log-std is 0 (no ``proj_log_std``).
    """

    def __init__(
        self,
        *,
        n_vocab: int,
        out_channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        window_size: int | None,
        p_dropout: float,
        prenet: bool,
        mean_only: bool,
    ) -> None:
        super().__init__()
        self.hidden_channels = hidden_channels
        # zero columns between packed items: the widest half-receptive field of one conv
        self.pack_gap = max(PRENET_KERNEL_SIZE if prenet else 1, kernel_size) // 2
        self.embedding = nn.Embedding(n_vocab, hidden_channels)
        nn.init.normal_(self.embedding.weight, 0.0, hidden_channels**-0.5)
        self.prenet = Prenet(channels=hidden_channels) if prenet else None
        self.transformer = Transformer(
            channels=hidden_channels,
            filter_channels=filter_channels,
            n_heads=n_heads,
            n_layers=n_layers,
            kernel_size=kernel_size,
            window_size=window_size,
            p_dropout=p_dropout,
        )
        self.proj_mean = nn.Conv1d(hidden_channels, out_channels, 1)
        self.proj_log_std = None if mean_only else nn.Conv1d(hidden_channels, out_channels, 1)

    def forward(
        self, x: torch.Tensor, x_mask: torch.Tensor, packed: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode tokens.

        Args:
            x: [B, T_x] long token ids.
            x_mask: [B, 1, T_x] float mask.
            packed: run everything but the attention on the valid tokens packed into one
                row (same values, no work on padding; one host sync for the lengths).

        Returns:
            (hidden [B, H, T_x], prior mean x_m [B, C, T_x], prior log-std x_logs [B, C, T_x]),
            all masked.
        """
        h = self.embedding(x) * math.sqrt(self.hidden_channels)  # [B, T_x, H]
        h = h.transpose(1, 2)  # [B, H, T_x]
        if packed:
            layout = PackedLayout.build(x_mask, self.pack_gap)
            h, mask = pack(h, layout), layout.mask  # [1, H, P], [1, 1, P]
            if self.prenet is not None:
                h = self.prenet(h, mask)
            h = unpack(self.transformer(h, mask, layout), layout)
        else:
            if self.prenet is not None:
                h = self.prenet(h, x_mask)
            h = self.transformer(h, x_mask)
        x_m = self.proj_mean(h) * x_mask
        if self.proj_log_std is None:
            x_logs = torch.zeros_like(x_m)
        else:
            x_logs = self.proj_log_std(h) * x_mask
        return h, x_m, x_logs
