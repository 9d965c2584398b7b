"""Pictures made at build time as inline SVG: the events timeline and an entity's ties graph."""

from __future__ import annotations

import heapq
import math
from html import escape

from .dates import PartialDate, Point
from .link import MENTIONS, LinkedSite, url_for
from .model import Entity, Ref
from .views import field_label, short_name

WIDTH = 960
LANE = 16
TOP = 28


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
    """Return an SVG timeline of dated events: years on an axis, each event a linked mark."""
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
        if free and free[0][0] <= x:
            lane = heapq.heappop(free)[1]
        else:
            lane, lanes = lanes, lanes + 1
        heapq.heappush(free, (x + width + 3, lane))
        name = escape(f"{event.title} ({event.date.words()})")  # type: ignore[union-attr]
        y = TOP + lane * LANE
        cls = "mark open" if is_open else "mark"
        marks.append(
            f'<a href="{escape(url_for(linked.site, event.url))}" aria-label="{name}">'
            f"<title>{name}</title>"
            f'<rect class="{cls}" x="{x:.1f}" y="{y}" width="{width:.1f}" height="{LANE - 5}" rx="2"/></a>'
        )
    height = TOP + lanes * LANE + 8
    step = 1 if last - first <= 12 else 5 if last - first <= 60 else 10
    ticks = []
    for year in range(first - first % step, last + 2, step):
        if year < first:
            continue
        x = 20 + (year - first) * scale
        ticks.append(
            f'<line class="tick" x1="{x:.1f}" y1="16" x2="{x:.1f}" y2="{height}"/>'
            f'<text x="{x + 2:.1f}" y="12">{year}</text>'
        )
    title = escape(label)
    return (
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" role="group" aria-label="{title}">'
        f"<title>{title}</title>{''.join(ticks)}{''.join(marks)}</svg>"
    )


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
    keys = sorted(neighbours, key=lambda k: (k.split("/")[0], linked.entity(k).title))[:limit]
    if not keys:
        return ""
    size, centre, radius = 520, 260, 190
    nodes, edges = [], []
    for i, key in enumerate(keys):
        angle = 2 * math.pi * i / len(keys) - math.pi / 2
        x, y = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
        other = linked.entity(key)
        kind = other.collection
        collection = site.collections[kind]
        label = escape(_label(other, short_name(collection, other)))
        name = escape(f"{other.title} ({collection.label}, {neighbours[key]})")
        anchor = "start" if math.cos(angle) > 0.2 else "end" if math.cos(angle) < -0.2 else "middle"
        dx = 9 if anchor == "start" else -9 if anchor == "end" else 0
        dy = 4 if anchor != "middle" else (16 if math.sin(angle) > 0 else -10)
        edges.append(f'<line class="edge" x1="{centre}" y1="{centre}" x2="{x:.1f}" y2="{y:.1f}"/>')
        nodes.append(
            f'<a href="{escape(url_for(linked.site, other.url))}" aria-label="{name}"><title>{name}</title>'
            f'<circle class="node {kind}" cx="{x:.1f}" cy="{y:.1f}" r="7"/>'
            f'<text x="{x + dx:.1f}" y="{y + dy:.1f}" text-anchor="{anchor}">{label}</text></a>'
        )
    more = len(neighbours) - len(keys)
    note = (
        f'<text class="more" x="{centre}" y="{size - 6}" text-anchor="middle">and {more} more</text>'
        if more > 0
        else ""
    )
    me = escape(_short(entity.title))
    title = escape(f"What {entity.title} is tied to: {len(neighbours)} pages")
    return (
        f'<svg class="ties" viewBox="-140 0 {size + 280} {size}" role="group" aria-label="{title}">'
        f"<title>{title}</title>"
        f'{"".join(edges)}<circle class="node centre" cx="{centre}" cy="{centre}" r="11"/>'
        f'<text class="centre-label" x="{centre}" y="{centre - 16}" text-anchor="middle">{me}</text>'
        f"{''.join(nodes)}{note}</svg>"
    )


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _cites(linked: LinkedSite, ref: Ref) -> bool:
    """Return whether a reference names a source (those are listed, not drawn)."""
    cites = linked.site.collections[linked.entity(ref.source).collection].cites
    return bool(cites) and ref.field.split(".")[-1] == cites


def _label(entity: Entity, acronym: str, limit: int = 30) -> str:
    """Return a node's visible label: its acronym, or its title's first words.

    The label is always the start of the link's accessible name (which is the full title), as
    WCAG 2.5.3 asks, so a shortened title ends at a word with no ellipsis.
    """
    if acronym and entity.title.startswith(acronym):
        return acronym
    if len(entity.title) <= limit:
        return entity.title
    words, text = entity.title.split(), ""
    for word in words:
        if len(text) + len(word) + 1 > limit:
            break
        text = f"{text} {word}".strip()
    return text or entity.title[:limit]
