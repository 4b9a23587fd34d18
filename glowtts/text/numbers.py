"""Numbers as a person says them: money, times, dates, fractions, percentages, years, decades.

Runs on transliterated, lowercased text (see ``cleaners.english_cleaners``), in which the
currency signs ``£ € ¥`` and the degree sign ``°`` are still present. Ordinary input reads as
the reference reads it (years ``1984`` -> "nineteen eighty-four", ``$3.50`` -> "three dollars,
fifty cents", ``21st`` -> "twenty-first", ``1.5`` -> "one point five", ``2000`` -> "two
thousand"); the reference's misreadings are fixed (``£100``, ``1990s``, ``3.14159``,
``10:30``, ``100%``, ``007``, ``-5``, ``2.0.1``, ``5/12/2020``, ``20°c``, ``the 80s``).

Conventions: slashed dates are month/day/year (day/month/year when only that reading is a
date), ``2020-05-12`` is year-month-day; times read "ten thirty", "ten oh five", "ten
o'clock"; digits after a decimal point and numbers with a leading zero are read digit by
digit ("zero zero seven"); version-like numbers read zero as "oh"; "a/b" is a fraction for
the usual denominators ("three quarters") and two numbers otherwise ("twenty-four seven").
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any

__all__ = ["NumberNormalizer", "normalize_numbers"]

_MAX_CARDINAL = 10**15  # longer digit strings (ids, serial numbers) are read digit by digit
_MEMO_SIZE = 100_000  # spoken forms kept per normaliser
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# sign -> (singular, plural, sub-unit singular, sub-unit plural); "" = no sub-unit
_CURRENCIES = MappingProxyType(
    {
        "$": ("dollar", "dollars", "cent", "cents"),
        "£": ("pound", "pounds", "penny", "pence"),
        "€": ("euro", "euros", "cent", "cents"),
        "¥": ("yen", "yen", "", ""),
    }
)
# Signs left over after the numbers are read (not next to a number).
_SIGN_WORDS = MappingProxyType(
    {
        "%": " percent ",
        "&": " and ",
        "°": " degrees ",
        "$": " dollars ",
        "£": " pounds ",
        "€": " euros ",
        "¥": " yen ",
    }
)
_DEGREE_UNITS = MappingProxyType({"c": "celsius", "f": "fahrenheit"})

_NUMBER_SIGN_RE = re.compile(r"#(?=\d)")
_ISO_DATE_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_NEGATIVE_RE = re.compile(r"(?<![\w.,'-])-(?=[$£€¥]?\.?\d)")
_SLASH_DATE_RE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b")
_TIME_RE = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)(?![\d:])(?:\s?([ap])m\b)?")
_AM_PM_AHEAD_RE = re.compile(r"\s*[ap]\.m\.")
_HOUR_AM_PM_RE = re.compile(r"\b(1[0-2]|0?[1-9])\s?([ap])m\b")  # "5pm" -> "5 p m"
_GROUPED_RE = re.compile(r"(?<![\d,])\d{1,3}(?:,\d{3})+(?!\d)")
_CURRENCY_RE = re.compile(
    r"([$£€¥])\s?(\d+(?:\.\d+)?|\.\d+)(?!\.?\d)"
    r"(?:\s(hundred|thousand|million|billion|trillion)\b)?"
)
_PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_DEGREES_RE = re.compile(r"(\d+(?:\.\d+)?)\s?°(?:\s?([cf])\b)?")
_FRACTION_RE = re.compile(r"\b(?:(\d+) )?(\d+)/(\d+)\b")
# Denominators read as fractions ("3/4", "1/16"); other "a/b" read as "a b": "24/7", "9/11".
_FRACTION_DENOMINATORS = frozenset((*range(2, 11), 16, 32, 64, 100))
_VERSION_RE = re.compile(r"\b\d+(?:\.\d+){2,}\b")
_DECADE_RE = re.compile(r"(?<![\w'])'?(\d\d)?(\d)0'?s\b")
_DECIMAL_RE = re.compile(r"(\d+)\.(\d+)")
_BARE_DECIMAL_RE = re.compile(r"(?<![\w.])\.(\d+)")
_LEADING_ZERO_RE = re.compile(r"\b0\d+\b")
_ORDINAL_RE = re.compile(r"[0-9]+(st|nd|rd|th)")
_NUMBER_RE = re.compile(r"[0-9]+")


class NumberNormalizer:
    """Expands every number in a string into words; one ``inflect`` engine per instance."""

    def __init__(self) -> None:
        import inflect  # slow to import (~2 s): only when numbers are first read

        self._engine: Any = inflect.engine()
        # inflect type-checks every call (~100 us); corpora repeat their numbers (years).
        self._memo: dict[tuple[int | str, tuple[tuple[str, str], ...]], str] = {}

    def __call__(self, text: str) -> str:
        """Return ``text`` with numbers, money, times, dates, ... written out in words."""
        text = _NUMBER_SIGN_RE.sub("number ", text)
        text = _ISO_DATE_RE.sub(self._iso_date, text)
        text = _NEGATIVE_RE.sub("minus ", text)
        text = _SLASH_DATE_RE.sub(self._slash_date, text)
        text = _TIME_RE.sub(self._time, text)
        text = _HOUR_AM_PM_RE.sub(lambda m: f"{int(m.group(1))} {m.group(2)} m", text)
        text = _GROUPED_RE.sub(lambda m: m.group(0).replace(",", ""), text)
        text = _CURRENCY_RE.sub(self._currency, text)
        text = _PERCENT_RE.sub(r"\1 percent", text)
        text = _DEGREES_RE.sub(self._degrees, text)
        text = _FRACTION_RE.sub(self._fraction, text)
        text = _VERSION_RE.sub(self._version, text)
        text = _DECADE_RE.sub(self._decade, text)
        text = _DECIMAL_RE.sub(lambda m: f"{m.group(1)} point {self.digits(m.group(2))}", text)
        text = _BARE_DECIMAL_RE.sub(lambda m: f"point {self.digits(m.group(1))}", text)
        text = _LEADING_ZERO_RE.sub(lambda m: self.digits(m.group(0)), text)
        text = _ORDINAL_RE.sub(lambda m: self._words(m.group(0)), text)
        text = _NUMBER_RE.sub(lambda m: self.integer(int(m.group(0))), text)
        for sign, words in _SIGN_WORDS.items():
            text = text.replace(sign, words)
        return text

    # ---- readings of one number -------------------------------------------------------

    def _words(self, number: int | str, **kwargs: str | int) -> str:
        key = (number, tuple((k, str(v)) for k, v in sorted(kwargs.items())))
        words = self._memo.get(key)
        if words is None:
            words = self._engine.number_to_words(number, **kwargs)
            assert isinstance(words, str), (number, words)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = words
        return words

    def cardinal(self, n: int) -> str:
        """``1234`` -> "one thousand, two hundred thirty-four" (no "and", as the reference)."""
        return self._words(n, andword="")

    def ordinal(self, n: int) -> str:
        """``12`` -> "twelfth"."""
        return self._words(self._engine.ordinal(n))

    def integer(self, n: int) -> str:
        """A bare integer as the reference reads it: 1001-2999 as years, the rest as cardinals."""
        if n >= _MAX_CARDINAL:
            return self.digits(str(n))
        if 1000 < n < 3000:
            if n == 2000:
                return "two thousand"
            if 2000 < n < 2010:
                return "two thousand " + self.cardinal(n % 100)
            if n % 100 == 0:
                return self.cardinal(n // 100) + " hundred"
            return self._words(n, andword="", zero="oh", group=2).replace(", ", " ")
        return self.cardinal(n)

    @staticmethod
    def digits(s: str, zero: str = "zero") -> str:
        """``"007"`` -> "zero zero seven": one word per digit."""
        return " ".join(zero if d == "0" else _DIGITS[int(d)] for d in s)

    # ---- regex callbacks --------------------------------------------------------------

    def _date(self, year: str, month: int, day: int) -> str | None:
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        if len(year) == 2:
            spoken_year = (
                self.digits(year, zero="oh") if year[0] == "0" else self.cardinal(int(year))
            )
        else:
            spoken_year = self.integer(int(year))
        return f"{_MONTHS[month - 1]} {self.ordinal(day)} {spoken_year}"

    def _iso_date(self, m: re.Match[str]) -> str:
        spoken = self._date(m.group(1), int(m.group(2)), int(m.group(3)))
        return m.group(0) if spoken is None else spoken

    def _slash_date(self, m: re.Match[str]) -> str:
        first, second, year = int(m.group(1)), int(m.group(2)), m.group(3)
        spoken = self._date(year, first, second)  # month/day/year
        if spoken is None:
            spoken = self._date(year, second, first)  # day/month/year when only that fits
        return m.group(0).replace("/", " slash ") if spoken is None else spoken

    def _time(self, m: re.Match[str]) -> str:
        hour, minute, am_pm = int(m.group(1)), int(m.group(2)), m.group(3)
        words = self.cardinal(hour)
        if minute == 0:
            followed_by_am_pm = am_pm or _AM_PM_AHEAD_RE.match(m.string, m.end())
            if not followed_by_am_pm:
                words += " o'clock" if 1 <= hour <= 12 else " hundred"
        elif minute < 10:
            words += " oh " + _DIGITS[minute]
        else:
            words += " " + self.cardinal(minute)
        if am_pm:
            words += f" {am_pm} m"
        return words

    def _currency(self, m: re.Match[str]) -> str:
        sign, amount, magnitude = m.group(1), m.group(2), m.group(3)
        unit, units, sub_unit, sub_units = _CURRENCIES[sign]
        if magnitude:  # "$1.5 million" -> "1.5 million dollars"
            return f"{amount} {magnitude} {units}"
        whole, _, fraction = amount.partition(".")
        if len(fraction) > 2 or (fraction and not sub_unit):
            return f"{amount} {units}"  # "$3.505", "¥2.5": read as a decimal
        main = int(whole) if whole else 0
        sub = int(fraction.ljust(2, "0")) if fraction else 0  # "$3.5" is fifty cents
        parts = []
        if main:
            parts.append(f"{main} {unit if main == 1 else units}")
        if sub:
            parts.append(f"{sub} {sub_unit if sub == 1 else sub_units}")
        return ", ".join(parts) if parts else f"zero {units}"

    def _degrees(self, m: re.Match[str]) -> str:
        unit = "degree" if m.group(1) == "1" else "degrees"
        scale = m.group(2)
        return f"{m.group(1)} {unit}" + (f" {_DEGREE_UNITS[scale]}" if scale else "")

    def _fraction(self, m: re.Match[str]) -> str:
        whole, num, den = m.group(1), int(m.group(2)), int(m.group(3))
        if not (0 < num < den and den in _FRACTION_DENOMINATORS):
            # left as digits for the later steps: "24/7" -> "24 7" -> "twenty-four seven"
            return f"{whole} {m.group(2)} {m.group(3)}" if whole else f"{m.group(2)} {m.group(3)}"
        if den == 2:
            name = "half"
        elif den == 4:
            name = "quarter" if num == 1 else "quarters"
        else:
            name = self.ordinal(den).removeprefix("one ")  # "hundredth", not "one hundredth"
            name += "" if num == 1 else "s"
        spoken = f"{self.cardinal(num)} {name}"
        return f"{whole} and {spoken}" if whole else spoken

    def _version(self, m: re.Match[str]) -> str:
        parts = m.group(0).split(".")
        return " point ".join(
            self.digits(p, zero="oh") if p.startswith("0") else self.cardinal(int(p)) for p in parts
        )

    def _decade(self, m: re.Match[str]) -> str:
        century, tens = m.group(1), m.group(2)
        if century is None and tens == "0":
            return m.group(0)  # "00s" is no decade
        words = self.integer(int((century or "") + tens + "0"))
        head, _, last = words.rpartition(" ")
        plural = last[:-1] + "ies" if last.endswith("y") else last + "s"
        return f"{head} {plural}" if head else plural


def normalize_numbers(text: str) -> str:
    """Expand the numbers in ``text`` (lowercased ASCII plus ``£€¥°``) into words."""
    return NumberNormalizer()(text)
