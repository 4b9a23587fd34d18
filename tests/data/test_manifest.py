"""Manifests: wav paths relative to the manifest inside the workflow folder, atomic writes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from glowtts.data.manifest import Utterance, read_manifest, write_manifest


def _utt(uid: str, wav: Path) -> Utterance:
    return Utterance(uid, f"text {uid}", f"text {uid}", wav, 1.5, 22050)


def _wav_column(manifest: Path) -> list[str]:
    return [line.split("\t")[3] for line in manifest.read_text().splitlines()[1:]]


def _layout(work: Path) -> list[Utterance]:
    """A workflow folder with a corpus in results/ and one in resources/, plus one outside."""
    wavs = [
        work / "results" / "run" / "demo_corpus" / "wavs" / "d1.wav",
        work / "resources" / "ljspeech" / "wavs" / "l1.wav",
        work.parent / "elsewhere" / "wavs" / "e1.wav",
    ]
    for wav in wavs:
        wav.parent.mkdir(parents=True, exist_ok=True)
        wav.write_bytes(b"RIFF")
    return [_utt(w.stem, w) for w in wavs]


def test_wavs_inside_root_are_relative_to_the_manifest(tmp_path: Path) -> None:
    work = tmp_path / "work"
    rows = _layout(work)
    manifest = work / "results" / "run" / "corpus" / "metadata.tsv"
    assert write_manifest(manifest, rows, root=work) == 3
    assert _wav_column(manifest) == [
        "../demo_corpus/wavs/d1.wav",
        "../../../resources/ljspeech/wavs/l1.wav",
        str(tmp_path / "elsewhere" / "wavs" / "e1.wav"),  # outside root: absolute
    ]
    assert read_manifest(manifest) == rows  # read back as absolute paths


def test_without_root_every_wav_is_absolute(tmp_path: Path) -> None:
    rows = _layout(tmp_path / "work")
    write_manifest(tmp_path / "m.tsv", rows)
    assert _wav_column(tmp_path / "m.tsv") == [str(u.wav) for u in rows]


def test_moving_the_workflow_folder_keeps_the_manifest_valid(tmp_path: Path) -> None:
    work = tmp_path / "work"
    rows = _layout(work)
    write_manifest(work / "results" / "run" / "corpus" / "metadata.tsv", rows, root=work)
    shutil.move(work, tmp_path / "moved")
    moved = read_manifest(tmp_path / "moved" / "results" / "run" / "corpus" / "metadata.tsv")
    assert [u.wav for u in moved[:2]] == [
        tmp_path / "moved" / "results" / "run" / "demo_corpus" / "wavs" / "d1.wav",
        tmp_path / "moved" / "resources" / "ljspeech" / "wavs" / "l1.wav",
    ]
    assert moved[2].wav == rows[2].wav
    assert all(u.wav.is_file() for u in moved)


def test_moving_results_with_the_demo_corpus_inside_keeps_it_valid(tmp_path: Path) -> None:
    work = tmp_path / "work"
    rows = _layout(work)
    write_manifest(work / "results" / "run" / "corpus" / "metadata.tsv", rows[:1], root=work)
    shutil.move(work / "results", tmp_path / "archive")
    (u,) = read_manifest(tmp_path / "archive" / "run" / "corpus" / "metadata.tsv")
    assert u.wav == tmp_path / "archive" / "run" / "demo_corpus" / "wavs" / "d1.wav"
    assert u.wav.is_file()


def test_relative_manifest_path_and_symlinked_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paths are joined lexically: a results folder that is a symlink does not break them."""
    work = tmp_path / "work"
    rows = _layout(work)
    (tmp_path / "scratch").mkdir()
    os.symlink(tmp_path / "scratch", work / "out")
    monkeypatch.chdir(work)
    write_manifest("out/corpus/metadata.tsv", rows[1:2], root=Path.cwd())
    assert _wav_column(work / "out" / "corpus" / "metadata.tsv") == [
        "../../resources/ljspeech/wavs/l1.wav"
    ]
    assert read_manifest("out/corpus/metadata.tsv") == rows[1:2]
    assert read_manifest(work / "out" / "corpus" / "metadata.tsv") == rows[1:2]


def test_a_failed_write_keeps_the_old_manifest_and_no_temporary_file(tmp_path: Path) -> None:
    rows = _layout(tmp_path / "work")
    manifest = tmp_path / "m.tsv"
    write_manifest(manifest, rows)
    before = manifest.read_bytes()
    bad = Utterance("bad", "a\ttab", "a tab", rows[0].wav, 1.0, 22050)
    with pytest.raises(ValueError, match="utterance 'bad': text contains a tab"):
        write_manifest(manifest, [rows[0], bad])
    assert manifest.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "m.tsv", "work"]
