"""Slugs and heading ids made with python-slugify, Azerbaijani letters transliterated."""

from __future__ import annotations

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


def slugify(text: str) -> str:
    """Return the URL slug of a title: lowercase ASCII words joined by hyphens."""
    return _slugify(text, replacements=_AZ_REPLACEMENTS)


def heading_id(text: str, separator: str = "-") -> str:
    """Return the anchor id of a heading (Python-Markdown's toc `slugify` signature)."""
    return _slugify(text, separator=separator, replacements=_AZ_REPLACEMENTS) or "section"
