"""Pages shown inside pages: ![[Note]], ![[Note#Heading]] and ![[Note#^block]] filled in."""

from __future__ import annotations

import re
from html import escape

from .link import LinkedSite
from .words import gettext

_PLACE = re.compile(r'<div class="transclusion" data-embed="(\d+)">(.*?)</div>', re.S)
_ID = re.compile(r'\sid="[^"]*"')
DEPTH = 8  # embeds inside embeds, as deep as a reader can follow


def body_html(linked: LinkedSite, key: str, trail: tuple[str, ...] = ()) -> str:
    """Return a page's body with every page or section it embeds filled in (a loop stays a link)."""
    rendered = linked.bodies.get(key)
    if rendered is None:
        return ""
    html = rendered.html
    for href, page in sorted(linked.dead.get(key, ())):  # a missing heading: to the page's top
        html = html.replace(f'href="{escape(href)}"', f'href="{escape(page)}"')
    if not rendered.embeds:
        return html
    trail = (*trail, key)

    def fill(match: re.Match[str]) -> str:
        embed = rendered.embeds[int(match.group(1))]
        if embed.key in trail or len(trail) > DEPTH or embed.key not in linked.bodies:
            return match.group(0)  # the loop is reported by the link stage; the link remains
        inner = body_html(linked, embed.key, trail)
        part = section(inner, embed.anchor) if embed.anchor else inner
        source = linked.entity(embed.key)
        missing = escape(gettext("%(title)s has no such section", title=source.title))
        # The embedded page's ids stay on its own page: here they would be duplicates.
        return (
            f'<div class="transclusion"><p class="transclusion-source">{match.group(2)}</p>'
            f"{_ID.sub('', part)}</div>"
            if part
            else f'<div class="transclusion">{match.group(2)} <span class="note">({missing})</span></div>'
        )

    return _PLACE.sub(fill, html)


def section(html: str, anchor: str) -> str:
    """Return the part of a body that an anchor names: a heading and what follows, or one block."""
    found = re.search(rf'<(\w+)[^>]*\sid="{re.escape(anchor)}"', html)
    if found is None:
        return ""
    tag = found.group(1)
    heading = re.fullmatch(r"h([1-6])", tag)
    if heading is not None:
        level = int(heading.group(1))
        after = re.compile(rf"<h[1-{level}][\s>]").search(html, found.end())
        return html[found.start() : after.start() if after else len(html)].strip()
    return _element(html, found.start(), tag)


def _element(html: str, start: int, tag: str) -> str:
    """Return the element that opens at start, up to its own closing tag."""
    depth = 0
    for match in re.finditer(rf"<(/?){tag}[\s>]", html[start:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            end = html.find(">", start + match.start()) + 1
            return html[start:end]
    return html[start:]
