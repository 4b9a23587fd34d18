"""Numbers read as a person says them: the reference's misreadings fixed, ordinary input kept."""

from __future__ import annotations

import random

import pytest

from glowtts.text import NumberNormalizer, english_cleaners, normalize_numbers


@pytest.fixture(scope="module")
def nn() -> NumberNormalizer:
    return NumberNormalizer()


# Each pair: what the reference says is in the comment; ours is the expected string.
MISREADINGS = [
    ("£100", "one hundred pounds"),  # psone hundred
    ("1990s", "nineteen nineties"),  # nineteen ninetys
    ("3.14159", "three point one four one five nine"),  # ... fourteen thousand, ...
    ("10:30", "ten thirty"),  # ten:thirty
    ("100%", "one hundred percent"),  # one hundred (the "%" is dropped)
    ("007", "zero zero seven"),  # seven
    ("rock & roll", "rock and roll"),  # rock  roll
    ("20°C", "twenty degrees celsius"),  # twentydegc
    ("5/12/2020", "may twelfth twenty twenty"),  # fivetwelvetwenty twenty
    ("$.50", "fifty cents"),
    ("2.0.1", "two point oh point one"),  # two point zero.one
    ("the 80s", "the eighties"),  # the eightys
    ("-5", "minus five"),  # -five
]


@pytest.mark.parametrize(("raw", "spoken"), MISREADINGS)
def test_reference_misreadings_fixed(raw: str, spoken: str) -> None:
    assert english_cleaners(raw) == spoken


@pytest.mark.parametrize(
    ("raw", "spoken"),
    [
        # money
        ("$3.5", "three dollars, fifty cents"),  # one decimal is tenths (reference: five cents)
        ("$3.00", "three dollars"),
        ("$0", "zero dollars"),
        ("£3.50", "three pounds, fifty pence"),
        ("£1.01", "one pound, one penny"),
        ("€2.50", "two euros, fifty cents"),
        ("¥100", "one hundred yen"),
        ("$5 million", "five million dollars"),
        ("$1.5 billion", "one point five billion dollars"),
        ("-$5", "minus five dollars"),
        ("$3.505", "three point five zero five dollars"),
        ("$ 100", "one hundred dollars"),
        ("$1,000.50", "one thousand dollars, fifty cents"),
        # times
        ("10:05", "ten oh five"),
        ("10:00", "ten o'clock"),
        ("14:00", "fourteen hundred"),
        ("10:00 a.m.", "ten a.m."),
        ("10:30pm", "ten thirty p m"),
        ("5pm to 11 am", "five p m to eleven a m"),
        ("1:30:15", "one:thirty:fifteen"),  # not a clock time: reference reading
        # dates: month/day/year, day/month/year when only that is a date, ISO year-month-day
        ("13/5/2020", "may thirteenth twenty twenty"),
        ("2020-05-12", "may twelfth twenty twenty"),
        ("1/2/05", "january second oh five"),
        ("13/13/2020", "thirteen slash thirteen slash twenty twenty"),
        # fractions
        ("1/2", "one half"),
        ("3/4", "three quarters"),
        ("2/3", "two thirds"),
        ("1/16", "one sixteenth"),
        ("7/100", "seven hundredths"),
        # other "a/b" read as two numbers
        ("24/7", "twenty-four seven"),
        ("9/11", "nine eleven"),
        ("5/12", "five twelve"),
        ("3/2", "three two"),
        ("1/0", "one zero"),
        ("2020/21", "twenty twenty twenty-one"),
        ("3 1/2", "three and one half"),
        ("½", " one half"),
        # percent, degrees
        ("3.5 %", "three point five percent"),
        ("-5°c", "minus five degrees celsius"),
        ("1°", "one degree"),
        ("98.6°F", "ninety-eight point six degrees fahrenheit"),
        # decades
        ("the 1900s", "the nineteen hundreds"),
        ("the 2000s", "the two thousands"),
        ("the 2010s", "the twenty tens"),
        ("'80s and 1980's", "eighties and nineteen eighties"),
        # versions, decimals, digit strings
        ("192.168.0.1", "one hundred ninety-two point one hundred sixty-eight point oh point one"),
        (".5", "point five"),
        ("10.05", "ten point zero five"),
        ("#1", "number one"),
        ("9" * 19, " ".join(["nine"] * 19)),
        # signs away from numbers
        ("£ and %", " pounds and percent "),
    ],
)
def test_spoken_forms(raw: str, spoken: str) -> None:
    assert english_cleaners(raw) == spoken


@pytest.mark.parametrize(
    ("n", "spoken"),
    [
        (0, "zero"),
        (999, "nine hundred ninety-nine"),
        (1000, "one thousand"),
        (1001, "ten oh one"),
        (1900, "nineteen hundred"),
        (1984, "nineteen eighty-four"),
        (2000, "two thousand"),
        (2009, "two thousand nine"),
        (2010, "twenty ten"),
        (2999, "twenty-nine ninety-nine"),
        (3000, "three thousand"),
        (10_000, "ten thousand"),
    ],
)
def test_integer_year_rule(nn: NumberNormalizer, n: int, spoken: str) -> None:
    assert nn.integer(n) == spoken


def test_digits_read_back() -> None:
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    rng = random.Random(0)
    for _ in range(50):
        s = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12)))
        assert "".join(str(words.index(w)) for w in NumberNormalizer.digits(s).split()) == s
    assert NumberNormalizer.digits("101", zero="oh") == "one oh one"


def test_money_against_arithmetic(nn: NumberNormalizer) -> None:
    # every cent value: dollars and cents as separately spoken cardinals, singular at one
    for dollars in (0, 1, 7):
        for cents in range(100):
            expected = []
            if dollars:
                expected.append(f"{nn.cardinal(dollars)} dollar" + ("s" if dollars > 1 else ""))
            if cents:
                expected.append(f"{nn.cardinal(cents)} cent" + ("s" if cents > 1 else ""))
            got = nn(f"${dollars}.{cents:02d}")
            assert got == (", ".join(expected) or "zero dollars"), (dollars, cents)


def test_decades_are_plural_years(nn: NumberNormalizer) -> None:
    for year in range(1800, 2100, 10):
        head, _, last = nn.integer(year).rpartition(" ")
        plural = last[:-1] + "ies" if last.endswith("y") else last + "s"
        assert nn(f"{year}s") == f"{head} {plural}".strip()


def test_normalize_numbers_function() -> None:
    spoken = "on may twelfth twenty twenty at ten thirty"
    assert normalize_numbers("on 5/12/2020 at 10:30") == spoken
    assert normalize_numbers("no digits here") == "no digits here"
