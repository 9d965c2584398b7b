"""The content model: frozen, typed records that every stage after loading passes on."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from .dates import PartialDate
from .frozen import pickled_as_tuple, pickled_by_fields
from .yamlio import nearest_line

FieldPath = tuple[str | int, ...]


def text_print(text: str) -> str:
    """Return a short hash of a text (the same in every process)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One declared field: its type, target collection, and how it is shown."""

    name: str
    type: str
    label: str
    required: bool = False
    to: str = ""
    inverse: str = "{collection}"  # the heading on the page it names; "" hides the relation
    enum: tuple[str, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    schema_property: str = ""  # the schema.org property it maps to
    note: str = ""  # for a date: the field that explains it
    aside: bool = False  # shown as a list beside the text
    show: bool = True  # shown in the page's details box (false: kept in the data only)
    shared: bool = False  # declared for every collection (under "*")
    translate: bool = False  # a translation gives its own value (else it is the original's)

    @property
    def is_reference(self) -> bool:
        """Return whether the field holds slugs of entities."""
        return self.type in {"ref", "refs"}


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Collection:
    """A kind of entity, declared as data: its fields and where its pages go."""

    name: str
    title: str
    singular: str
    description: str = ""
    schema_type: str = "Thing"
    url: str = "/{collection}/{slug}/"
    format: str = "markdown"
    template: str = "entity"
    date: str = ""  # the date field that dates its pages
    sort: str = "title"
    timeline: bool = False
    feed: bool = False
    index: bool = True
    group_by: tuple[str, ...] = ("letter",)
    ties: bool = False
    cites: str = ""  # the field that must name a source
    related: str = "Related"
    home: bool = False
    vault: bool = False  # notes as a notes app (Obsidian) keeps them: folders, open front matter, H1 titles
    links: str = "error"  # what an unresolved link is: an error, or (warn) a warning and marked text
    fact_list: str = ""  # the list field holding the facts of a fact sheet
    fields: tuple[FieldSpec, ...] = ()

    def field(self, name: str) -> FieldSpec | None:
        """Return the declared field of that name, if any."""
        return next((f for f in self.fields if f.name == name), None)

    def with_property(self, prop: str) -> FieldSpec | None:
        """Return the first top-level field mapped to that schema.org property, if any."""
        return next((f for f in self.fields if f.schema_property == prop), None)

    @property
    def label(self) -> str:
        """Return the singular label as it reads inside a sentence."""
        return _in_sentence(self.singular)

    @property
    def plural(self) -> str:
        """Return the plural label as it reads inside a sentence."""
        return _in_sentence(self.title)


def _in_sentence(text: str) -> str:
    # "Fact sheet" reads "fact sheet" mid-sentence; "ITU body" keeps its capitals.
    first = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if first[1:].islower() or len(first) == 1 else text


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Language:
    """A language a site is also published in: its code, name, URL prefix and Babel locale."""

    code: str
    name: str
    locale: str
    prefix: str  # '/az/': where its edition lives, under the site's base path


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SiteConfig:
    """Settings from content/site.yaml, with the command line's overrides applied."""

    title: str = "factbook"
    description: str = ""
    language: str = "en"
    base_url: str = "/"  # the site's public URL (site.yaml's url), or only its path
    copyright: str = ""
    image: str = ""  # the picture shown when a page is shared, a path in the theme or the content
    image_line: int = 1
    nav: tuple[str, ...] = ()
    markdown_extensions: tuple[tuple[str, str], ...] = ()  # (name, configuration as JSON)
    unsafe_html: bool = False  # markdown.unsafe_html: the writer's raw HTML is published as it is
    links: str = ""  # "warn": every link that leads nowhere is a warning (else as its collection says)
    drafts: bool = False
    path: str = ""  # where the settings were read, for messages
    nav_lines: tuple[int, ...] = ()
    languages: tuple[Language, ...] = ()  # the other languages, besides the default one
    language_name: str = ""  # the default language's own name, for the language switcher

    @property
    def host(self) -> str:
        """Return the scheme and host the site is published at ('https://example.org'), or ''."""
        if "://" not in self.base_url:
            return ""
        scheme, rest = self.base_url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"

    @property
    def locale(self) -> str:
        """Return the locale of the site's language: the one its `languages` entry gives, else its code."""
        return next((lang.locale for lang in self.languages if lang.code == self.language), self.language)

    @property
    def base_path(self) -> str:
        """Return the URL path every internal link starts with, such as '/' or '/factbook/'."""
        return _base_path(self.base_url)


@lru_cache(maxsize=8)
def _base_path(base_url: str) -> str:
    path = base_url.split("://", 1)[1] if "://" in base_url else base_url
    if "://" in base_url:
        path = "/" + path.split("/", 1)[1] if "/" in path else "/"
    return "/" + path.strip("/") + "/" if path.strip("/") else "/"


# Each value's line is read only for a message, or when the file is read again: kept packed.
@pickled_by_fields(packed=("lines",))
@dataclass(frozen=True, slots=True)
class Document:
    """A source file as read from disk: data with line numbers, and a Markdown body."""

    path: str
    kind: str
    collection: str
    stem: str
    data: dict[str, Any]
    lines: Mapping[FieldPath, int]
    body: str = ""
    body_line: int = 1
    folder: str = ""  # the folders between the collection's folder and the file, as written
    # A hash of the bytes the data and body were read from ('' when not read from one file):
    # the same file at the same place is the same document.
    checksum: str = ""

    def line(self, path: FieldPath = ()) -> int:
        """Return the 1-based file line of the value at path, or of its nearest parent."""
        return nearest_line(self.lines, path, 1)


@pickled_as_tuple
class Ref(NamedTuple):
    """A reference from one entity to another, found in a field or in the text.

    A named tuple, not a dataclass: a site of 10,000 pages makes some 200,000 on every build, and
    a tuple is made (and read back from the cache) in a third of a frozen dataclass's time.
    """

    source: str
    target: str
    field: str
    label: str
    role: str = ""
    line: int = 1
    item: int = -1
    shown: bool = True  # listed on the target's page
    shared: bool = False  # made by a field every collection has


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Entity:
    """One page-bearing record: an organization, event, person, programme, source, topic or page."""

    key: str
    collection: str
    slug: str
    url: str
    title: str
    doc: Document
    fields: dict[str, Any]
    summary: str = ""
    date: PartialDate | None = None
    draft: bool = False
    refs: tuple[Ref, ...] = ()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Fact:
    """One figure of a fact sheet, with what it is about and where it comes from."""

    id: str
    label: str
    value: Any
    unit: str
    qualifier: str
    period: PartialDate | None
    about: tuple[str, ...]
    source: str
    note: str
    line: int


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Site:
    """All entities and fact sheets of a site, keyed by 'collection/slug'."""

    config: SiteConfig
    collections: dict[str, Collection]
    entities: dict[str, Entity]
    facts: dict[str, tuple[Fact, ...]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # attachments: path inside content/ -> URL
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # images: path -> width, height
