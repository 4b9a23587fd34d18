"""The corpus stage: manifest, report, and unknown characters reported or refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from glowtts.config import from_dict
from glowtts.data.corpus import CorpusError
from glowtts.data.manifest import read_manifest
from glowtts.data.prepare import UnknownCharacterError, prepare_corpus, prepare_split


def _folder(root: Path, rows: dict[str, str]) -> Path:
    (root / "wavs").mkdir(parents=True)
    for uid in rows:
        sf.write(str(root / "wavs" / f"{uid}.wav"), np.full(22050, 0.1), 22050, subtype="PCM_16")
    (root / "metadata.csv").write_text("".join(f"{k}|{v}\n" for k, v in rows.items()))
    return root


ROWS = {"a1": "Caf\u00e9 one.", "a2": "Plain text.", "a3": "Caf\u00e9 and \u00e9clair."}


def test_unknown_characters_refused_with_counts_and_ids(tmp_path: Path) -> None:
    cfg = from_dict({"text": {"cleaners": "basic_cleaners", "on_unknown_char": "error"}})
    folder = _folder(tmp_path / "c", ROWS)
    with pytest.raises(
        UnknownCharacterError, match=r"'é' \(U\+00E9\) x3 in a1, a3.*on_unknown_char: drop"
    ):
        prepare_corpus(cfg, folder, tmp_path / "m.tsv", tmp_path / "r.json")
    assert not (tmp_path / "m.tsv").exists()


def test_unknown_characters_dropped_are_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = from_dict({"text": {"cleaners": "basic_cleaners", "on_unknown_char": "drop"}})
    folder = _folder(tmp_path / "c", ROWS)
    assert prepare_corpus(cfg, folder, tmp_path / "m.tsv", tmp_path / "r.json") == 3
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["unknown_characters"] == {"é": {"count": 3, "first_ids": ["a1", "a3"]}}
    assert "unknown character 'é' (U+00E9) x3 in a1, a3" in caplog.text
    assert [u.id for u in read_manifest(tmp_path / "m.tsv")] == ["a1", "a2", "a3"]


def test_english_cleaners_transliterate_instead(tmp_path: Path) -> None:
    cfg = from_dict({"text": {"on_unknown_char": "error"}})
    folder = _folder(tmp_path / "c", ROWS)
    assert prepare_corpus(cfg, folder, tmp_path / "m.tsv", tmp_path / "r.json") == 3


def test_nothing_within_length_limits_is_a_clear_error(tmp_path: Path) -> None:
    cfg = from_dict({"dataset": {"min_seconds": 2.0, "max_seconds": 5.0}})
    folder = _folder(tmp_path / "c", ROWS)
    with pytest.raises(
        ValueError, match=r"no clip is within dataset.min_seconds=2.0.*\(3 too short, 0 too long\)"
    ):
        prepare_corpus(cfg, folder, tmp_path / "m.tsv", tmp_path / "r.json")


def test_split_writes_three_filelists(tmp_path: Path) -> None:
    cfg = from_dict({"split": {"val_size": 1, "test_size": 1}})
    prepare_corpus(cfg, _folder(tmp_path / "c", ROWS), tmp_path / "m.tsv", tmp_path / "r.json")
    out = {k: tmp_path / f"{k}.tsv" for k in ("train", "val", "test")}
    assert prepare_split(cfg, tmp_path / "m.tsv", out) == {"train": 1, "val": 1, "test": 1}
    ids = [u.id for k in out for u in read_manifest(out[k])]
    assert sorted(ids) == ["a1", "a2", "a3"]


def test_transcripts_without_symbols_are_listed_with_their_lines(tmp_path: Path) -> None:
    """Every row that cleans to no symbol is named before any file is written."""
    cfg = from_dict(
        {"text": {"cleaners": "basic_cleaners", "on_unknown_char": "drop", "add_blank": True}}
    )
    rows = {"a1": "Fine.", "a2": "\u2603\u2603", "a3": "Also fine.", "a4": "\u00e9"}
    folder = _folder(tmp_path / "c", rows)
    with pytest.raises(CorpusError) as err:
        prepare_corpus(cfg, folder, tmp_path / "m.tsv", tmp_path / "r.json")
    meta = folder.resolve() / "metadata.csv"
    assert [p.split(": ", 1)[0] for p in err.value.problems] == [f"{meta}:2", f"{meta}:4"]
    assert "id 'a2': normalised text '\u2603\u2603' leaves no symbol" in err.value.problems[0]
    assert "id 'a4': normalised text '\u00e9'" in err.value.problems[1]
    assert not (tmp_path / "m.tsv").exists() and not (tmp_path / "r.json").exists()


def test_report_json_keys_are_unchanged(tmp_path: Path) -> None:
    cfg = from_dict({})
    prepare_corpus(cfg, _folder(tmp_path / "c", ROWS), tmp_path / "m.tsv", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert sorted(report) == [
        "hours_kept",
        "kept",
        "resampled",
        "rows",
        "sample_rates",
        "seconds_kept",
        "too_long",
        "too_short",
        "unknown_characters",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "m.tsv", "r.json"]  # no temp


def test_manifests_survive_moving_the_workflow_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stages run with cwd = the workflow folder; wavs under it are written relative."""
    work = tmp_path / "work"
    _folder(work / "results" / "demo_corpus", ROWS)
    monkeypatch.chdir(work)
    cfg = from_dict({"split": {"val_size": 1, "test_size": 1}})
    manifest = Path("results/corpus/metadata.tsv")
    prepare_corpus(cfg, "results/demo_corpus", manifest, "results/corpus/report.json")
    out = {k: Path(f"results/filelists/{k}.tsv") for k in ("train", "val", "test")}
    prepare_split(cfg, manifest, out)
    assert "\t../demo_corpus/wavs/a1.wav\t" in manifest.read_text()
    assert "\t../demo_corpus/wavs/" in out["train"].read_text()

    monkeypatch.chdir(tmp_path)
    shutil.move(work, tmp_path / "moved")
    moved = tmp_path / "moved"
    for path in [manifest, *out.values()]:
        for u in read_manifest(moved / path):
            assert u.wav == moved / "results" / "demo_corpus" / "wavs" / f"{u.id}.wav"
            assert u.wav.is_file()
