"""Pages and assets to disk: written into a temporary folder, swapped in only when complete."""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type here: writing must not import the renderer (see stamp.py)
    from .render import Output

try:
    import fcntl
except ImportError:  # Windows has no flock: builds there do not take turns
    fcntl = None  # type: ignore[assignment]

LOCK = "build.lock"
LOCK_TIMEOUT = 600.0  # seconds a build waits for another into the same output
_POLL = 0.05


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


class OutputBusy(OSError):
    """Raised when another build into the same output did not finish in time."""


@contextmanager
def output_lock(
    output: Path, path: Path, waiting: Callable[[str], None] | None = None, timeout: float | None = None
) -> Iterator[None]:
    """Hold an output's build lock while the block runs, waiting (up to timeout) for another build.

    The lock is an flock on the file at path (beside the output, never in it) holding the holder's
    PID, so a killed build never leaves it held.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None and not _try_lock(fd):
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            shown = output.name or str(output)
            (waiting or _tell)(f"waiting for another build into {shown} (pid {holder})")
            timeout = LOCK_TIMEOUT if timeout is None else timeout
            deadline = time.monotonic() + timeout
            while not _try_lock(fd):
                if time.monotonic() > deadline:
                    raise OutputBusy(
                        errno.EBUSY,
                        f"another build into {shown} (pid {holder}) still runs after {timeout:.0f} s;"
                        " wait for it or stop it, then build again",
                        str(output),
                    )
                time.sleep(_POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _tell(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _process(pid: int) -> tuple[str, str] | None:
    """Return a process's state and start time (clock ticks since boot), or None where /proc cannot say."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return fields[0].decode(), fields[19].decode()
    except (OSError, IndexError):
        return None


def _builder_alive(pid: int, started: str) -> bool:
    """Return whether the process that made a staging folder still runs (and is the same one)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    found = _process(pid)
    if found is None:
        return True  # no /proc to tell a reused PID by: keep it, to be safe
    state, start = found
    return state != "Z" and start == started  # a zombie is dead, only not yet reaped


def remove_leftovers(output: Path) -> list[Path]:
    """Remove the staging folders beside an output that builders now dead left; return them."""
    output = output.absolute()
    pattern = re.compile(rf"\.{re.escape(output.name)}-(?:new|old)-(?:(\d+)-(\w+)-)?")
    removed = []
    try:
        names = sorted(os.listdir(output.parent))
    except OSError:
        return []
    for name in names:
        found = pattern.match(name)
        path = output.parent / name
        if not found or not path.is_dir() or path.is_symlink():
            continue
        if found[1] and _builder_alive(int(found[1]), found[2]):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _stamp() -> str:
    """Return this process's PID and start time, to name its staging folders by."""
    found = _process(os.getpid())
    return f"{os.getpid()}-{found[1] if found else 0}-"


class Staging:
    """A fresh folder beside the output that becomes the output only when complete.

    A file whose bytes are already in the old output is linked from there, not written again.
    The folder's name carries the builder's PID and start time: the next build removes it if
    that builder died before swapping it in.
    """

    def __init__(self, output: Path) -> None:
        self.output = output.absolute()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(self.output)
        self.folder = Path(
            tempfile.mkdtemp(prefix=f".{self.output.name}-new-{_stamp()}", dir=self.output.parent)
        )
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


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step with Linux's renameat2; return False where it is not supported."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}:
        return False  # an old kernel or a file system without it: two renames instead
    raise OSError(code, os.strerror(code), str(second))


@lru_cache(maxsize=1)
def _renameat2() -> Callable[..., int] | None:
    """Return glibc's renameat2 (2.28 and later), or None where the C library has none."""
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def _swap(staging: Path, output: Path) -> None:
    os.chmod(staging, 0o755)
    if not output.exists() and not output.is_symlink():
        staging.rename(output)
        return
    if not output.is_symlink() and _exchange(staging, output):
        # The old site is now in the staging folder; a kill before it is gone leaves a leftover
        # the next build removes, never a moment without an output.
        shutil.rmtree(staging, ignore_errors=True)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{output.name}-old-{_stamp()}", dir=output.parent))
    retired.rmdir()
    output.rename(retired)
    try:
        staging.rename(output)
    except BaseException:
        retired.rename(output)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def write_changes(
    output: Path,
    pages: Iterable[Output],
    removed: Iterable[str],
    assets: dict[str, Path],
    changed: list[str] | None = None,
) -> int:
    """Update a served folder in place, each file replaced atomically; return the files written
    (and add their names to changed, if given).

    Readers never see half a file: each is written beside its target and renamed over it.
    """
    written = [page.path for page in pages if _replace(output / page.path, page.data)]
    for name in removed:
        (output / name).unlink(missing_ok=True)
        _prune(output, (output / name).parent)
    written += [name for name, source in assets.items() if _replace(output / name, source.read_bytes())]
    if changed is not None:
        changed += written
    return len(written)


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
