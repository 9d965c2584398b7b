"""A new site of any subject, copied from the starter site packaged with factbook."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

SITE_MARKERS = ("content", "site.yaml", "content/site.yaml")
# Stored without their leading dot: wheels and the loader may skip hidden files.
_RENAMED = {"gitignore": ".gitignore"}


def init_site(target: Path) -> list[Path]:
    """Return the files written, sorted, after copying the starter site into target.

    Raise FileExistsError, having written nothing, if target already holds a site or is a file.
    An existing .gitignore is kept, with the starter's lines it lacks added at its end.
    """
    shown = target.resolve()
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{shown} is a file, not a folder; choose a new or empty folder")
    for marker in SITE_MARKERS:
        if (target / marker).exists() or (target / marker).is_symlink():
            raise FileExistsError(
                f"{shown} already holds a site ({marker} exists); "
                "choose a new or empty folder, or work on that site with factbook serve"
            )
    notes = (
        next((p for p in target.rglob("*.md") if not p.name.startswith(".")), None)
        if target.is_dir()
        else None
    )
    if notes is not None:  # a folder of notes is a site already (a vault)
        raise FileExistsError(
            f"{shown} already holds notes ({notes.relative_to(target)}), which factbook builds as they are:"
            " run factbook serve --source there, or choose a new or empty folder"
        )
    files = starter_files()
    taken = sorted(
        n for n in files if (target / n).exists() and not (n == ".gitignore" and (target / n).is_file())
    )
    if taken:
        raise FileExistsError(f"{shown} already has {taken[0]}; choose a new or empty folder")
    written = []
    for name, data in sorted(files.items()):
        path = target / name
        if path.is_file():  # only .gitignore can be there: it is merged, never replaced
            data = _merged(path.read_bytes(), data)
            if data is None:
                continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return sorted(written)


def starter_files() -> dict[str, bytes]:
    """Return each file of the packaged starter site by its path inside a new site."""
    return dict(_walk(resources.files("factbook") / "starter", ()))


def _walk(folder: Traversable, parts: tuple[str, ...]) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for entry in folder.iterdir():
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            found += _walk(entry, (*parts, entry.name))
        else:
            name = entry.name if parts else _RENAMED.get(entry.name, entry.name)
            found.append(("/".join((*parts, name)), entry.read_bytes()))
    return found


def _merged(existing: bytes, starter: bytes) -> bytes | None:
    """Return existing with the starter's lines it lacks appended, or None if it lacks none."""
    have = set(existing.decode("utf-8", errors="replace").splitlines())
    lines = starter.decode("utf-8").splitlines()
    missing = [line for line in lines if line and not line.startswith("#") and line not in have]
    if not missing:
        return None
    separator = b"" if not existing or existing.endswith(b"\n") else b"\n"
    return existing + separator + "\n".join(["# factbook", *missing, ""]).encode("utf-8")
