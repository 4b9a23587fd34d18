"""The Glow-TTS model: text encoder + duration predictor + flow decoder, trained with MAS."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrize

from glowtts.config import ModelConfig
from glowtts.model.decoder import FlowDecoder
from glowtts.model.duration import DurationPredictor
from glowtts.model.encoder import TextEncoder
from glowtts.model.masks import sequence_mask
from glowtts.model.wavenet import remove_weight_norm

__all__ = ["GlowTTS", "InferenceOutput", "TrainOutput"]

DURATION_EPS = 1e-8  # logw_ = log(DURATION_EPS + frames per token), as the reference
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclass
class TrainOutput:
    """What the training forward returns (T_y is the batch's frame count floored to n_sqz).

    Attributes:
        z: [B, n_mels, T_y] latents of the mel frames (masked).
        z_m, z_logs: [B, n_mels, T_y] prior mean / log-std expanded to frames (0 on padding).
        logdet: [B] decoder log|det J|.
        y_mask: [B, 1, T_y]; y_lengths: [B] long, floored to a multiple of n_sqz.
        x_m, x_logs: [B, n_mels, T_x] per-token prior; x_mask: [B, 1, T_x].
        indices: [B, T_y] long, the token each frame is aligned to (0 on padding).
        durations: [B, T_x] frames per token from MAS (the layout of inference's too).
        logw: [B, 1, T_x] predicted log-durations; logw_target: [B, 1, T_x] log(eps + durations).
        log_p: [B, T_y, T_x] the log-likelihoods MAS received (no grad).
    """

    z: torch.Tensor
    z_m: torch.Tensor
    z_logs: torch.Tensor
    logdet: torch.Tensor
    y_mask: torch.Tensor
    y_lengths: torch.Tensor
    x_m: torch.Tensor
    x_logs: torch.Tensor
    x_mask: torch.Tensor
    indices: torch.Tensor
    durations: torch.Tensor
    logw: torch.Tensor
    logw_target: torch.Tensor
    log_p: torch.Tensor


@dataclass
class InferenceOutput:
    """What :meth:`GlowTTS.infer` returns.

    Attributes:
        mel: [B, n_mels, T_y] generated log-mel (0 on padding).
        y_mask: [B, 1, T_y]; y_lengths: [B] long (floored to a multiple of n_sqz).
        indices: [B, T_y] long token index of each frame (0 on padding).
        durations: [B, T_x] float frames per token before flooring the total (ceil'ed).
        logw: [B, 1, T_x] predicted log-durations.
        z_m, z_logs: [B, n_mels, T_y] prior expanded to frames.
        x_m, x_logs: [B, n_mels, T_x]; x_mask: [B, 1, T_x].
    """

    mel: torch.Tensor
    y_mask: torch.Tensor
    y_lengths: torch.Tensor
    indices: torch.Tensor
    durations: torch.Tensor
    logw: torch.Tensor
    z_m: torch.Tensor
    z_logs: torch.Tensor
    x_m: torch.Tensor
    x_logs: torch.Tensor
    x_mask: torch.Tensor


@contextlib.contextmanager
def _exact_fp32(device: torch.device) -> Iterator[None]:
    """float32 matmuls without TF32 on CUDA (TF32's 10-bit mantissa can flip near-tied MAS
    paths); training turns TF32 on for everything else."""
    if device.type != "cuda":
        yield
        return
    before = torch.backends.cuda.matmul.fp32_precision
    torch.backends.cuda.matmul.fp32_precision = "ieee"
    try:
        yield
    finally:
        torch.backends.cuda.matmul.fp32_precision = before


def _expand(x: torch.Tensor, indices: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
    """Per-token values to frames by gather: x [B, C, T_x], indices [B, T_y] -> [B, C, T_y]."""
    B, C, _ = x.shape
    idx = indices.unsqueeze(1).expand(B, C, indices.size(1))  # [B, C, T_y]
    return torch.gather(x, 2, idx) * y_mask


class GlowTTS(nn.Module):
    """Glow-TTS (Kim et al. 2020), built from a :class:`ModelConfig`.

    Args:
        cfg: model hyperparameters.
        n_vocab: number of input symbols (text frontend).
        n_mels: mel channels (AudioConfig.n_mels).
    """

    def __init__(self, cfg: ModelConfig, n_vocab: int, n_mels: int) -> None:
        super().__init__()
        if (n_mels * cfg.n_sqz) % cfg.n_split or cfg.n_split % 2:
            raise ValueError(
                f"model.n_split ({cfg.n_split}) must be even and divide "
                f"n_mels * n_sqz ({n_mels * cfg.n_sqz})"
            )
        self.cfg = cfg
        self.n_vocab = n_vocab
        self.n_mels = n_mels
        self.n_sqz = cfg.n_sqz
        # OpenMP threads of the CPU MAS kernel (None: torch's). Training beside DataLoader
        # workers sets 1: on oversubscribed cores 2 threads ran 8x slower than one.
        self.mas_threads: int | None = None
        # On a GPU: run MAS on the host's OpenMP kernel (train.mas_on_host) instead of the
        # batched torch path.
        self.mas_on_host = False
        self.text_encoder = TextEncoder(
            n_vocab=n_vocab,
            out_channels=n_mels,
            hidden_channels=cfg.hidden_channels,
            filter_channels=cfg.filter_channels,
            n_heads=cfg.n_heads,
            n_layers=cfg.n_layers_enc,
            kernel_size=cfg.kernel_size,
            window_size=cfg.window_size,
            p_dropout=cfg.p_dropout,
            prenet=cfg.prenet,
            mean_only=cfg.mean_only,
        )
        # Speaker conditioning (gin_channels) would concatenate to this input and to the
        # couplings' WaveNet; it is not built now.
        self.duration_predictor = DurationPredictor(
            in_channels=cfg.hidden_channels,
            filter_channels=cfg.filter_channels_dp,
            kernel_size=cfg.kernel_size,
            p_dropout=cfg.p_dropout,
        )
        self.decoder = FlowDecoder(
            in_channels=n_mels,
            hidden_channels=cfg.hidden_channels,
            kernel_size=cfg.kernel_size_dec,
            dilation_rate=cfg.dilation_rate,
            n_blocks=cfg.n_blocks_dec,
            n_layers=cfg.n_block_layers,
            p_dropout=cfg.p_dropout_dec,
            n_split=cfg.n_split,
            n_sqz=cfg.n_sqz,
            sigmoid_scale=cfg.sigmoid_scale,
        )

    # ------------------------------------------------------------------ shared pieces

    def encode(
        self, x: torch.Tensor, x_lengths: torch.Tensor, packed: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Tokens -> (x_m [B, n_mels, T_x], x_logs [B, n_mels, T_x], logw [B, 1, T_x],
        x_mask [B, 1, T_x]); x: [B, T_x] long, x_lengths: [B] long; packed: see forward."""
        x_mask = sequence_mask(x_lengths, x.size(1)).to(self.text_encoder.embedding.weight.dtype)
        h, x_m, x_logs = self.text_encoder(x, x_mask, packed=packed)
        logw = self.duration_predictor(h.detach(), x_mask)
        return x_m, x_logs, logw, x_mask

    def _floor_frames(
        self, y: torch.Tensor, y_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Drop the frames that do not fill a whole squeeze group -> (y, y_lengths, y_mask)."""
        T_y = (y.size(2) // self.n_sqz) * self.n_sqz
        y_lengths = torch.div(y_lengths, self.n_sqz, rounding_mode="floor") * self.n_sqz
        y_mask = sequence_mask(y_lengths, T_y).to(y.dtype)
        return y[:, :, :T_y], y_lengths, y_mask

    # ------------------------------------------------------------------ training

    def forward(
        self,
        x: torch.Tensor,
        x_lengths: torch.Tensor,
        y: torch.Tensor,
        y_lengths: torch.Tensor,
        *,
        packed: bool | None = None,
    ) -> TrainOutput:
        """Training forward: encode, run the flow on y, align with MAS, expand the prior.

        Args:
            x: [B, T_x] long token ids (padded), x_lengths: [B] long.
            y: [B, n_mels, T_y] log-mel (padded), y_lengths: [B] long.
            packed: run the convolutions of the encoder and decoder on the valid tokens /
                frames packed into one row (same values, less work; a host sync for the
                lengths). None: packed on CPU, padded elsewhere (no sync on GPU).
        """
        from glowtts import align

        if packed is None:
            packed = y.device.type == "cpu"
        x_m, x_logs, logw, x_mask = self.encode(x, x_lengths, packed=packed)
        y, y_lengths, y_mask = self._floor_frames(y, y_lengths)
        z, logdet = self.decoder(y, y_mask, packed=packed)

        # log N(z_t; x_m_i, exp(x_logs_i)) summed over channels, laid out [B, T_y, T_x], in
        # float32 or wider even under autocast (MAS compares sums of thousands of terms)
        with torch.no_grad(), torch.autocast(z.device.type, enabled=False), _exact_fp32(z.device):
            wide = torch.promote_types(z.dtype, torch.float32)
            zt = z.to(wide).transpose(1, 2)  # [B, T_y, C]
            mu = x_m.to(wide)
            if self.text_encoder.proj_log_std is None:  # x_logs == 0
                log_p = torch.bmm(zt, mu)  # [B, T_y, C] x [B, C, T_x] = [B, T_y, T_x]
                log_p += -0.5 * (zt * zt).sum(dim=2, keepdim=True)  # [B, T_y, 1]
                per_token = -0.5 * (mu * mu).sum(dim=1, keepdim=True)  # [B, 1, T_x]
                per_token += -HALF_LOG_2PI * mu.size(1)
            else:
                logs = x_logs.to(wide)
                inv_var = torch.exp(-2 * logs)  # [B, C, T_x]
                log_p = torch.bmm(zt, mu * inv_var)  # [B, T_y, T_x]
                log_p += torch.bmm(-0.5 * zt * zt, inv_var)
                per_token = (-HALF_LOG_2PI - logs - 0.5 * mu * mu * inv_var).sum(
                    dim=1, keepdim=True
                )  # [B, 1, T_x]
            log_p += per_token
            indices = align.maximum_path(
                log_p, x_mask, y_mask, self.mas_threads, self.mas_on_host
            )  # [B, T_y]
            durations = align.durations_from_indices(indices, y_mask, x.size(1))  # [B, 1, T_x]
            logw_target = torch.log(DURATION_EPS + durations) * x_mask

        z_m = _expand(x_m, indices, y_mask)
        z_logs = _expand(x_logs, indices, y_mask)
        return TrainOutput(
            z=z,
            z_m=z_m,
            z_logs=z_logs,
            logdet=logdet,
            y_mask=y_mask,
            y_lengths=y_lengths,
            x_m=x_m,
            x_logs=x_logs,
            x_mask=x_mask,
            indices=indices,
            durations=durations[:, 0],
            logw=logw,
            logw_target=logw_target,
            log_p=log_p,
        )

    @torch.no_grad()
    def data_dependent_init(self, y: torch.Tensor, y_lengths: torch.Tensor) -> None:
        """Initialise every decoder ActNorm from one batch (the reference's models.py ``ddi``; Kingma & Dhariwal 2018).

        Call once before training (the reference uses one batch of 32). Only the decoder
        sees the mel frames, so text is not needed. Runs in the model's current mode.

        Args:
            y: [B, n_mels, T_y] log-mel (padded), y_lengths: [B] long.
        """
        y, _, y_mask = self._floor_frames(y, y_lengths)
        self.decoder.data_dependent_init(y, y_mask)

    # ------------------------------------------------------------------ inference

    @torch.no_grad()
    def infer(
        self,
        x: torch.Tensor,
        x_lengths: torch.Tensor,
        *,
        noise_scale: float,
        length_scale: float = 1.0,
        duration_scale: torch.Tensor | None = None,
        durations: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        seed: int | torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        packed: bool | None = None,
    ) -> InferenceOutput:
        """Generate log-mels from tokens (batched, padded): :meth:`_synthesize` with every
        intermediate returned, on CPU with the convolutions packed.

        Frames per token: w = ceil(exp(logw) * length_scale * duration_scale), then where
        ``durations > 0`` that count (rounded up) replaces w; the total is clamped to >= 1 and
        floored to a multiple of n_sqz (a lone frame left over is dropped, as the reference;
        the output tensor keeps at least n_sqz frames, all masked when every length is 0).

        Args:
            x: [B, T_x] long token ids, x_lengths: [B] long.
            noise_scale: std multiplier of the sampled latents (0: the prior mean).
            length_scale: global speaking-rate multiplier (> 1 is slower).
            duration_scale: [B, T_x] per-token multipliers of the predicted durations.
            durations: [B, T_x] absolute frame counts; entries > 0 override the prediction
                (length_scale and duration_scale do not apply to them).
            noise: [B, n_mels, >= T_y] standard normal noise to use (its first T_y frames).
            seed: else the noise of :mod:`glowtts.noise` under this seed, as :meth:`generate`
                and an exported voice draw it (the same seed gives the same speech in both).
            generator: else drawn with this generator (the global one when None); with
                ``noise_scale`` 0 and neither ``noise`` nor ``seed``, nothing is drawn.
            packed: as in :meth:`forward` (None: packed on CPU).

        Raises:
            RuntimeError: the model is in training mode (dropout would corrupt the durations
                and the mel); call ``model.eval()`` first.
        """

        if self.training:
            raise RuntimeError(
                "GlowTTS.infer() needs eval mode: call model.eval() first (in training mode "
                "dropout would corrupt the predicted durations and the mel)"
            )
        if packed is None:
            packed = x.device.type == "cpu"
        with parametrize.cached():  # each weight-normed weight computed once per call
            return self._synthesize(
                x,
                x_lengths,
                noise_scale,
                length_scale,
                duration_scale=duration_scale,
                durations=durations,
                noise=noise,
                seed=seed,
                generator=generator,
                packed=packed,
            )

    def _synthesize(
        self,
        x: torch.Tensor,
        x_lengths: torch.Tensor,
        noise_scale: float | torch.Tensor,
        length_scale: float | torch.Tensor,
        *,
        duration_scale: torch.Tensor | None = None,
        durations: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        seed: int | torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        packed: bool = False,
    ) -> InferenceOutput:
        """The inference core that :meth:`infer` and :meth:`generate` share (arguments as
        :meth:`infer`; the scales may be 0-dim tensors). Tensor ops alone: the only host sync
        sizes the output (:meth:`frames_of`), a tensor ``noise_scale`` always draws its noise.
        """
        x_m, x_logs, logw, x_mask = self.encode(x, x_lengths, packed=packed)
        w = torch.exp(logw[:, 0]) * x_mask[:, 0] * length_scale  # [B, T_x]
        if duration_scale is not None:
            w = w * duration_scale
        w = torch.ceil(w)
        if durations is not None:
            w = torch.where(durations > 0, torch.ceil(durations).to(w.dtype), w)
            w = w * x_mask[:, 0]
        y_lengths, y_mask, indices = self.frames_of(w)
        T_y = y_mask.size(2)
        z_m = _expand(x_m, indices, y_mask)  # [B, n_mels, T_y]
        z_logs = _expand(x_logs, indices, y_mask)
        if noise is not None:
            if noise.size(2) < T_y or noise.shape[:2] != z_m.shape[:2]:
                raise ValueError(
                    f"noise has shape {tuple(noise.shape)}; need [B={z_m.size(0)}, "
                    f"n_mels={z_m.size(1)}, >= {T_y}] for these durations"
                )
            noise = noise[:, :, :T_y]
        elif seed is not None:
            from glowtts.noise import counter_normal

            seed_t = torch.as_tensor(seed, dtype=torch.int64, device=x.device)
            frames = torch.arange(T_y, device=x.device)
            noise = counter_normal(seed_t, x.size(0), self.n_mels, frames).to(z_m.dtype)
        elif not isinstance(noise_scale, torch.Tensor) and noise_scale == 0:
            noise = None  # the prior mean: no random draw at all
        else:
            noise = torch.randn(z_m.shape, generator=generator, device=z_m.device, dtype=z_m.dtype)
        if noise is None:
            z = z_m * y_mask
        else:
            z = (z_m + torch.exp(z_logs) * noise * noise_scale) * y_mask
        mel = self.decoder.generate(z, y_mask, packed=packed)
        return InferenceOutput(
            mel=mel,
            y_mask=y_mask,
            y_lengths=y_lengths,
            indices=indices,
            durations=w,
            logw=logw,
            z_m=z_m,
            z_logs=z_logs,
            x_m=x_m,
            x_logs=x_logs,
            x_mask=x_mask,
        )

    def frames_of(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Frames per token -> the output's frames, by tensor ops alone (exportable).

        Args:
            w: [B, T_x] whole frames per token (0 on padding), float.

        Returns:
            y_lengths [B] long (the total, at least 1, floored to a multiple of n_sqz), y_mask
            [B, 1, T_y] float with ``T_y = max(max(y_lengths), n_sqz)`` (sizing it is the one
            host sync in eager mode), and indices [B, T_y] long: the token covering each frame,
            counted from the tokens' ends (0 on padding); no sorted search, linear memory.
        """
        frames_per_token = torch.clamp_min(w.to(torch.int64), 0)  # whole numbers, exact
        total = torch.clamp_min(frames_per_token.sum(dim=1), 1)
        y_lengths = torch.div(total, self.n_sqz, rounding_mode="floor") * self.n_sqz  # [B]
        T_y = torch.clamp_min(y_lengths.max(), self.n_sqz)
        frames = torch.arange(T_y, device=w.device)  # type: ignore[call-overload]  # [T_y]
        y_mask = (frames.unsqueeze(0) < y_lengths.unsqueeze(1)).unsqueeze(1).to(w.dtype)
        # the token of frame t is the number of tokens that end at or before t: count the
        # tokens ending at each frame (ends past the output land in one extra slot), then a
        # running sum; linear in T_y + T_x, where comparing every frame with every end is not
        ends = torch.clamp_max(torch.cumsum(frames_per_token, dim=1), T_y)  # [B, T_x]
        counts = torch.zeros(w.size(0), frames.size(0) + 1, dtype=torch.int64, device=w.device)
        counts = counts.scatter_add(1, ends, torch.ones_like(ends))  # [B, T_y + 1]
        indices = torch.cumsum(counts, dim=1)[:, :-1]  # [B, T_y]
        indices = torch.where(indices < w.size(1), indices, torch.zeros_like(indices))
        return y_lengths, y_mask, indices * y_mask[:, 0].to(indices.dtype)

    def generate(
        self,
        x: torch.Tensor,
        x_lengths: torch.Tensor,
        noise_scale: torch.Tensor,
        length_scale: torch.Tensor,
        seed: torch.Tensor,
        duration_scale: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The inference core as ONNX export traces it: :meth:`_synthesize` (which :meth:`infer`
        wraps too) with plain tensors in and out.

        Padded throughout (no packing), no log-determinant, no float64, no host sync but the
        output's size; the latents' noise comes from ``seed`` (:mod:`glowtts.noise`),
        so torch and an exported model give the same output. Call on a model prepared with
        :meth:`prepare_for_inference` (weight norm folded, inverse 1x1 weights cached).

        Args:
            x: [B, T_x] long token ids (padded), x_lengths: [B] long.
            noise_scale, length_scale: 0-dim float tensors (as :meth:`infer`).
            seed: 0-dim int64 tensor.
            duration_scale: [B, T_x] per-token duration multipliers (per-word speed), or None.

        Returns:
            mel [B, n_mels, T_y] (0 on padding), y_lengths [B] long, durations [B, T_x] float
            whole frames per token.
        """
        out = self._synthesize(
            x, x_lengths, noise_scale, length_scale, duration_scale=duration_scale, seed=seed
        )
        return out.mel, out.y_lengths, out.durations

    def prepare_for_inference(self) -> GlowTTS:
        """Fold weight norm into plain weights, cache the inverse 1x1 convs, switch to eval.

        After this the state_dict has plain ``weight`` keys instead of the weight-norm
        parametrizations, so do it on a copy that will not be trained or saved.
        """
        remove_weight_norm(self)
        self.decoder.cache_inverse()
        return self.eval()
