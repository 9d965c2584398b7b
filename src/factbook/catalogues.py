"""The theme's words in other languages: Babel message catalogues (.po), the site's over the theme's."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from .errors import Problem
from .theme import theme_dirs

CATALOGUE = "LC_MESSAGES/messages.po"


def _candidates(locale: str) -> list[str]:
    """Return the folder names a locale's catalogue may have: 'az_Latn_AZ', 'az_Latn', 'az'."""
    parts = locale.replace("-", "_").split("_")
    return ["_".join(parts[:n]) for n in range(len(parts), 0, -1)]


def load_translations(root: Path, locale: str) -> tuple[Translations, list[Problem]]:
    """Return the translations of the theme's words into locale (compiled now), and unreadable files."""
    merged = Translations()
    problems = []
    # The theme's catalogue first, then the site's own over it: the site's wording wins.
    for folder in reversed(theme_dirs(root, "locales")):
        for name in _candidates(locale):
            path = folder / name / CATALOGUE
            if not path.is_file():
                continue
            try:
                with path.open("rb") as handle:
                    catalog = read_po(handle, locale=name)
            except Exception as error:  # a damaged catalogue is the writer's to fix, not a crash
                problems.append(Problem(str(path), 1, f"message catalogue does not read: {error}"))
                break
            compiled = io.BytesIO()
            write_mo(compiled, catalog)
            compiled.seek(0)
            found = Translations(compiled)
            merged.merge(found)
            merged.plural = found.plural  # merge keeps the messages only: the language's plural rule too
            break
    return merged, problems
