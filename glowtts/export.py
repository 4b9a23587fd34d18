"""Export a voice to ONNX: the acoustic model, from token ids to mel frames, with dynamic shapes.

``export_onnx(checkpoint, "voice.onnx")`` writes two files:

    voice.onnx    the acoustic model (``GlowTTS.generate``: weight norm folded, the inverse 1x1
                  convolutions cached as constants, noise drawn from a seed inside the graph)
    voice.json    what a runtime needs besides it: the text frontend's settings and symbol
                  table, the audio settings (sample rate, hop, mel parameters for a vocoder),
                  default scales, and the graph's inputs and outputs
    voice.dict    the pronouncing dictionary, when the voice reads CMUdict from a file
    voice.vocoder.onnx   a HiFi-GAN generator, when one is given (else the runtime's Griffin-Lim)

Graph inputs: ``tokens`` [B, T_x] int64 (0-padded), ``token_lengths`` [B] int64,
``noise_scale`` [] float32, ``length_scale`` [] float32, ``seed`` [] int64, ``duration_scale``
[B, T_x] float32 (per-token speed, ones for none). Outputs: ``mel`` [B, n_mels, T_y] float32
(0 on padding) and ``mel_lengths`` [B] int64. Batch, T_x and T_y are dynamic.

The export traces ``generate`` once on a small dummy batch (TorchScript-based exporter): the
core is written with tensor ops only (no Python ints from tensors, no host sync), so the traced
graph holds for every shape; tests check onnxruntime against torch on shapes the trace never saw.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from glowtts.checkpoint import Checkpoint, build_model, load_checkpoint
from glowtts.errors import UserValueError
from glowtts.model import GlowTTS

__all__ = [
    "ONNX_FORMAT",
    "ONNX_FORMAT_VERSION",
    "SYNTHESIS_DEFAULTS",
    "export_onnx",
    "metadata_path",
]

log = logging.getLogger(__name__)

ONNX_FORMAT = "glowtts-onnx"
ONNX_FORMAT_VERSION = 1
OPSET = 17
INPUTS = ("tokens", "token_lengths", "noise_scale", "length_scale", "seed", "duration_scale")
OUTPUTS = ("mel", "mel_lengths")


class _Acoustic(torch.nn.Module):
    """``GlowTTS.generate`` with the graph's inputs and outputs, in that order."""

    def __init__(self, model: GlowTTS) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        tokens: torch.Tensor,
        token_lengths: torch.Tensor,
        noise_scale: torch.Tensor,
        length_scale: torch.Tensor,
        seed: torch.Tensor,
        duration_scale: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mel, mel_lengths, _ = self.model.generate(
            tokens, token_lengths, noise_scale, length_scale, seed, duration_scale
        )
        return mel, mel_lengths


def metadata_path(onnx_path: str | Path) -> Path:
    """The JSON beside an exported model: ``voice.onnx`` -> ``voice.json``."""
    return Path(onnx_path).with_suffix(".json")


SYNTHESIS_DEFAULTS = ("noise_scale", "length_scale", "batch_size", "griffin_lim_iters")


def export_onnx(
    checkpoint: str | Path | Checkpoint,
    out: str | Path,
    *,
    hifigan: str | Path | None = None,
    hifigan_preset: str = "v1",
    synthesis: Mapping[str, Any] | None = None,
) -> Path:
    """Export a checkpoint's acoustic model to ``out`` (.onnx) and its metadata beside it.

    Every file is written beside its final name first; the old export's files are replaced only
    once all of the new ones exist (metadata last: a runtime never pairs a new model with old
    metadata), and files of the old export that the new one lacks (a vocoder, a dictionary) are
    removed.

    Args:
        hifigan: a local HiFi-GAN generator checkpoint to export too (``voice.vocoder.onnx``:
            mel ``[B, n_mels, T_y]`` -> wav ``[B, 1, T_y * hop]``), so that text becomes a
            waveform in onnxruntime alone; None: the runtime uses Griffin-Lim.
        hifigan_preset: its architecture (v1, v2, v3).
        synthesis: the runtime's defaults, any of ``SYNTHESIS_DEFAULTS`` (the run's
            ``synthesis:`` section); the rest from the checkpoint (whose training config holds
            the built-in defaults).

    Returns:
        the ONNX file's path.
    """
    from glowtts.synthesis import _frontend

    out = Path(out)
    if out.suffix != ".onnx":
        raise UserValueError(f"{out}: the exported model's name must end in .onnx")
    _check_synthesis(synthesis or {})
    ckpt = checkpoint if isinstance(checkpoint, Checkpoint) else load_checkpoint(checkpoint)
    frontend = _frontend(ckpt)  # refuses a checkpoint whose vocabulary does not fit its text
    # everything that can fail is checked before any file is written
    vocoder = _load_hifigan(Path(hifigan), hifigan_preset, ckpt) if hifigan is not None else None
    dictionary = None
    if ckpt.config.text.cmudict and ckpt.config.text.dictionary:
        dictionary = _dictionary_file(ckpt.config.text.dictionary)
        _check_dictionary(ckpt, frontend, dictionary)
    meta = _metadata(ckpt, frontend, synthesis or {})
    files: dict[Path, Path] = {}  # final name -> the new file, written beside it first
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        files[out] = _staged(out)
        _export_acoustic(build_model(ckpt).prepare_for_inference(), files[out])
        if vocoder is not None:
            target = out.with_suffix(".vocoder.onnx")
            files[target] = _staged(target)
            _export_hifigan(vocoder, ckpt, files[target])
            meta["vocoder"] = {
                "kind": "hifigan",
                "file": target.name,
                "preset": hifigan_preset,
                "source": Path(str(hifigan)).name,
            }
        if dictionary is not None:
            target = out.with_suffix(".dict")
            files[target] = _staged(target)
            shutil.copyfile(dictionary, files[target])
            meta["dictionary_file"] = target.name
        files[metadata_path(out)] = _staged(metadata_path(out))
        files[metadata_path(out)].write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        for staged in files.values():
            with staged.open("rb+") as fh:
                os.fsync(fh.fileno())
        # all new files exist: now the old export goes, its metadata first (a runtime never
        # pairs a new model with old metadata), then what the new export lacks
        metadata_path(out).unlink(missing_ok=True)
        for stale in (out.with_suffix(".vocoder.onnx"), out.with_suffix(".dict")):
            if stale not in files:
                stale.unlink(missing_ok=True)
        for target, staged in files.items():  # the metadata last (insertion order)
            os.replace(staged, target)
    finally:
        for staged in files.values():
            staged.unlink(missing_ok=True)  # left only when something failed
    log.info("exported %s (+ %s)", out, ", ".join(p.name for p in files if p != out))
    return out


def _check_synthesis(synthesis: Mapping[str, Any]) -> None:
    """The runtime's defaults: known keys, valid scales, whole numbers >= 1."""
    from glowtts.errors import check_scales

    unknown = sorted(set(synthesis) - set(SYNTHESIS_DEFAULTS))
    if unknown:
        raise UserValueError(f"export: unknown synthesis default(s) {unknown}")
    check_scales(synthesis.get("noise_scale"), synthesis.get("length_scale"))
    for key in ("batch_size", "griffin_lim_iters"):
        value = synthesis.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UserValueError(f"export: synthesis {key} {value!r}: use a whole number >= 1")


def _staged(path: Path) -> Path:
    """Where the new version of ``path`` is written before it replaces the old one."""
    return path.with_name(f".{path.name}.new-{os.getpid()}")


def _export_acoustic(model: GlowTTS, target: Path) -> None:
    """Trace ``generate`` once on a small dummy batch into ``target``."""
    acoustic = _Acoustic(model).eval()
    tokens = torch.tensor([[5, 6, 7, 8, 9, 10, 11], [12, 13, 14, 0, 0, 0, 0]])  # any ids
    args = (
        tokens,
        torch.tensor([7, 3]),
        torch.tensor(0.5),
        torch.tensor(1.0),
        torch.tensor(0, dtype=torch.int64),
        torch.ones(tokens.shape),
    )
    dynamic = {
        "tokens": {0: "batch", 1: "tokens"},
        "token_lengths": {0: "batch"},
        "duration_scale": {0: "batch", 1: "tokens"},
        "mel": {0: "batch", 2: "frames"},
        "mel_lengths": {0: "batch"},
    }
    with warnings.catch_warnings():
        # the tracer warns about every size it reads; generate() keeps them tensors
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)  # constant-folding notes
        torch.onnx.export(
            acoustic,
            args,
            str(target),
            dynamo=False,
            opset_version=OPSET,
            input_names=list(INPUTS),
            output_names=list(OUTPUTS),
            dynamic_axes=dynamic,
            do_constant_folding=True,
        )


def _check_dictionary(ckpt: Checkpoint, frontend: Any, path: Path) -> None:
    """The dictionary the export would ship must be the one the voice was trained with."""
    trained = ckpt.pronunciations
    found = frontend.pronunciations
    if trained is None or found is None or trained.get("sha256") == found.get("sha256"):
        return
    raise UserValueError(
        f"text.dictionary {path}: not the pronouncing dictionary the voice was trained with "
        f"({trained.get('name')}, sha256 {str(trained.get('sha256'))[:12]}...); the exported "
        "voice would read words differently: export where that file is"
    )


def _load_hifigan(path: Path, preset: str, ckpt: Checkpoint) -> Any:
    """The HiFi-GAN generator, checked against the voice's mels, weight norm folded."""
    from glowtts.vocoder import check_vocoder_fits, load_hifigan

    vocoder = load_hifigan(path, preset, map_location="cpu")
    check_vocoder_fits(vocoder, ckpt.config.audio, source=str(path))
    vocoder.remove_weight_norm()
    return vocoder.eval()


def _export_hifigan(vocoder: Any, ckpt: Checkpoint, target: Path) -> None:
    """The generator (mel -> wav) into ``target``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on the input check and sizes
        torch.onnx.export(
            vocoder,
            (torch.zeros(1, ckpt.n_mels, 8),),
            str(target),
            dynamo=False,
            opset_version=OPSET,
            input_names=["mel"],
            output_names=["wav"],
            dynamic_axes={"mel": {0: "batch", 2: "frames"}, "wav": {0: "batch", 2: "samples"}},
        )


def _dictionary_file(source: str) -> Path:
    """The pronouncing dictionary the voice reads, which the export ships beside the model."""
    from glowtts.errors import InputNotFoundError

    path = Path(source).expanduser()
    if not path.is_file():
        raise InputNotFoundError(
            f"text.dictionary {source}: not found; the voice reads with it, and the export "
            "ships it beside the model: export where the file is (or set text.dictionary)"
        )
    return path


def _metadata(ckpt: Checkpoint, frontend: Any, synthesis: Mapping[str, Any]) -> dict[str, Any]:
    from glowtts.config import to_dict
    from glowtts.text import SYMBOLS

    cfg = ckpt.config
    return {
        "format": ONNX_FORMAT,
        "version": ONNX_FORMAT_VERSION,
        "inputs": list(INPUTS),
        "outputs": list(OUTPUTS),
        "n_vocab": ckpt.n_vocab,
        "n_mels": ckpt.n_mels,
        "text": to_dict(cfg.text),
        "symbols": list(SYMBOLS),
        "blank_id": frontend.blank_id,
        "pronunciations": ckpt.pronunciations,
        "audio": to_dict(cfg.audio),
        "synthesis": {
            key: synthesis.get(key, getattr(cfg.synthesis, key)) for key in SYNTHESIS_DEFAULTS
        },
        "step": ckpt.step,
    }
