"""The glowtts command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glowtts.cli import main
from glowtts.config import AudioConfig, DemoConfig, from_dict
from glowtts.data.demo import generate_demo_corpus
from glowtts.data.prepare import prepare_corpus


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    generate_demo_corpus(root / "corpus", DemoConfig(n_clips=6), AudioConfig(), seed=3)
    prepare_corpus(from_dict({}), root / "corpus", root / "m.tsv", root / "r.json")
    return root / "m.tsv"


def test_inspect_prints_clips_and_hours(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(manifest)]) == 0
    out = capsys.readouterr().out
    assert "clips: 6" in out and "hours:" in out


def test_inspect_json(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(manifest), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["clips"] == 6


def test_convert_help_comes_from_the_converter(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["convert", "--help"])
    assert exit_.value.code == 0
    assert "config.json" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["synthesise-everything"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
