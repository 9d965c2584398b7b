"""The context of collection index pages: A-Z, by year, by kind, and every fact."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from markupsafe import Markup

from .collate import initial, letter_key, sort_key
from .link import LinkedSite
from .model import Collection, Entity
from .slugs import heading_id
from .views import Group, Item, fact_rows, item_for, short_name
from .words import gettext

LETTERS_FROM = 12  # a list longer than this is split by first letter


def index_context(
    linked: LinkedSite, collection: Collection, crumbs: list[Any], timeline: Callable[[], str]
) -> dict[str, Any]:
    """Return the context of a collection's index page, its sections as the collection declares."""
    members = [e for e in linked.site.entities.values() if e.collection == collection.name]
    sections: list[tuple[str, list[Group]]] = []
    for group in collection.group_by:
        if group == "letter":
            groups = _a_to_z(linked, collection, members)
            sections.append((gettext("A–Z") if any(g.title for g in groups) else gettext("By name"), groups))
        elif group == "year":
            sections.append((gettext("By year"), _by_year(linked, collection, members)))
        elif group == "folder":
            sections.append((gettext("By folder"), _by_folder(linked, collection, members)))
        else:
            found = _by_field(linked, collection, members, group)
            if found:
                spec = collection.field(group)
                label = spec.label if spec else group
                heading = gettext("By %(field)s", field=label[:1].lower() + label[1:])
                # A heading starts with a capital, wherever the language puts the field's name.
                sections.append((heading[:1].upper() + heading[1:], found))
    return {
        "timeline": Markup(timeline()) if collection.timeline else Markup(""),
        "all_facts": all_facts(linked, collection.name) if collection.fact_list else [],
        "title": collection.title,
        "collection": collection,
        "crumbs": crumbs,
        "sections": sections,
        "count": len(members),
    }


def _entry(linked: LinkedSite, collection: Collection, entity: Entity) -> Item:
    note = entity.date.words() if entity.date else ""
    item = item_for(linked, entity.key, note)
    acronym = short_name(collection, entity)
    # The short name is part of the link, after the name it stands for, unless the name has it.
    if acronym and acronym not in entity.title.split():
        return Item(f"{item.text} ({acronym})", item.url, item.prefix, item.note, item.summary)
    return item


def by_name(found: Iterable[Entity], locale: str) -> list[Entity]:
    """Return the entities in the alphabetical order of their titles in the locale, by key on a tie."""
    return sorted(found, key=lambda e: (sort_key(e.title, locale), e.key))


def _a_to_z(linked: LinkedSite, collection: Collection, members: list[Entity]) -> list[Group]:
    if not members:
        return []
    locale = linked.site.config.locale
    if len(members) <= LETTERS_FROM:
        return [Group("", "all", tuple(_entry(linked, collection, e) for e in by_name(members, locale)))]
    groups: dict[str, list[Entity]] = {}
    for entity in members:
        groups.setdefault(initial(entity.title, locale), []).append(entity)
    # The letters of the language's index in its order; '#' (digits, signs, other scripts) first.
    return [
        Group(
            letter,
            f"letter-{letter.lower() if letter != '#' else 'other'}",
            tuple(_entry(linked, collection, e) for e in by_name(found, locale)),
        )
        for letter, found in sorted(groups.items(), key=lambda g: letter_key(g[0], locale))
    ]


def _by_folder(linked: LinkedSite, collection: Collection, members: list[Entity]) -> list[Group]:
    groups: dict[str, list[Entity]] = {}
    for entity in members:
        groups.setdefault(entity.doc.folder, []).append(entity)
    return [
        Group(
            folder or gettext("(top)"),
            "folder-" + (heading_id(folder) or "top"),
            tuple(_entry(linked, collection, e) for e in by_name(found, linked.site.config.locale)),
        )
        for folder, found in sorted(groups.items())
    ]


def _by_year(linked: LinkedSite, collection: Collection, members: list[Entity]) -> list[Group]:
    groups: dict[int | None, list[Entity]] = {}
    for entity in members:
        groups.setdefault(entity.date.year if entity.date else None, []).append(entity)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    locale = linked.site.config.locale

    def when(entity: Entity) -> tuple[tuple[int, ...], bytes, str]:
        return (entity.date.sort_key() if entity.date else (), sort_key(entity.title, locale), entity.key)

    return [
        Group(
            str(year) if year else gettext("Undated"),
            f"year-{year}" if year else "undated",
            tuple(_entry(linked, collection, e) for e in sorted(found, key=when)),
        )
        for year, found in ordered
    ]


def _by_field(linked: LinkedSite, collection: Collection, members: list[Entity], field: str) -> list[Group]:
    groups: dict[str, list[Entity]] = {}
    for entity in members:
        value = entity.fields.get(field)
        if isinstance(value, str) and value:
            groups.setdefault(value[:1].upper() + value[1:], []).append(entity)
    locale = linked.site.config.locale
    return [
        Group(
            kind,
            f"{field}-" + heading_id(kind),
            tuple(_entry(linked, collection, e) for e in by_name(found, locale)),
        )
        for kind, found in sorted(groups.items(), key=lambda g: (sort_key(g[0], locale), g[0]))
    ]


def all_facts(linked: LinkedSite, collection: str) -> list[Any]:
    """Return every fact of every sheet of a collection as table rows."""
    pairs = tuple(
        (sheet, f)
        for sheet, facts in sorted(linked.site.facts.items())
        if linked.entity(sheet).collection == collection
        for f in facts
    )
    return fact_rows(linked, pairs)
