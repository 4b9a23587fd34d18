"""HiFi-GAN generator (Kong et al. 2020), presets V1/V2/V3, and strict loading of a local file.

The network follows the public jik876/hifi-gan ``models.py`` ``Generator`` layer for layer, with
the same state_dict names (``conv_pre``, ``ups.{i}``, ``resblocks.{j}.convs1/convs2/convs.{k}``,
``conv_post``), so its released generator files load here. Weight norm uses the parametrization
API; files saved with the deprecated hook API (``weight_g``/``weight_v``) are renamed on load.
Nothing is ever downloaded: weights come only from a file the user names.
"""

from __future__ import annotations

import math
import pickle
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrizations

from glowtts.errors import InputNotFoundError, UserValueError
from glowtts.model.wavenet import remove_weight_norm as _fold_weight_norm
from glowtts.vocoder.base import MelVocoder

__all__ = [
    "HIFIGAN_PRESETS",
    "INIT_STD",
    "LRELU_SLOPE",
    "POST_LRELU_SLOPE",
    "HiFiGAN",
    "HiFiGANConfig",
    "hifigan_preset",
    "load_hifigan",
]

LRELU_SLOPE = 0.1  # leaky ReLU before every upsampling and inside the residual blocks
POST_LRELU_SLOPE = 0.01  # the public Generator's last leaky ReLU uses PyTorch's default slope
INIT_STD = 0.01  # conv weights ~ N(0, INIT_STD) before weight norm (the public init_weights)
PRE_POST_KERNEL = 7  # kernel of conv_pre and conv_post

_WN_OLD = (".weight_g", ".weight_v")  # deprecated torch.nn.utils.weight_norm hook names
_WN_NEW = (".parametrizations.weight.original0", ".parametrizations.weight.original1")


@dataclass(frozen=True)
class HiFiGANConfig:
    """Generator hyperparameters, named as in the public ``config_v*.json``.

    Args:
        name: a label for logs and file names (the preset's name, or "custom").
        resblock: "1" (ResBlock1: pairs of dilated and plain convs) or "2" (ResBlock2).
        upsample_rates: stride of each transposed conv; their product is the hop length.
        upsample_kernel_sizes: kernel of each transposed conv (``kernel - rate`` even, >= 0).
        upsample_initial_channel: channels after ``conv_pre``, halved by every upsampling.
        resblock_kernel_sizes: kernel of each residual block of the multi-receptive-field fusion.
        resblock_dilation_sizes: dilations per residual block (3 each for "1", 2 for "2").
        n_mels: mel channels in (the public models: 80).
        sample_rate: sample rate of the audio out (the public LJSpeech models: 22050 Hz).
    """

    name: str
    resblock: Literal["1", "2"]
    upsample_rates: tuple[int, ...]
    upsample_kernel_sizes: tuple[int, ...]
    upsample_initial_channel: int
    resblock_kernel_sizes: tuple[int, ...]
    resblock_dilation_sizes: tuple[tuple[int, ...], ...]
    n_mels: int = 80
    sample_rate: int = 22050

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise UserValueError(f"HiFi-GAN config {self.name!r}: {problems[0]}")

    def _problems(self) -> list[str]:
        out: list[str] = []
        if self.resblock not in ("1", "2"):
            out.append(f"resblock must be '1' or '2', got {self.resblock!r}")
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            out.append(
                f"upsample_rates {self.upsample_rates} and upsample_kernel_sizes "
                f"{self.upsample_kernel_sizes} differ in length"
            )
        for u, k in zip(self.upsample_rates, self.upsample_kernel_sizes, strict=False):
            if u < 1 or k < u or (k - u) % 2:
                out.append(f"upsampling (rate {u}, kernel {k}) needs kernel - rate even and >= 0")
        if self.upsample_initial_channel % 2 ** len(self.upsample_rates):
            out.append(
                f"upsample_initial_channel {self.upsample_initial_channel} must be divisible "
                f"by 2 ** {len(self.upsample_rates)} (it is halved by every upsampling)"
            )
        n_dilations = 3 if self.resblock == "1" else 2
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            out.append(
                f"resblock_kernel_sizes {self.resblock_kernel_sizes} and "
                f"resblock_dilation_sizes {self.resblock_dilation_sizes} differ in length"
            )
        for d in self.resblock_dilation_sizes:
            if len(d) != n_dilations:
                out.append(f"resblock {self.resblock!r} takes {n_dilations} dilations, got {d}")
        if any(k % 2 == 0 for k in self.resblock_kernel_sizes):
            out.append(f"resblock_kernel_sizes must be odd, got {self.resblock_kernel_sizes}")
        return out

    @property
    def hop_length(self) -> int:
        """Output samples per mel frame: the product of the upsampling rates."""
        return math.prod(self.upsample_rates)


_RESBLOCK1_DILATIONS = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
HIFIGAN_PRESETS: Mapping[str, HiFiGANConfig] = types.MappingProxyType(
    {
        "V1": HiFiGANConfig(
            name="V1",
            resblock="1",
            upsample_rates=(8, 8, 2, 2),
            upsample_kernel_sizes=(16, 16, 4, 4),
            upsample_initial_channel=512,
            resblock_kernel_sizes=(3, 7, 11),
            resblock_dilation_sizes=_RESBLOCK1_DILATIONS,
        ),
        "V2": HiFiGANConfig(
            name="V2",
            resblock="1",
            upsample_rates=(8, 8, 2, 2),
            upsample_kernel_sizes=(16, 16, 4, 4),
            upsample_initial_channel=128,
            resblock_kernel_sizes=(3, 7, 11),
            resblock_dilation_sizes=_RESBLOCK1_DILATIONS,
        ),
        "V3": HiFiGANConfig(
            name="V3",
            resblock="2",
            upsample_rates=(8, 8, 4),
            upsample_kernel_sizes=(16, 16, 8),
            upsample_initial_channel=256,
            resblock_kernel_sizes=(3, 5, 7),
            resblock_dilation_sizes=((1, 2), (2, 6), (3, 12)),
        ),
    }
)


def hifigan_preset(name: str) -> HiFiGANConfig:
    """The preset called ``name`` ("V1", "V2" or "V3"; case-insensitive)."""
    config = HIFIGAN_PRESETS.get(name.upper())
    if config is None:
        raise UserValueError(
            f"unknown HiFi-GAN preset {name!r}: choose one of {', '.join(HIFIGAN_PRESETS)}"
        )
    return config


def _weight_normed(conv: nn.Conv1d | nn.ConvTranspose1d, init: bool = True) -> nn.Module:
    """``conv`` with weight g * v / ||v|| over dim 0, as the public ``weight_norm(conv)``."""
    if init:
        nn.init.normal_(conv.weight, 0.0, INIT_STD)
    return parametrizations.weight_norm(conv, name="weight", dim=0)


def _conv(channels: int, kernel_size: int, dilation: int) -> nn.Module:
    """A weight-normed, length-preserving ``[B, C, T] -> [B, C, T]`` dilated Conv1d."""
    padding = dilation * (kernel_size - 1) // 2
    return _weight_normed(
        nn.Conv1d(channels, channels, kernel_size, dilation=dilation, padding=padding)
    )


class _ResBlock1(nn.Module):
    """x += conv2(lrelu(conv1_d(lrelu(x)))) for each dilation d (the public ResBlock1)."""

    def __init__(self, channels: int, kernel_size: int, dilations: Sequence[int]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(_conv(channels, kernel_size, d) for d in dilations)
        self.convs2 = nn.ModuleList(_conv(channels, kernel_size, 1) for _ in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, T] -> [B, C, T]``."""
        for conv1, conv2 in zip(self.convs1, self.convs2, strict=True):
            xt = conv1(F.leaky_relu(x, LRELU_SLOPE))
            x = conv2(F.leaky_relu(xt, LRELU_SLOPE)) + x
        return x


class _ResBlock2(nn.Module):
    """x += conv_d(lrelu(x)) for each dilation d (the public ResBlock2)."""

    def __init__(self, channels: int, kernel_size: int, dilations: Sequence[int]) -> None:
        super().__init__()
        self.convs = nn.ModuleList(_conv(channels, kernel_size, d) for d in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, T] -> [B, C, T]``."""
        for conv in self.convs:
            x = conv(F.leaky_relu(x, LRELU_SLOPE)) + x
        return x


class HiFiGAN(MelVocoder):
    """HiFi-GAN generator: log-mel ``[B, n_mels, T_y]`` -> waveform ``[B, 1, T_y * hop]``.

    conv_pre -> per upsampling: lrelu, transposed conv (stride = rate), mean of the residual
    blocks (multi-receptive-field fusion) -> lrelu -> conv_post -> tanh. Every conv is
    weight-normed; :meth:`remove_weight_norm` folds it for inference.

    Args:
        cfg: the hyperparameters (see :data:`HIFIGAN_PRESETS`).
    """

    cfg: HiFiGANConfig

    def __init__(self, cfg: HiFiGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.name = f"hifigan_{cfg.name.lower()}"  # e.g. hifigan_v1, for logs and file names
        C = cfg.upsample_initial_channel
        block = _ResBlock1 if cfg.resblock == "1" else _ResBlock2
        pad = PRE_POST_KERNEL // 2
        # The public code leaves conv_pre at PyTorch's default init.
        self.conv_pre = _weight_normed(
            nn.Conv1d(cfg.n_mels, C, PRE_POST_KERNEL, padding=pad), init=False
        )
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        for i, (u, k) in enumerate(zip(cfg.upsample_rates, cfg.upsample_kernel_sizes, strict=True)):
            c_in, c_out = C // 2**i, C // 2 ** (i + 1)
            # Output length (T - 1) * u - 2 * ((k - u) / 2) + k = T * u since k - u is even.
            up = nn.ConvTranspose1d(c_in, c_out, k, stride=u, padding=(k - u) // 2)
            self.ups.append(_weight_normed(up))
            for kr, d in zip(cfg.resblock_kernel_sizes, cfg.resblock_dilation_sizes, strict=True):
                self.resblocks.append(block(c_out, kr, d))
        c_last = C // 2 ** len(cfg.upsample_rates)
        self.conv_post = _weight_normed(nn.Conv1d(c_last, 1, PRE_POST_KERNEL, padding=pad))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """Log-mel ``[B, n_mels, T_y]`` -> waveform in [-1, 1] ``[B, 1, T_y * hop_length]``."""
        self.check_mel(mel)
        n_blocks = len(self.cfg.resblock_kernel_sizes)
        x = self.conv_pre(mel)  # [B, C, T_y]
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))  # [B, C / 2^(i+1), T_y * prod(rates[: i + 1])]
            blocks = self.resblocks[i * n_blocks : (i + 1) * n_blocks]
            fused = blocks[0](x)
            for resblock in blocks[1:]:
                fused = fused + resblock(x)
            x = fused / n_blocks
        x = self.conv_post(F.leaky_relu(x, POST_LRELU_SLOPE))  # [B, 1, T_y * hop]
        return torch.tanh(x)

    def remove_weight_norm(self) -> int:
        """Fold every weight norm into a plain weight (same outputs, faster); returns how many."""
        return _fold_weight_norm(self)


def _shapes(cfg: HiFiGANConfig) -> dict[str, torch.Size]:
    """State_dict key -> shape of a weight-normed generator, built on the meta device (free)."""
    with torch.device("meta"):
        model = HiFiGAN(cfg)
    return {key: value.shape for key, value in model.state_dict().items()}


def _first_mismatch(
    expected: Mapping[str, torch.Size], state: Mapping[str, torch.Tensor]
) -> tuple[str, torch.Size | None, torch.Size | None] | None:
    """The first (key, file shape, model shape) that differs, in the model's key order.

    A missing key has file shape None; an unexpected one (checked after) model shape None.
    """
    for key, shape in expected.items():
        if key not in state:
            return key, None, shape
        if state[key].shape != shape:
            return key, state[key].shape, shape
    for key, value in state.items():
        if key not in expected:
            return key, value.shape, None
    return None


def _renamed(state: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Old weight-norm names (``weight_g``/``weight_v``) -> parametrization names.

    Returns:
        the renamed state_dict and, for messages, new name -> name in the file.
    """
    renamed: dict[str, torch.Tensor] = {}
    file_names: dict[str, str] = {}
    for key, value in state.items():
        new = key
        for old_suffix, new_suffix in zip(_WN_OLD, _WN_NEW, strict=True):
            if key.endswith(old_suffix):
                new = key[: -len(old_suffix)] + new_suffix
        renamed[new] = value
        file_names[new] = key
    return renamed, file_names


def _in_style(key: str, old_style: bool) -> str:
    """A parametrization key as a file with old weight-norm names would name it."""
    if old_style:
        for old_suffix, new_suffix in zip(_WN_OLD, _WN_NEW, strict=True):
            if key.endswith(new_suffix):
                return key[: -len(new_suffix)] + old_suffix
    return key


def _read_state_dict(path: Path, map_location: str | torch.device) -> dict[str, torch.Tensor]:
    """The generator state_dict in ``path``: ``{'generator': state_dict}`` or a bare one."""
    if not path.is_file():
        raise InputNotFoundError(
            f"{path}: no such HiFi-GAN generator file; name a local checkpoint (e.g. the "
            f"public LJ_V1/generator_v1), nothing is downloaded"
        )
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as e:
        first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise UserValueError(
            f"{path}: not a PyTorch checkpoint of tensors (torch.load(weights_only=True) "
            f"failed: {first_line}); name a HiFi-GAN generator file such as generator_v1"
        ) from e
    if isinstance(data, Mapping) and isinstance(data.get("generator"), Mapping):
        data = data["generator"]
    if not isinstance(data, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()
    ):
        keys = list(data)[:5] if isinstance(data, Mapping) else type(data).__name__
        raise UserValueError(
            f"{path}: holds no HiFi-GAN generator state_dict (found {keys}); expected "
            f"{{'generator': state_dict}} or a bare state_dict of tensors"
        )
    return dict(data)


def load_hifigan(
    path: str | Path,
    preset_or_config: str | HiFiGANConfig,
    map_location: str | torch.device = "cpu",
) -> HiFiGAN:
    """A HiFi-GAN generator with the weights of a local file, in eval mode (weight norm kept).

    Accepts the public format ``{'generator': state_dict}`` or a bare state_dict, with old
    (``weight_g``/``weight_v``) or parametrization weight-norm names. Loading is strict.

    Args:
        path: the checkpoint file.
        preset_or_config: "V1", "V2", "V3" or a :class:`HiFiGANConfig`.
        map_location: where the tensors are loaded (the model is built there too).

    Raises:
        InputNotFoundError: ``path`` does not exist.
        UserValueError: the file is not a torch checkpoint of tensors, or its keys or shapes
            differ from the generator's (the message names the first such key and the preset
            that fits, if any).
    """
    path = Path(path)
    if isinstance(preset_or_config, str):
        cfg = hifigan_preset(preset_or_config)
    else:
        cfg = preset_or_config
    state, file_names = _renamed(_read_state_dict(path, map_location))
    mismatch = _first_mismatch(_shapes(cfg), state)
    if mismatch is not None:
        key, got, want = mismatch
        if got is None:  # named as the file names its keys (old or new weight-norm style)
            old_style = any(name != new for new, name in file_names.items())
            what = f"missing key {_in_style(key, old_style)!r} (model shape {tuple(want or ())})"
        elif want is None:
            what = f"unexpected key {file_names[key]!r} (file shape {tuple(got)})"
        else:
            what = f"key {file_names[key]!r}: file shape {tuple(got)} vs model {tuple(want)}"
        fits = [
            name
            for name, preset in HIFIGAN_PRESETS.items()
            if preset != cfg and _first_mismatch(_shapes(preset), state) is None
        ]
        if fits:
            hint = (
                f"the file fits preset {fits[0].lower()!r}: load it with that preset "
                f"(synthesis.hifigan_preset: {fits[0].lower()}, or --hifigan-preset)"
            )
        else:
            hint = (
                f"it fits none of the presets {', '.join(map(str.lower, HIFIGAN_PRESETS))}: pass a "
                f"HiFiGANConfig with the hyperparameters of its config.json"
            )
        raise UserValueError(
            f"{path}: does not fit HiFi-GAN {cfg.name}: first mismatch at {what}; {hint}"
        )
    with torch.device(map_location):
        model = HiFiGAN(cfg)
    model.load_state_dict(state, strict=True)
    return model.eval()
