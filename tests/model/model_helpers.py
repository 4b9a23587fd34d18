"""Helpers of the model tests (a module of its own: every test folder has a conftest)."""

from __future__ import annotations

from typing import Any

from glowtts.convert import convert_reference_checkpoint
from glowtts.model import GlowTTS


def reference_model(reference: dict[str, Any]) -> GlowTTS:
    """The reference's small model, converted (strict keys), in eval mode."""
    cfg, n_vocab, n_mels, sd = convert_reference_checkpoint(
        reference["state_dict"], reference["hparams"]
    )
    model = GlowTTS(cfg, n_vocab, n_mels)
    model.load_state_dict(sd, strict=True)
    return model.eval()
