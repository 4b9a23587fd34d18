"""Split: deterministic, disjoint, sizes honoured, user filelists, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from glowtts.config import SplitConfig
from glowtts.data.manifest import Utterance, read_manifest, write_manifest
from glowtts.data.split import SplitError, split_corpus, split_sizes


def _rows(n: int) -> list[Utterance]:
    return [
        Utterance(f"U{i:04d}", f"text {i}", f"text {i}", Path(f"/w/U{i:04d}.wav"), 1.0, 22050)
        for i in range(n)
    ]


def _ids(parts: dict[str, list[Utterance]]) -> dict[str, list[str]]:
    return {k: [u.id for u in v] for k, v in parts.items()}


def test_deterministic_disjoint_and_sized() -> None:
    cfg = SplitConfig(train_size=None, val_size=7, test_size=11)
    a = _ids(split_corpus(_rows(100), cfg, seed=1))
    b = _ids(split_corpus(list(reversed(_rows(100))), cfg, seed=1))  # row order does not matter
    c = _ids(split_corpus(_rows(100), cfg, seed=2))
    assert a == b and a != c
    assert (len(a["train"]), len(a["val"]), len(a["test"])) == (82, 7, 11)
    all_ids = a["train"] + a["val"] + a["test"]
    assert len(set(all_ids)) == 100


def test_explicit_train_size_leaves_the_rest_out() -> None:
    parts = split_corpus(_rows(50), SplitConfig(train_size=20, val_size=5, test_size=5), seed=0)
    assert [len(parts[k]) for k in ("train", "val", "test")] == [20, 5, 5]


@pytest.mark.parametrize(
    "cfg",
    [SplitConfig(val_size=60, test_size=50), SplitConfig(train_size=95, val_size=5, test_size=5)],
)
def test_sizes_larger_than_the_corpus_are_a_clear_error(cfg: SplitConfig) -> None:
    with pytest.raises(SplitError, match="the corpus has 100 clips after filtering.*lower split"):
        split_corpus(_rows(100), cfg, seed=0)


@pytest.mark.parametrize(
    ("n", "train", "val", "test"),
    [
        (13_100, 12_500, 100, 500),  # LJSpeech: the official split
        (50, 47, 1, 2),  # 2.5 rounds to even
        (1_000, 930, 20, 50),
        (70, 65, 1, 4),  # 3.5 rounds to even
        (10, 8, 1, 1),
        (3, 1, 1, 1),
        (100_000, 99_400, 100, 500),  # capped
    ],
)
def test_null_sizes_adapt_to_the_corpus(n: int, train: int, val: int, test: int) -> None:
    cfg = SplitConfig(val_size=None, test_size=None)
    assert split_sizes(n, cfg) == {"train": train, "val": val, "test": test}


def test_adaptive_split_is_used_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="glowtts.data.split")
    parts = split_corpus(_rows(50), SplitConfig(val_size=None, test_size=None), seed=0)
    assert [len(parts[k]) for k in ("train", "val", "test")] == [47, 1, 2]
    assert "split sizes for 50 clips: train=47 val=1 test=2" in caplog.text


def test_one_explicit_size_with_the_other_adaptive() -> None:
    assert split_sizes(50, SplitConfig(val_size=5, test_size=None)) == {
        "train": 43,
        "val": 5,
        "test": 2,
    }
    with pytest.raises(
        SplitError,
        match=r"has 50 clips after filtering, too few for train=-2, val=50, test=2; lower "
        r"split\.val_size \(50\), or set it to null",
    ):
        split_sizes(50, SplitConfig(val_size=50, test_size=None))


def test_too_few_clips_for_any_split() -> None:
    with pytest.raises(
        SplitError, match=r"has 2 clip\(s\) after filtering; a split needs at least 3"
    ):
        split_corpus(_rows(2), SplitConfig(val_size=None, test_size=None), seed=0)


def _filelist(path: Path, ids: list[str]) -> str:
    path.write_text("".join(f"DUMMY/{i}.wav|text of {i}\n" for i in ids))
    return str(path)


def test_user_filelists_in_reference_format(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = SplitConfig(
        train_filelist=_filelist(tmp_path / "tr.txt", ["U0000", "U0001", "GONE"]),
        val_filelist=_filelist(tmp_path / "va.txt", ["U0002"]),
        test_filelist=_filelist(tmp_path / "te.txt", ["U0003"]),
    )
    parts = _ids(split_corpus(_rows(10), cfg, seed=0))
    assert parts == {"train": ["U0000", "U0001"], "val": ["U0002"], "test": ["U0003"]}
    assert "tr.txt:3: id 'GONE' is not in the corpus" in caplog.text


def test_user_filelists_overlapping_are_refused(tmp_path: Path) -> None:
    cfg = SplitConfig(
        train_filelist=_filelist(tmp_path / "tr.txt", ["U0000"]),
        val_filelist=_filelist(tmp_path / "va.txt", ["U0001"]),
        test_filelist=_filelist(tmp_path / "te.txt", ["U0002", "U0000"]),
    )
    with pytest.raises(SplitError, match=r"te\.txt:2: id 'U0000' is already in the train filelist"):
        split_corpus(_rows(10), cfg, seed=0)


def test_malformed_filelist_line_is_named(tmp_path: Path) -> None:
    (tmp_path / "tr.txt").write_text("no separator here\n")
    cfg = SplitConfig(train_filelist=str(tmp_path / "tr.txt"), val_filelist="x", test_filelist="y")
    with pytest.raises(SplitError, match=r"tr\.txt:1: expected 'path/to/<id>\.wav\|text'"):
        split_corpus(_rows(3), cfg, seed=0)


def test_manifest_round_trip_and_errors(tmp_path: Path) -> None:
    rows = _rows(3)
    write_manifest(tmp_path / "m.tsv", rows)
    assert read_manifest(tmp_path / "m.tsv") == rows
    (tmp_path / "bad.tsv").write_text((tmp_path / "m.tsv").read_text() + "only\tthree\tfields\n")
    with pytest.raises(ValueError, match=r"bad\.tsv:5: expected 6 tab-separated fields, got 3"):
        read_manifest(tmp_path / "bad.tsv")
    with pytest.raises(FileNotFoundError, match="rerun the workflow's corpus stage"):
        read_manifest(tmp_path / "none.tsv")
