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


def test_metrics_prints_runs_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = []
    for run, mcd in (("small", 6.25), ("base", 5.5)):
        path = tmp_path / "results" / run / "eval" / "metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"mcd_dtw_db": mcd, "step": 400, "custom_key": run}))
        files.append(str(path))
    (tmp_path / "results" / "small" / "eval" / "metrics.json").write_text(
        json.dumps({"mcd_dtw_db": 6.25, "step": 400, "log_f0_rmse_cents": None})
    )  # one run lacks a key, one has it undefined (null: no voiced frame)
    assert main(["metrics", *files, "--describe"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["metric", "small", "base", "meaning"]
    mcd = next(line for line in lines if line.startswith("mcd_dtw_db"))
    assert mcd.split()[1:3] == ["6.25", "5.5"] and "dB" in mcd
    custom = next(line for line in lines if line.startswith("custom_key"))
    assert custom.split() == ["custom_key", "-", "base"]
    f0 = next(line for line in lines if line.startswith("log_f0_rmse_cents"))
    assert f0.split()[1:3] == ["n/a", "-"]


def test_metrics_names_a_missing_or_foreign_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["metrics", str(tmp_path / "nope.json")]) == 1
    assert "nope.json does not exist: run the evaluation first" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text('{"nested": {"a": 1}}')
    assert main(["metrics", str(other)]) == 1
    assert "other.json: expected a flat JSON object of metrics" in capsys.readouterr().err
