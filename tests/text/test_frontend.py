"""TextFrontend: hand-checked ids, blanks, inline ARPAbet, unknown characters, decode, config."""

from __future__ import annotations

import pickle
import subprocess
import sys
from typing import Any

import pytest

from glowtts.config import TextConfig
from glowtts.text import SYMBOL_TO_ID, PronouncingDictionary, TextFrontend, intersperse


@pytest.fixture(scope="module")
def cmu() -> PronouncingDictionary:
    return PronouncingDictionary()


def frontend(cmu: PronouncingDictionary | None = None, **fields: Any) -> TextFrontend:
    return TextFrontend(TextConfig(**fields), dictionary=cmu)


SENTENCE = "The dog, 2 cats."  # cleaned: "the dog, two cats."
# letters: a=38 ... z=63 (t=57 h=45 e=42 d=41 o=52 g=44 w=60 c=40 a=38 s=56); "," 6, "." 7, " " 11
LETTER_IDS = [57, 45, 42, 11, 41, 52, 44, 6, 11, 57, 60, 52, 11, 40, 38, 57, 56, 7]
# "the" -> DH AH0 (64+27, 64+9), "two" -> T UW1 (64+69, 64+77); "dog," and "cats." keep their
# punctuation, so they do not match the dictionary and stay letters
CMUDICT_IDS = [91, 73, 11, 41, 52, 44, 6, 11, 133, 141, 11, 40, 38, 57, 56, 7]


def test_n_vocab() -> None:
    assert frontend(cmudict=False).n_vocab == 148
    assert frontend(cmudict=False, add_blank=True).n_vocab == 149
    assert frontend(cmudict=False).blank_id is None
    assert frontend(cmudict=False, add_blank=True).blank_id == 148
    assert frontend(cmudict=False).pad_id == 0


def test_ids_by_hand(cmu: PronouncingDictionary) -> None:
    assert frontend(cmudict=False).encode(SENTENCE) == LETTER_IDS
    assert frontend(cmu, cmudict=True).encode(SENTENCE) == CMUDICT_IDS
    with_blanks = frontend(cmudict=False, add_blank=True).encode(SENTENCE)
    assert with_blanks[:7] == [148, 57, 148, 45, 148, 42, 148]
    assert with_blanks == intersperse(LETTER_IDS)
    cmu_blanks = frontend(cmu, cmudict=True, add_blank=True).encode(SENTENCE)
    assert cmu_blanks[:5] == [148, 91, 148, 73, 148]
    assert len(cmu_blanks) == 2 * len(CMUDICT_IDS) + 1
    assert cmu_blanks[1::2] == CMUDICT_IDS and set(cmu_blanks[::2]) == {148}


def test_decode(cmu: PronouncingDictionary) -> None:
    assert frontend(cmudict=False).decode(LETTER_IDS) == "the dog, two cats."
    fe = frontend(cmu, cmudict=True, add_blank=True)
    assert fe.decode(fe.encode(SENTENCE)) == "{DH AH0} dog, {T UW1} cats."
    with pytest.raises(ValueError, match=r"id 148 .*n_vocab 148"):
        frontend(cmudict=False).decode([148])
    with pytest.raises(ValueError, match="-1"):
        fe.decode([-1])


def _reference_ids(fe: TextFrontend, cmu: PronouncingDictionary, text: str) -> list[int]:
    """The reference's algorithm for brace-free text: a space after every word, then one
    trailing space removed; unknown characters dropped."""
    out: list[int] = []
    for word in fe.clean(text).split(" "):
        phones = cmu.lookup(word)
        if phones is not None:
            out += [SYMBOL_TO_ID["@" + p] for p in phones]
        else:
            out += [SYMBOL_TO_ID[c] for c in word if c in SYMBOL_TO_ID and c != "_"]
        out.append(SYMBOL_TO_ID[" "])
    return out[:-1] if out[-1] == SYMBOL_TO_ID[" "] else out


@pytest.mark.parametrize(
    "text",
    [
        "Printing, in the only sense with which we are at present concerned.",
        "hello ",
        " hello  world ",
        'Don\'t stop! He said (quietly): "go"; then left?',
        "x ~ y",
        "Mr. Smith paid $3.50 on 5/12/2020 at 10:30.",
    ],
)
def test_matches_reference_algorithm(cmu: PronouncingDictionary, text: str) -> None:
    fe = frontend(cmu, cmudict=True)
    assert fe.encode(text) == _reference_ids(fe, cmu, text)


def test_trailing_space_kept_once(cmu: PronouncingDictionary) -> None:
    # "hello " -> HH AH0 L OW1 + one space (the reference removes only the last of two)
    assert frontend(cmu, cmudict=True).encode("hello ") == [106, 73, 117, 123, 11]


def test_inline_arpabet(cmu: PronouncingDictionary) -> None:
    # g=44 o=52 " "=11, HH=106 AH0=73, n=51 o=52 w=60
    expected = [44, 52, 11, 106, 73, 11, 51, 52, 60]
    assert frontend(cmudict=False).encode("go {HH AH0} now") == expected
    # phones are upper-cased; text around braces is looked up too: "go" -> G OW1 (105, 123)
    assert frontend(cmu, cmudict=True).encode("go {hh ah0}") == [105, 123, 11, 106, 73]


def test_unknown_error_names_utterance_and_character() -> None:
    fe = frontend(cmudict=False, on_unknown_char="error")
    with pytest.raises(ValueError) as err:
        fe.encode('He said "hi"', utt_id="LJ001-0042")
    message = str(err.value)
    assert "LJ001-0042" in message
    assert "'\"'" in message and "U+0022" in message
    assert "text.on_unknown_char: drop" in message
    with pytest.raises(ValueError, match=r"'é' \(U\+00E9\)"):
        frontend(cmudict=False, cleaners="basic_cleaners", on_unknown_char="error").encode("café")
    assert fe.encode("fine text.") == frontend(cmudict=False).encode("fine text.")


def test_unknown_drop_removes_character() -> None:
    fe = frontend(cmudict=False, on_unknown_char="drop")
    assert fe.encode('say "hi"_ [x]') == fe.encode("say hi x")
    # basic_cleaners keeps digits, which are not symbols
    assert frontend(cmudict=False, cleaners="basic_cleaners").encode("a1b") == [38, 39]


def test_unknown_characters_report() -> None:
    fe = frontend(cmudict=False)
    rows = [
        ("u1", 'a "b" ~'),
        ("u2", '"'),
        ("u3", "{XX AH0} {oops"),
        *[(f"t{i}", "~") for i in range(7)],
        ("u4", "plain text, 100% & 20°C."),  # everything here is spoken
        ("u5", "smile 😀"),  # unidecode has no ASCII for it
    ]
    report = fe.unknown_characters(rows)
    assert list(report) == ['"', "~", "{XX}", "{", "😀"]
    assert "U+1F600" in report["😀"].describe()
    assert report['"'].count == 3 and report['"'].utt_ids == ("u1", "u2")
    assert report["~"].count == 8
    assert report["~"].utt_ids == ("u1", "t0", "t1", "t2", "t3")  # first five only
    assert report["{XX}"].utt_ids == ("u3",)
    assert "U+007E" in report["~"].describe() and "x8" in report["~"].describe()
    assert fe.unknown_characters([("ok", "All fine.")]) == {}


def test_dictionary_is_loaded_lazily() -> None:
    d = PronouncingDictionary({"dog": ["D", "AO1", "G"]})
    fe = frontend(d, cmudict=True)
    # D AO1 G = 64+26, 64+14, 64+41; then "dog." in letters
    assert fe.encode("dog dog.") == [90, 78, 105, 11, 41, 52, 44, 7]
    lazy = PronouncingDictionary()
    frontend(lazy, cmudict=True)
    assert not lazy.loaded


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"cleaners": "german_cleaners"}, r"text\.cleaners.*german_cleaners"),
        ({"on_unknown_char": "ignore"}, r"text\.on_unknown_char.*'ignore'.*drop"),
    ],
)
def test_bad_config(fields: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TextFrontend(TextConfig(cmudict=False, **fields))


def test_pickles_for_worker_processes() -> None:
    fe = frontend(cmudict=False, add_blank=True)
    fe.encode("warm 1")
    clone = pickle.loads(pickle.dumps(fe))
    assert clone.encode("Dr. 5") == fe.encode("Dr. 5")


def test_import_is_light() -> None:
    code = (
        "import sys, glowtts.text; "
        "heavy = {'torch', 'inflect', 'cmudict', 'unidecode', 'librosa'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_empty_text() -> None:
    # the reference fails on empty text (it indexes the last id); here it is simply empty
    assert frontend(cmudict=False).encode("") == []
    assert frontend(cmudict=False, add_blank=True).encode("") == [148]
    assert frontend(cmudict=False).decode([]) == ""


def test_unknown_inline_phone_in_error_mode() -> None:
    fe = frontend(cmudict=False, on_unknown_char="error")
    with pytest.raises(ValueError, match=r"utterance 'u7'.*'\{QQ1\}' \(not an ARPAbet symbol\)"):
        fe.encode("say {QQ1 AH0}", utt_id="u7")
