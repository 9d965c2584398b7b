"""Whether a built output is up to date: signatures of the sources and the output, cheap to take.

This module imports nothing heavy, so that `factbook build` can tell that nothing changed before
it loads Markdown, Jinja or the rest of the build.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import re
import sys
from array import array
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from . import __version__, forking
from .theme import content_folder, theme_dirs

FOLDER = ".factbook-cache"
MANIFEST = "manifest.json"


def cache_folder(output: Path) -> Path:
    """Return the cache folder of an output folder: a sibling, so it is never published."""
    output = output.absolute()
    return output.parent / FOLDER / output.name


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def installed_versions(names: Iterable[str], path: Iterable[str]) -> dict[str, str]:
    """Return the version of each of these distributions installed on path ("none" if absent).

    importlib.metadata would take a quarter of a build that finds nothing changed only to be
    imported: the version is read from the name of the distribution's metadata folder instead
    (name-version.dist-info), as the first folder of the path that holds one names it.
    """
    wanted = {_canonical(name): name for name in names}
    found: dict[str, str] = {}
    for folder in path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            stem, dot, kind = entry.rpartition(".")
            if not dot or kind not in ("dist-info", "egg-info"):
                continue
            name, _, version = stem.partition("-")
            name = wanted.get(_canonical(name), "")
            if name and name not in found:
                version = version.split("-")[0]  # an egg's folder may add -pyX.Y
                found[name] = version or _metadata_version(os.path.join(folder, entry))
    return {name: found.get(name, "none") for name in wanted.values()}


def _metadata_version(folder: str) -> str:
    """Return the Version field of a distribution's metadata folder, or "unknown"."""
    for file in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(folder, file), encoding="utf-8") as handle:
                for line in handle:
                    if line.startswith("Version:"):
                        return line.partition(":")[2].strip()
                    if not line.strip():
                        break
        except OSError:
            continue
    return "unknown"


@lru_cache(maxsize=1)
def package_versions() -> str:
    """Return factbook's version and those of the libraries that shape its output."""
    names = ("markdown", "jinja2", "pyyaml", "python-slugify", "pagefind", "pyicu-wheels")
    versions = installed_versions(names, sys.path)
    return f"factbook={__version__};" + ";".join(f"{name}={versions[name]}" for name in names)


def build_settings(base_url: str | None, drafts: bool, search: bool) -> dict[str, object]:
    """Return the command-line settings that change what a build writes."""
    return {"base_url": base_url, "drafts": drafts, "search": search}


@contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """Yield a file to write that replaces the file at path once the block ends without an error."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # two writers never share one
    with temporary.open("wb") as handle:
        yield handle
    os.replace(temporary, path)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace the file at path with data, never leaving it half-written."""
    with replacing(path) as handle:
        handle.write(data)


def _signatures(
    folders: Iterable[Path], skip: frozenset[str] = frozenset(), seen: dict[str, os.stat_result] | None = None
) -> list[tuple[str, int, int]]:
    """Return the path, size and time of every file under folders (and put what stat gave for
    each path in seen, if given)."""
    found = []
    for folder in folders:
        stack = [os.fspath(folder)]
        while stack:
            current = stack.pop()
            try:
                entries = list(os.scandir(current))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not skip or os.path.realpath(entry.path) not in skip:
                            stack.append(entry.path)
                        continue
                    stat = entry.stat()
                except OSError:
                    continue
                found.append((entry.path, stat.st_size, stat.st_mtime_ns))
                if seen is not None:
                    seen[entry.path] = stat
    found.sort()
    return found


@lru_cache(maxsize=1)
def code_signature() -> str:
    """Return a hash of factbook's own files: an edited factbook makes another site."""
    package = Path(__file__).parent
    # Compiled files come and go with imports (and PYTHONDONTWRITEBYTECODE): only sources count.
    skip = frozenset({os.path.realpath(package / "__pycache__")})
    return hashlib.sha256(json.dumps(_signatures([package], skip)).encode()).hexdigest()


def inputs_signature(
    folders: Iterable[Path],
    options: dict[str, object],
    skip: frozenset[str] = frozenset(),
    seen: dict[str, os.stat_result] | None = None,
) -> str:
    """Return a hash of every input file's path, size and time, the settings and the versions
    (and put what stat gave for each file in seen, if given)."""
    data = json.dumps([package_versions(), code_signature(), options], sort_keys=True, default=str)
    found = _signatures(folders, skip, seen)
    return _hash(data, [path for path, _, _ in found], [n for _, *numbers in found for n in numbers])


def _hash(head: str, paths: list[str], numbers: list[int]) -> str:
    """Return a hash of a text, a list of paths and a list of numbers (sizes and times).

    Cheaper than hashing them as JSON, which took a tenth of a build that finds nothing changed.
    """
    digest = hashlib.sha256(head.encode())
    digest.update(b"\0".join(path.encode("utf-8", "surrogateescape") for path in paths))
    digest.update(b"\1" + array("q", numbers).tobytes())
    return digest.hexdigest()


def site_inputs(
    root: Path, output: Path, settings: dict[str, object], seen: dict[str, os.stat_result] | None = None
) -> str:
    """Return the inputs signature of a site: its sources, its theme over the default, the settings
    (and put what stat gave for each file in seen, if given: the build reads no file's again)."""
    folders = [
        content_folder(root)[0],  # a vault is its own content folder
        *theme_dirs(root, "templates"),
        *theme_dirs(root, "static"),
        *theme_dirs(root, "locales"),
    ]
    # The output and its cache are never inputs, even when they sit inside a vault.
    skip = {os.path.realpath(output), os.path.realpath(cache_folder(output).parent)}
    return inputs_signature(folders, settings, frozenset(skip), seen)


Listing = dict[str, tuple[int, int]]  # each path in an output: its size (-1 for a folder) and time


def survey(
    output: Path, again: bool = False, seen: Listing | None = None, touched: Iterable[str] | None = None
) -> tuple[str, list[str], list[int]]:
    """Return the output's signature, the paths in it (its folders' ending in '/'), and their
    sizes and times, two numbers a path.

    With again, the output changed in place since its manifest was recorded: a folder whose time
    is as recorded holds the same names, so only the folders whose time changed are listed.
    With seen (what output_untouched found of each path of the manifest) and touched (the paths
    written or removed since), only those paths and their folders are looked at again.
    """
    listed = _listed_again(output, seen, touched) if again else None
    if listed is None:
        listed = _listed(output)
    entries = sorted(listed)
    numbers = [n for entry in entries for n in listed[entry]]
    return _hash("output", entries, numbers), entries, numbers


def _listed(output: Path, folder: str = "./", into: Listing | None = None) -> Listing:
    """Return (or add to into) every path in a folder of the output, with its size and time:
    one stat a path, the numbers _quick_signature hashes."""
    found: Listing = {} if into is None else into
    base = os.path.join(output, "")
    try:
        found[folder] = (-1, os.stat(base + folder).st_mtime_ns)
    except OSError:
        return found
    stack = [folder]
    while stack:
        current = stack.pop()
        prefix = "" if current == "./" else current
        try:
            entries = list(os.scandir(base + current))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    found[prefix + entry.name + "/"] = (-1, entry.stat(follow_symlinks=False).st_mtime_ns)
                    stack.append(prefix + entry.name + "/")
                else:
                    stat = entry.stat()
                    found[prefix + entry.name] = (stat.st_size, stat.st_mtime_ns)
            except OSError:
                continue
    return found


def _parent(entry: str) -> str:
    """Return the folder a path of the output is in ('./' for the top)."""
    head = entry.rstrip("/").rpartition("/")[0]
    return head + "/" if head else "./"


def _listed_again(
    output: Path, seen: Listing | None = None, touched: Iterable[str] | None = None
) -> Listing | None:
    """Return the listing of the output from its manifest's, each path stat'ed once (or, with
    seen and touched, only those touched and their folders) and only the folders whose time
    changed listed again; None if the manifest does not say enough."""
    manifest = _manifest(output)
    entries, numbers = manifest.get("entries"), manifest.get("numbers")
    if not isinstance(entries, list) or not isinstance(numbers, list) or len(numbers) != 2 * len(entries):
        return None
    if "./" not in entries or not all(isinstance(e, str) for e in entries):
        return None
    base = os.path.join(output, "")
    found: Listing = {}
    changed: list[str] = []
    known = seen if seen is not None and touched is not None else {}
    again = {"./"}  # what the build touched, and each folder above it: the rest is as it was seen
    for path in touched or ():
        again.add(path)
        while "/" in path.rstrip("/"):
            path = path.rstrip("/").rpartition("/")[0] + "/"
            again.add(path)
    for entry, time in zip(entries, numbers[1::2], strict=True):
        numbers_seen = known.get(entry)
        if numbers_seen is not None and entry not in again:
            found[entry] = numbers_seen
            if entry[-1] == "/" and numbers_seen[1] != time:
                changed.append(entry)
            continue
        try:
            stat = os.stat(base + entry)
        except OSError:
            continue  # gone: its folder's time changed, and that folder is listed again
        if entry[-1] == "/":
            found[entry] = (-1, stat.st_mtime_ns)
            if stat.st_mtime_ns != time:
                changed.append(entry)
        else:
            found[entry] = (stat.st_size, stat.st_mtime_ns)
    children: dict[str, list[str]] = {}
    if changed:
        for entry in found:
            if entry != "./":
                children.setdefault(_parent(entry), []).append(entry)
    for folder in sorted(changed):
        if folder not in found:
            continue  # inside a folder that went
        prefix = "" if folder == "./" else folder
        try:
            listing = os.scandir(base + folder)
            now = {prefix + e.name + ("/" if e.is_dir(follow_symlinks=False) else ""): e for e in listing}
        except OSError:
            now = {}
        for entry in children.get(folder, []):
            if entry not in now and entry in found:
                gone = [k for k in found if k.startswith(entry)] if entry[-1] == "/" else [entry]
                for key in gone:
                    del found[key]
        for entry, item in now.items():
            if entry in found:
                continue
            if entry[-1] == "/":
                _listed(output, entry, found)
            else:
                try:
                    stat = item.stat()
                except OSError:
                    continue
                found[entry] = (stat.st_size, stat.st_mtime_ns)
    return found


def output_untouched(output: Path, signature: object, seen: Listing | None = None) -> bool:
    """Return whether the output is as it was when its survey gave this signature (and was recorded).

    Only one stat call per path the last build recorded, no folder listings. What each path
    was found to be is added to seen, if given (for survey to take again).
    """
    entries = _entries(output)
    return entries is not None and signature == _quick_signature(output, entries, seen)


class OutputLook:
    """output_untouched, its stat calls made in a forked child while the build reads its caches.

    A stat call for each path of a 10,000-page output is a twentieth of a one-page rebuild.
    """

    def __init__(self, output: Path, fork: bool = True) -> None:
        self.output = output
        self.child: forking.Child | None = None  # the looking process, and the pipe it answers on
        entries = _entries(output)
        if entries is not None and fork:
            self.child = forking.fork(
                lambda end: forking.write_all(end, marshal.dumps(_numbers(output, entries))) or True
            )

    def untouched(self, signature: object, seen: Listing | None = None) -> bool:
        """Return whether the output is as it was when its survey gave this signature, as
        output_untouched does (from the child's answer, when it gave one)."""
        entries = _entries(self.output)
        answer = self._answer()
        if entries is None or answer is False:
            return output_untouched(self.output, signature, seen)
        if not isinstance(answer, list) or len(answer) != 2 * len(entries):
            return False  # a path is gone (or the manifest changed since the child read it)
        if seen is not None:
            seen.update(zip(entries, zip(answer[::2], answer[1::2], strict=True), strict=True))
        return signature == _hash("output", entries, answer)

    def _answer(self) -> object:
        """Return what the child found (None: a path is gone), or False if it gave no answer."""
        if self.child is None:
            return False
        data, ended_well = forking.answer(self.child)
        self.child = None
        try:
            return marshal.loads(data) if ended_well else False
        except (EOFError, ValueError, TypeError):
            return False

    def stop(self) -> None:
        """End the child, if it has not answered yet (the build ended first)."""
        if self.child is not None:
            forking.end(self.child)
            self.child = None


def _entries(output: Path) -> list[str] | None:
    """Return the paths the output's manifest records, or None if it records none that can be used."""
    entries = _manifest(output).get("entries")
    if not isinstance(entries, list) or "./" not in entries or not all(isinstance(e, str) for e in entries):
        return None
    return entries


def _numbers(output: Path, entries: list[str]) -> list[int] | None:
    """Return the size (-1 for a folder) and time of each of these paths in the output, two
    numbers a path, or None if one is gone."""
    found: list[int] = []
    base = os.path.join(output, "")
    for entry in entries:
        try:
            stat = os.stat(base + entry)
        except OSError:
            return None
        found += (stat.st_size if entry[-1:] != "/" else -1, stat.st_mtime_ns)
    return found


def _quick_signature(output: Path, entries: list[str], seen: Listing | None = None) -> str | None:
    """Return a hash of the sizes and times of these paths in the output, None if one is gone.

    Only stat calls, no folder listings: a file added or removed changes its folder's time.
    """
    found = _numbers(output, entries)
    if found is None:
        return None
    if seen is not None:
        seen.update(zip(entries, zip(found[::2], found[1::2], strict=True), strict=True))
    return _hash("output", entries, found)


# The manifest each output's cache folder held when last read, by its file's signature: a build
# reads it up to four times, each a megabyte of JSON at 10,000 pages.
_MANIFESTS: dict[str, tuple[tuple[int, ...], dict[str, object]]] = {}


def _manifest(output: Path) -> dict[str, object]:
    """Return the manifest of an output ({} if it has none, or it does not read); never change it."""
    path = os.fspath(cache_folder(output) / MANIFEST)
    try:
        stat = os.stat(path)
    except OSError:
        return {}
    signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    known = _MANIFESTS.get(path)
    if known is not None and known[0] == signature:
        return known[1]
    manifest = read_json(Path(path))
    _MANIFESTS[path] = (signature, manifest)
    return manifest


def read_json(path: Path) -> dict[str, object]:
    """Return the JSON object in a file, or {} if it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def up_to_date(output: Path, inputs: str) -> bool:
    """Return whether the output was built from exactly these inputs and not touched since."""
    manifest = _manifest(output)
    entries = manifest.get("entries")
    if manifest.get("inputs") != inputs or not isinstance(entries, list) or "./" not in entries:
        return False
    if not all(isinstance(entry, str) for entry in entries):
        return False
    return manifest.get("output") == _quick_signature(output, entries)


def record(output: Path, inputs: str, signature: str, entries: list[str], numbers: list[int]) -> None:
    """Remember that the output, holding these paths with these sizes and times (its survey), now
    holds the site built from these inputs."""
    folder = cache_folder(output)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"inputs": inputs, "entries": entries, "output": signature, "numbers": numbers}
    atomic_write(folder / MANIFEST, json.dumps(manifest, separators=(",", ":")).encode())
