"""Which pages a change touches, computed afresh from the two link graphs (never stored)."""

from __future__ import annotations

from .link import LinkedSite
from .model import Entity


def face(entity: Entity) -> tuple[object, ...]:
    """Return what other pages may show of an entity: title, URL, summary, date and its fields."""
    date = entity.date.iso() if entity.date else ""
    return (entity.title, entity.url, entity.summary, date, entity.fields)


def _own(linked: LinkedSite, key: str) -> tuple[object, ...]:
    entity = linked.site.entities[key]
    return (
        entity.doc,
        entity.refs,
        linked.bodies.get(key),
        linked.inverse.get(key, ()),
        linked.facts_about.get(key, ()),
        linked.site.facts.get(key, ()),
        linked.dead.get(key),
    )


def dependencies(linked: LinkedSite, key: str) -> set[str]:
    """Return the entities whose face the page of key shows."""
    entity = linked.site.entities[key]
    found = {r.target for r in entity.refs}
    found.update(r.source for r in linked.inverse.get(key, ()))
    body = linked.bodies.get(key)
    if body is not None:
        found.update(use.key for use in body.links if use.key)
    for sheet, fact in (
        *linked.facts_about.get(key, ()),
        *((key, f) for f in linked.site.facts.get(key, ())),
    ):
        found.add(sheet)
        found.update(fact.about)
        found.add(fact.source)
    return found


def changed_entities(old: LinkedSite, new: LinkedSite) -> tuple[set[str], set[str]]:
    """Return the keys whose own page changed, and the keys whose face changed (or that came or went)."""
    before, after = old.site.entities, new.site.entities
    faces = {k for k in before.keys() ^ after.keys()}
    faces.update(
        k
        for k in before.keys() & after.keys()
        if before[k] is not after[k] and face(before[k]) != face(after[k])
    )
    own = {k for k in after if k not in before or _own(old, k) != _own(new, k)}
    # Links to a page's headings depend on which headings it has.
    faces.update(k for k in own & before.keys() if _anchors(old, k) != _anchors(new, k))
    return own, faces


def _anchors(linked: LinkedSite, key: str) -> frozenset[str]:
    rendered = linked.bodies.get(key)
    return rendered.anchors if rendered is not None else frozenset()


def date_order(linked: LinkedSite, collection: str) -> list[str]:
    """Return the keys of a collection's pages in time order (undated last), as previous / next run."""
    members = [e for e in linked.site.entities.values() if e.collection == collection]
    return [e.key for e in sorted(members, key=lambda e: (e.date.sort_key() if e.date else (9999,), e.key))]


def _collection(key: str) -> str:
    return key.split("/", 1)[0]


def _fact_subjects(linked: LinkedSite) -> set[str]:
    return {
        k for sheet, facts in linked.site.facts.items() for f in facts for k in (sheet, f.source, *f.about)
    }


def affected_entities(old: LinkedSite, new: LinkedSite) -> tuple[set[str], set[str]]:
    """Return the entity pages to render again, and the collections whose index changes."""
    own, faces = changed_entities(old, new)
    pages = set(own)
    # A page shows the bodies it embeds: it changes with them, and with what they embed in turn.
    embedders: dict[str, set[str]] = {}
    for key, rendered in new.bodies.items():
        for embed in rendered.embeds:
            embedders.setdefault(embed.key, set()).add(key)
    todo = list(own)
    while todo:
        for key in embedders.get(todo.pop(), ()):
            if key not in pages:
                pages.add(key)
                todo.append(key)
    if faces:
        pages.update(k for k in new.site.entities if k not in pages and dependencies(new, k) & faces)
    collections = {_collection(k) for k in faces}
    sheets = {n for n, c in new.site.collections.items() if c.fact_list}
    if any(_collection(k) in sheets for k in own) or faces & (_fact_subjects(old) | _fact_subjects(new)):
        collections.update(sheets)  # their index lists every fact with its subjects and source
    dated = {n for n, c in new.site.collections.items() if c.sort == "date"}
    for name in dated & {_collection(k) for k in faces}:
        for linked in (old, new):  # previous / next links around a page that moved or changed
            order = date_order(linked, name)
            for i, key in enumerate(order):
                if key in faces:
                    pages.update(order[max(i - 1, 0) : i + 2])
    return pages & set(new.site.entities), collections
