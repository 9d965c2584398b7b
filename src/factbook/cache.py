"""What a build keeps between runs, beside the output and never in it: safe to delete, never stale.

- Rendered Markdown, keyed by a hash of the body (of the file it was read from), its place and
  the settings. A hit is used only if every link in it still resolves today as it did then
  (Rendered.still_valid), which holds without looking each link up when the link table is the
  one the cache was saved with.
- A manifest of every input's signature and of the output's files: when neither changed, the
  build has nothing to do.
- The last build's state (a digest of its link graph, its files): when only the content changed
  and the output is as that build left it, the next build renders only the pages a change touches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import marshal
import os
import pickle
import secrets
import shutil
import struct
import zlib
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, NamedTuple

import jinja2

from . import forking
from .assemble import Resolved
from .depend import PagePrints
from .errors import Problem
from .link import BodyJob, RenderMany
from .load import FileRecord
from .mdlinks import EXTENSIONS, LinkTable, Rendered, Target
from .model import Collection, Document, Entity
from .render import COMPILED_FORM
from .stamp import (
    Listing,
    OutputLook,
    atomic_write,
    cache_folder,
    code_signature,
    package_versions,
    read_json,
    replacing,
)

SHARDS = "markdown"
CHECKED = "markdown.json"  # the link table the cached bodies were last checked against
TARGETS = "markdown-targets.marshal"  # that table's pages: each one's URL and title
LEGACY = "markdown.pickle"  # the one-file cache of earlier factbooks: removed on sight
STATE = "state.marshal"
LEGACY_STATE = "state.json"  # earlier factbooks' form of it: removed on sight
RECORDS = "records-{code}"
TEMPLATES = "templates"
VALIDATORS = "validators"


# What a cached body holds: a new number when Rendered gains or loses a field, so that an
# entry pickled by an earlier factbook of the same version is never found.
RENDERED_FORMAT = 4


@lru_cache(maxsize=1)
def _versions() -> str:
    return f"{package_versions()};{','.join(EXTENSIONS)};{RENDERED_FORMAT}"


def body_key(job: BodyJob, extensions: tuple[tuple[str, str], ...] = (), unsafe_html: bool = False) -> str:
    """Return the cache key of a body: a hash of its source (or of the file it was read from),
    place and the Markdown settings.

    Where its links lead (and the base URL in them) is checked on every hit instead.
    """
    source, line, folder, checksum = job
    # The file's hash stands for the text it holds: hashing 10,000 bodies again was 0.03 s.
    read = f"file\0{checksum}" if checksum else f"text\0{source}"
    text = f"{_versions()}\0{extensions}\0{unsafe_html}\0{folder}\0{line}\0{read}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class MarkdownCache:
    """Rendered Markdown by key, read from and written to the cache folder.

    The entries are pickled, in shards by the key's first two hex digits (a save rewrites only
    the shards that changed), each behind an HMAC keyed per machine: a cache file written
    anywhere else, or damaged, is never unpickled, only discarded.
    """

    def __init__(self, folder: Path | None, files: SignedFiles | None = None) -> None:
        self.folder = folder
        self.entries: dict[str, Rendered] = {}
        self.used: dict[str, Rendered] = {}
        self.hits = 0
        self.discarded: list[str] = []  # shards that could not be trusted or read, by name
        self._loaded: dict[str, frozenset[str]] = {}  # each shard read: its keys
        self._fresh: set[str] = set()  # shards holding a body rendered by this build
        # The link tables this build's bodies were checked against (LinkTable.resolves), and the
        # one every entry read was checked against when it was saved: while the two are the
        # same, every link of an entry leads where it led, with no need to look each one up.
        self.tables: set[str] = set()
        self.targets: dict[str, Target] = {}  # the pages of the last table this build used
        self.checked = ""
        self._moved: dict[str, frozenset[str] | None] = {}  # by table: the pages whose face moved
        if folder is not None and (folder / SHARDS).is_dir():
            checked = read_json(folder / CHECKED).get("resolves")
            self.checked = checked if isinstance(checked, str) else ""
            for path in sorted((folder / SHARDS).iterdir()):
                entries = _read_shard(path, files)
                if entries is None:
                    self.discarded.append(path.name)
                    continue
                self.entries.update(entries)
                self._loaded[path.name] = frozenset(entries)

    def wrap(self, render_many: RenderMany) -> RenderMany:
        """Return a RenderMany that takes valid hits from the cache and renders only the rest."""

        def cached(batch: list[BodyJob], table: LinkTable) -> list[Rendered]:
            keys = [body_key(job, table.extensions, table.unsafe_html) for job in batch]
            self.tables.add(table.resolves)
            checked = bool(table.resolves) and table.resolves == self.checked
            # A title changed, say: the pages and slugs are the same, so only the links to pages
            # whose URL or title changed need looking up.
            slugs = bool(table.resolves) and _slugs(table.resolves) == _slugs(self.checked)
            self.targets = table.targets
            # The pages whose title or URL changed since (None: not known): a body that leads
            # only to other pages, each found by its slug, is as it was without a look-up.
            moved = self._moved_since(table) if slugs and not checked else None
            found: list[Rendered | None] = []
            for key in keys:
                hit = self.entries.get(key)
                if hit is not None and not checked:
                    led = hit.slug_targets
                    if moved is None or led is None or not led.isdisjoint(moved):
                        hit = hit if hit.still_valid(table, slugs) else None
                found.append(hit)
            missing = [i for i, hit in enumerate(found) if hit is None]
            self.hits += len(batch) - len(missing)
            fresh = render_many([batch[i] for i in missing], table) if missing else []
            for i, rendered in zip(missing, fresh, strict=True):
                found[i] = rendered
                self._fresh.add(_shard(keys[i]))
            result = [r for r in found if r is not None]
            self.used.update(zip(keys, result, strict=True))
            return result

        return cached

    def _moved_since(self, table: LinkTable) -> frozenset[str] | None:
        """Return the pages whose title or URL differs in table from the one the cached bodies
        were checked against, or None if that one's pages were not kept."""
        if table.resolves not in self._moved:
            kept = _read_signed(self.folder / TARGETS, marshalled=True) if self.folder else None
            was = kept.get("targets") if kept and kept.get("resolves") == self.checked else None
            moved = None
            if isinstance(was, dict):
                now = table.targets
                moved = frozenset(k for k, t in now.items() if was.get(k) != (t.url, t.title))
                moved |= was.keys() - now.keys()
            self._moved[table.resolves] = moved
        return self._moved[table.resolves]

    def save(self) -> None:
        """Write the shards this build changed, of the entries it used (so the cache never grows
        past one site)."""
        if self.folder is None:
            return
        shards: dict[str, dict[str, Rendered]] = {}
        for key, rendered in self.used.items():
            shards.setdefault(_shard(key), {})[key] = rendered
        folder = self.folder / SHARDS
        folder.mkdir(parents=True, exist_ok=True)
        # Said last, once every shard is written: a save cut short leaves each link to be checked.
        (self.folder / CHECKED).unlink(missing_ok=True)
        for name, entries in shards.items():
            if name in self._fresh or self._loaded.get(name) != frozenset(entries):
                stripped = {k: r.with_job(("", 0, "")) for k, r in entries.items()}
                _write_signed(folder / name, {"entries": stripped})
        for name in self._loaded.keys() - shards.keys():
            (folder / name).unlink(missing_ok=True)
        (self.folder / LEGACY).unlink(missing_ok=True)
        shutil.rmtree(self.folder / TEMPLATES, ignore_errors=True)  # kept in the user's cache now
        if len(self.tables) == 1 and all(self.tables):
            resolves = min(self.tables)
            if resolves != self.checked or not (self.folder / TARGETS).exists():
                targets = {key: (t.url, t.title) for key, t in self.targets.items()}
                _write_signed(
                    self.folder / TARGETS, {"resolves": resolves, "targets": targets}, marshalled=True
                )
            atomic_write(self.folder / CHECKED, json.dumps({"resolves": resolves}).encode())


def _slugs(resolves: str) -> str:
    """Return the part of a link table's print that decides where each [[slug]] leads ('' if none)."""
    parts = resolves.split(":")
    return parts[-1] if len(parts) == 3 else ""


def _shard(key: str) -> str:
    return key[:2] + ".pickle"


_MAGIC = b"factbook-cache-1\n"


def user_cache() -> Path:
    """Return this user's own cache folder for factbook (XDG_CACHE_HOME's, else ~/.cache's)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "factbook"


@lru_cache(maxsize=1)
def _machine_key() -> bytes:
    """Return this machine's (this user's) secret for signing cache files, made on first use."""
    home = user_cache()
    path = home / "cache-key"
    try:
        key = path.read_bytes()
        if len(key) == 32:
            return key
    except OSError:
        pass
    key = secrets.token_bytes(32)
    try:
        home.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".cache-key.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        os.replace(temporary, path)
    except OSError:
        pass  # no place to keep it: this run's caches are good for this run only
    return key


def _signature(payload: bytes) -> bytes:
    return hmac.new(_machine_key(), payload, hashlib.sha256).digest()


def _read_signed(
    path: Path, marshalled: bool = False, files: SignedFiles | None = None
) -> dict[str, object] | None:
    """Return the object pickled (or marshalled) in a file signed on this machine, {} if another
    factbook or library version wrote it, or None if it is not to be trusted or does not read.

    With files, the file is read into their buffer, and its signature checked unless the child
    that read it first found it signed, as it still is.
    """
    if files is not None:
        taken = files.take(path)
        if taken is None:
            return None
        try:
            return _loaded(taken, marshalled)
        finally:
            taken.release()
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return _loaded(data, marshalled) if _trusted(data) else None


def _trusted(data: bytes | memoryview) -> bool:
    """Return whether a cache file's bytes are signed with this machine's key."""
    head = len(_MAGIC)
    # A view, not a copy: the records of a large site are tens of megabytes.
    view = memoryview(data)
    signature = _signature(view[head + 32 :])
    return view[:head] == _MAGIC and hmac.compare_digest(view[head : head + 32], signature)


def _loaded(data: bytes | memoryview, marshalled: bool) -> dict[str, object] | None:
    """Return the object in a signed cache file's bytes, {} if another version wrote it, or None."""
    view = memoryview(data)
    # The versions come first, outside the pickle: an older cache is set aside unread, quietly.
    versions = _versions().encode() + b"\0"
    start = len(_MAGIC) + 32
    if view[start : start + len(versions)] != versions:
        return {}
    try:
        read = marshal.loads if marshalled else pickle.loads
        loaded = read(view[start + len(versions) :])  # signed with this machine's key here
    except Exception:  # noqa: BLE001 - a file we wrote but cannot read back is only discarded
        return None
    return loaded if isinstance(loaded, dict) else None


# A file as stat saw it: its inode, size, time and change time. Any write to the file since
# changes the last, which the kernel sets and no one can set back.
_IDENTITY = struct.Struct("<?qqqq")


def _identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


class SignedFiles:
    """Cache files whose signatures a forked child checks while this process reads them back.

    This process reads each file into one buffer, used again for the next (reading 100 MB into
    new memory at 10,000 pages took 0.06 s), and checks its signature itself only if the child
    did not, or saw the file as it is no longer (another inode, size or change time).
    """

    def __init__(self, paths: Iterable[Path], fork: bool = True) -> None:
        self.order = {path: index for index, path in enumerate(paths)}
        self.verdicts: list[tuple[bool, tuple[int, int, int, int]]] = []  # the child's, in order
        self.child: forking.Child | None = None  # the checking process, and the pipe it answers on
        self.pending = b""
        self.buffer = bytearray()
        if not fork or not self.order:
            return
        _machine_key()  # made or read here first: the child and this process sign with one key
        self.child = forking.fork(self._check_all)

    def _check_all(self, end: int) -> bool:
        """Check each file, in order, writing a verdict for each to end (in the child)."""
        for path in self.order:
            found = self._read(path)
            good, identity = (_trusted(found[0]), found[1]) if found else (False, (0, 0, 0, 0))
            forking.write_all(end, _IDENTITY.pack(good, *identity))
        return True

    def take(self, path: Path) -> memoryview | None:
        """Return a file's bytes (a view of the buffer, until the next take) if signed on this
        machine, or None."""
        found = self._read(path)
        if found is None:
            return None
        data, identity = found
        verdict = self._verdict(self.order.get(path, -1))
        if verdict is not None and verdict[1] == identity:
            if verdict[0]:
                return data
            data.release()
            return None
        if _trusted(data):
            return data
        data.release()
        return None

    def _read(self, path: Path) -> tuple[memoryview, tuple[int, int, int, int]] | None:
        """Return the bytes of a file read into the buffer, and its identity, or None."""
        try:
            with open(path, "rb", buffering=0) as handle:
                before = _identity(os.fstat(handle.fileno()))
                size = before[1]
                if len(self.buffer) < size + 1:
                    self.buffer = bytearray(size + size // 4 + 1)
                view = memoryview(self.buffer)
                got = 0
                while got <= size:  # one byte past the size: a file that grew is read again
                    count = handle.readinto(view[got : size + 1])
                    if not count:
                        break
                    got += count
                after = _identity(os.fstat(handle.fileno()))
        except OSError:
            return None
        if got != size or after != before:
            view.release()
            return None  # changed while it was read: taken as untrusted
        data = view[:size]
        view.release()
        return data, before

    def _verdict(self, index: int) -> tuple[bool, tuple[int, int, int, int]] | None:
        """Return the child's verdict on the file at index (signed, and as it saw it), or None."""
        size = _IDENTITY.size
        while self.child is not None and len(self.verdicts) <= index:
            answer = os.read(self.child[1], 4096)
            if not answer:
                self.close()  # ended without a verdict on the rest: they are checked here
                break
            self.pending += answer
            whole = len(self.pending) // size * size
            for at in range(0, whole, size):
                good, *identity = _IDENTITY.unpack_from(self.pending, at)
                self.verdicts.append((good, tuple(identity)))  # type: ignore[arg-type]
            self.pending = self.pending[whole:]
        return self.verdicts[index] if 0 <= index < len(self.verdicts) else None

    def close(self) -> None:
        """End the child, if it is still checking (or wait for it, if it has ended)."""
        if self.child is not None:
            forking.end(self.child)
            self.child = None


class _Signing:
    """A file that signs what is written to it with this machine's key, as it goes."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.mac = hmac.new(_machine_key(), digestmod=hashlib.sha256)

    def write(self, data: bytes) -> int:
        """Write data and sign it; return how many bytes were written."""
        self.mac.update(data)
        return self.handle.write(data)


def _write_signed(path: Path, data: dict[str, object], marshalled: bool = False) -> None:
    """Write data pickled (or marshalled: plain values only), behind this machine's signature,
    with the versions that wrote it."""
    # Pickled straight into the file, never whole in memory: the records of 10k pages are ~40 MB.
    with replacing(path) as handle:
        handle.write(_MAGIC + bytes(32))
        signing = _Signing(handle)
        signing.write(_versions().encode() + b"\0")
        if marshalled:
            signing.write(marshal.dumps(data))
        else:
            pickle.dump(data, signing, protocol=5)
        handle.seek(len(_MAGIC))
        handle.write(signing.mac.digest())


def _read_shard(path: Path, files: SignedFiles | None = None) -> dict[str, Rendered] | None:
    """Return the entries of a shard signed on this machine by this factbook, or None."""
    loaded = _read_signed(path, files=files)
    if loaded is None:
        return None
    entries = loaded.get("entries", {})
    if not isinstance(entries, dict) or not all(isinstance(r, Rendered) for r in entries.values()):
        return None
    return entries


Assembled = tuple[Document, Collection, Entity | None, list[Problem]]


class Records(NamedTuple):
    """What the last build kept of each content file, by path: what reading it gave, what
    assembling its document gave (checked against the document and collection before use), and
    its page's references resolved (checked against the page and all they were resolved against)."""

    files: dict[str, FileRecord]
    entities: dict[str, Assembled]
    refs: dict[str, Resolved]
    prints: dict[str, PagePrints]  # what the digest made of its page (checked before use)


def _shaped(kinds: tuple[type | tuple[type, ...], ...]) -> Callable[[object], bool]:
    """Return a test of whether a value is a tuple of one value of each of four kinds, in order."""

    first, second, third, fourth = kinds  # four of them: unrolled, it runs 20,000 times at 10k pages

    def shaped(value: object) -> bool:
        return (
            isinstance(value, tuple)
            and len(value) == 4
            and isinstance(value[0], first)
            and isinstance(value[1], second)
            and isinstance(value[2], third)
            and isinstance(value[3], fourth)
        )

    return shaped


# What each part of a records shard must hold, value by value, to be used.
_VALID: dict[str, Callable[[object], bool]] = {
    "files": lambda value: isinstance(value, FileRecord),
    "entities": _shaped((Document, Collection, (Entity, type(None)), list)),
    "refs": _shaped((str, Entity, Entity, list)),
    "prints": lambda value: isinstance(value, PagePrints) and isinstance(value.entity, Entity),
}


def load_records(output: Path, files: SignedFiles | None = None) -> Records:
    """Return what the last build kept of each content file (nothing if none is trusted).

    A record is used again only while its file's inode, size and time are the same (load_sources);
    a shard that is not trusted only means its files are read and assembled again.
    """
    records = Records({}, {}, {}, {})
    for path in sorted(_records_folder(output).glob("*.pickle")):
        loaded = _read_signed(path, files=files) or {}
        parts = [loaded.get(kind) for kind in Records._fields]
        if all(
            isinstance(part, dict) and all(map(_VALID[kind], part.values()))
            for kind, part in zip(Records._fields, parts, strict=True)
        ):
            for mine, part in zip(records, parts, strict=True):
                mine.update(part)  # type: ignore[arg-type]
    return records


def cache_files(output: Path, fork: bool = True) -> SignedFiles:
    """Return the signed files a build of this output reads first (its Markdown cache, records and
    state), read and checked in a child process if fork."""
    folder = cache_folder(output)
    shards = folder / SHARDS
    paths = sorted(shards.iterdir()) if shards.is_dir() else []
    paths += sorted(_records_folder(output).glob("*.pickle"))
    return SignedFiles([*paths, folder / STATE], fork)


def save_records(output: Path, records: Records, before: Records) -> None:
    """Keep what the build made of each content file, for the next: only the shards that differ
    from those the build started with (before) are written again."""
    folder = _records_folder(output)
    for old in folder.parent.glob(RECORDS.format(code="*")):
        if old != folder:  # another factbook's (or an older, one-file form): never read
            shutil.rmtree(old) if old.is_dir() else old.unlink(missing_ok=True)
    # Each path's shard found once; the shards' contents gathered only for those written again.
    shard_of = {path: _record_shard(path) for path in records.files.keys() | before.files.keys()}
    for part in (*records[1:], *before[1:]):
        shard_of.update((path, _record_shard(path)) for path in part.keys() - shard_of.keys())
    changed: set[str] = set()
    for now, was in zip(records, before, strict=True):
        changed.update(shard_of[path] for path, value in now.items() if was.get(path) is not value)
        changed.update(shard_of[path] for path in was.keys() - now.keys())
    folder.mkdir(parents=True, exist_ok=True)
    present = {path.stem for path in folder.glob("*.pickle")}
    changed |= {shard_of[path] for part in records for path in part} - present  # gone by hand
    shards: dict[str, dict[str, dict[str, object]]] = {}
    for kind, now in zip(Records._fields, records, strict=True):
        for path, value in now.items():
            if shard_of[path] in changed:
                shards.setdefault(shard_of[path], {f: {} for f in Records._fields})[kind][path] = value
    for name in sorted(changed):
        if name in shards:
            _write_signed(folder / f"{name}.pickle", shards[name])
        else:
            (folder / f"{name}.pickle").unlink(missing_ok=True)


def _record_shard(path: str) -> str:
    return f"{zlib.crc32(path.encode('utf-8', 'surrogatepass')) % 64:02d}"


def _records_folder(output: Path) -> Path:
    # Named by factbook's code: the model's classes may differ in another, so its records are
    # not even unpickled.
    return cache_folder(output) / RECORDS.format(code=code_signature()[:16])


def save_state(output: Path, state: dict[str, object], settings: dict[str, object], signature: str) -> None:
    """Keep the state of the build now in the output (of that signature), for the next build."""
    data = {
        "versions": _versions(),
        "code": code_signature(),
        "settings": settings,
        "output": signature,
        "state": state,
    }
    # Plain values: marshal writes them five times as fast as JSON, and reads them twice as fast.
    _write_signed(cache_folder(output) / STATE, data, marshalled=True)
    (cache_folder(output) / LEGACY_STATE).unlink(missing_ok=True)


def forget_state(output: Path) -> None:
    """Drop the state of the last build: the output is about to differ from it."""
    (cache_folder(output) / STATE).unlink(missing_ok=True)


def load_state(
    output: Path,
    settings: dict[str, object],
    seen: Listing | None = None,
    look: OutputLook | None = None,
    files: SignedFiles | None = None,
) -> dict[str, object] | None:
    """Return the state of the build the output holds, if made by this factbook with these settings.

    None when there is none, it is unreadable, or the output was touched since it was built
    (as look finds, if given; what each of its paths was found to be is added to seen, if given).
    """
    look = look or OutputLook(output, fork=False)
    data = _read_signed(cache_folder(output) / STATE, marshalled=True, files=files) or {}
    if (
        data.get("versions") != _versions()
        or data.get("code") != code_signature()
        or data.get("settings") != json.loads(json.dumps(settings))
        or not isinstance(data.get("state"), dict)
        or not output.is_dir()
        or not look.untouched(data.get("output"), seen)
    ):
        return None
    return data["state"]  # type: ignore[return-value]


class ValidatorCache:
    """Compiled front matter validators, kept between builds in the user's cache as the compiled
    templates are, and signed with this machine's key like them (their code is run)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = (folder or user_cache()) / VALIDATORS

    def get(self, key: str) -> bytes | None:
        """Return the validator kept under key, if one signed here is."""
        loaded = _read_signed(self.folder / f"{key}.code", marshalled=True)
        code = loaded.get("code") if loaded else None
        return code if isinstance(code, bytes) else None

    def put(self, key: str, code: bytes) -> None:
        """Keep a compiled validator for the next build."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_signed(self.folder / f"{key}.code", {"code": code}, marshalled=True)
        except OSError:
            pass  # not kept: the next build compiles it again


class TemplateCache(jinja2.BytecodeCache):
    """Compiled templates, kept between builds in the user's cache, as Python keeps compiled
    modules: compiling the theme took each worker of a cold build a twentieth of a second.

    Jinja knows each by its template's file and checks it against its source; each file is
    signed with this machine's key, like every cache file here, so code written elsewhere is
    never loaded.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = (folder or user_cache()) / TEMPLATES

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        """Return the name a template's compiled code is kept under: Jinja's, and the form of the
        code (that of an earlier factbook is not loaded)."""
        return f"{super().get_cache_key(name, filename)}-{COMPILED_FORM}"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Fill the bucket from its file, if one signed here holds it."""
        loaded = _read_signed(self.folder / f"{bucket.key}.code")
        code = loaded.get("code") if loaded else None
        if isinstance(code, bytes):
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep the bucket's compiled template for the next build."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_signed(self.folder / f"{bucket.key}.code", {"code": bucket.bytecode_to_string()})
        except OSError:
            pass  # not kept: the next build compiles it again
