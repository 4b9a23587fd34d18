"""Corpus validation: each defect of a broken LJSpeech-format folder gives its named error."""

from __future__ import annotations

import builtins
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from glowtts.data.corpus import CorpusError, corpus_fingerprint, find_corpus_root, read_corpus


def _wav(path: Path, seconds: float = 1.0, rate: int = 22050, channels: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.random.default_rng(0).normal(0, 0.1, (int(seconds * rate), channels))
    sf.write(str(path), x if channels > 1 else x[:, 0], rate, subtype="PCM_16")


def _corpus(
    root: Path, rows: list[str], wavs: dict[str, dict[str, float | int]] | None = None
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "metadata.csv").write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    for uid, kw in (wavs or {}).items():
        _wav(root / "wavs" / f"{uid}.wav", **kw)  # type: ignore[arg-type]
    return root


def test_good_folder_gives_manifest_rows(tmp_path: Path) -> None:
    root = _corpus(
        tmp_path / "c",
        ["a|Hello there.|Hello there.", "b|Two fields only."],
        {"a": {"seconds": 1.0}, "b": {"seconds": 2.0}},
    )
    rows, report = read_corpus(root, sample_rate=22050)
    assert [(u.id, u.text, u.normalized_text) for u in rows] == [
        ("a", "Hello there.", "Hello there."),
        ("b", "Two fields only.", "Two fields only."),  # no third column: normalised = text
    ]
    assert (
        rows[1].seconds == pytest.approx(2.0) and rows[1].wav == (root / "wavs" / "b.wav").resolve()
    )
    assert report.kept == 2 and report.seconds_kept == pytest.approx(3.0)
    meta = (root / "metadata.csv").resolve()
    assert report.lines == {"a": 1, "b": 2} and report.where("b") == f"{meta}:2"
    assert set(report.counts()) == {
        "rows",
        "kept",
        "too_short",
        "too_long",
        "resampled",
        "seconds_kept",
        "sample_rates",
    }  # the keys of report.json: no line map, no path


def test_every_problem_is_listed_at_once_with_file_and_line(tmp_path: Path) -> None:
    root = _corpus(
        tmp_path / "c",
        [
            "ok|Fine.|Fine.",
            "malformed row without separator",  # line 2
            "missing|No wav here.",  # line 3
            "ok|Duplicate.",  # line 4
            "empty|",  # line 5
            "stereo|Two channels.",  # line 6
            "broken|Not a wav.",  # line 7
            "a|b|c|d",  # line 8: four fields
        ],
        {"ok": {}, "stereo": {"channels": 2}, "empty": {}},
    )
    (root / "wavs" / "broken.wav").write_bytes(b"RIFF not really")
    with pytest.raises(CorpusError) as err:
        read_corpus(root, sample_rate=22050)
    meta = root.resolve() / "metadata.csv"
    problems = err.value.problems
    expected = [
        f"{meta}:2: malformed row",
        f"{meta}:3: wav for 'missing' not found",
        f"{meta}:4: duplicate id 'ok' (first on line 1)",
        f"{meta}:5: empty text for id 'empty'",
        "stereo.wav: 2 channels; the pipeline needs mono audio (line 6)",
        f"{meta}:7: cannot read",
        f"{meta}:8: malformed row",
    ]
    for e in expected:
        assert any(e in p for p in problems), (e, problems)
    assert len(problems) == len(expected)
    assert "Fix these rows or files" in str(err.value)


def test_sample_rate_mismatch_resampled_or_refused(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "c", ["a|At sixteen kilohertz."], {"a": {"rate": 16000}})
    rows, report = read_corpus(root, sample_rate=22050, on_rate_mismatch="resample")
    assert rows[0].sample_rate == 16000 and report.resampled == 1
    with pytest.raises(
        CorpusError, match=r"a\.wav: sample rate 16000 Hz, config audio.sample_rate is 22050"
    ):
        read_corpus(root, sample_rate=22050, on_rate_mismatch="error")


def test_length_filter_counts(tmp_path: Path) -> None:
    root = _corpus(
        tmp_path / "c",
        ["s|Short.", "m|Medium.", "l|Long."],
        {"s": {"seconds": 0.2}, "m": {"seconds": 1.0}, "l": {"seconds": 3.0}},
    )
    rows, report = read_corpus(root, sample_rate=22050, min_seconds=0.5, max_seconds=2.0)
    assert [u.id for u in rows] == ["m"]
    assert (report.rows, report.kept, report.too_short, report.too_long) == (3, 1, 1, 1)


def test_corpus_root_found_in_single_subfolder_or_named_error(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "archive" / "LJSpeech-1.1", ["a|x"], {"a": {}})
    assert find_corpus_root(tmp_path / "archive") == root
    with pytest.raises(FileNotFoundError, match="no metadata.csv"):
        find_corpus_root(tmp_path / "nowhere")


def test_non_utf8_metadata_names_the_first_bad_line_and_column(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "c", [], {"a": {}, "b": {}, "c": {}})
    rows = ["a|Fine \u00e9t\u00e9.", "b|caf\u00e9 au lait", "c|na\u00efve"]
    good, latin = (r.encode("utf-8") for r in rows[:1]), [r.encode("latin-1") for r in rows[1:]]
    (root / "metadata.csv").write_bytes(b"\n".join([*good, *latin]) + b"\n")
    with pytest.raises(CorpusError) as err:
        read_corpus(root, sample_rate=22050)
    meta = root.resolve() / "metadata.csv"
    assert err.value.problems == [
        f"{meta}:2:6: not UTF-8 text (byte(s) e9) (1 more line(s) too); re-save the file as UTF-8"
    ]


def test_utf8_byte_order_mark_and_crlf_are_accepted(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "c", [], {"a": {}, "b": {}})
    (root / "metadata.csv").write_bytes(b"\xef\xbb\xbfa|First.\r\nb|Second.\r\n")
    rows, report = read_corpus(root, sample_rate=22050)
    assert [(u.id, u.text) for u in rows] == [("a", "First."), ("b", "Second.")]
    assert report.lines == {"a": 1, "b": 2}


# ----------------------------------------------------------------------------- fingerprint


def _touch(path: Path, ns: int) -> None:
    os.utime(path, ns=(ns, ns))


def test_fingerprint_tracks_metadata_bytes_and_wav_stats(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "c", ["a|One.", "b|Two."], {"a": {}, "b": {}})
    for wav in (root / "wavs").iterdir():
        _touch(wav, 1_000_000_000)
    (root / "wavs" / "notes.txt").write_text("not a wav")
    first = corpus_fingerprint(root)
    assert len(first) == 16 and int(first, 16) >= 0
    assert corpus_fingerprint(tmp_path / "c") == first  # stable
    assert corpus_fingerprint(tmp_path) == first  # found through find_corpus_root

    (root / "wavs" / "notes.txt").write_text("other text")  # not a wav: ignored
    assert corpus_fingerprint(root) == first

    seen = {first}

    def changed() -> str:
        new = corpus_fingerprint(root)
        assert new not in seen
        seen.add(new)
        return new

    (root / "metadata.csv").write_text("a|One.\nb|Two!\n")  # same size, other bytes
    changed()
    _touch(root / "wavs" / "a.wav", 1_000_000_001)  # one nanosecond later
    changed()
    with (root / "wavs" / "b.wav").open("ab") as fh:  # one more byte
        fh.write(b"\0")
    changed()
    _wav(root / "wavs" / "c.wav")  # added
    changed()
    (root / "wavs" / "c.wav").unlink()  # removed again: back to the previous content
    assert corpus_fingerprint(root) in seen

    moved = tmp_path / "moved"
    before = corpus_fingerprint(root)
    shutil.move(root, moved)  # a move keeps names, sizes and times
    assert corpus_fingerprint(moved) == before


def test_fingerprint_does_not_read_the_wavs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _corpus(tmp_path / "c", ["a|One.", "b|Two."], {"a": {}, "b": {}})
    opened: list[str] = []
    real_open = io.open

    def recording_open(file: object, *args: object, **kwargs: object) -> object:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(io, "open", recording_open)
    monkeypatch.setattr(builtins, "open", recording_open)
    corpus_fingerprint(root)
    assert opened == [str(root / "metadata.csv")]


def test_fingerprint_of_a_folder_without_metadata_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no metadata.csv"):
        corpus_fingerprint(tmp_path)
