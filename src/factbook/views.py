"""Plain records the templates read: details, relations, index groups, facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .dates import DateError, PartialDate, parse_date
from .link import LinkedSite, url_for
from .model import Collection, Entity, Fact, FieldSpec, Ref
from .slugs import heading_id

SHOWN_APART = {"title", "summary", "slug", "draft", "topics", "sources", "facts", "date_note"}


@dataclass(frozen=True, slots=True)
class Item:
    """One thing in a list: a link (or plain text) with words before and after it."""

    text: str
    url: str = ""
    prefix: str = ""
    note: str = ""
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Group:
    """A titled list of items, with an id to link to."""

    title: str
    id: str
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Detail:
    """One row of an entity's details box."""

    label: str
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class FactRow:
    """A fact as a row of a table: its label, value in words, period, subjects and source."""

    id: str
    label: str
    value: str
    period: str
    about: tuple[Item, ...]
    source: Item
    note: str
    sheet: Item


def item_for(linked: LinkedSite, key: str, note: str = "", prefix: str = "") -> Item:
    """Return an item linking to the entity with that key."""
    entity = linked.entity(key)
    return Item(entity.title, url_for(linked.site, entity.url), prefix, note, entity.summary)


def date_words(value: Any) -> str:
    """Return a date field's value in words, or the text itself if it is not a date."""
    if isinstance(value, PartialDate):
        return value.words()
    try:
        return parse_date(value).words()
    except DateError:
        return str(value)


def details(linked: LinkedSite, entity: Entity) -> list[Detail]:
    """Return the rows of an entity's details box, in the order its collection declares."""
    collection = linked.site.collections[entity.collection]
    rows = []
    for spec in collection.fields:
        value = entity.fields.get(spec.name)
        if spec.name in SHOWN_APART or value in (None, "", []):
            continue
        items = _items(linked, entity, spec, value, (spec.name,))
        if items:
            rows.append(Detail(spec.label, tuple(items)))
    return rows


def _items(
    linked: LinkedSite, entity: Entity, spec: FieldSpec, value: Any, path: tuple[str, ...]
) -> list[Item]:
    if spec.type == "list" and isinstance(value, list):
        return [_object_item(linked, entity, spec, obj) for obj in value if isinstance(obj, dict)]
    if spec.type == "refs" and isinstance(value, list):
        return [_ref_item(linked, entity, spec.name, v) for v in value]
    if spec.type == "ref":
        return [_ref_item(linked, entity, spec.name, value)]
    if spec.type == "date":
        text = date_words(value)
        note = entity.fields.get("date_note", "") if spec.name == "date" else ""
        return [Item(text, note=str(note))]
    if spec.type == "url":
        return [Item(str(value), url=str(value))]
    if spec.type == "boolean":
        return [Item("yes" if value else "no")]
    return [Item(format_value(value))]


def _ref_item(linked: LinkedSite, entity: Entity, field: str, text: Any) -> Item:
    target = next((r.target for r in entity.refs if r.field == field and _typed(r, text)), "")
    return item_for(linked, target) if target else Item(str(text))


def _typed(ref: Ref, text: Any) -> bool:
    return isinstance(text, str) and ref.target.endswith("/" + text.split("/")[-1])


def _object_item(linked: LinkedSite, entity: Entity, spec: FieldSpec, obj: dict[str, Any]) -> Item:
    words, notes, link = [], [], None
    for sub in spec.fields:
        value = obj.get(sub.name)
        if value in (None, "", []):
            continue
        if sub.type == "ref" and link is None:
            link = _ref_item(linked, entity, f"{spec.name}.{sub.name}", value)
        elif sub.type == "date":
            notes.append(date_words(value))
        elif sub.type in {"string", "text"}:
            words.append(str(value))
    note = ", ".join(notes)
    if link is None:
        return Item(", ".join(words), note=note)
    return Item(link.text, link.url, ", ".join(words), note, link.summary)


def format_value(value: Any, unit: str = "", qualifier: str = "") -> str:
    """Return a fact's value in words: '150,000 USD', 'up to 70%', 'more than 3,000,000,000 USD'."""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = date_words(value) if isinstance(value, str) else str(value)
    if unit:
        text += unit if unit in {"%", "×"} else f" {unit}"
    return f"{qualifier} {text}" if qualifier else text


def relations(linked: LinkedSite, key: str) -> list[Group]:
    """Return who refers to the entity, grouped by relation and role, each group in order."""
    groups: dict[tuple[str, str, str], list[Ref]] = {}
    for ref in linked.inverse.get(key, ()):
        if ref.field.startswith("facts."):
            continue
        source = linked.entity(ref.source)
        groups.setdefault((ref.field, source.collection, ref.role), []).append(ref)
    result = []
    for (field, collection, role), refs in sorted(groups.items(), key=_group_order):
        title = _group_title(linked.site.collections[collection], field, refs[0].label, role)
        entities = sorted({r.source for r in refs}, key=lambda k: _by_date(linked.entity(k)))
        items = tuple(item_for(linked, k, _date_note(linked.entity(k))) for k in entities)
        result.append(Group(title, _group_id(title), items))
    return result


def _group_order(entry: tuple[tuple[str, str, str], list[Ref]]) -> tuple[int, str, str, str]:
    (field, collection, role), _ = entry
    rank = 2 if field == "mentions" else 1 if field in {"sources", "topics"} else 0
    return (rank, collection, field, role)


def _group_title(collection: Collection, field: str, label: str, role: str) -> str:
    if field == "mentions":
        return f"Mentioned in {collection.title.lower()}"
    if field == "sources":
        return f"{collection.title} citing it"
    title = label if label and field != "topics" else collection.title
    return f"{title} ({role})" if role else title


def _group_id(title: str) -> str:
    return "rel-" + heading_id(title)


def _by_date(entity: Entity) -> tuple[tuple[int, ...], str]:
    return (entity.date.sort_key() if entity.date else (0,), entity.title.lower())


def _date_note(entity: Entity) -> str:
    return entity.date.words() if entity.date else ""


def fact_rows(linked: LinkedSite, pairs: tuple[tuple[str, Fact], ...]) -> list[FactRow]:
    """Return table rows for facts, each naming its sheet, subjects and source."""
    rows = []
    for sheet, fact in pairs:
        about = tuple(item_for(linked, k) for k in fact.about)
        source = item_for(linked, fact.source) if fact.source else Item("no source")
        sheet_item = item_for(linked, sheet)
        sheet_item = Item(sheet_item.text, sheet_item.url + "#" + fact.id)
        value = format_value(fact.value, fact.unit, fact.qualifier)
        period = fact.period.words() if fact.period else ""
        rows.append(FactRow(fact.id, fact.label, value, period, about, source, fact.note, sheet_item))
    return rows
