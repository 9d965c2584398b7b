"""Where a site's sources are, where the default theme lives, and a site's own theme files over it."""

from __future__ import annotations

from pathlib import Path


def packaged(name: str) -> Path:
    """Return the packaged theme folder 'templates' or 'static' (the repository's in a checkout)."""
    # The package's own folder, as importlib.resources.files would give it for a package on disk
    # (importing that module took a fiftieth of a build with nothing to do).
    inside = Path(__file__).parent / name
    if inside.is_dir():
        return inside
    # An editable install runs from src/, where the theme sits at the top of the repository.
    return Path(__file__).resolve().parents[2] / name


def theme_dirs(root: Path, name: str) -> list[Path]:
    """Return the folders to look in for a theme file, the site's own first."""
    own = root / name
    found = [packaged(name)]
    if own.is_dir() and own.resolve() != found[0].resolve():
        found.insert(0, own)
    return found


def content_folder(root: Path) -> tuple[Path, bool]:
    """Return where a site's sources are, and whether it is a plain folder of notes (a vault)."""
    content = root / "content"
    return (content, False) if content.is_dir() else (root, True)
