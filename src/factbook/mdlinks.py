"""Markdown to HTML, with [[wiki]] and relative .md links resolved inside the Markdown tree."""

from __future__ import annotations

import json
import posixpath
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

import markdown
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from .assemble import SlugIndex
from .slugs import heading_id

WIKILINK = r"\[\[([^\]\|\n]+?)(?:\|([^\]\n]+))?\]\]"
EXTENSIONS = ("tables", "attr_list", "footnotes", "fenced_code", "def_list", "sane_lists", "toc")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a link goes: the entity's key, its URL and its title."""

    key: str
    url: str
    title: str


class Resolution(NamedTuple):
    """Where a link leads: the target's key, URL and title, or (key "") why it leads nowhere."""

    key: str
    url: str
    title: str
    message: str


def _nowhere(message: str) -> Resolution:
    return Resolution("", "", "", message)


@dataclass(frozen=True)
class LinkTable:
    """Everything link resolution needs, as plain data (so it can go to worker processes)."""

    index: SlugIndex
    targets: dict[str, Target]
    paths: dict[str, str]
    extensions: tuple[tuple[str, str], ...] = ()  # a site's Markdown extensions: (name, JSON options)

    def by_name(self, text: str) -> Resolution:
        """Return where [[text]] leads: the target's key, URL and title, or why it leads nowhere."""
        key, message = self.index.resolve(text)
        if key is None:
            return _nowhere(message)
        target = self.targets[key]
        return Resolution(key, target.url, target.title, "")

    def by_path(self, path: str) -> Resolution:
        """Return where a link to the file content/<path> leads."""
        key = self.paths.get(path)
        if key is None:
            return _nowhere(f"no page content/{path}")
        target = self.targets[key]
        return Resolution(key, target.url, target.title, "")


@dataclass(frozen=True, slots=True)
class LinkUse:
    """A resolved internal link: its target, the #anchor it names, and its source line."""

    key: str
    anchor: str
    line: int


@dataclass(frozen=True, slots=True)
class Rendered:
    """A Markdown body turned into HTML, with its headings and internal links."""

    html: str
    toc: tuple[dict[str, Any], ...]
    anchors: frozenset[str]
    links: tuple[LinkUse, ...]
    problems: tuple[tuple[int, str], ...]
    resolutions: tuple[tuple[str, str, Resolution], ...] = ()
    job: tuple[str, int, str] = ("", 0, "")

    def with_job(self, job: tuple[str, int, str]) -> Rendered:
        """Return this rendering labelled with the job (source, line, folder) it came from."""
        return replace(self, job=job)

    def still_valid(self, table: LinkTable) -> bool:
        """Return whether every link of this body resolves today as it did when it was rendered."""
        for kind, text, was in self.resolutions:
            now = table.by_name(text) if kind == "name" else table.by_path(text)
            if now != was:
                return False
        return True


@dataclass
class _State:
    """What the link extension learns while converting one document."""

    source: str = ""
    first_line: int = 1
    doc_dir: str = ""
    table: LinkTable | None = None
    links: list[LinkUse] = field(default_factory=list)
    resolutions: list[tuple[str, str, Resolution]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)

    def resolve(self, kind: str, text: str) -> Resolution:
        """Return where a link leads, and remember it so a cached body can be checked later."""
        assert self.table is not None
        found = self.table.by_name(text) if kind == "name" else self.table.by_path(text)
        self.resolutions.append((kind, text, found))
        return found

    def line_of(self, raw: str) -> int:
        """Return the file line of the next occurrence of raw in the source."""
        start = -1
        for _ in range(self.seen.get(raw, 0) + 1):
            found = self.source.find(raw, start + 1)
            if found < 0:
                break
            start = found
        self.seen[raw] = self.seen.get(raw, 0) + 1
        return self.first_line + (self.source.count("\n", 0, start) if start >= 0 else 0)


class _WikiLinks(InlineProcessor):
    def __init__(self, state: _State) -> None:
        super().__init__(WIKILINK)
        self.state = state

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element | str, int, int]:  # noqa: N802
        state = self.state
        name, _, anchor = m.group(1).strip().partition("#")
        line = state.line_of(m.group(0))
        key, url, title, message = state.resolve("name", name) if name else _nowhere("empty link")
        if not key:
            if message:  # no message: the target's file is unreadable, and its own error says so
                state.problems.append((line, f"link [[{m.group(1)}]]: {message}"))
            span = etree.Element("span", {"class": "broken-link"})
            span.text = AtomicString(m.group(2) or m.group(1))
            return span, m.start(0), m.end(0)
        state.links.append(LinkUse(key, anchor, line))
        link = etree.Element("a", {"href": url + (f"#{anchor}" if anchor else "")})
        # Atomic: a title such as "Programme <X>" is text, never parsed again as Markdown or HTML.
        link.text = AtomicString((m.group(2) or title).strip())
        return link, m.start(0), m.end(0)


class _RelativeLinks(Treeprocessor):
    def __init__(self, md: markdown.Markdown, state: _State) -> None:
        super().__init__(md)
        self.state = state

    def run(self, root: etree.Element) -> None:
        for link in root.iter("a"):
            href = link.get("href", "")
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("/"):
                continue
            if not parts.path:
                if parts.fragment:
                    line = self.state.line_of(f"(#{parts.fragment}")
                    self.state.links.append(LinkUse("", unquote(parts.fragment), line))
                continue
            if not parts.path.endswith(".md"):
                continue
            self._resolve(link, href, unquote(parts.path), unquote(parts.fragment))

    def _resolve(self, link: etree.Element, href: str, path: str, anchor: str) -> None:
        state = self.state
        line = state.line_of(f"({href}")
        joined = posixpath.normpath(posixpath.join(state.doc_dir, path))
        if joined.startswith("../") or joined == "..":
            state.problems.append((line, f"link '{href}' climbs out of the content folder"))
            return
        key, url, _, message = state.resolve("path", joined)
        if not key:
            if message:
                state.problems.append((line, f"link '{href}': {message}"))
            return
        state.links.append(LinkUse(key, anchor, line))
        link.set("href", url + (f"#{anchor}" if anchor else ""))


class LinkExtension(Extension):
    """Resolves [[name]], [[name|text]] and relative .md links through the state's resolvers."""

    def __init__(self, state: _State) -> None:
        super().__init__()
        self.state = state

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802
        md.inlinePatterns.register(_WikiLinks(self.state), "factbook-wikilinks", 175)
        # After the inline pass (priority 20) so that links from [text](x.md) exist as elements.
        md.treeprocessors.register(_RelativeLinks(md, self.state), "factbook-relative-links", 5)


class MarkdownRenderer:
    """Converts Markdown bodies one after another, reusing one parser (not thread-safe)."""

    def __init__(self, extensions: tuple[tuple[str, str], ...] = ()) -> None:
        self._state = _State()
        configs: dict[str, dict[str, Any]] = {"toc": {"slugify": heading_id, "toc_depth": "2-4"}}
        names = list(EXTENSIONS)
        for name, options in extensions:
            if name not in names:
                names.append(name)
            configs[name] = {**configs.get(name, {}), **json.loads(options)}
        self._md = markdown.Markdown(
            extensions=[*names, LinkExtension(self._state)],
            extension_configs=configs,
            output_format="html",
        )

    def render(self, source: str, first_line: int, doc_dir: str, table: LinkTable) -> Rendered:
        """Return the HTML of source and what its links point to; errors carry file lines."""
        self._state = state = _State(source, first_line, doc_dir, table)
        self._md.inlinePatterns["factbook-wikilinks"].state = state  # type: ignore[attr-defined]
        self._md.treeprocessors["factbook-relative-links"].state = state  # type: ignore[attr-defined]
        self._md.reset()
        html = self._md.convert(source)
        tokens = tuple(getattr(self._md, "toc_tokens", ()))
        anchors = frozenset(_ids(tokens)) | frozenset(re.findall(r'\sid="([^"]+)"', html))
        return Rendered(
            html, tokens, anchors, tuple(state.links), tuple(state.problems), tuple(state.resolutions)
        )


@lru_cache(maxsize=4)
def _renderer(extensions: tuple[tuple[str, str], ...]) -> MarkdownRenderer:
    # One parser per process and settings: building it costs more than a page.
    return MarkdownRenderer(extensions)


def render_markdown(source: str, first_line: int, doc_dir: str, table: LinkTable) -> Rendered:
    """Return the rendering of one Markdown body: a pure function of its arguments."""
    return _renderer(table.extensions).render(source, first_line, doc_dir, table)


def _ids(tokens: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[str]:
    return [i for t in tokens for i in (t["id"], *_ids(t.get("children", [])))]
