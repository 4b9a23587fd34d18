"""Text cleaners: the reference's ``english_cleaners`` and ``basic_cleaners``.

``english_cleaners`` follows the reference step by step (transliterate to ASCII, lowercase,
expand numbers, expand abbreviations, collapse whitespace) with one change of order that a
listener hears: ``£ € ¥ °`` survive transliteration until the numbers are read, so "£100"
is "one hundred pounds" (the reference transliterates "£" to "PS": "psone hundred").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from glowtts.errors import UserValueError
from glowtts.text.numbers import NumberNormalizer

__all__ = [
    "ABBREVIATIONS",
    "CLEANERS",
    "basic_cleaners",
    "collapse_whitespace",
    "english_cleaners",
    "expand_abbreviations",
    "get_cleaner",
    "transliterate",
]

_WHITESPACE_RE = re.compile(r"\s+")
# Read by the number normaliser, so kept out of unidecode ("£" -> "PS", "°" -> "deg").
_SPOKEN_SIGNS_RE = re.compile(r"([£€¥°])")

# The reference's 18 abbreviations, expanded only when followed by "."; "mrs" precedes "mr".
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("mrs", "misess"),
    ("mr", "mister"),
    ("dr", "doctor"),
    ("st", "saint"),
    ("co", "company"),
    ("jr", "junior"),
    ("maj", "major"),
    ("gen", "general"),
    ("drs", "doctors"),
    ("rev", "reverend"),
    ("lt", "lieutenant"),
    ("hon", "honorable"),
    ("sgt", "sergeant"),
    ("capt", "captain"),
    ("esq", "esquire"),
    ("ltd", "limited"),
    ("col", "colonel"),
    ("ft", "fort"),
)
_ABBREVIATION_RES = tuple(
    (re.compile(rf"\b{short}\.", re.IGNORECASE), full) for short, full in ABBREVIATIONS
)


def transliterate(text: str, keep: re.Pattern[str] = _SPOKEN_SIGNS_RE) -> str:
    """Unidecode ``text`` to ASCII, leaving the characters that ``keep`` captures untouched.

    Characters unidecode has no ASCII for (emoji, ...) are kept, not erased as the reference
    does, so that the frontend reports them as unknown characters.
    """
    from unidecode import unidecode

    pieces = keep.split(text)  # odd indices hold the kept characters
    return "".join(p if i % 2 else unidecode(p, errors="preserve") for i, p in enumerate(pieces))


def expand_abbreviations(text: str) -> str:
    """``"dr. smith"`` -> ``"doctor smith"`` for the 18 abbreviations (case-insensitive)."""
    for pattern, full in _ABBREVIATION_RES:
        text = pattern.sub(full, text)
    return text


def collapse_whitespace(text: str) -> str:
    """Every run of whitespace becomes one space (ends are kept, as the reference does)."""
    return _WHITESPACE_RE.sub(" ", text)


def basic_cleaners(text: str) -> str:
    """Lowercase and collapse whitespace; no transliteration, numbers stay digits."""
    return collapse_whitespace(text.lower())


def english_cleaners(text: str, numbers: NumberNormalizer | None = None) -> str:
    """English text to the lowercase ASCII the model reads, numbers and abbreviations spelled out.

    Args:
        text: raw text.
        numbers: a normaliser to reuse (saves building an ``inflect`` engine per call).
    """
    text = transliterate(text).lower()
    text = (numbers or NumberNormalizer())(text)
    text = expand_abbreviations(text)
    return collapse_whitespace(text)


CLEANERS: Mapping[str, Callable[[str], str]] = MappingProxyType(
    {"english_cleaners": english_cleaners, "basic_cleaners": basic_cleaners}
)


def get_cleaner(name: str) -> Callable[[str], str]:
    """The cleaner called ``name``; raises ``ValueError`` naming ``text.cleaners`` otherwise."""
    try:
        return CLEANERS[name]
    except KeyError:
        raise UserValueError(
            f"text.cleaners: unknown cleaner {name!r}; choose one of {sorted(CLEANERS)}"
        ) from None
