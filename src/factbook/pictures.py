"""Pictures made at build time as inline SVG: the events timeline and an entity's ties graph."""

from __future__ import annotations

import heapq
import math
from functools import cache, lru_cache
from html import escape

from .dates import PartialDate, Point
from .link import MENTIONS, LinkedSite, url_for
from .model import Entity, Ref
from .views import field_label, short_name
from .words import gettext, ngettext

WIDTH = 960
LANE = 20
TOP = 26
FONT = 13  # the text size of both pictures, in picture units: at full size, 13 CSS px
LABEL_CHARS = 30
TIES_FONT = 14
MARGIN = 160  # room either side of the ties circle for its labels
SIZE, CENTRE, RADIUS = 520, 260, 190  # the ties picture's square, its centre and its circle


def _position(point: Point, end: bool = False) -> float:
    """Return a point as a fractional year: its start, or with end=True the end of its span."""
    if point.day:
        fraction = ((point.month - 1) * 30.5 + point.day - (0 if end else 1)) / 366
    elif point.month:
        fraction = (point.month - (0 if end else 1)) / 12
    else:
        fraction = 1.0 if end else 0.0
    return point.year + fraction


def span(date: PartialDate, last_year: int) -> tuple[float, float, bool]:
    """Return (start, end, open) in fractional years: a whole year for '2013', to the axis end for '1993/'."""
    start = date.start or date.end
    assert start is not None
    begin = _position(start)
    if date.is_range and date.end is None:
        return begin, last_year + 1.0, True
    finish = _position(date.end or start, end=True)
    return begin, max(finish, begin + 0.02), False


def timeline(linked: LinkedSite, events: list[Entity], label: str) -> str:
    """Return an SVG timeline of dated events: years on an axis, each event a named, linked bar."""
    dated = sorted(
        (e for e in events if e.date and not e.date.undated), key=lambda e: (e.date.sort_key(), e.key)
    )  # type: ignore[union-attr]
    if not dated:
        return ""
    years = [y for e in dated for y in (e.date.year, (e.date.end or e.date.start).year) if y]  # type: ignore[union-attr]
    first, last = min(years), max(years)
    scale = (WIDTH - 40) / (last + 1 - first)
    free: list[tuple[float, int]] = []  # (where a lane is free from, lane): a heap, so n log n
    lanes = 0
    marks = []
    for event in dated:
        begin, finish, is_open = span(event.date, last)  # type: ignore[arg-type]
        x = 20 + (begin - first) * scale
        width = max((finish - begin) * scale, 6.0)
        shown, cut = _fit(event.title, LABEL_CHARS)
        words = _text_width(shown + cut)
        # The name goes after its bar, or before it when the axis ends first (an open span).
        after = x + width + 4 + words <= WIDTH - 2
        left, right = (x, x + width + 4 + words) if after else (x - 4 - words, x + width)
        if free and free[0][0] <= left:
            lane = heapq.heappop(free)[1]
        else:
            lane, lanes = lanes, lanes + 1
        heapq.heappush(free, (right + 8, lane))
        name = escape(f"{event.title} ({event.date.words()})")  # type: ignore[union-attr]
        y = TOP + lane * LANE
        cls = "mark open" if is_open else "mark"
        tx, anchor = (x + width + 4, "start") if after else (x - 4, "end")
        marks.append(
            f'<a href="{escape(url_for(linked.site, event.url))}" aria-label="{name}">'
            f"<title>{name}</title>"
            f'<rect class="{cls}" x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{LANE - 8}" rx="2"/>'
            f'<text x="{tx:.1f}" y="{y + LANE - 5}" text-anchor="{anchor}">{_words(shown, cut)}</text></a>'
        )
    height = TOP + lanes * LANE + 8
    step = 1 if last - first <= 12 else 5 if last - first <= 60 else 10
    ticks = []
    for year in range(first - first % step, last + 2, step):
        if year < first:
            continue
        x = 20 + (year - first) * scale
        ticks.append(
            f'<line class="tick" x1="{x:.1f}" y1="18" x2="{x:.1f}" y2="{height}"/>'
            f'<text x="{x + 2:.1f}" y="14">{year}</text>'
        )
    title = escape(label)
    return (
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" role="group" aria-label="{title}">'
        f"<title>{title}</title>{''.join(ticks)}{''.join(marks)}</svg>"
    )


def _text_width(text: str, size: float = FONT) -> float:
    """Return a little more than a line of text is wide when drawn, in picture units."""
    # The capitals (M and W among them), then the wide letters and signs that are not capitals.
    wide = sum(map(str.isupper, text)) + sum(map(text.count, "mw@%"))
    # Fonts differ from system to system: an eighth more keeps a label whole in most of them.
    return 1.125 * size * (0.52 * len(text) + 0.18 * wide)


def _fit(text: str, limit: int) -> tuple[str, str]:
    """Return text cut at a word to at most limit characters, and "…" if it was cut (else "")."""
    if len(text) <= limit:
        return text, ""
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:(-–"), "…"


def _words(shown: str, cut: str) -> str:
    """Return a label as SVG text: its words, then its "…" (if cut) hidden from assistive technology.

    The accessible name, the full title, starts with the visible words (WCAG 2.5.3); the
    ellipsis is not one of them.
    """
    return escape(shown) + (f'<tspan aria-hidden="true">{cut}</tspan>' if cut else "")


def ties(linked: LinkedSite, entity: Entity, limit: int = 24) -> str:
    """Return an SVG graph of what an entity is tied to, each node a link to its page."""
    neighbours: dict[str, str] = {}
    site = linked.site
    own = site.collections[entity.collection]
    for ref in entity.refs:
        if not _cites(linked, ref) and ref.target != entity.key:
            neighbours.setdefault(ref.target, ref.role or field_label(own, ref.field))
    for ref in linked.inverse.get(entity.key, ()):
        if ref.shown and ref.field != MENTIONS and not _cites(linked, ref):
            source = site.collections[linked.entity(ref.source).collection]
            neighbours.setdefault(ref.source, ref.role or field_label(source, ref.field))
    keys = sorted(neighbours, key=lambda k: (k.split("/")[0], linked.entity(k).title, k))[:limit]
    if not keys:
        return ""
    nodes, edges = [], []
    drawn = linked.memo.setdefault("tie_nodes", {})  # a page is drawn in the ties of a score of others
    for i, key in enumerate(keys):
        edge, circle, text, room = _slot(i, len(keys))
        node = drawn.get(key)
        if node is None:
            node = drawn[key] = _node(linked, key)
        kind, named, label, href = node
        name = escape(f"{named}, {neighbours[key]})")
        shown, cut = _fit_width(label, room, TIES_FONT)
        edges.append(edge)
        nodes.append(
            f'<a href="{href}" aria-label="{name}"><title>{name}</title>'
            f'<circle class="node {kind}" {circle}{text}{_words(shown, cut)}</text></a>'
        )
    more = len(neighbours) - len(keys)
    others = escape(gettext("and %(count)s more", count=more))  # not in an f-string: extraction finds it
    note = (
        f'<text class="more" x="{CENTRE}" y="{SIZE - 6}" text-anchor="middle">{others}</text>'
        if more > 0
        else ""
    )
    me, cut = _fit_width(entity.title, 2 * RADIUS - 40, TIES_FONT)
    title = escape(
        ngettext(
            "What %(title)s is tied to: %(num)s page",
            "What %(title)s is tied to: %(num)s pages",
            len(neighbours),
            title=entity.title,
        )
    )
    return (
        f'<svg class="ties" viewBox="{-MARGIN} 0 {SIZE + 2 * MARGIN} {SIZE}" role="group"'
        f' aria-label="{title}">'
        f"<title>{title}</title>"
        f'{"".join(edges)}<circle class="node centre" cx="{CENTRE}" cy="{CENTRE}" r="11"/>'
        f'<text class="centre-label" x="{CENTRE}" y="{CENTRE - 16}" text-anchor="middle">'
        f"{_words(me, cut)}</text>"
        f"{''.join(nodes)}{note}</svg>"
    )


def _node(linked: LinkedSite, key: str) -> tuple[str, str, str, str]:
    """Return what a ties picture shows of a page: its collection, the start of its name (up to
    its role), its label, and its address (escaped)."""
    other = linked.entity(key)
    collection = linked.site.collections[other.collection]
    label = _label(other, short_name(collection, other))
    href = escape(url_for(linked.site, other.url))
    return other.collection, f"{other.title} ({collection.label}", label, href


@cache  # at most (24 × 25) / 2 places
def _slot(i: int, count: int) -> tuple[str, str, str, float]:
    """Return the i-th of count nodes around the ties circle: its edge, its circle's place, its
    label's opening tag, and the room its label has."""
    angle = 2 * math.pi * i / count - math.pi / 2
    x, y = CENTRE + RADIUS * math.cos(angle), CENTRE + RADIUS * math.sin(angle)
    anchor = "start" if math.cos(angle) > 0.2 else "end" if math.cos(angle) < -0.2 else "middle"
    dx = 9 if anchor == "start" else -9 if anchor == "end" else 0
    room = {
        "start": SIZE + MARGIN - (x + dx),
        "end": x + dx + MARGIN,
        "middle": 2 * min(x + MARGIN, SIZE + MARGIN - x, 130),
    }[anchor]
    dy = 4 if anchor != "middle" else (16 if math.sin(angle) > 0 else -10)
    return (
        f'<line class="edge" x1="{CENTRE}" y1="{CENTRE}" x2="{x:.1f}" y2="{y:.1f}"/>',
        f'cx="{x:.1f}" cy="{y:.1f}" r="7"/>',
        f'<text x="{x + dx:.1f}" y="{y + dy:.1f}" text-anchor="{anchor}">',
        room - 4,
    )


@lru_cache(maxsize=16384)  # a page is drawn in the ties of a score of others
def _fit_width(text: str, room: float, size: float) -> tuple[str, str]:
    """Return text cut at a word so that it and its "…" fit in room, and the "…" (else "")."""
    limit = len(text)
    shown, cut = text, ""
    too_wide = None  # the last cut measured: the shorter limits that cut at the same word give it again
    while limit > 1:
        if (shown, cut) != too_wide:
            if _text_width(shown + cut, size) <= room:
                break
            too_wide = (shown, cut)
        limit -= 1
        shown, cut = _fit(text, limit)
    return shown, cut


def _cites(linked: LinkedSite, ref: Ref) -> bool:
    """Return whether a reference names a source (those are listed, not drawn)."""
    cites = linked.site.collections[linked.entity(ref.source).collection].cites
    return bool(cites) and ref.field.split(".")[-1] == cites


def _label(entity: Entity, acronym: str) -> str:
    """Return a node's visible label: its acronym when its title starts with it, else its title.

    The label is always the start of the link's accessible name (which is the full title), as
    WCAG 2.5.3 asks.
    """
    return acronym if acronym and entity.title.startswith(acronym) else entity.title
