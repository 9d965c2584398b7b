"""Names as a notes app resolves them: a file name, title, alias or folder path, in any case."""

from __future__ import annotations

import posixpath
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import did_you_mean
from .frozen import pickled_by_fields
from .model import Entity, Site

MARKDOWN = ".md"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Named:
    """Something a name can lead to: a page (its key) or an attachment (its URL)."""

    key: str
    path: str  # inside content/, as written
    url: str = ""
    size: tuple[int, int] | None = None  # an image's width and height


@dataclass(frozen=True)
class NameTable:
    """Pages and attachments by every name a writer may use for them, in lower case."""

    pages: dict[str, tuple[Named, ...]] = field(default_factory=dict)
    files: dict[str, tuple[Named, ...]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # each page's title by its lower case

    def nearest(self, name: str) -> str:
        """Return a "did you mean" hint naming the pages whose titles are closest to name."""
        close = did_you_mean(normal(name), self.titles)
        for lower, title in self.titles.items():
            close = close.replace(f"'{lower}'", f"'{title}'")
        return close

    def page(self, name: str, folder: str) -> tuple[Named | None, str]:
        """Return the page a name leads to and, if other pages share the name, a warning."""
        return _pick(self.pages.get(normal(name).removesuffix(MARKDOWN), ()), name, folder)

    def file(self, name: str, folder: str) -> tuple[Named | None, str]:
        """Return the attachment a name leads to and, if others share the name, a warning."""
        return _pick(self.files.get(normal(name), ()), name, folder)


class LazyNameTable:
    """A NameTable made when a link first asks it for a name (else never).

    A link by slug never does: a one-page rebuild at 10,000 pages spent a twentieth of its time
    making the table for nothing. Pickled, it is the table itself.
    """

    __slots__ = ("_make", "_table")

    def __init__(self, make: Callable[[], NameTable]) -> None:
        self._make: Callable[[], NameTable] | None = make
        self._table: NameTable | None = None

    def table(self) -> NameTable:
        """Return the table, made on the first call."""
        if self._table is None:
            make, self._make = self._make, None  # what it is made from is no longer held
            assert make is not None  # kept until the table is made
            self._table = make()
        return self._table

    def made_from(self, make: Callable[[], NameTable]) -> None:
        """Have the table made by make instead, if it is not made yet (it gives the same names)."""
        if self._table is None:
            self._make = make

    @property
    def pages(self) -> dict[str, tuple[Named, ...]]:
        """Return the pages by name (NameTable.pages)."""
        return self.table().pages

    @property
    def files(self) -> dict[str, tuple[Named, ...]]:
        """Return the attachments by name (NameTable.files)."""
        return self.table().files

    @property
    def titles(self) -> dict[str, str]:
        """Return each page's title by its lower case (NameTable.titles)."""
        return self.table().titles

    def nearest(self, name: str) -> str:
        """Return a "did you mean" hint (NameTable.nearest)."""
        return self.table().nearest(name)

    def page(self, name: str, folder: str) -> tuple[Named | None, str]:
        """Return the page a name leads to, and a warning (NameTable.page)."""
        return self.table().page(name, folder)

    def file(self, name: str, folder: str) -> tuple[Named | None, str]:
        """Return the attachment a name leads to, and a warning (NameTable.file)."""
        return self.table().file(name, folder)

    def __eq__(self, other: object) -> bool:
        return self.table() == (other.table() if isinstance(other, LazyNameTable) else other)

    __hash__ = None  # type: ignore[assignment]  # as a NameTable's

    def __reduce__(self) -> tuple[Any, ...]:
        return self.table().__reduce__()


def content_path(entity: Entity) -> str:
    """Return the entity's file path inside content/ (inside the vault, for a vault)."""
    # Only a leading content/: a vault's own folders may be called anything, "content" too.
    return entity.doc.path.removeprefix("content/")


def normal(name: str) -> str:
    """Return a name as names are compared: trimmed, composed, lower case, '/' between folders."""
    text = unicodedata.normalize("NFC", name.strip().replace("\\", "/")).lower()
    return posixpath.normpath(text).lstrip("/") if text else ""


def _suffixes(path: str) -> list[str]:
    """Return a path and each shorter path it ends with: 'a/b/c', 'b/c', 'c'."""
    parts = normal(path).split("/")
    return ["/".join(parts[i:]) for i in range(len(parts))]


def name_table(site: Site, files: dict[str, str]) -> NameTable:
    """Return every page and attachment by file name, folder path, title and alias."""
    pages: dict[str, dict[str, Named]] = {}
    titles: dict[str, str] = {}
    for key, entity in site.entities.items():
        path = content_path(entity)
        named = Named(key, path)
        names = {s.removesuffix(MARKDOWN) for s in _suffixes(path)}
        title = normal(entity.title)
        titles[title] = entity.title
        names.add(title)
        names.update(normal(a) for a in _aliases(entity.fields.get("aliases")))
        for name in names:
            if name:
                pages.setdefault(name, {})[key] = named
    attachments: dict[str, dict[str, Named]] = {}
    for path, url in files.items():
        for name in _suffixes(path):
            attachments.setdefault(name, {})[path] = Named("", path, url, site.sizes.get(path))
    return NameTable(_in_order(pages), _in_order(attachments), titles)


def _in_order(table: dict[str, dict[str, Named]]) -> dict[str, tuple[Named, ...]]:
    """Return each name's pages or files in the order a name shared by several resolves in."""
    # Most names are one page's: a sort of one is skipped, 30,000 times at 10k pages.
    return {
        n: tuple(found.values()) if len(found) == 1 else tuple(sorted(found.values(), key=_order))
        for n, found in table.items()
    }


def _aliases(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float)]
    return []


def _order(named: Named) -> tuple[int, str]:
    # Shorter paths first, as Obsidian resolves a name that several files share.
    return (named.path.count("/"), named.path)


def _pick(found: tuple[Named, ...], name: str, folder: str) -> tuple[Named | None, str]:
    if not found:
        return None, ""
    if len(found) == 1:
        return found[0], ""
    near = [n for n in found if posixpath.dirname(n.path) == folder]
    chosen = near[0] if near else found[0]
    others = " and ".join(n.path for n in found if n is not chosen)
    return chosen, f"'{name}' names {chosen.path} and {others}; linked to {chosen.path}"
