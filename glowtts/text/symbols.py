"""The reference's 148-symbol input table (pad, punctuation, letters, ARPAbet) and the blank id."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "ARPABET",
    "BLANK_ID",
    "LETTERS",
    "PAD",
    "PAD_ID",
    "PUNCTUATION",
    "SPECIAL",
    "SYMBOLS",
    "SYMBOL_TO_ID",
    "arpabet_symbol",
    "intersperse",
]

PAD = "_"
SPECIAL = "-"
PUNCTUATION = "!'(),.:;? "
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# CMUdict phones in the reference's order (keithito/tacotron text/cmudict.py): bare vowels
# (no stress digit) are part of the table even though the dictionary never uses them.
ARPABET: tuple[str, ...] = (
    "AA", "AA0", "AA1", "AA2", "AE", "AE0", "AE1", "AE2", "AH", "AH0", "AH1", "AH2",
    "AO", "AO0", "AO1", "AO2", "AW", "AW0", "AW1", "AW2", "AY", "AY0", "AY1", "AY2",
    "B", "CH", "D", "DH", "EH", "EH0", "EH1", "EH2", "ER", "ER0", "ER1", "ER2", "EY",
    "EY0", "EY1", "EY2", "F", "G", "HH", "IH", "IH0", "IH1", "IH2", "IY", "IY0", "IY1",
    "IY2", "JH", "K", "L", "M", "N", "NG", "OW", "OW0", "OW1", "OW2", "OY", "OY0",
    "OY1", "OY2", "P", "R", "S", "SH", "T", "TH", "UH", "UH0", "UH1", "UH2", "UW",
    "UW0", "UW1", "UW2", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip


def arpabet_symbol(phone: str) -> str:
    """The table entry of an ARPAbet phone: ``"@" + phone`` (keeps "B" apart from the letter)."""
    return "@" + phone


SYMBOLS: tuple[str, ...] = (
    PAD,
    SPECIAL,
    *PUNCTUATION,
    *LETTERS,
    *(arpabet_symbol(p) for p in ARPABET),
)
SYMBOL_TO_ID: Mapping[str, int] = MappingProxyType({s: i for i, s in enumerate(SYMBOLS)})
PAD_ID = SYMBOL_TO_ID[PAD]
BLANK_ID = len(SYMBOLS)  # 148: one past the table, used only when add_blank is on


def intersperse(ids: list[int], blank: int = BLANK_ID) -> list[int]:
    """``[blank, i0, blank, i1, ..., blank]``: 2n + 1 tokens for n ids (as the reference)."""
    out = [blank] * (2 * len(ids) + 1)
    out[1::2] = ids
    return out
