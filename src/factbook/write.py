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


class Staging:
    """A fresh folder beside the output that becomes the output only when complete.

    A file whose bytes are already in the old output is linked from there, not written again.
    """

    def __init__(self, output: Path) -> None:
        self.output = output.absolute()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix=f".{self.output.name}-new-", dir=self.output.parent))
        self.count = 0
        self._made: set[str] = set()

    def put(self, name: str, data: bytes) -> None:
        """Place one file of the new site."""
        folder = os.path.dirname(name)
        if folder not in self._made:
            (self.folder / folder).mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        _place(self.output / name, self.folder / name, data)
        self.count += 1

    def put_all(self, pages: Iterable[Output]) -> int:
        """Place many pages; return how many."""
        before = self.count
        for page in pages:
            self.put(page.path, page.data)
        return self.count - before

    def commit(self) -> None:
        """Swap the new site in for the old one."""
        _swap(self.folder, self.output)

    def discard(self) -> None:
        """Throw the new site away, leaving the old one as it was."""
        shutil.rmtree(self.folder, ignore_errors=True)


def write_site(
    output: Path,
    pages: Iterable[Output],
    assets: dict[str, Path],
    finish: Callable[[Path], None] | None = None,
) -> int:
    """Write pages and assets into a fresh folder, finish it, then swap it in; return the file count."""
    staging = Staging(output)
    try:
        for name, source in sorted(assets.items()):
            staging.put(name, source.read_bytes())
        staging.put_all(pages)
        if finish is not None:
            finish(staging.folder)
        staging.commit()
    except BaseException:
        staging.discard()
        raise
    return staging.count


def _place(old: Path, target: Path, data: bytes) -> None:
    try:
        if old.stat().st_size == len(data) and old.read_bytes() == data:
            os.link(old, target)
            return
    except OSError:
        pass
    target.write_bytes(data)


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
