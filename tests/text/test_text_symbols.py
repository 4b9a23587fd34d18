"""The symbol table matches the reference's order; blanks are interspersed as 2n + 1 tokens."""

from __future__ import annotations

from glowtts.text import ARPABET, BLANK_ID, PAD_ID, SYMBOL_TO_ID, SYMBOLS, intersperse


def test_table_size_and_uniqueness() -> None:
    assert len(SYMBOLS) == 148
    assert len(ARPABET) == 84
    assert len(set(SYMBOLS)) == 148
    assert len(SYMBOL_TO_ID) == 148


def test_positions() -> None:
    expected = {
        "_": 0, "-": 1, "!": 2, "'": 3, "(": 4, ")": 5, ",": 6, ".": 7, ":": 8, ";": 9,
        "?": 10, " ": 11, "A": 12, "B": 13, "Z": 37, "a": 38, "b": 39, "z": 63,
        "@AA": 64, "@AA0": 65, "@B": 88, "@HH": 106, "@ZH": 147,
    }  # fmt: skip
    for symbol, i in expected.items():
        assert SYMBOLS[i] == symbol
        assert SYMBOL_TO_ID[symbol] == i
    assert PAD_ID == 0
    assert BLANK_ID == 148


def test_every_arpabet_symbol_is_prefixed() -> None:
    assert SYMBOLS[64:] == tuple("@" + p for p in ARPABET)
    # the letter "B" and the phone "B" are different entries
    assert SYMBOL_TO_ID["B"] != SYMBOL_TO_ID["@B"]


def test_intersperse() -> None:
    assert intersperse([]) == [148]
    assert intersperse([5, 6, 7]) == [148, 5, 148, 6, 148, 7, 148]
    assert intersperse([1, 2], blank=0) == [0, 1, 0, 2, 0]
    assert len(intersperse(list(range(10)))) == 21
