"""Alphabetical order in a language, from ICU's collation of its locale (CLDR's rules and A–Z letters)."""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import icu

OTHER = "#"  # where a name is listed that starts with no letter of the language (a digit, a sign)


# One collator and one index per locale, made on first use and kept by the process (never pickled:
# forked workers inherit them). A locale ICU does not know gets the root order, CLDR's default.
@cache
def _icu():  # type: ignore[no-untyped-def]
    # Imported on first use: loading ICU's data is a tenth of a one-page rebuild's imports, and
    # most rebuilds make no list that needs it.
    import icu

    return icu


@cache
def _collator(locale: str) -> icu.Collator:
    icu = _icu()
    return icu.Collator.createInstance(icu.Locale(locale))


@cache
def _index(locale: str) -> icu.ImmutableIndex:
    icu = _icu()
    return icu.AlphabeticIndex(icu.Locale(locale)).buildImmutableIndex()


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def sort_key(text: str, locale: str) -> bytes:
    """Return a key that orders text as the locale's alphabetical order does (case and accents last)."""
    return bytes(_collator(locale).getSortKey(_clean(text)))


def initial(text: str, locale: str) -> str:
    """Return the letter of the locale's A–Z index a name is listed under, in capitals, or '#'."""
    index = _index(locale)
    label, kind = index.getBucket(index.getBucketIndex(_clean(text)))
    # Before the first letter, after the last or between scripts: ICU's '…' buckets are one '#'.
    return label if kind == _icu().UAlphabeticIndexLabelType.NORMAL else OTHER


def letter_key(letter: str, locale: str) -> tuple[bool, bytes]:
    """Return a key that orders the letters initial returns as the index does, '#' first."""
    return (letter != OTHER, sort_key(letter, locale))
