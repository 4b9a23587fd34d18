"""Config: the schema and the dataclasses agree; bad configs fail clearly; shipped configs validate."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest
import yaml

from glowtts import config as C

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p for p in (REPO / "config").glob("*.yaml") if p.name != "schema.yaml")


def _walk(cls: type, schema: dict, prefix: str = "") -> list[tuple[str, object, dict]]:
    """(dotted name, dataclass default, schema node) for every leaf field."""
    out = []
    hints = typing.get_type_hints(cls)
    props = schema["properties"]
    assert set(props) == {f.name for f in dataclasses.fields(cls)}, (cls.__name__, prefix)
    instance = cls()
    for f in dataclasses.fields(cls):
        node = props[f.name]
        assert node.get("description"), f"{prefix}{f.name} has no description"
        if dataclasses.is_dataclass(hints[f.name]):
            assert node.get("additionalProperties") is False, (
                f"{prefix}{f.name} allows unknown keys"
            )
            out += _walk(hints[f.name], node, f"{prefix}{f.name}.")
        else:
            out.append((prefix + f.name, getattr(instance, f.name), node))
    return out


def test_schema_and_dataclasses_have_the_same_fields_and_defaults() -> None:
    schema = C.schema()
    assert schema["additionalProperties"] is False
    leaves = _walk(C.Config, schema)
    assert len(leaves) > 50
    for name, default, node in leaves:
        assert "default" in node, name
        expected = list(default) if isinstance(default, tuple) else default
        assert node["default"] == expected, (name, node["default"], default)


def test_package_schema_is_config_schema() -> None:
    packaged = yaml.safe_load((REPO / "glowtts" / "schema.yaml").read_text())
    assert packaged == yaml.safe_load((REPO / "config" / "schema.yaml").read_text())


def test_defaults_are_the_papers_setup() -> None:
    cfg = C.from_dict({})
    assert cfg.audio == C.AudioConfig(22050, 1024, 1024, 256, 80, 0.0, 8000.0, 32768.0, True)
    assert (cfg.model.hidden_channels, cfg.model.n_blocks_dec, cfg.model.n_split) == (192, 12, 4)
    assert cfg.audio.n_freq == 513


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_config_validates(path: Path) -> None:
    # the folder preset is used with the user's folder, as the README's command gives it
    folder = (
        {"dataset": {"folder": {"path": "/data/myvoice"}}} if path.name == "folder.yaml" else None
    )
    cfg = C.load(path, overrides=folder)
    assert isinstance(cfg, C.Config)


def test_the_folder_preset_without_a_folder_says_which_field() -> None:
    with pytest.raises(C.ConfigError, match="dataset.folder.path: required"):
        C.load(REPO / "config" / "ljspeech.yaml", REPO / "config" / "folder.yaml")


def test_a_rule_reading_a_value_its_params_lack_is_stopped_by_name() -> None:
    cfg = C.load(REPO / "config" / "config.yaml")
    seen = C.from_params(C.params_view(cfg, "seed", "audio.sample_rate", "text"), "corpus")
    assert seen.seed == cfg.seed and seen.audio.sample_rate == 22050 and seen.text == cfg.text
    for read in (
        lambda: seen.audio.n_fft + 1,
        lambda: seen.audio.n_freq,
        lambda: bool(seen.dataset.kind == "demo"),
        lambda: f"{seen.model.hidden_channels}",
    ):
        with pytest.raises(
            C.ParamsContractError, match=r"rule corpus read the config value \w+\.\w+"
        ):
            read()
    full = C.with_defaults(seen)
    assert full.audio.n_fft == 1024 and full.seed == cfg.seed


def test_ljspeech_preset_is_complete_on_its_own() -> None:
    """Merged over the demo default (as --configfile does) it equals itself alone: nothing leaks."""
    alone = C.load(REPO / "config" / "ljspeech.yaml")
    merged = C.load(REPO / "config" / "config.yaml", REPO / "config" / "ljspeech.yaml")
    assert alone == merged
    assert alone.model == C.ModelConfig() and alone.audio == C.AudioConfig()
    assert (alone.split.train_size, alone.split.val_size, alone.split.test_size) == (
        12500,
        100,
        500,
    )
    assert alone.dataset.kind == "ljspeech" and alone.text.cmudict


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"model": {"hiden_channels": 3}},
            r"model: unknown key\(s\) \['hiden_channels'\]; allowed keys are",
        ),
        ({"bogus": 1}, r"<top level>: unknown key\(s\) \['bogus'\]"),
        ({"audio": {"n_mels": "eighty"}}, r"audio.n_mels: 'eighty' has type str, expected integer"),
        ({"seed": 1.5}, r"seed: 1.5 has type float, expected integer"),
        ({"audio": {"hop_length": 2}}, r"audio.hop_length: 2 violates minimum 16"),
        ({"model": {"p_dropout": 0.95}}, r"model.p_dropout: 0.95 violates maximum 0.9"),
        (
            {"dataset": {"kind": "libritts"}},
            r"dataset.kind: 'libritts' is not one of \['demo', 'ljspeech', 'folder'\]",
        ),
        (
            {"dataset": {"ljspeech": {"sha256": "xyz"}}},
            r"dataset.ljspeech.sha256: 'xyz' does not match",
        ),
        ({"run": "a/b"}, r"run: 'a/b' does not match"),
    ],
)
def test_schema_violations_name_field_value_and_allowed(override: dict, message: str) -> None:
    with pytest.raises(C.ConfigError, match=message):
        C.from_dict(override)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"dataset": {"kind": "folder"}},
            "dataset.folder.path: required when dataset.kind is 'folder'",
        ),
        (
            {"dataset": {"min_seconds": 5, "max_seconds": 2}},
            r"dataset.min_seconds \(5.0\) must be below",
        ),
        ({"split": {"train_filelist": "a.txt"}}, "give all three of train_filelist"),
        ({"audio": {"win_length": 2048}}, r"audio.win_length \(2048\) must not exceed audio.n_fft"),
        (
            {"audio": {"sample_rate": 16000, "fmax": 8001}},
            r"audio.fmax \(8001.0\) must not exceed half",
        ),
        (
            {"model": {"hidden_channels": 193}},
            r"hidden_channels \(193\) must be divisible by model.n_heads",
        ),
        ({"model": {"n_split": 6}}, r"model.n_split \(6\) must be even and divide"),
        ({"train": {"freeze": ["encoder"]}}, r"train.freeze \['encoder'\]: needs train.init_from"),
    ],
)
def test_cross_field_rules(override: dict, message: str) -> None:
    with pytest.raises(C.ConfigError, match=message):
        C.from_dict(override)


def test_all_problems_reported_together() -> None:
    with pytest.raises(C.ConfigError, match=r"3 problem\(s\)") as err:
        C.from_dict({"seed": -1, "audio": {"n_mels": 1}, "model": {"prenet": "yes"}})
    for field in ("seed", "audio.n_mels", "model.prenet"):
        assert field in str(err.value)


def test_load_merges_files_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("run: a\nmodel: {hidden_channels: 64, filter_channels: 10}\n")
    (tmp_path / "b.yaml").write_text("model: {filter_channels: 20}\n")
    cfg = C.load(tmp_path / "a.yaml", tmp_path / "b.yaml", overrides={"seed": 7})
    assert (cfg.run, cfg.seed, cfg.model.hidden_channels, cfg.model.filter_channels) == (
        "a",
        7,
        64,
        20,
    )
    assert isinstance(cfg.audio.fmin, float)


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.yaml does not exist"):
        C.load(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("model: [unclosed\n")
    with pytest.raises(C.ConfigError, match=r"bad\.yaml: not valid YAML"):
        C.load(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(C.ConfigError, match=r"list\.yaml: the top level must be a mapping"):
        C.load(tmp_path / "list.yaml")
    (tmp_path / "unknown.yaml").write_text("modle: {}\n")
    with pytest.raises(C.ConfigError, match=r"(?s)unknown\.yaml: invalid configuration.*'modle'"):
        C.load(tmp_path / "unknown.yaml")


def test_config_is_frozen_and_round_trips() -> None:
    cfg = C.load(REPO / "config" / "config.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 3  # type: ignore[misc]
    assert C.from_dict(C.to_dict(cfg)) == cfg


def test_resolved_config_round_trips(tmp_path: Path) -> None:
    cfg = C.load(REPO / "config" / "config.yaml")
    C.write_yaml(cfg, tmp_path / "resolved.yaml")
    assert C.load(tmp_path / "resolved.yaml") == cfg


def test_even_decoder_kernel_is_refused() -> None:
    with pytest.raises(C.ConfigError, match=r"model.kernel_size_dec \(4\) must be odd"):
        C.from_dict({"model": {"kernel_size_dec": 4}})


def test_schema_is_a_fresh_copy_each_time() -> None:
    C.schema()["properties"].clear()
    assert "model" in C.schema()["properties"]


def test_load_synthesis_reads_and_checks_that_section_alone(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"  # a folder run whose path comes on snakemake's command line
    a.write_text("dataset:\n  kind: folder\nsynthesis:\n  noise_scale: 0.5\n")
    b = tmp_path / "b.yaml"
    b.write_text("synthesis:\n  length_scale: 1.2\n")
    synth = C.load_synthesis(a, b)
    assert (synth.noise_scale, synth.length_scale, synth.vocoder) == (0.5, 1.2, "griffin_lim")
    with pytest.raises(C.ConfigError, match="dataset.folder.path: required"):
        C.load(a, b)  # the whole config is incomplete
    b.write_text("synthesis:\n  vocoder: wavenet\n")
    with pytest.raises(C.ConfigError, match=r"(?s)b.yaml.*synthesis.vocoder"):
        C.load_synthesis(a, b)
