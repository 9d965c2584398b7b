"""Pages and assets to disk: written into a temporary folder, swapped in only when complete."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from .render import Output


class UnsafeOutput(ValueError):
    """Raised for an output folder that building into could destroy something."""


def check_output(output: Path, root: Path) -> None:
    """Raise UnsafeOutput for /, home, the site or repository root, or a folder holding sources."""
    out = output.resolve()
    site = root.resolve()
    content = (root / "content").resolve()
    dangers = {
        Path("/"): "the file system root",
        Path.home().resolve(): "the home folder",
        site: "the site's own folder",
    }
    git = _repository_root(site)
    if git is not None:
        dangers.setdefault(git, "the repository root")
    if out in dangers:
        raise UnsafeOutput(f"refusing to build into {output}: it is {dangers[out]}")
    for name in ("content", "templates", "static", ".git"):
        inner = (root / name).resolve()
        if out == inner or inner.is_relative_to(out) or out.is_relative_to(inner):
            raise UnsafeOutput(f"refusing to build into {output}: it is or holds {name}/")
    if content.is_relative_to(out):
        raise UnsafeOutput(f"refusing to build into {output}: it holds the sources")


def _repository_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def static_files(static_dirs: list[Path]) -> dict[str, Path]:
    """Return each asset's output path and file, a site's own asset winning over the theme's."""
    found: dict[str, Path] = {}
    for folder in reversed(static_dirs):  # theme first, then the site's own over it
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                found[path.relative_to(folder).as_posix()] = path
    return found


def write_site(
    output: Path,
    pages: Iterable[Output],
    assets: dict[str, Path],
    finish: Callable[[Path], None] | None = None,
) -> int:
    """Write pages and assets into a fresh folder, finish it, then swap it in; return the file count."""
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-new-", dir=output.parent))
    count = 0
    try:
        for name, source in sorted(assets.items()):
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            count += 1
        for page in pages:
            target = staging / page.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(page.data)
            count += 1
        if finish is not None:
            finish(staging)
        _swap(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return count


def _swap(staging: Path, output: Path) -> None:
    os.chmod(staging, 0o755)
    if not output.exists():
        staging.rename(output)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{output.name}-old-", dir=output.parent))
    retired.rmdir()
    output.rename(retired)
    try:
        staging.rename(output)
    except BaseException:
        retired.rename(output)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def write_changes(
    output: Path, pages: Iterable[Output], removed: Iterable[str], assets: dict[str, Path]
) -> int:
    """Update a served folder in place, each file replaced atomically; return the files written.

    Readers never see half a file: each is written beside its target and renamed over it.
    """
    count = 0
    for page in pages:
        count += _replace(output / page.path, page.data)
    for name in removed:
        (output / name).unlink(missing_ok=True)
        _prune(output, (output / name).parent)
    for name, source in assets.items():
        count += _replace(output / name, source.read_bytes())
    return count


def _replace(target: Path, data: bytes) -> int:
    try:
        if target.read_bytes() == data:
            return 0
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return 1


def _prune(output: Path, folder: Path) -> None:
    while folder != output and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
