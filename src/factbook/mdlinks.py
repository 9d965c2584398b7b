"""Markdown to HTML, with [[wiki]] links, embeds and relative links resolved inside the Markdown tree."""

from __future__ import annotations

import hashlib
import html
import json
import posixpath
import re
import xml.etree.ElementTree as etree
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from operator import attrgetter
from typing import Any, NamedTuple
from urllib.parse import quote, unquote, urlsplit

import markdown
from markdown.extensions import Extension
from markdown.extensions.attr_list import AttrListExtension
from markdown.extensions.def_list import DefListExtension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension, TocTreeprocessor
from markdown.inlinepatterns import HTML_RE, HtmlInlineProcessor, InlineProcessor
from markdown.treeprocessors import InlineProcessor as InlineTreeprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import STX, AtomicString

from .assemble import SlugIndex
from .frozen import pickled_as_tuple, pickled_by_fields
from .names import LazyNameTable, NameTable, normal
from .obsidian import ObsidianExtension
from .slugs import heading_id
from .urls import REFUSED, refused, shown

WIKILINK = r"(!?)\[\[([^\]\n]+?)\]\]"
# A citation, as Pandoc writes one: [@slug], [@slug, para. 3], [@one; @two, p. 4].
CITATION = r"\[(@[^\]\n@;]+(?:;\s*@[^\]\n@;]+)*)\]"


def _fenced_code(**options: Any) -> Extension:
    """Return Python-Markdown's fenced code extension, imported on first use."""
    from markdown.extensions.fenced_code import FencedCodeExtension

    return FencedCodeExtension(**options)


EXTENSIONS = ("tables", "attr_list", "footnotes", "fenced_code", "def_list", "sane_lists", "toc")
# Those made here, not looked up by name: Python-Markdown looks a name up among every installed
# package's entry points first, which took longer than rendering a page (a tenth of a one-page edit).
BUILT_IN: dict[str, Callable[..., Extension]] = {
    "tables": TableExtension,
    "attr_list": AttrListExtension,
    "footnotes": FootnoteExtension,
    "fenced_code": _fenced_code,
    "def_list": DefListExtension,
    "sane_lists": SaneListExtension,
    "toc": TocExtension,
}
# A parser for bodies without a fence leaves the extension out: it only registers the fences'
# preprocessor, and its module imports Pygments (a tenth of the imports of a one-page rebuild).
FENCES = "preprocessors:fenced_code_block"
IMAGES = {"png", "jpg", "jpeg", "gif", "bmp", "svg", "webp", "avif"}
AUDIO = {"mp3", "wav", "m4a", "ogg", "3gp", "flac", "opus"}
VIDEO = {"mp4", "webm", "ogv", "mov", "mkv"}
MEDIA = IMAGES | AUDIO | VIDEO | {"pdf"}
RESOLVED = "data-factbook-resolved"
# Anything of Obsidian's own syntax (callouts, highlights, comments, math, block ids, tags, a
# heading with no space, tasks, mermaid): a body without any is rendered without that extension.
# Each branch starts with a character (the checks before a '#' are made after it): the regex
# engine then skips to the next of those characters instead of trying every branch everywhere.
OBSIDIAN = re.compile(
    r"\[!|==|%%|\$|\^[\w-]+\s*$|#(?:(?<![\w&/]#)[^\s#\d]|(?<![^\n]#)[^\s#])|\[[ xX]\]|mermaid", re.M
)
_ESCAPED = re.compile(STX + r"(\d+)" + "\x03")
# Python-Markdown's inline patterns, each with the characters without which it cannot match
# (before its whitespace normalisation: a tab or carriage return may become the spaces of a
# line break).
UNNEEDED = {
    "backtick": ("`",),
    "escape": ("\\",),
    "footnote": ("[^",),
    "link": ("](",),
    "image_link": ("![",),
    # A reference link resolves only to a definition ("[id]: url") of the same body.
    "reference": ("]:",),
    "short_reference": ("]:",),
    "image_reference": ("![",),
    "short_image_ref": ("![",),
    "autolink": ("<",),
    "automail": ("<",),
    "html": ("<",),
    "entity": ("&",),
    "em_strong": ("*", "_"),
    "em_strong2": ("_",),
    "not_strong": ("*", "_"),
    "linebreak": ("  \n", "\t", "\r"),
}
# The extensions' block, tree, pre- and postprocessors, each with the characters without which
# it changes nothing: a body that lacks them all is rendered without it, to the same bytes.
UNUSED_STAGES = {
    "parser.blockprocessors:table": ("|",),
    "parser.blockprocessors:deflist": (":",),
    "parser.blockprocessors:footnote": ("[^",),
    "treeprocessors:footnote": ("[^",),
    "treeprocessors:footnote-reorder": ("[^",),
    "treeprocessors:footnote-duplicate": ("[^",),
    "postprocessors:footnote": ("[^",),
    "preprocessors:fenced_code_block": ("```", "~~~"),
    "treeprocessors:attr_list": ("{",),
    # It turns back the placeholders of backslash escapes (its other input, STX and ETX written
    # in the source, the whitespace preprocessor has already removed).
    "treeprocessors:unescape": ("\\",),
}
PRUNABLE = {**UNNEEDED, **UNUSED_STAGES}
_MARKS = tuple(dict.fromkeys(m for marks in PRUNABLE.values() for m in marks))  # each looked for once


@lru_cache(maxsize=256)
def _prunable(present: frozenset[str]) -> frozenset[str]:
    """Return the patterns and stages that a body with only these of their marks can do without."""
    return frozenset(n for n, marks in PRUNABLE.items() if present.isdisjoint(marks))


def _anchors_in(html: str) -> list[str]:
    """Return the value of every id="..." attribute after a space in html, as the regex
    \\sid="([^"]+)" finds them, with a find per attribute instead of a test at every character."""
    found = []
    at = html.find('id="', 1)
    while at != -1:
        end = html.find('"', at + 4)
        if end == -1:
            break
        if html[at - 1].isspace() and end > at + 4:
            found.append(html[at + 4 : end])
            at = html.find('id="', end + 1)
        else:
            at = html.find('id="', at + 1)
    return found


# The same, for one run of text as the inline pass meets it: a reference link needs only its
# brackets there (its definition was looked for in the body), and a link of ours its own marks.
RUN_NEEDS = {
    **UNNEEDED,
    "reference": ("[",),
    "short_reference": ("[",),
    "factbook-wikilinks": ("[[",),
    "factbook-citations": ("[@",),
}
_SIZE = re.compile(r"^(\d+)(?:x(\d+))?$")


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Target:
    """Where a link goes: the entity's key, its URL and its title."""

    key: str
    url: str
    title: str


@pickled_as_tuple
class Resolution(NamedTuple):
    """Where a link leads: the target's key, URL and title, or (key "") why it leads nowhere."""

    key: str
    url: str
    title: str
    message: str
    warning: str = ""  # the link resolved, but so might another page: which one it chose
    named: bool = False  # found by a file name, path, title or alias (not a slug): shown as written
    size: tuple[int, int] | None = None  # an image's width and height


def _nowhere(message: str) -> Resolution:
    return Resolution("", "", "", message)


@dataclass(frozen=True)
class LinkTable:
    """Everything link resolution needs, as plain data (so it can go to worker processes)."""

    index: SlugIndex
    targets: dict[str, Target]
    paths: dict[str, str]
    extensions: tuple[tuple[str, str], ...] = ()  # a site's Markdown extensions: (name, JSON options)
    names: NameTable | LazyNameTable = field(default_factory=NameTable)
    base: str = ""  # the site's base path, without its final '/'
    content: str = "content/"  # how messages name the content folder ("" in a vault)
    unsafe_html: bool = False  # site.yaml's markdown.unsafe_html: the writer's raw HTML is published
    # A hash of all that decides where a link leads ("" if not taken): two tables with the same
    # one resolve every link alike, so a body checked against one holds for the other. Its last
    # part (after the last ':') covers what decides where a [[slug]] leads: the pages and slug rules.
    resolves: str = ""

    def by_name(self, text: str, folder: str = "") -> Resolution:
        """Return where [[text]] leads: by slug, else by file name, path, title or alias."""
        key, message = self.index.resolve(text)
        if key is not None:
            return self._to(key)
        if not message or "ambiguous" in message:  # an unreadable file, or two pages: say so
            return _nowhere(message)
        named, warning = self.names.page(text, folder)
        if named is None:
            # Suggest what the writer wrote: a slug for a slug, else a page by its title.
            unknown, _, slugs = message.partition("; ")
            titled = text != text.lower() or " " in text
            hint = (self.names.nearest(text) or slugs) if titled else (slugs or self.names.nearest(text))
            return _nowhere(unknown + (f"; {hint}" if hint else ""))
        return self._to(named.key)._replace(warning=warning, named=True)

    def by_path(self, path: str, folder: str = "") -> Resolution:
        """Return where a link to the file content/<path> leads (else to a page of that name)."""
        key = self.paths.get(path)
        if key is not None:
            return self._to(key)
        named, warning = self.names.page(path, folder)
        if named is None:
            return _nowhere(f"no page {self.content}{path}")
        return self._to(named.key)._replace(warning=warning)

    def by_file(self, path: str, folder: str = "") -> Resolution:
        """Return the URL an attachment is published at, found by its path or name."""
        named, warning = self.names.file(path, folder)
        if named is None:
            return _nowhere(f"no file '{path}' in the content")
        return Resolution("", named.url, posixpath.basename(named.path), "", warning, size=named.size)

    def _to(self, key: str) -> Resolution:
        target = self.targets[key]
        return Resolution(key, target.url, target.title, "")


@pickled_as_tuple
class LinkUse(NamedTuple):
    """A resolved internal link: its target, the #anchor it names, and its source line."""

    key: str
    anchor: str
    line: int


_new_tuple = tuple.__new__


class Links(Sequence[LinkUse]):
    """A body's internal links (LinkUse), kept as three columns: their targets, anchors and lines.

    Every build reads the links of every body (the pages each mentions, the anchors to check),
    most of them from the cache: its 140,000 links at 10,000 pages, read back as a tuple each,
    took a fifth of the time the cache took to load; three tuples are read at once. The links
    are made as LinkUse tuples only when a caller iterates over them.
    """

    __slots__ = ("keys", "anchors", "lines", "_uses")

    def __init__(self, keys: tuple[str, ...], anchors: tuple[str, ...], lines: tuple[int, ...]) -> None:
        self.keys, self.anchors, self.lines = keys, anchors, lines
        self._uses: tuple[LinkUse, ...] | None = None

    @classmethod
    def of(cls, uses: Sequence[LinkUse]) -> Links:
        """Return the links given as LinkUse tuples (or Links, as they are)."""
        if isinstance(uses, Links):
            return uses
        return cls(tuple(u[0] for u in uses), tuple(u[1] for u in uses), tuple(u[2] for u in uses))

    @property
    def anchored(self) -> bool:
        """Return whether any of the links names an anchor."""
        return any(self.anchors)

    def _all(self) -> tuple[LinkUse, ...]:
        if self._uses is None:
            columns = zip(self.keys, self.anchors, self.lines, strict=True)
            self._uses = tuple(_new_tuple(LinkUse, u) for u in columns)
        return self._uses

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __iter__(self) -> Iterator[LinkUse]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self.keys)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Links):
            return (self.keys, self.anchors, self.lines) == (other.keys, other.anchors, other.lines)
        return isinstance(other, tuple) and self._all() == other

    def __hash__(self) -> int:
        return hash((self.keys, self.anchors, self.lines))

    def __repr__(self) -> str:
        return repr(self._all())  # as the tuple of LinkUse: the same in every process

    def __reduce__(self) -> tuple[type, tuple[tuple[Any, ...], ...]]:
        return Links, (self.keys, self.anchors, self.lines)


@pickled_as_tuple
class Embed(NamedTuple):
    """A page (or one of its sections) shown inside another: where it goes, and from which line."""

    key: str
    anchor: str
    line: int


@pickled_as_tuple
class Citation(NamedTuple):
    """A numbered citation mark: the page it cites, its number on the page, its mark id and locator."""

    key: str
    number: int
    mark: str
    locator: str
    line: int


@pickled_as_tuple
class LinkProblem(NamedTuple):
    """A problem of a body: its line, message, and whether a link led nowhere or is a warning."""

    line: int
    message: str
    unresolved: bool = False
    warning: bool = False


# Where each link led, the headings and the pages its slugs lead to: read only to check a
# body's links again and to show its own page, so they stay packed in the cache and on their
# way back from a worker. (Its anchors are read by every link to one of them: not packed.)
@pickled_by_fields(packed=("toc", "resolutions", "slug_targets"))
@dataclass(frozen=True, slots=True)
class Rendered:
    """A Markdown body turned into HTML, with its headings, internal links, embeds and tags."""

    html: str
    toc: Sequence[dict[str, Any]]
    anchors: frozenset[str]
    links: Links  # made Links from any sequence of LinkUse given
    problems: tuple[LinkProblem, ...]
    resolutions: Sequence[tuple[str, str, str, Resolution]] = ()
    job: tuple[object, ...] = ("", 0, "")
    embeds: tuple[Embed, ...] = ()
    tags: tuple[str, ...] = ()
    citations: tuple[Citation, ...] = ()
    # Hashes of what a page shows of its body, and of what the whole-site exports read of it:
    # made where it is rendered (in a worker, and kept in the cache), not on every rebuild.
    prints: tuple[str, str] = ("", "")
    # The pages its links lead to, when each was found by its slug (None: some link was found
    # otherwise, or not at all): while the pages and slugs are the same, the body is as it was
    # unless one of these changed its title or URL, known without unpacking its resolutions.
    slug_targets: frozenset[str] | None = frozenset()

    def __post_init__(self) -> None:
        if type(self.links) is not Links:
            object.__setattr__(self, "links", Links.of(self.links))
        if not self.prints[0]:
            object.__setattr__(self, "prints", _prints(self))

    def with_job(self, job: tuple[object, ...]) -> Rendered:
        """Return this rendering labelled with the job (source, line, folder) it came from."""
        return Rendered(*_BEFORE_JOB(self), job, *_AFTER_JOB(self))  # as replace(), in half the time

    def still_valid(self, table: LinkTable, same_slugs: bool = False) -> bool:
        """Return whether every link of this body resolves today as it did when it was rendered.

        With same_slugs (the table's pages and slug rules are those the body was rendered with),
        a [[slug]] still leads to the same page: only that page's URL and title are compared.
        """
        resolutions = self.resolutions
        if not same_slugs:
            return all(_lookup(table, kind, text, folder) == was for kind, text, folder, was in resolutions)
        targets = table.targets
        for kind, text, folder, was in resolutions:
            if kind == "name" and was.key and not was.named:  # found by its slug (LinkTable._to)
                target = targets.get(was.key)
                if target is None or target.url != was.url or target.title != was.title:
                    return False
            elif _lookup(table, kind, text, folder) != was:
                return False
        return True


_FIELDS = [f.name for f in fields(Rendered)]
_BEFORE_JOB = attrgetter(*_FIELDS[: _FIELDS.index("job")])
_AFTER_JOB = attrgetter(*_FIELDS[_FIELDS.index("job") + 1 :])


def uses(body: Rendered) -> tuple[object, ...]:
    """Return what a body gives the whole-site exports: its tags, and the pages it links to, cites
    and embeds, without their lines (only messages show those: prose above may move them)."""
    kinds = (body.links, body.citations, body.embeds)
    return (body.tags, *(tuple(use[:-1] for use in kind) for kind in kinds))


def _prints(body: Rendered) -> tuple[str, str]:
    """Return the hashes of a body's HTML and all made with it, and of its uses."""
    # Sets go in sorted: a repr is the same in every process but for them.
    shown = repr((body.toc, sorted(body.anchors), body.links, body.embeds, body.tags, body.citations))
    own = hashlib.blake2b(body.html.encode("utf-8", "surrogatepass"), digest_size=16)
    own.update(shown.encode("utf-8", "surrogatepass"))
    used = hashlib.blake2b(repr(uses(body)).encode("utf-8", "surrogatepass"), digest_size=16)
    return own.hexdigest(), used.hexdigest()


def _lookup(table: LinkTable, kind: str, text: str, folder: str) -> Resolution:
    if kind == "name":
        return table.by_name(text, folder)
    if kind == "file":
        return table.by_file(text, folder)
    return table.by_path(text, folder)


@dataclass
class _State:
    """What the link extension learns while converting one document."""

    source: str = ""
    first_line: int = 1
    doc_dir: str = ""
    table: LinkTable | None = None
    links: list[LinkUse] = field(default_factory=list)
    embeds: list[Embed] = field(default_factory=list)
    resolutions: list[tuple[str, str, str, Resolution]] = field(default_factory=list)
    problems: list[LinkProblem] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    masked: str | None = None
    citations: list[Citation] = field(default_factory=list)

    def resolve(self, kind: str, text: str, line: int) -> Resolution:
        """Return where a link leads, and remember it so a cached body can be checked later."""
        assert self.table is not None
        found = _lookup(self.table, kind, text, self.doc_dir)
        self.resolutions.append((kind, text, self.doc_dir, found))
        if found.warning:
            self.problems.append(LinkProblem(line, found.warning, warning=True))
        return found

    def fail(self, line: int, message: str) -> None:
        """Note a link that leads nowhere (no message: the target's own file error says why)."""
        if message:
            self.problems.append(LinkProblem(line, message, unresolved=True))

    def line_of(self, *forms: str) -> int:
        """Return the file line of the next occurrence of any of forms (the first form is its key).

        Code, comments and the tail of a longer link are masked out, and each key moves on from
        its last occurrence, so the same link written twice gets both of its lines.
        """
        if self.masked is None:
            self.masked = _mask(self.source)
        after = self.seen.get(forms[0], -1)
        best = -1
        for raw in forms:
            found = self.masked.find(raw, after + 1)
            # [[x]] must not be found as the tail of ![[x]] (or of a longer [[[x]]).
            while found > 0 and raw.startswith("[[") and self.masked[found - 1] in "![":
                found = self.masked.find(raw, found + 1)
            if found >= 0 and (best < 0 or found < best):
                best = found
        if best < 0:
            return self.first_line
        self.seen[forms[0]] = best
        return self.first_line + self.source.count("\n", 0, best)


_CODE = re.compile(
    r"^( {0,3})(`{3,}|~{3,}).*?^ {0,3}\2[`~]*[ \t]*$|(`+)(?!`).+?(?<!`)\3(?!`)|%%.*?%%", re.S | re.M
)


def _mask(source: str) -> str:
    """Return source with code blocks, code spans and %% comments blanked out (lines kept)."""
    if "`" not in source and "~~~" not in source and "%%" not in source:
        return source
    return _CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), source)


def anchor_id(text: str) -> str:
    """Return the id a '#...' part of a link names: a block id as written, else a heading's id."""
    text = text.strip().split("#")[-1].strip()  # [[Note#Section#Subsection]] names the last
    return text if text.startswith("^") else heading_id(text)


class _WikiLinks(InlineProcessor):
    def __init__(self, state: _State, md: markdown.Markdown) -> None:
        super().__init__(WIKILINK, md)
        self.state = state

    def _plain(self, text: str) -> str:
        # Python-Markdown hides escaped characters (the '\|' of a link in a table) behind
        # placeholders: give the writer's text back.
        return _ESCAPED.sub(lambda m: chr(int(m.group(1))), self.unescape(text))

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element | str, int, int]:  # noqa: N802
        state = self.state
        embed = m.group(1) == "!"
        inner = self._plain(m.group(2))
        target, _, shown = inner.partition("|")
        target = target.rstrip("\\").strip()
        written = "!" * embed + "[[" + inner + "]]"
        line = state.line_of(written, written.replace("|", "\\|", 1))
        name, _, anchor = target.partition("#")
        name = name.strip()
        if embed:
            return self._embed(name, anchor, shown, written, line), m.start(0), m.end(0)
        if not name and anchor:  # [[#Heading]]: a section of this page
            state.links.append(LinkUse("", anchor_id(anchor), line))
            return self._link("#" + fragment(anchor_id(anchor)), shown or anchor), m.start(0), m.end(0)
        found = state.resolve("name", name, line) if name else _nowhere("empty link")
        if not found.key and _extension(name) not in ("", "md"):  # [[report.pdf]]: a link to a file
            file = state.resolve("file", name, line)
            if file.url:
                return self._link(file.url, shown or name), m.start(0), m.end(0)
        if not found.key:
            state.fail(line, f"link {written}: {found.message}" if found.message else "")
            return _marked(shown or target), m.start(0), m.end(0)
        wanted = anchor_id(anchor) if anchor else ""
        state.links.append(LinkUse(found.key, wanted, line))
        href = found.url + (f"#{fragment(wanted)}" if wanted else "")
        title = target.replace("#", " › ") if found.named else found.title
        return self._link(href, shown or title), m.start(0), m.end(0)

    @staticmethod
    def _link(href: str, text: str) -> etree.Element:
        # Marked as resolved already, so that the relative-link pass leaves it alone.
        link = etree.Element("a", {"href": href, RESOLVED: ""})
        # Atomic: a title such as "Programme <X>" is text, never parsed again as Markdown or HTML.
        link.text = AtomicString(text.strip())
        return link

    def _embed(self, name: str, anchor: str, shown: str, written: str, line: int) -> etree.Element:
        state = self.state
        kind = _extension(name)
        # A known kind of file, or any file that exists; else a note with a dot in its name.
        if kind and kind != "md" and (kind in MEDIA or self.state.table.names.file(name, "")[0]):  # type: ignore[union-attr]
            found = state.resolve("file", name, line)
            if not found.url:
                state.fail(line, f"embed {written}: {found.message}")
                return _marked(shown or name)
            return _media(found.url, found.title, kind, shown, found.size)
        found = state.resolve("name", name, line) if name else _nowhere("empty embed")
        if not found.key:
            state.fail(line, f"embed {written}: {found.message}" if found.message else "")
            return _marked(shown or name or anchor)
        wanted = anchor_id(anchor) if anchor else ""
        state.links.append(LinkUse(found.key, wanted, line))
        state.embeds.append(Embed(found.key, wanted, line))
        element = etree.Element("div", {"class": "transclusion", "data-embed": str(len(state.embeds) - 1)})
        link = self._link(found.url + (f"#{fragment(wanted)}" if wanted else ""), found.title)
        element.append(link)  # a page read without its embeds still has the link
        return element


class _Citations(InlineProcessor):
    """Turns [@slug, locator] into a numbered mark linking to the page's list of sources."""

    def __init__(self, state: _State, md: markdown.Markdown) -> None:
        super().__init__(CITATION, md)
        self.state = state

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element | str, int, int]:  # noqa: N802
        state = self.state
        written = m.group(0)
        line = state.line_of(written)
        marks = etree.Element("span", {"class": "cites", "data-pagefind-ignore": ""})
        for part in m.group(1).split(";"):
            name, _, locator = part.strip()[1:].partition(",")
            name, locator = name.strip(), " ".join(locator.split())
            found = state.resolve("name", name, line) if name else _nowhere("empty citation")
            if not found.key:
                state.fail(line, f"citation {written}: {found.message}" if found.message else "")
                marks.append(_marked(name))
                continue
            state.links.append(LinkUse(found.key, "", line))
            numbers = {c.key: c.number for c in state.citations}
            number = numbers.get(found.key, len(numbers) + 1)
            mark = f"cite-{number}-{sum(c.key == found.key for c in state.citations) + 1}"
            state.citations.append(Citation(found.key, number, mark, locator, line))
            sup = etree.SubElement(marks, "sup", {"class": "cite", "id": mark})
            link = etree.SubElement(sup, "a", {"href": f"#ref-{number}", RESOLVED: "", "role": "doc-noteref"})
            link.text = AtomicString(f"[{number}{', ' + locator if locator else ''}]")
        return marks, m.start(0), m.end(0)


def fragment(anchor: str) -> str:
    """Return an anchor as the #fragment of a URL ('^' and the like percent-encoded)."""
    return quote(anchor, safe="-_.~")


def _extension(name: str) -> str:
    base = posixpath.basename(name)
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def _marked(text: str) -> etree.Element:
    """Return a link that leads nowhere as marked text, as notes apps show it."""
    span = etree.Element("span", {"class": "broken-link"})
    span.text = AtomicString(text)
    return span


def _media(
    url: str, name: str, kind: str, shown: str, natural: tuple[int, int] | None = None
) -> etree.Element:
    """Return the element that shows an attachment: an image, audio, video, a PDF, or a link."""
    shown = shown.strip()
    if kind in IMAGES:
        size = _SIZE.match(shown)
        alt = shown if shown and not size else name.rsplit(".", 1)[0]
        image = etree.Element("img", {"src": url, "alt": alt, "loading": "lazy"})
        width, height = natural or (0, 0)
        if size:  # |300 scales the image to that width; |300x200 sets both
            given = int(size.group(1))
            height = int(size.group(2)) if size.group(2) else (round(height * given / width) if width else 0)
            width = given
        # Width and height let the page keep the image's room before it loads.
        if width:
            image.set("width", str(width))
        if height:
            image.set("height", str(height))
        return image
    fallback = etree.Element("a", {"href": url})
    fallback.text = AtomicString(shown or name)
    if kind in AUDIO | VIDEO:
        media = etree.Element(
            "audio" if kind in AUDIO else "video", {"controls": "", "src": url, "preload": "metadata"}
        )
        media.append(fallback)
        return media
    if kind == "pdf":
        frame = etree.Element(
            "object", {"data": url, "type": "application/pdf", "class": "embed-pdf", "title": shown or name}
        )
        frame.append(fallback)
        return frame
    return fallback


# Attributes whose value a browser follows or loads (attr_list can set any of them).
URL_ATTRIBUTES = frozenset(
    {"href", "src", "srcset", "action", "formaction", "data", "poster", "cite", "ping"}
)


def _plain(text: str) -> str:
    """Return text with Python-Markdown's placeholders of escaped characters put back."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1))), text)


class _EscapedHtml(HtmlInlineProcessor):
    """The writer's inline HTML shown as text, and HTML comments left out (site.yaml may opt out)."""

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[str, int, int]:  # noqa: N802
        raw = self.backslash_unescape(self.unescape(m.group(1)))
        shown = "" if raw.startswith("<!--") else html.escape(raw, quote=False)
        return self.md.htmlStash.store(shown), m.start(0), m.end(0)


class _LinearInline(InlineTreeprocessor):
    """Python-Markdown's inline pass, in time linear in the size of the page.

    The original takes its work from the front of a list and looks each tail's element up by
    index: both cost the length of a list at every step, so a 50 MB page took minutes.
    """

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        """Return the tree with inline patterns applied to every text (as the original does)."""
        handle = self._InlineProcessor__handleInline  # type: ignore[attr-defined]
        place = self._InlineProcessor__processPlaceholders  # type: ignore[attr-defined]
        self.stashed_nodes: dict[str, etree.Element | str] = {}
        tree_parents = [] if ancestors is None else ancestors[:]
        self.parent_map = {c: p for p in tree.iter() for c in p}
        stack = deque([(tree, tree_parents)])
        self._InlineProcessor__build_ancestors(tree, tree_parents)  # type: ignore[attr-defined]
        while stack:
            current, parents = stack.popleft()
            self.ancestors = parents
            if current is not tree:
                self.ancestors.append(current.tag.lower())
            queue = []
            # Children are read by index, live: one inserted after the current child comes next,
            # so the current child is always at position i.
            for i, child in enumerate(current):
                if child.text and not isinstance(child.text, AtomicString):
                    self.ancestors.append(child.tag.lower())
                    text = child.text
                    child.text = None
                    found = place(handle(text), child)
                    for item in found:
                        self.parent_map[item[0]] = child
                    stack.extend(found)
                    queue.append((child, found))
                    self.ancestors.pop()
                if child.tail:
                    tail = handle(child.tail)
                    dummy = etree.Element("d")
                    child.tail = None
                    results = place(tail, dummy, False)
                    if dummy.tail:
                        child.tail = dummy.tail
                    for new in reversed(results):
                        self.parent_map[new[0]] = current
                        current.insert(i + 1, new[0])
                if len(child):
                    self.parent_map[child] = current
                    stack.append((child, self.ancestors[:]))
            for element, found in queue:
                for j, item in enumerate(found):
                    element.insert(j, item[0])
        return tree


class _RelativeLinks(Treeprocessor):
    def __init__(self, md: markdown.Markdown, state: _State, unsafe_html: bool = False) -> None:
        super().__init__(md)
        self.state = state
        self.unsafe_html = unsafe_html

    def run(self, root: etree.Element) -> None:
        for parent in list(root.iter()):
            for child in list(parent):
                if child.tag == "p" and any(_is_embed(c) for c in child):
                    _split(parent, child)
        for element in list(root.iter()):
            if RESOLVED in element.attrib:
                del element.attrib[RESOLVED]
                continue
            if element.attrib and not self._safe(element):
                continue
            attribute = "href" if element.tag == "a" else "src" if element.tag == "img" else ""
            if not attribute or element.get("class") == "broken-link":
                continue
            href = element.get(attribute, "")
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or (href.startswith("/") and not parts.path.endswith(".md")):
                continue
            if not parts.path:
                if parts.fragment and attribute == "href":
                    line = self.state.line_of(f"(#{parts.fragment}")
                    self.state.links.append(LinkUse("", unquote(parts.fragment), line))
                continue
            self._resolve(element, attribute, href, unquote(parts.path), unquote(parts.fragment))

    def _safe(self, element: etree.Element) -> bool:
        """Return whether the element stays a link: one to a refused scheme becomes its text."""
        for name in list(element.attrib):
            lowered = name.lower()
            if not self.unsafe_html and (lowered.startswith("on") or lowered == "srcdoc"):
                del element.attrib[name]  # an event handler set with {: onclick=...} is script
            elif lowered in URL_ATTRIBUTES and refused(_plain(element.attrib[name]), lowered):
                url = element.attrib[name]
                what = "image" if element.tag == "img" else "link to"
                line = self.state.line_of(f"({url}", url)
                message = f"{what} '{shown(url)}' {REFUSED}"
                self.state.problems.append(LinkProblem(line, message, warning=True))
                if (element.tag, lowered) in {("a", "href"), ("img", "src")}:
                    _unlink(element)
                    return False
                del element.attrib[name]
        return True

    def _resolve(self, element: etree.Element, attribute: str, href: str, path: str, anchor: str) -> None:
        state = self.state
        line = state.line_of(f"({href}", f"({path}", href)
        # A path from the top of the vault (/Note.md) or from the note's own folder.
        joined = posixpath.normpath(
            path.lstrip("/") if path.startswith("/") else posixpath.join(state.doc_dir, path)
        )
        if joined.startswith("../") or joined == "..":
            state.problems.append(LinkProblem(line, f"link '{href}' climbs out of the content folder"))
            return
        if path.endswith(".md") and attribute == "href":
            found = state.resolve("path", joined, line)
            if not found.key and normal(joined) != normal(path):
                found = state.resolve("path", path.lstrip("/"), line)  # Obsidian's shortest form
            if not found.key:
                state.fail(line, f"link '{href}': {found.message}" if found.message else "")
                _unlink(element)
                return
            wanted = anchor_id(anchor) if anchor else ""
            state.links.append(LinkUse(found.key, wanted, line))
            element.set(attribute, found.url + (f"#{fragment(wanted)}" if wanted else ""))
            return
        found = state.resolve("file", joined, line)
        if not found.url and normal(joined) != normal(path):
            found = state.resolve("file", path, line)  # written from the top of the vault
        if not found.url:
            state.fail(line, f"link '{href}': {found.message}")
            _unlink(element)
            return
        element.set(attribute, found.url + (f"#{anchor}" if anchor else ""))
        if element.tag == "img" and found.size and "width" not in element.attrib:
            element.set("width", str(found.size[0]))
            element.set("height", str(found.size[1]))


def _is_embed(element: etree.Element) -> bool:
    return element.tag == "div" and element.get("class") == "transclusion"


def _split(parent: etree.Element, paragraph: etree.Element) -> None:
    """Split a paragraph around the pages it embeds: each embed becomes a block of its own."""
    pieces: list[etree.Element] = []
    current = etree.Element("p")
    current.text = paragraph.text
    for child in list(paragraph):
        if _is_embed(child):
            pieces += [current, child]
            current = etree.Element("p")
            current.text, child.tail = (child.tail or "").lstrip("\n"), None
        else:
            current.append(child)
    pieces.append(current)
    where = list(parent).index(paragraph)
    tail = paragraph.tail
    parent.remove(paragraph)
    kept = [p for p in pieces if _is_embed(p) or (p.text or "").strip() or len(p)]
    for offset, piece in enumerate(kept):
        if piece.tag == "p":
            piece.text = (piece.text or "").rstrip("\n") if not len(piece) else piece.text
            if len(piece) and piece[-1].tail:
                piece[-1].tail = piece[-1].tail.rstrip("\n")
        piece.tail = "\n"  # one block a line, as the rest of the page
        parent.insert(where + offset, piece)
    if kept:
        kept[-1].tail = tail


def _unlink(element: etree.Element) -> None:
    """Turn a link or image that leads nowhere into marked text, as a notes app shows it."""
    text = element.get("alt", "") if element.tag == "img" else "".join(element.itertext())
    tail = element.tail
    element.clear()
    element.tag = "span"
    element.set("class", "broken-link")
    element.text = AtomicString(text)
    element.tail = tail


def _needs(name: str, pattern: object) -> tuple[str, ...]:
    """Return the strings one of which a run of text must hold for the pattern to match (() if unknown)."""
    if name in RUN_NEEDS:
        return RUN_NEEDS[name]
    # Emphasis and the like: a delimiter processor matches only at one of its tokens.
    return tuple(getattr(pattern, "tokens", ())) if type(pattern).__name__ == "DelimiterProcessor" else ()


class _InlinePass(_LinearInline):
    """The linear inline pass, trying on each run of text only the patterns it can match.

    A pattern skipped is one whose regular expression could not match the run: the tree, and
    every pattern's state, are as if it had been tried.
    """

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        patterns = self.inlinePatterns
        self._tries = [(pattern, ()) for pattern in patterns]
        for name in list(RUN_NEEDS) + ["em_strong"]:
            if name in patterns:
                index = patterns.get_index_for_name(name)
                self._tries[index] = (patterns[index], _needs(name, patterns[index]))
        return super().run(tree, ancestors)

    # Overrides the private __handleInline of Python-Markdown's pass (3.5 to 3.11 alike).
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if isinstance(data, AtomicString):
            return data
        tries = self._tries
        start = 0
        while patternIndex < len(tries):
            pattern, needs = tries[patternIndex]
            if needs and not any(mark in data for mark in needs):
                start = 0  # as after a pattern that did not match
                patternIndex += 1
                continue
            data, matched, start = self._InlineProcessor__applyPattern(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


class _Toc(TocTreeprocessor):
    """The table-of-contents pass, which makes the table only for a body that places it."""

    marked = False  # whether the body being rendered has an element whose text is the marker

    def run(self, doc: etree.Element) -> None:
        """Give the headings their ids and the parser its toc_tokens; place the table at a marker."""
        marker = self.marker
        self.marked = bool(marker) and any(e.text and e.text.strip() == marker for e in doc.iter())
        super().run(doc)

    def build_toc_div(self, toc_list: list[dict[str, Any]]) -> etree.Element:
        """Return the table as an element: an empty one where no marker places it.

        Only the tokens are read from a body without a marker: making the table, serializing it
        and running every postprocessor over it was a tenth of rendering such a body.
        """
        if not self.marked:
            return etree.Element("div")
        return super().build_toc_div(toc_list)

    def replace_marker(self, root: etree.Element, elem: etree.Element) -> None:
        """Replace the marker's paragraph with the table, if an element's text is the marker."""
        # The library's search joins the text of every element under every other; a body
        # without an element whose own text is the marker has nothing to replace.
        if self.marked:
            super().replace_marker(root, elem)


class LinkExtension(Extension):
    """Resolves [[name]], [[name|text]], ![[embeds]] and relative links through the state's table."""

    def __init__(self, state: _State, unsafe_html: bool = False) -> None:
        super().__init__()
        self.state = state
        self.unsafe_html = unsafe_html

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802
        md.inlinePatterns.register(_WikiLinks(self.state, md), "factbook-wikilinks", 175)
        md.inlinePatterns.register(_Citations(self.state, md), "factbook-citations", 176)
        # After the inline pass (priority 20) so that links from [text](x.md) exist as elements.
        md.treeprocessors.register(
            _RelativeLinks(md, self.state, self.unsafe_html), "factbook-relative-links", 5
        )
        md.treeprocessors.register(_InlinePass(md), "inline", 20)
        toc = md.treeprocessors["toc"] if "toc" in md.treeprocessors else None
        if type(toc) is TocTreeprocessor:
            toc.__class__ = _Toc
        if not self.unsafe_html:
            # As Hugo does: the writer's HTML is text unless site.yaml says otherwise. Without
            # its block preprocessor, an HTML block is a paragraph whose tags the inline
            # pattern escapes.
            md.preprocessors.deregister("html_block", strict=False)
            md.inlinePatterns.register(_EscapedHtml(HTML_RE, md), "html", 90)


class MarkdownRenderer:
    """Converts Markdown bodies one after another, reusing one parser (not thread-safe)."""

    def __init__(
        self, extensions: tuple[tuple[str, str], ...] = (), base: str = "", unsafe_html: bool = False
    ) -> None:
        self._state = _State()
        self._unsafe_html = unsafe_html
        configs: dict[str, dict[str, Any]] = {"toc": {"slugify": heading_id, "toc_depth": "2-4"}}
        names = list(EXTENSIONS)
        for name, options in extensions:
            if name not in names:
                names.append(name)
            configs[name] = {**configs.get(name, {}), **json.loads(options)}
        self._base = base
        self._names, self._configs = names, configs
        self._make_parsers()
        # With a site's own extensions, which may write text the core patterns then read, every
        # body gets every pattern.
        self._prune = not extensions

    def _make_parsers(self) -> None:
        """Make this renderer's parsers afresh (dropping any made before)."""
        base = self._base
        self._notes = ObsidianExtension(tag_url=lambda tag: f"{base}/tags/{tag_path(tag)}/")
        self._md: markdown.Markdown | None = None  # with Obsidian's syntax: made when a body needs it
        # Most bodies use none of Obsidian's syntax: a parser without it is much quicker and,
        # for them, gives the same bytes (tests/test_obsidian_markdown.py holds it to that).
        self._parser.cache_clear()
        self._plain: markdown.Markdown | None = None  # with every pattern: made when a body needs it

    def _extensions(self, fences: bool = True) -> list[Extension | str]:
        """Return this renderer's extensions, fresh (some keep a parser's state): ours made here,
        with their settings, and a site's own by name, for Python-Markdown to find; without the
        fenced code extension unless fences."""
        configs = self._configs
        names = [n for n in self._names if fences or n != "fenced_code"]
        return [BUILT_IN[n](**configs.get(n, {})) if n in BUILT_IN else n for n in names]

    def _obsidian(self) -> markdown.Markdown:
        """Return the parser with Obsidian's syntax, made on first use."""
        if self._md is None:
            self._md = markdown.Markdown(
                extensions=[*self._extensions(), self._notes, LinkExtension(self._state, self._unsafe_html)],
                extension_configs=self._configs,
                output_format="html",
            )
            _quick_block_level(self._md)
        return self._md

    @lru_cache(maxsize=32)  # noqa: B019 (one renderer per process and settings, kept for its life)
    def _parser(self, without: frozenset[str]) -> markdown.Markdown:
        """Return a parser without Obsidian's syntax, and without the inline patterns named."""
        fences = FENCES not in without
        md = markdown.Markdown(
            extensions=[*self._extensions(fences), LinkExtension(self._state, self._unsafe_html)],
            extension_configs=self._configs,
            output_format="html",
        )
        for name in without:
            place, _, item = name.rpartition(":")
            registry = md.inlinePatterns if not place else attrgetter(place)(md)
            registry.deregister(item, strict=False)
        _quick_block_level(md)
        return md

    def render(self, source: str, first_line: int, doc_dir: str, table: LinkTable) -> Rendered:
        """Return the HTML of source and what its links point to; errors carry file lines."""
        self._state = state = _State(source, first_line, doc_dir, table)
        notes = OBSIDIAN.search(source) is not None
        if notes:
            md = self._obsidian()
        elif self._prune:
            # An inline pattern is tried on every run of text; one whose characters the body
            # lacks can never match, and leaving it out gives the same bytes, sooner.
            md = self._parser(_prunable(frozenset(m for m in _MARKS if m in source)))
        else:
            if self._plain is None:
                self._plain = self._parser(frozenset())
            md = self._plain
        md.inlinePatterns["factbook-wikilinks"].state = state  # type: ignore[attr-defined]
        md.inlinePatterns["factbook-citations"].state = state  # type: ignore[attr-defined]
        md.treeprocessors["factbook-relative-links"].state = state  # type: ignore[attr-defined]
        md.reset()
        try:
            html = md.convert(source)
        except RecursionError:  # Python-Markdown recurses once per level of lists and emphasis
            # A parser stopped half-way keeps state (the inline pass's ancestors, for one) that
            # would change how the next bodies render: it is never used again.
            self._make_parsers()
            message = "text nested too deeply to render (lists or emphasis hundreds of levels deep)"
            return Rendered("", (), frozenset(), (), (LinkProblem(first_line, message),))
        tokens = tuple(getattr(md, "toc_tokens", ()))
        anchors = frozenset(_ids(tokens)) | frozenset(_anchors_in(html))
        for line, message in self._notes.problems if notes else ():  # an unclosed %%, bad math
            state.problems.append(LinkProblem(first_line - 1 + line, message, warning=True))
        return Rendered(
            html,
            tokens,
            anchors,
            tuple(state.links),
            tuple(state.problems),
            tuple(state.resolutions),
            embeds=tuple(state.embeds),
            tags=tuple(dict.fromkeys(self._notes.tags)) if notes else (),
            citations=tuple(state.citations),
            slug_targets=_slug_targets(state.resolutions),
        )


def _slug_targets(resolutions: list[tuple[str, str, str, Resolution]]) -> frozenset[str] | None:
    """Return the pages these links lead to if each was found by its slug, else None."""
    found = set()
    for kind, _, _, was in resolutions:
        if kind != "name" or not was.key or was.named:  # as Rendered.still_valid looks it up again
            return None
        found.add(was.key)
    return frozenset(found)


def _quick_block_level(md: markdown.Markdown) -> None:
    """Make md's block-level test a set lookup: it runs for every element, twice (a list's is slow)."""
    names = frozenset(md.block_level_elements)

    def is_block_level(tag: object) -> bool:
        return isinstance(tag, str) and tag.lower().rstrip("/") in names

    md.is_block_level = is_block_level  # type: ignore[method-assign]


@lru_cache(maxsize=4)
def _renderer(extensions: tuple[tuple[str, str], ...], base: str, unsafe_html: bool) -> MarkdownRenderer:
    # One parser per process and settings: building it costs more than a page.
    return MarkdownRenderer(extensions, base, unsafe_html)


def render_markdown(source: str, first_line: int, doc_dir: str, table: LinkTable) -> Rendered:
    """Return the rendering of one Markdown body: a pure function of its arguments."""
    renderer = _renderer(table.extensions, table.base, table.unsafe_html)
    return renderer.render(source, first_line, doc_dir, table)


def warm_renderer(table: LinkTable) -> None:
    """Make this process's Markdown renderer for the table's settings now, not at the first body."""
    render_markdown("", 1, "", table)


def tag_path(tag: str) -> str:
    """Return the part of a tag page's URL after /tags/: 'Project/Alpha' -> 'project/alpha'."""
    return "/".join(heading_id(part) or "-" for part in tag.lower().split("/"))


def _ids(tokens: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[str]:
    return [i for t in tokens for i in (t["id"], *_ids(t.get("children", [])))]
