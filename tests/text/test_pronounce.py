"""CMUdict lookups: exact words, first valid pronunciation, lazy loading."""

from __future__ import annotations

import pytest

from glowtts.text import PronouncingDictionary
from glowtts.text.pronounce import _parse_lines


@pytest.fixture(scope="module")
def cmu() -> PronouncingDictionary:
    return PronouncingDictionary()


def test_loads_lazily() -> None:
    d = PronouncingDictionary()
    assert not d.loaded
    assert d.lookup("dog") == ("D", "AO1", "G")
    assert d.loaded


def test_package_dictionary(cmu: PronouncingDictionary) -> None:
    assert len(cmu) == 126_052
    # first of several pronunciations, always
    assert cmu.lookup("hello") == ("HH", "AH0", "L", "OW1")
    assert cmu.lookup("read") == ("R", "EH1", "D")
    assert cmu.lookup("HeLLo") == cmu.lookup("hello")
    assert cmu.lookup("don't") == ("D", "OW1", "N", "T")


def test_exact_match_only(cmu: PronouncingDictionary) -> None:
    assert cmu.lookup("hello,") is None
    assert cmu.lookup("dog.") is None
    assert cmu.lookup("") is None
    assert "dog" in cmu and "dog." not in cmu


def test_parse_rules() -> None:
    lines = [
        ";;; a comment line",
        "read  R EH1 D",
        "read(2)  R IY1 D",
        "tomato T AH0 M EY1 T OW2 # comment after the phones",
        "bogus  B XX1 G",  # unknown phone: skipped, the next valid one is first
        "bogus(2)  B OW1 G AH0 S",
        "1st  F ER1 S T",  # words must start with a letter or "'"
        "'tis  T IH1 Z",
        "lonely",
    ]
    entries = _parse_lines(lines)
    assert entries == {
        "read": ("R", "EH1", "D"),
        "tomato": ("T", "AH0", "M", "EY1", "T", "OW2"),
        "bogus": ("B", "OW1", "G", "AH0", "S"),
        "'tis": ("T", "IH1", "Z"),
    }


def test_custom_entries_are_validated() -> None:
    d = PronouncingDictionary({"Dog": ["D", "AO1", "G"]})
    assert d.loaded and len(d) == 1
    assert d.lookup("dog") == ("D", "AO1", "G")
    with pytest.raises(ValueError, match=r"'cat'.*XX"):
        PronouncingDictionary({"cat": ["K", "XX", "T"]})
