"""Alphabetical order in a language: its own alphabet, as A–Z indexes and name lists sort."""

from __future__ import annotations

import unicodedata

# Languages whose alphabet orders letters apart from Latin's: each letter a sort position of its own.
ALPHABETS: dict[str, tuple[str, ...]] = {
    "az": tuple("a b c ç d e ə f g ğ h x ı i j k q l m n o ö p r s ş t u ü v y z".split()),
    "tr": tuple("a b c ç d e f g ğ h ı i j k l m n o ö p r s ş t u ü v y z".split()),
}


def _lower(text: str, language: str) -> str:
    # Turkic languages write dotted İ and dotless I: İ lowers to i, I to ı.
    if language in {"az", "tr"}:
        text = text.replace("İ", "i").replace("I", "ı")
    return unicodedata.normalize("NFC", text.strip()).lower()


def has_alphabet(language: str) -> bool:
    """Return whether factbook knows the language's own alphabetical order."""
    return language.split("-")[0] in ALPHABETS


def sort_key(text: str, language: str) -> tuple[int, ...]:
    """Return a key that orders text by the language's alphabet (other characters after its letters)."""
    letters = ALPHABETS[language.split("-")[0]]
    place = {letter: i for i, letter in enumerate(letters)}
    return tuple(place.get(c, len(letters) + ord(c)) for c in _lower(text, language))


def initial(text: str, language: str) -> str:
    """Return the letter of the language's alphabet a name is listed under, in capitals, or '#'."""
    first = _lower(text, language)[:1]
    letters = ALPHABETS[language.split("-")[0]]
    if first not in letters:
        return "#"
    return {"i": "İ", "ı": "I"}.get(first, first.upper())
