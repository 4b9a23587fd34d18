"""Speak with an exported voice through onnxruntime alone: numpy, onnxruntime and the text
frontend, no torch (``glowtts synthesize --onnx voice.onnx "text"``).

The mel goes to a vocoder that needs no torch either: the HiFi-GAN generator exported with the
voice (``glowtts export --hifigan``), or else librosa's Griffin-Lim with the voice's mel
parameters (the same settings as the built-in one).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glowtts.errors import InputNotFoundError, UserValueError, check_scales

__all__ = ["OnnxSynthesized", "OnnxVoice"]

log = logging.getLogger("glowtts.synthesis")

FORMAT = "glowtts-onnx"  # glowtts.export.ONNX_FORMAT (that module imports torch)
VERSION = 1


@dataclass
class OnnxSynthesized:
    """One utterance: ``mel`` [n_mels, T_y] and ``wav`` [T_y * hop] (None without a vocoder)."""

    text: str
    ids: list[int]
    mel: np.ndarray
    wav: np.ndarray | None


class OnnxVoice:
    """An exported voice: ``OnnxVoice("voice.onnx")(["Hello."])``.

    Args:
        path: the .onnx file; its metadata is the .json beside it (``glowtts export`` writes
            both).
        threads: onnxruntime's intra-op threads (0: its default).
    """

    def __init__(self, path: str | Path, threads: int = 0) -> None:
        import onnxruntime as ort

        from glowtts.text import SYMBOLS, TextFrontend

        path = Path(path)
        meta_path = path.with_suffix(".json")
        for p in (path, meta_path):
            if not p.is_file():
                raise InputNotFoundError(
                    f"{p} does not exist: export the voice with glowtts export (it writes the "
                    ".onnx and the .json beside it)"
                )
        try:
            meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserValueError(f"{meta_path}: not a JSON file ({exc})") from None
        if (
            not isinstance(meta, dict)
            or meta.get("format") != FORMAT
            or meta.get("version") != VERSION
        ):
            meta = meta if isinstance(meta, dict) else {}
            raise UserValueError(
                f"{meta_path}: not the metadata of a {FORMAT} v{VERSION} export "
                f"(format {meta.get('format')!r}, version {meta.get('version')!r})"
            )
        if _field(meta, "symbols", list, meta_path) != list(SYMBOLS):
            raise UserValueError(
                f"{meta_path}: its symbol table differs from this glowtts's; re-export the voice"
            )
        _field(meta, "n_vocab", int, meta_path)
        defaults = _field(meta, "synthesis", dict, meta_path)
        try:
            check_scales(defaults["noise_scale"], defaults["length_scale"])
        except (KeyError, TypeError, UserValueError) as exc:
            raise UserValueError(
                f"{meta_path}: field 'synthesis' ({defaults!r}) lacks valid scales ({exc}); "
                "re-export the voice with glowtts export"
            ) from None
        if meta.get("pronunciations") is not None:
            _field(meta, "pronunciations", dict, meta_path)
        if meta.get("dictionary_file") is not None:
            _field(meta, "dictionary_file", str, meta_path)
        self.meta = meta
        settings = _settings(meta, meta_path)
        self.audio, text = settings.audio, settings.text
        if text.cmudict and meta.get("dictionary_file"):  # shipped beside the model
            text = _replace(text, dictionary=str(path.parent / meta["dictionary_file"]))
        self.frontend = TextFrontend(_replace(text, on_unknown_char="error"))
        self._check_dictionary = bool(text.cmudict and meta.get("pronunciations"))
        if self.frontend.n_vocab != meta["n_vocab"]:
            raise UserValueError(
                f"{meta_path}: {meta['n_vocab']} symbols, the text settings give "
                f"{self.frontend.n_vocab}"
            )
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = _session(ort, path, options)
        self.vocoder = None  # an exported HiFi-GAN, else Griffin-Lim
        if meta.get("vocoder"):
            vocoder_file = _field(_field(meta, "vocoder", dict, meta_path), "file", str, meta_path)
            vocoder_path = path.parent / vocoder_file
            if not vocoder_path.is_file():
                raise InputNotFoundError(
                    f"{vocoder_path} does not exist: {meta_path} names it as the voice's "
                    "vocoder; keep the files glowtts export wrote together"
                )
            self.vocoder = _session(ort, vocoder_path, options)

    def encode(self, text: str) -> tuple[list[int], list[float]]:
        """Token ids and per-token duration factors (``[words|1.5]`` markup) of ``text``."""
        from glowtts.text import SYMBOLS

        if not text.strip():
            raise UserValueError("empty text: nothing to synthesise")
        ids, factors = self.frontend.encode_with_speed(text)
        if self._check_dictionary:  # once, after the dictionary is read by the first encode
            self._check_dictionary = False
            used = (self.frontend.pronunciations or {}).get("sha256")
            if used != self.meta["pronunciations"].get("sha256"):
                log.warning(
                    "pronouncing dictionary %s differs from the one the voice was trained with "
                    "(%s): some words may be read differently",
                    (self.frontend.pronunciations or {}).get("name"),
                    self.meta["pronunciations"].get("name"),
                )
        if not [i for i in ids if i < len(SYMBOLS) and SYMBOLS[i][-1:].isalnum()]:
            raise UserValueError(f"text {text!r} leaves no letter or phone to speak")
        return ids, factors

    def mels(
        self,
        texts: Sequence[str],
        *,
        noise_scale: float | None = None,
        length_scale: float | None = None,
        seed: int = 0,
    ) -> list[tuple[list[int], np.ndarray]]:
        """Mels of ``texts`` in one padded batch: (ids, mel [n_mels, T_y]) per text."""
        check_scales(noise_scale, length_scale)
        defaults = self.meta["synthesis"]
        encoded = [self.encode(t) for t in texts]
        width = max(len(ids) for ids, _ in encoded)
        tokens = np.zeros((len(texts), width), dtype=np.int64)
        speed = np.ones((len(texts), width), dtype=np.float32)
        for row, (ids, factors) in enumerate(encoded):
            tokens[row, : len(ids)] = ids
            speed[row, : len(ids)] = factors
        feeds = {
            "tokens": tokens,
            "token_lengths": np.array([len(ids) for ids, _ in encoded], dtype=np.int64),
            "noise_scale": np.array(
                defaults["noise_scale"] if noise_scale is None else noise_scale, np.float32
            ),
            "length_scale": np.array(
                defaults["length_scale"] if length_scale is None else length_scale, np.float32
            ),
            "seed": np.array(seed, dtype=np.int64),
            "duration_scale": speed,
        }
        mel, lengths = self.session.run(["mel", "mel_lengths"], feeds)
        return [(ids, mel[row, :, : int(lengths[row])]) for row, (ids, _) in enumerate(encoded)]

    def __call__(
        self,
        texts: Sequence[str],
        *,
        noise_scale: float | None = None,
        length_scale: float | None = None,
        seed: int = 0,
        batch_size: int | None = None,
        griffin_lim_iters: int | None = None,
        griffin_lim: bool = False,
    ) -> list[OnnxSynthesized]:
        """Speak ``texts`` in padded batches of similar length (results in input order): mels
        from onnxruntime, waveforms from the exported HiFi-GAN, else (or with ``griffin_lim``)
        from Griffin-Lim; defaults: the voice's settings. The noise is that of
        :class:`glowtts.synthesis.Synthesizer` under the same seed."""
        from glowtts.noise import batch_seed

        defaults = self.meta["synthesis"]
        size = batch_size or int(defaults.get("batch_size", 8))
        if size < 1:
            raise UserValueError(f"batch size {size}: use 1 or more")
        check_scales(noise_scale, length_scale)
        lengths = [len(self.encode(t)[0]) for t in texts]  # every text checked before any work
        iters = (
            griffin_lim_iters
            if griffin_lim_iters is not None
            else defaults.get("griffin_lim_iters", 60)
        )
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])  # as Synthesizer
        results: dict[int, OnnxSynthesized] = {}
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            mels = self.mels(  # the noise of one big batch, whatever the batch size
                [texts[i] for i in chunk],
                noise_scale=noise_scale,
                length_scale=length_scale,
                seed=batch_seed(seed, start),
            )
            for i, (ids, mel) in zip(chunk, mels, strict=True):
                wav = self.griffin_lim(mel, iters) if griffin_lim else self.vocode(mel, iters)
                results[i] = OnnxSynthesized(texts[i], ids, mel, wav)
        return [results[i] for i in range(len(texts))]

    def vocode(self, mel: np.ndarray, griffin_lim_iters: int = 60) -> np.ndarray:
        """One log-mel [n_mels, T_y] -> waveform [T_y * hop]: the exported HiFi-GAN when the
        voice has one (one utterance at a time: no padding reaches it), else Griffin-Lim."""
        if self.vocoder is None:
            return self.griffin_lim(mel, griffin_lim_iters)
        if mel.shape[1] == 0:
            return np.zeros(0, dtype=np.float32)
        (wav,) = self.vocoder.run(["wav"], {"mel": mel[None].astype(np.float32)})
        return np.asarray(wav[0, 0], dtype=np.float32)

    def griffin_lim(self, mel: np.ndarray, n_iter: int = 60) -> np.ndarray:
        """Log-mel [n_mels, T_y] -> waveform [T_y * hop] with librosa (numpy, no torch)."""
        import librosa

        a = self.audio
        if mel.shape[1] == 0:  # a text too short for one frame pair: silence, no frames
            return np.zeros(0, dtype=np.float32)
        wav = librosa.feature.inverse.mel_to_audio(
            np.exp(mel.astype(np.float64)),
            sr=a.sample_rate,
            n_fft=a.n_fft,
            hop_length=a.hop_length,
            win_length=a.win_length,
            window="hann",
            center=True,
            pad_mode="reflect",
            power=1.0,
            n_iter=n_iter,
            fmin=a.fmin,
            fmax=a.fmax,
            htk=False,
            norm="slaney",
        )  # (T_y - 1) * hop samples
        out = np.zeros(mel.shape[1] * a.hop_length, dtype=np.float32)  # hop per frame
        out[: wav.shape[0]] = wav[: out.shape[0]]
        return out


def _field(meta: dict[str, Any], name: str, kind: type, meta_path: Path) -> Any:
    """``meta[name]``, checked to be a ``kind``; a named error otherwise."""
    value = meta.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise UserValueError(
            f"{meta_path}: field {name!r} is {value!r}, expected a {kind.__name__}; the file is "
            "damaged or was edited: re-export the voice with glowtts export"
        )
    return value


def _settings(meta: dict[str, Any], meta_path: Path) -> Any:
    """The ``audio`` and ``text`` sections of the metadata, validated by the config schema
    (its error names the field); a config holding them."""
    from glowtts.config import ConfigError, from_dict

    sections = {name: _field(meta, name, dict, meta_path) for name in ("audio", "text")}
    try:
        return from_dict(sections, source=f"{meta_path} (fields audio and text)")
    except ConfigError as exc:
        raise UserValueError(
            f"{exc}\nthe voice's metadata does not fit this glowtts: re-export the voice with "
            "this version's glowtts export"
        ) from None


def _session(ort: Any, path: Path, options: Any) -> Any:
    """An onnxruntime session on ``path``; a file onnxruntime cannot load is named."""
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own (Fail, InvalidProtobuf, ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserValueError(
            f"{path}: onnxruntime cannot load it ({first}); the file is damaged or not an "
            "ONNX model: re-export the voice with glowtts export"
        ) from None


def _replace(cfg: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(cfg, **changes)
