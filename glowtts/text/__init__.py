"""Text frontend: cleaners, spoken numbers, CMUdict pronunciations, the symbol table, blanks.

``inflect`` (slow to import) and the CMUdict entries load on first use, not on import.
"""

from glowtts.text.cleaners import CLEANERS, basic_cleaners, english_cleaners, get_cleaner
from glowtts.text.frontend import TextFrontend, UnknownChar, describe_char
from glowtts.text.numbers import NumberNormalizer, normalize_numbers
from glowtts.text.pronounce import PronouncingDictionary
from glowtts.text.symbols import ARPABET, BLANK_ID, PAD_ID, SYMBOL_TO_ID, SYMBOLS, intersperse

__all__ = [
    "ARPABET",
    "BLANK_ID",
    "CLEANERS",
    "PAD_ID",
    "SYMBOLS",
    "SYMBOL_TO_ID",
    "NumberNormalizer",
    "PronouncingDictionary",
    "TextFrontend",
    "UnknownChar",
    "basic_cleaners",
    "describe_char",
    "english_cleaners",
    "get_cleaner",
    "intersperse",
    "normalize_numbers",
]
