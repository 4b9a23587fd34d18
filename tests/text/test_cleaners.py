"""Cleaners on ordinary sentences read as the reference reads them (expected strings by hand)."""

from __future__ import annotations

import pytest

from glowtts.text import basic_cleaners, english_cleaners, get_cleaner
from glowtts.text.cleaners import ABBREVIATIONS, collapse_whitespace, transliterate


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        (
            "Mr. Smith met Mrs. Jones, Dr. Watson and St. Paul at Ft. Worth.",
            "mister smith met misess jones, doctor watson and saint paul at fort worth.",
        ),
        (
            "Capt. Hook, Lt. Dan, Sgt. Pepper, Gen. Lee, Maj. Tom, Col. Mustard, Rev. Green, "
            "Hon. Judge, Jr., Esq., Ltd., Co., Drs. No",
            "captain hook, lieutenant dan, sergeant pepper, general lee, major tom, colonel "
            "mustard, reverend green, honorable judge, junior, esquire, limited, company, "
            "doctors no",
        ),
        # only when followed by "." and at the start of a word
        ("Dr Who and Mr Bean; Amr. x", "dr who and mr bean; amr. x"),
        # "st" inside "first" is no abbreviation
        ("The 1st. street", "the first. street"),
        (
            "In 1984, and again in 1776, 2000, 2005 and 1500.",
            "in nineteen eighty-four, and again in seventeen seventy-six, two thousand, "
            "two thousand five and fifteen hundred.",
        ),
        (
            "It cost $3.50, then $1 and $0.01 and $1,000,000.",
            "it cost three dollars, fifty cents, then one dollar and one cent and one million "
            "dollars.",
        ),
        (
            "The 21st, 2nd, 3rd and 11th of them; the 101st.",
            "the twenty-first, second, third and eleventh of them; the one hundred and first.",
        ),
        (
            "13,100 clips, 1,234,567 frames",
            "thirteen thousand, one hundred clips, one million, two hundred thirty-four "
            "thousand, five hundred sixty-seven frames",
        ),
        ("1.5 and 0.5", "one point five and zero point five"),
        ("Café naïve résumé Ångström", "cafe naive resume angstrom"),
        ('“Curly” ‘single’ "straight"', '"curly" \'single\' "straight"'),
        ("  Many \t spaces\n\nhere  ", " many spaces here "),
        (
            "On November 22, 1963, President Kennedy was shot in Dallas.",
            "on november twenty-two, nineteen sixty-three, president kennedy was shot in dallas.",
        ),
        # hyphenated ranges and words keep the reference's reading
        ("1990-1995, covid-19", "nineteen ninety-nineteen ninety-five, covid-nineteen"),
    ],
)
def test_english_cleaners_ordinary(raw: str, cleaned: str) -> None:
    assert english_cleaners(raw) == cleaned


@pytest.mark.parametrize(("short", "full"), ABBREVIATIONS)
def test_each_abbreviation(short: str, full: str) -> None:
    raw = f"{short.upper()}. x {short}. y {short} z"
    assert english_cleaners(raw) == f"{full} x {full} y {short} z"


def test_eighteen_abbreviations() -> None:
    assert len(ABBREVIATIONS) == 18
    assert len({s for s, _ in ABBREVIATIONS}) == 18


def test_transliterate_keeps_spoken_signs() -> None:
    assert transliterate("£5 €5 ¥5 20° é") == "£5 €5 ¥5 20° e"
    assert transliterate("naïve — “x”") == 'naive -- "x"'
    # no ASCII for it: kept (and later reported as unknown), not erased
    assert transliterate("ok 😀") == "ok 😀"


def test_collapse_whitespace_keeps_ends() -> None:
    assert collapse_whitespace(" a \t\n b ") == " a b "


def test_basic_cleaners() -> None:
    assert basic_cleaners("Hello  World\t123 Café") == "hello world 123 café"


def test_get_cleaner() -> None:
    assert get_cleaner("english_cleaners") is english_cleaners
    assert get_cleaner("basic_cleaners") is basic_cleaners
    with pytest.raises(ValueError, match=r"text\.cleaners.*'german_cleaners'.*basic_cleaners"):
        get_cleaner("german_cleaners")
