"""The theme's words in other languages: Babel message catalogues (.po), the site's over the theme's."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Problem
from .theme import theme_dirs

if TYPE_CHECKING:  # Babel's catalogues are imported only for a site in more than one language
    from babel.support import Translations

CATALOGUE = "LC_MESSAGES/messages.po"


def _candidates(locale: str) -> list[str]:
    """Return the folder names a locale's catalogue may have: 'az_Latn_AZ', 'az_Latn', 'az'."""
    parts = locale.replace("-", "_").split("_")
    return ["_".join(parts[:n]) for n in range(len(parts), 0, -1)]


def _catalogues(root: Path, locale: str) -> list[tuple[str, Path]]:
    """Return the catalogues a locale's words come from, the theme's first: (locale name, path)."""
    found = []
    for folder in reversed(theme_dirs(root, "locales")):
        for name in _candidates(locale):
            path = folder / name / CATALOGUE
            if path.is_file():
                found.append((name, path))
                break
    return found


def catalogue_print(root: Path, locale: str) -> str:
    """Return a hash of the catalogues load_translations reads for locale (what they say, and where)."""
    digest = hashlib.blake2b(digest_size=16)
    for name, path in _catalogues(root, locale):
        digest.update(f"{name}\0{path}\0".encode("utf-8", "surrogateescape"))
        try:
            digest.update(path.read_bytes())
        except OSError as error:
            digest.update(repr(error).encode())
    return digest.hexdigest()


def load_translations(root: Path, locale: str) -> tuple[Translations, list[Problem]]:
    """Return the translations of the theme's words into locale (compiled now), and unreadable files."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    merged = Translations()
    problems = []
    # The theme's catalogue first, then the site's own over it: the site's wording wins.
    for name, path in _catalogues(root, locale):
        try:
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=name)
        except Exception as error:  # a damaged catalogue is the writer's to fix, not a crash
            problems.append(Problem(str(path), 1, f"message catalogue does not read: {error}"))
            continue
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        found = Translations(compiled)
        merged.merge(found)
        merged.plural = found.plural  # merge keeps the messages only: the language's plural rule too
    return merged, problems
