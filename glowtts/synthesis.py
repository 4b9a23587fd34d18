"""Text to speech with a trained checkpoint: text -> ids -> mel (batched) -> waveform.

Everything comes from the checkpoint: the model, the audio settings and the text frontend
(cleaners, CMUdict and its dictionary, blanks), so a voice trained by this pipeline or a
converted reference checkpoint synthesises with nothing else. Utterances are sorted by length
and synthesised in padded batches; each result is trimmed to its own length.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from glowtts.checkpoint import Checkpoint, build_model, load_checkpoint
from glowtts.errors import UserValueError, check_scales
from glowtts.wavfile import write_wav  # re-exported: synthesis writes wavs

if TYPE_CHECKING:
    from glowtts.config import AudioConfig, SynthesisConfig
    from glowtts.model.glowtts import GlowTTS
    from glowtts.text import TextFrontend
    from glowtts.vocoder import Vocoder


__all__ = [
    "Synthesized",
    "Synthesizer",
    "build_vocoder",
    "silent_padding",
    "synthesis_settings",
    "write_wav",
]

log = logging.getLogger(__name__)


@dataclass
class Synthesized:
    """One synthesised utterance.

    Attributes:
        text: the input text; ids: its token ids [T_x].
        mel: [n_mels, T_y] generated log-mel; durations: [T_x] frames per token.
        wav: [T_y * hop] float32 waveform in [-1, 1] (None when no vocoder was asked for).
    """

    text: str
    ids: list[int]
    mel: np.ndarray
    durations: np.ndarray
    wav: np.ndarray | None


class Synthesizer:
    """A checkpoint's voice: ``synthesizer(["Hello."])`` -> list of :class:`Synthesized`.

    Args:
        ckpt: a loaded checkpoint (:func:`glowtts.checkpoint.load_checkpoint`).
        device: where the model runs.
        vocoder: turns mels into waveforms; None gives mels only.
    """

    def __init__(
        self,
        ckpt: Checkpoint,
        *,
        device: str | torch.device = "cpu",
        vocoder: Vocoder | None = None,
    ) -> None:
        self.ckpt = ckpt
        self.device = torch.device(device)
        self.audio = ckpt.config.audio
        self.frontend = _frontend(ckpt)
        self.model: GlowTTS = build_model(ckpt).to(self.device).prepare_for_inference()
        self.vocoder = vocoder

    @classmethod
    def from_file(
        cls, path: str | Path, *, device: str | torch.device = "cpu", vocoder: Vocoder | None = None
    ) -> Synthesizer:
        return cls(load_checkpoint(path), device=device, vocoder=vocoder)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; a text with no symbol or unknown characters is refused."""
        return self.encode_with_speed(text)[0]

    def encode_with_speed(self, text: str) -> tuple[list[int], list[float]]:
        """Token ids and a duration factor per id (per-word speed markup ``[words|1.5]``);
        a text with no symbol or unknown characters is refused."""
        if not text.strip():
            raise UserValueError("empty text: nothing to synthesise")
        from glowtts.text import SYMBOLS

        ids, factors = self.frontend.encode_with_speed(text)
        spoken = [i for i in ids if i < len(SYMBOLS) and SYMBOLS[i][-1:].isalnum()]
        if not spoken:  # only spaces, punctuation or blanks: nothing to say
            raise UserValueError(
                f"text {text!r} leaves no letter or phone to speak after "
                f"{self.frontend.cfg.cleaners}"
            )
        return ids, factors

    @torch.no_grad()
    def __call__(
        self,
        texts: Sequence[str],
        *,
        noise_scale: float,
        length_scale: float = 1.0,
        batch_size: int = 8,
        seed: int = 0,
    ) -> list[Synthesized]:
        """Synthesise ``texts`` in padded batches of similar length (results in input order).

        Args:
            noise_scale: std multiplier of the sampled latents (0: the prior mean).
            length_scale: multiplies every duration (> 1 is slower).
            seed: the latents' noise is :mod:`glowtts.noise`'s under this seed, that of one
                big batch whatever ``batch_size``: the same seed gives the same speech from
                an exported voice (:class:`glowtts.onnx_voice.OnnxVoice`).
        """
        from glowtts.noise import batch_seed

        check_scales(noise_scale, length_scale)
        pairs = [self.encode_with_speed(t) for t in texts]
        encoded = [ids for ids, _ in pairs]
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        results: list[Synthesized | None] = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            lengths = torch.tensor([len(encoded[i]) for i in chunk])
            x = torch.zeros(len(chunk), int(lengths.max()), dtype=torch.long)  # [B, T_x]
            speed = torch.ones(x.shape)  # [B, T_x] per-token duration factors
            for row, i in enumerate(chunk):
                x[row, : len(encoded[i])] = torch.tensor(encoded[i])
                speed[row, : len(encoded[i])] = torch.tensor(pairs[i][1])
            out = self.model.infer(
                x.to(self.device),
                lengths.to(self.device),
                noise_scale=noise_scale,
                length_scale=length_scale,
                duration_scale=speed.to(self.device) if bool((speed != 1).any()) else None,
                seed=batch_seed(seed, start),
            )
            wavs = None  # [B, 1, T_y * hop]
            if self.vocoder is not None:
                wavs = self.vocoder(silent_padding(out.mel, out.y_mask))
            hop = self.audio.hop_length
            for row, i in enumerate(chunk):
                n = int(out.y_lengths[row])
                results[i] = Synthesized(
                    text=texts[i],
                    ids=encoded[i],
                    mel=out.mel[row, :, :n].float().cpu().numpy(),
                    durations=out.durations[row, : len(encoded[i])].cpu().numpy(),
                    wav=None if wavs is None else wavs[row, 0, : n * hop].float().cpu().numpy(),
                )
        return [r for r in results if r is not None]


def silent_padding(mel: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
    """``mel`` [B, n_mels, T_y] with padded frames set to silence (the log floor), not 0.

    A generated mel is 0 on padding, which is log-amplitude 1: as loud as speech. A vocoder's
    window (Griffin-Lim) or receptive field (HiFi-GAN) would carry it into an utterance's last
    samples, so a batched utterance would end with a burst its unbatched twin lacks.
    """
    from glowtts.audio import LOG_EPS

    return mel.masked_fill(y_mask == 0, math.log(LOG_EPS))


def _frontend(ckpt: Checkpoint) -> TextFrontend:
    """The checkpoint's text frontend, refusing unknown characters; checks its vocabulary and
    pronouncing dictionary against what the checkpoint was trained with."""
    from glowtts.text import TextFrontend

    text = dataclasses.replace(ckpt.config.text, on_unknown_char="error")
    frontend = TextFrontend(text)
    if frontend.n_vocab != ckpt.n_vocab:
        raise UserValueError(
            f"the checkpoint's model has {ckpt.n_vocab} symbols but its text settings give "
            f"{frontend.n_vocab} (text.add_blank={text.add_blank}); it cannot read this text"
        )
    if ckpt.pronunciations is not None and text.cmudict:
        used = frontend.pronunciations
        if used is not None and used.get("sha256") != ckpt.pronunciations.get("sha256"):
            log.warning(
                "pronouncing dictionary %s differs from the one the voice was trained with (%s): "
                "some words may be read differently; set text.dictionary to that file",
                used.get("name"),
                ckpt.pronunciations.get("name"),
            )
    return frontend


def build_vocoder(
    kind: str,
    audio: AudioConfig,
    *,
    device: str | torch.device = "cpu",
    griffin_lim_iters: int = 60,
    hifigan_checkpoint: str = "",
    hifigan_preset: str = "v1",
) -> Vocoder:
    """The vocoder ``synthesis.vocoder`` names: Griffin-Lim, or HiFi-GAN from a local file."""
    from glowtts import vocoder

    if kind == "griffin_lim":
        return vocoder.GriffinLim(audio, n_iter=griffin_lim_iters)
    if kind == "hifigan":
        if not hifigan_checkpoint:
            raise UserValueError(
                "the HiFi-GAN vocoder needs a local generator checkpoint: set "
                "synthesis.hifigan_checkpoint (or --hifigan); nothing is downloaded"
            )
        path = str(Path(hifigan_checkpoint).expanduser())
        hifigan = vocoder.load_hifigan(path, hifigan_preset, map_location=device)
        vocoder.check_vocoder_fits(hifigan, audio, source=path)
        hifigan.remove_weight_norm()
        return hifigan
    raise UserValueError(f"synthesis.vocoder: unknown vocoder {kind!r}; use griffin_lim or hifigan")


def synthesis_settings(ckpt: Checkpoint, configfiles: Sequence[str | Path] = ()) -> SynthesisConfig:
    """The ``synthesis:`` section to speak a checkpoint with: from the run's config files when
    given (merged in order, as snakemake merges config/config.yaml and its ``--configfile``s;
    only that section is read and checked), else the checkpoint's.

    Training does not depend on synthesis settings, so a training checkpoint does not record
    them (its ``known`` fields lack them) and holds the built-in defaults; that is logged, so a
    user who tuned ``synthesis:`` in a run's config knows to pass it.
    """
    from glowtts.config import load_synthesis

    if configfiles:
        return load_synthesis(*configfiles)
    known = ckpt.known
    if known is not None and not any(k.split(".")[0] == "synthesis" for k in known):
        log.info(
            "the checkpoint does not record synthesis settings (training does not use them): "
            "built-in defaults (noise_scale %s, length_scale %s, vocoder %s); give the run's "
            "config with --configfile for its synthesis: section",
            ckpt.config.synthesis.noise_scale,
            ckpt.config.synthesis.length_scale,
            ckpt.config.synthesis.vocoder,
        )
    return ckpt.config.synthesis
