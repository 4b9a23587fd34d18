"""Glow-TTS model: encoder, duration predictor, flow decoder, losses (nn.Modules only; no file formats)."""

from glowtts.model.decoder import FlowDecoder, squeeze, unsqueeze
from glowtts.model.duration import DurationPredictor
from glowtts.model.encoder import TextEncoder
from glowtts.model.flows import ActNorm, AffineCoupling, InvConvNear
from glowtts.model.glowtts import GlowTTS, InferenceOutput, TrainOutput
from glowtts.model.losses import Losses, duration_loss, glowtts_losses, mle_loss
from glowtts.model.masks import sequence_mask

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "DurationPredictor",
    "FlowDecoder",
    "GlowTTS",
    "InferenceOutput",
    "InvConvNear",
    "Losses",
    "TextEncoder",
    "TrainOutput",
    "duration_loss",
    "glowtts_losses",
    "mle_loss",
    "sequence_mask",
    "squeeze",
    "unsqueeze",
]
