"""Slugs and heading ids made with python-slugify, Azerbaijani letters transliterated."""

from __future__ import annotations

import re

from slugify import slugify as _slugify

# unidecode has no good ASCII for the schwa and turns it into '@', which slugify then drops.
_AZ_REPLACEMENTS = [
    ("ə", "e"),
    ("Ə", "E"),
    ("ı", "i"),
    ("İ", "I"),
    ("ş", "s"),
    ("Ş", "S"),
    ("ç", "c"),
    ("Ç", "C"),
    ("ğ", "g"),
    ("Ğ", "G"),
    ("ö", "o"),
    ("Ö", "O"),
    ("ü", "u"),
    ("Ü", "U"),
]


# Plain ASCII words slugify to themselves, lowercased and joined: no need for the full machinery
# (transliteration, entity decoding, quote handling), which costs more than a page's headings.
_PLAIN = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")


def slugify(text: str) -> str:
    """Return the URL slug of a title: lowercase ASCII words joined by hyphens."""
    if _PLAIN.fullmatch(text):
        return text.lower().replace(" ", "-")
    return _slugify(text, replacements=_AZ_REPLACEMENTS)


def heading_id(text: str, separator: str = "-") -> str:
    """Return the anchor id of a heading (Python-Markdown's toc `slugify` signature)."""
    if _PLAIN.fullmatch(text):
        return text.lower().replace(" ", separator)
    return _slugify(text, separator=separator, replacements=_AZ_REPLACEMENTS) or "section"
