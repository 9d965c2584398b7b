"""Read a site's sources from disk: settings, collections and every content file."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple, Protocol
from urllib.parse import quote

from .config import parse_config
from .declare import declare_collections, packaged_declarations
from .errors import Problem, did_you_mean
from .frozen import pickled_as_tuple
from .images import image_size
from .model import Collection, Document, SiteConfig
from .slugs import slugify
from .theme import content_folder
from .yamlio import YamlError, load_yaml

SETTINGS = "site.yaml"
DECLARATIONS = "collections.yaml"
_EXTENSIONS = {"markdown": ".md", "yaml": ".yaml"}
IMAGE_SUFFIXES = (".png", ".gif", ".jpg", ".jpeg", ".webp", ".svg")
# A page or fact sheet larger than this is refused: rendering costs some 3 s and 40 MB a MB.
MAX_BYTES = 10_000_000


@dataclass(frozen=True, slots=True)
class Sources:
    """Everything read from a site's content folder, and the problems found reading it."""

    config: SiteConfig
    collections: dict[str, Collection]
    documents: tuple[Document, ...]
    problems: tuple[Problem, ...]
    files: dict[str, FileRecord]
    attachments: dict[str, Attachment]  # files that are not pages, by their path inside content/

    @property
    def unreadable(self) -> frozenset[str]:
        """Return the keys ('collection/slug') of the content files that could not be read."""
        return frozenset(
            f"{path.split('/')[1]}/{slugify(Path(path).stem)}"
            for path, (_, doc, _) in self.files.items()
            if doc is None and path.count("/") >= 2  # a vault's notes have no collection folder
        )


Signature = tuple[int, int, int]  # (inode, size, modification time in ns)


@pickled_as_tuple
class Attachment(NamedTuple):
    """A file that is not a page, published beside the pages of its folder (an image's size too)."""

    url: str
    source: Path
    size: tuple[int, int] | None = None


@pickled_as_tuple
class FileRecord(NamedTuple):
    """What reading one content file gave: its signature, and its document or its problem."""

    signature: Signature
    doc: Document | None
    problem: Problem | None


class Ahead(Protocol):
    """The files to read being read from the first by another process meanwhile (readahead)."""

    def ours(self, index: int) -> bool:
        """Return whether the index-th file to read is left to this process (which reads from
        the last one back): once one is not, neither is any before it."""

    def take(self) -> dict[str, FileRecord]:
        """Return the records of the files read there, by path (waiting for them)."""


def load_sources(
    root: Path,
    known: dict[str, FileRecord] | None = None,
    exclude: frozenset[str] = frozenset(),
    seen: Mapping[str, os.stat_result] | None = None,
    ahead: Ahead | None = None,
    claim: Callable[[int, FileRecord | None], bool] | None = None,
) -> Sources:
    """Return the settings, collections, documents and attachments under root/content.

    A folder without content/ is a vault: every note in it belongs to the notes collection.
    A file whose inode, size and modification time match its record in known is not read again;
    folders whose real path is in exclude (the output) are not read at all. What stat gave for a
    path, when the caller took it a moment before (seen), is not asked again.

    With ahead, the files to read are read from the last one back while ahead leaves them to
    this process, and the rest taken from it (or read here, if it could not read them). With
    claim (in that other process), they are read from the first on, while claim allows it: it
    is given each file's index, and the record of the one before.
    """
    seen = seen or {}
    known = known or {}
    files: dict[str, FileRecord] = {}
    content, vault = content_folder(root)
    rel = _relative_to(root)
    config, problems = parse_config(_read_optional(content / SETTINGS), rel(content / SETTINGS))
    declared = declare_collections(
        packaged_declarations(), _read_optional(content / DECLARATIONS), rel(content / DECLARATIONS)
    )
    collections = declared.collections
    problems += declared.problems
    if declared.problems:  # without its collections no content file can be placed or checked
        return Sources(config, {}, (), tuple(problems), {}, {})
    notes = next((c for c in collections.values() if c.vault), None)
    if vault:
        if notes is None:
            message = "no content/ folder, and no notes collection to hold the notes of a plain folder"
            return Sources(config, collections, (), (Problem(rel(content), 1, message),), {}, {})
        notes = replace(notes, url="/{slug}/")  # a vault's notes are the whole site
        collections = {**collections, notes.name: notes}
        if "title" not in _keys(content / SETTINGS):  # a vault is called by its folder's name
            config = replace(config, title=content.resolve().name)
    documents: list[Document] = []
    attachments: dict[str, Attachment] = {}
    todo: list[_Item] = []  # the files to read (again)
    prefix = rel(content)
    skip = exclude | _skipped(content, vault)
    for relative, entry, problem in _walk(str(content), vault, skip):
        shown = f"{prefix}/{relative}" if prefix != "." else relative
        if problem:
            problems.append(Problem(shown, 1, problem, warning=True))
            continue
        if vault:
            assert notes is not None
            collection, inner = notes, relative
        else:
            folder, inner = relative.split("/", 1)
            if folder not in collections:
                hint = did_you_mean(folder, collections) or "known: " + ", ".join(sorted(collections))
                problems.append(Problem(shown, 1, f"'{folder}' is not a collection", hint))
                continue
            collection = collections[folder]
        if not relative.endswith(_EXTENSIONS.get(collection.format, ".md")):
            size = image_size(Path(entry.path)) if relative.lower().endswith(IMAGE_SUFFIXES) else None
            attachments[relative] = Attachment(_attachment_url(collection, inner), Path(entry.path), size)
            continue
        stat = seen.get(entry.path) or entry.stat()
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        record = known.get(shown)
        if _current(record, collection, inner, signature):
            files[shown] = record
        else:
            todo.append((shown, entry.path, collection, inner, signature))
    if claim is not None:  # the other process's part: from the first on, while claim allows
        record = None
        for index, item in enumerate(todo):
            if not claim(index, record):
                break
            record = files[item[0]] = _read_item(item, known)
        else:
            claim(len(todo), record)  # none left: only the last record to hand over
    elif ahead is not None:  # this one's: from the last back, while ahead leaves them here
        start = len(todo)
        while start and ahead.ours(start - 1):
            start -= 1
            files[todo[start][0]] = _read_item(todo[start], known)
        found = ahead.take()
        for item in todo[:start]:
            record = found.get(item[0])
            files[item[0]] = record if _current(record, *item[2:]) else _read_item(item, known)
    else:
        files.update((item[0], _read_item(item, known)) for item in todo)
    for _, doc, problem in files.values():
        if problem:
            problems.append(problem)
        if doc:
            documents.append(doc)
    documents.sort(key=lambda d: d.path)
    return Sources(config, collections, tuple(documents), tuple(problems), files, attachments)


def refresh_sources(root: Path, previous: Sources, changed: Iterable[str]) -> Sources | None:
    """Return previous with the content files among changed (paths the watcher named) read
    again, or None when only a whole survey will do: a file came or went, or a setting, an
    attachment or a folder changed, or the site is a vault.

    serve knows from its watcher which files changed: a survey of every content file cost a
    quarter of a rebuild at 10,000 pages.
    """
    content, vault = content_folder(root)
    if vault or not previous.collections:
        return None
    top = os.path.realpath(root)
    prefix = _relative_to(root)(content)
    again: dict[str, str] = {}  # shown path: real path
    for path in changed:
        relative = os.path.relpath(os.path.realpath(path), top).replace(os.sep, "/")
        if relative.split("/")[0] in {"templates", "static", "locales"}:
            continue  # the theme's, not the content's
        if relative in previous.files and os.path.isfile(path):
            again[relative] = path
            continue
        inside = relative.removeprefix(prefix + "/")
        # A file that came and went between two looks (an editor's temporary file) changes
        # nothing; a folder that went, or any other file, needs the whole survey.
        gone = not os.path.lexists(path)
        known = relative in previous.files or inside in previous.attachments
        if gone and not known and not any(f.startswith(relative + "/") for f in previous.files):
            continue
        return None
    if not again:
        return previous
    files = dict(previous.files)
    problems = list(previous.problems)
    for shown, path in again.items():
        record = files[shown]
        try:
            stat = os.stat(path)
        except OSError:  # gone since the watcher saw it: the survey tells what is there
            return None
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if record.signature == signature:
            continue
        folder, inner = shown.removeprefix(prefix + "/").split("/", 1)
        collection = previous.collections.get(folder)
        if collection is None:
            return None
        fresh = _read_again(record, signature, Path(path), shown, collection, _folder(inner))
        files[shown] = fresh
        problems = [p for p in problems if p is not record.problem]
        problems += [fresh.problem] if fresh.problem else []
    documents = tuple(sorted((r.doc for r in files.values() if r.doc), key=lambda d: d.path))
    return replace(previous, documents=documents, problems=tuple(problems), files=files)


# A file to read: its path as shown, its real path, its collection, its path in it, its signature.
_Item = tuple[str, str, Collection, str, Signature]


def _read_item(item: _Item, known: dict[str, FileRecord]) -> FileRecord:
    """Return the record of a file to read, read (again)."""
    shown, path, collection, inner, signature = item
    return _read_again(known.get(shown), signature, Path(path), shown, collection, _folder(inner))


def _current(record: FileRecord | None, collection: Collection, inner: str, signature: Signature) -> bool:
    """Return whether a file's record holds for it: the same file, in the same collection and folder."""
    if record is None or record.signature != signature:
        return False
    return not record.doc or (record.doc.collection, record.doc.folder) == (collection.name, _folder(inner))


def _read_again(
    record: FileRecord | None,
    signature: Signature,
    path: Path,
    shown: str,
    collection: Collection,
    folder: str,
) -> FileRecord:
    """Return the record of a file read (again): with the very document of its last record when
    its bytes and place are as they were.

    A checkout, a copy or an editor's save touches a file without changing it; a new but equal
    document would be compared field by field by every cache after this one, on every build
    (and the records would keep both).
    """
    doc, problem = read_document(path, shown, collection, folder)
    old = record.doc if record is not None else None
    if doc is not None and old is not None and doc.checksum == old.checksum and doc == old:
        doc = old
    return FileRecord(signature, doc, problem)


def _attachment_url(collection: Collection, inner: str) -> str:
    """Return where an attachment is published: in the folder of its collection's pages."""
    folder = _folder(inner)
    slug = "/".join(slugify(part) or "-" for part in folder.split("/")) if folder else ""
    place = collection.url.format(collection=collection.name, slug=slug)
    return re.sub("/+", "/", place.rsplit("/", 1)[0] + "/" + quote(inner.rsplit("/", 1)[-1]))


def _built(folder: str) -> bool:
    """Return whether a folder holds a site factbook built (an output kept inside a vault)."""
    return all(
        os.path.isfile(os.path.join(folder, name)) for name in ("404.html", "robots.txt", "graph.json")
    )


def _keys(path: Path) -> set[str]:
    """Return the top-level keys of a settings file, if it is there and reads."""
    try:
        data = load_yaml(_read_optional(path) or "").data
    except YamlError:
        return set()
    return set(data) if isinstance(data, dict) else set()


def _folder(inner: str) -> str:
    """Return the folders of a path inside its collection: '' for a file at its top."""
    return inner.rsplit("/", 1)[0] if "/" in inner else ""


def _skipped(content: Path, vault: bool) -> frozenset[str]:
    """Return the real paths of a vault's folders that are not notes: its templates and output."""
    if not vault:
        return frozenset()
    names = {"_site"}
    try:  # Obsidian's core templates plugin names its folder in .obsidian/templates.json
        names.add(str(json.loads((content / ".obsidian" / "templates.json").read_text("utf-8"))["folder"]))
    except (OSError, ValueError, KeyError, TypeError):
        names.update({"templates", "Templates"})
    return frozenset(os.path.realpath(content / name) for name in names)


def _relative_to(root: Path):  # type: ignore[no-untyped-def]
    def rel(path: Path) -> str:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return path.as_posix()

    return rel


def _read_optional(path: Path) -> str | None:
    if not path.is_file():
        return None
    return path.read_bytes().decode("utf-8-sig", errors="replace").replace("\r\n", "\n")


def _ignored(name: str, vault: bool = False) -> bool:
    # Editors' temporary and backup files, and hidden files (.obsidian/, .trash/), are never
    # content; a factbook site also keeps _drafts and the like out, a vault does not.
    return name.startswith((".", "#") if vault else (".", "#", "_")) or name.endswith(("~", ".swp", ".tmp"))


def _walk(
    content: str, vault: bool = False, skip: frozenset[str] = frozenset()
) -> list[tuple[str, os.DirEntry[str], str]]:
    """Return (path inside content, entry, problem) for each file below content, sorted.

    A symbolic link that leads out of the content folder is reported and not followed.
    """
    found: list[tuple[str, os.DirEntry[str], str]] = []
    top = os.path.realpath(content) + os.sep
    stack = [("", content)]
    while stack:
        relative, folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if _ignored(name, vault) or (not relative and name in {SETTINGS, DECLARATIONS}):
                continue
            if entry.is_dir(follow_symlinks=False) and (
                os.path.realpath(entry.path) in skip or (vault and _built(entry.path))
            ):
                continue
            inner = f"{relative}/{name}" if relative else name
            link = entry.is_symlink()
            # Resolved only for a link: resolving every path cost a fifth of a rebuild at 10k pages.
            real = os.path.realpath(entry.path) + os.sep if link else ""
            if link and top.startswith(real):
                found.append((inner, entry, "symbolic link to a folder holding it (a loop); not followed"))
            elif link and not real.startswith(top):
                found.append((inner, entry, "symbolic link points outside the source tree; not followed"))
            elif entry.is_dir(follow_symlinks=False):
                stack.append((inner, entry.path))
            elif not relative and not vault:
                found.append(
                    (inner, entry, "files at the top of content/ are ignored; put it in a collection folder")
                )
            elif _is_file(entry):
                found.append((inner, entry, ""))
            elif entry.is_symlink() and not os.path.exists(entry.path):
                found.append((inner, entry, _dangling(entry.path)))
    found.sort(key=lambda f: f[0])
    return found


def _is_file(entry: os.DirEntry[str]) -> bool:
    """Return whether an entry is a file or a link to one (not a link in a loop)."""
    try:
        return entry.is_file()
    except OSError:
        return False


def _dangling(path: str) -> str:
    """Return why a symbolic link leads nowhere: a loop of links, or a missing target."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic links form a loop; not followed: remove the link or point it at a file"
    return "symbolic link to nothing; not followed: remove it or restore its target"


def read_document(
    path: Path, shown: str, collection: Collection, folder: str = ""
) -> tuple[Document | None, Problem | None]:
    """Return the document in one file, or the problem that kept it from being read."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        message = f"file is {size / 1e6:.1f} MB; content files may be up to {MAX_BYTES // 1_000_000} MB"
        return None, Problem(shown, 1, message, "split it into several pages")
    raw = path.read_bytes()
    checksum = hashlib.blake2b(raw, digest_size=16).hexdigest()
    stem = path.stem
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        byte = raw[error.start]
        return None, Problem(shown, line, f"file is not UTF-8 text (byte 0x{byte:02x})")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if collection.vault and not text.startswith("---\n"):  # a note needs no front matter
        body, problem = _without_nul(text, shown, 1)
        doc = Document(shown, "markdown", collection.name, stem, {}, {(): 1}, body, 1, folder, checksum)
        return doc, problem
    if not text.strip():
        return None, Problem(shown, 1, "file is empty")
    if collection.format == "yaml":
        return _document(shown, collection.name, stem, text, 1, "", 0, folder, checksum)
    if not text.startswith("---\n"):
        return None, Problem(shown, 1, "no front matter: start the file with a '---' line")
    lines = text.split("\n")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in {"---", "..."})
    except StopIteration:
        return None, Problem(shown, 1, "front matter is not closed by a '---' line")
    front = "\n".join(lines[1:end])
    body, nul = _without_nul("\n".join(lines[end + 1 :]), shown, end + 2)
    doc, problem = _document(shown, collection.name, stem, front, 2, body, end + 2, folder, checksum)
    return doc, problem or (nul if doc else None)


def _without_nul(body: str, shown: str, first_line: int) -> tuple[str, Problem | None]:
    """Return body with NUL characters replaced by U+FFFD, as CommonMark says, and a warning."""
    # A NUL copied into the HTML makes a page that browsers and validators read differently.
    at = body.find("\0")
    if at < 0:
        return body, None
    line = first_line + body.count("\n", 0, at)
    count = body.count("\0")
    message = f"{count} NUL characters in the text, replaced by U+FFFD" if count > 1 else ""
    message = message or "NUL character in the text, replaced by U+FFFD"
    return body.replace("\0", "\ufffd"), Problem(shown, line, message, warning=True)


def _document(
    shown: str,
    collection: str,
    stem: str,
    text: str,
    first: int,
    body: str,
    body_line: int,
    folder: str,
    checksum: str,
) -> tuple[Document | None, Problem | None]:
    try:
        marked = load_yaml(text)
    except YamlError as error:
        return None, Problem(shown, error.line + first, error.message)
    data = marked.data if marked.data is not None else {}
    lines = {key: line + first for key, line in marked.lines.items()}
    lines[()] = max(first - 1, 1)
    kind = "yaml" if not body_line else "markdown"
    doc = Document(shown, kind, collection, stem, data, lines, body, body_line, folder, checksum)
    return doc, None
