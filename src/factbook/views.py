"""Plain records the templates read: details, relations, index groups, facts."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markupsafe import escape

from .dates import DateError, PartialDate, parse_date
from .link import MENTIONS, LinkedSite, url_for
from .mdlinks import tag_path
from .model import Collection, Entity, Fact, FieldSpec, Ref
from .slugs import heading_id
from .urls import refused
from .words import gettext

BUILT_IN = {"title", "summary", "slug", "draft"}


@dataclass(frozen=True, slots=True)
class Item:
    """One thing in a list: a link (or plain text) with words before and after it."""

    text: str
    url: str = ""
    prefix: str = ""
    note: str = ""
    summary: str = ""

    def __html__(self) -> str:
        """Return the item as HTML: its link (or text), with its prefix and note around it."""
        # Written here rather than in a template macro: lists of them are most of a page, and
        # a macro call per item cost more than the rest of the page.
        return _item_html(self.text, self.url, self.prefix, self.note)


# A pure function of its arguments: the same page is listed on many others.
@lru_cache(maxsize=16384)
def _item_html(text: str, url: str, prefix: str, note: str) -> str:
    """Return an item's HTML: its link (or text), with its prefix and note around it."""
    shown = f'<a href="{escape(url)}">{escape(text)}</a>' if url else str(escape(text))
    before = f'<span class="prefix">{escape(prefix)}</span> ' if prefix else ""
    after = f' <span class="note">({escape(note)})</span>' if note else ""
    return before + shown + after


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


@dataclass(frozen=True, slots=True)
class Reference:
    """One entry of a page's numbered list of sources: the page cited and the marks citing it."""

    number: int
    label: str
    url: str
    title: str
    marks: tuple[Item, ...]  # each a link back to one mark: its letter, with the locator as its note


def references(linked: LinkedSite, key: str) -> list[Reference]:
    """Return the numbered list of what a page's body cites, each with links back to its marks."""
    rendered = linked.bodies.get(key)
    found: dict[int, list[Any]] = {}
    for citation in rendered.citations if rendered else ():
        found.setdefault(citation.number, []).append(citation)
    refs = []
    for number, marks in sorted(found.items()):
        entity = linked.entity(marks[0].key)
        label = cited_item(linked, entity.key).text
        backs = tuple(
            Item(_letter(i) if len(marks) > 1 else "↑", "#" + c.mark, note=c.locator)
            for i, c in enumerate(marks)
        )
        title = entity.title if label != entity.title else ""
        refs.append(Reference(number, label, url_for(linked.site, entity.url), title, backs))
    return refs


def cited_item(linked: LinkedSite, key: str) -> Item:
    """Return an item linking to a cited page under its short label (its title when it has none)."""
    entity = linked.entity(key)
    label = short_name(linked.site.collections[entity.collection], entity)
    url = url_for(linked.site, entity.url)
    return Item(label or entity.title, url, summary=entity.title if label else "")


def _letter(index: int) -> str:
    """Return a, b, … z, aa, ab, …: the name of the index-th back link of one reference."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[index] if index < 26 else _letter(index // 26 - 1) + letters[index % 26]


def item_for(linked: LinkedSite, key: str, note: str = "", prefix: str = "") -> Item:
    """Return an item linking to the entity with that key."""
    plain = linked.memo.setdefault("items", {})  # pages are listed on many others: made once each
    item = plain.get(key)
    if item is None:
        entity = linked.entity(key)
        item = plain[key] = Item(entity.title, url_for(linked.site, entity.url), summary=entity.summary)
    return Item(item.text, item.url, prefix, note, item.summary) if prefix or note else item


def date_words(value: Any) -> str:
    """Return a date field's value in words, or the text itself if it is not a date."""
    if isinstance(value, PartialDate):
        return value.words()
    try:
        return parse_date(value).words()
    except DateError:
        return str(value)


def shown_apart(collection: Collection) -> set[str]:
    """Return the fields a page shows elsewhere than in its details box."""
    apart = BUILT_IN | {f.name for f in collection.fields if f.aside} | {collection.fact_list}
    return apart | {f.note for f in collection.fields if f.note}


def short_name(collection: Collection, entity: Entity) -> str:
    """Return the entity's short name (the field mapped to schema.org alternateName), if any."""
    spec = collection.with_property("alternateName")
    value = entity.fields.get(spec.name) if spec else None
    return str(value) if value else ""


def date_note(collection: Collection, entity: Entity) -> str:
    """Return the words that explain the entity's date, if its collection has a field for them."""
    spec = collection.field(collection.date) if collection.date else None
    value = entity.fields.get(spec.note) if spec is not None and spec.note else None
    return str(value) if value else ""


def details(linked: LinkedSite, entity: Entity) -> list[Detail]:
    """Return the rows of an entity's details box, in the order its collection declares."""
    collection = linked.site.collections[entity.collection]
    apart = shown_apart(collection)
    rows = []
    for spec in collection.fields:
        value = entity.fields.get(spec.name)
        if spec.name in apart or not spec.show or value in (None, "", []):
            continue
        if _said_by_link(linked, entity, collection, spec, value):
            continue
        items = _items(linked, entity, spec, value, (spec.name,))
        if items:
            rows.append(Detail(spec.label, tuple(items)))
    return rows


def _said_by_link(
    linked: LinkedSite, entity: Entity, collection: Collection, spec: FieldSpec, value: Any
) -> bool:
    """Return whether a text field only names what a reference of the same property links to."""
    if spec.type not in {"string", "text"} or not spec.schema_property:
        return False
    for other in collection.fields:
        if other.schema_property != spec.schema_property or not other.is_reference:
            continue
        for ref in entity.refs:
            if ref.field == other.name:
                target = linked.entity(ref.target)
                names = {target.title, short_name(linked.site.collections[target.collection], target)}
                if folded(str(value)) in {folded(n) for n in names if n}:
                    return True
    return False


def folded(text: str) -> str:
    """Return text as names compare: without accents, case or surrounding spaces."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


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
        note = entity.fields.get(spec.note) if spec.note else ""
        return [Item(date_words(value), note=str(note or ""))]
    if spec.type == "url":
        # A refused scheme (javascript:) was a warning at check: the value shows as text.
        return [Item(str(value), url="" if refused(str(value)) else str(value))]
    if spec.type == "boolean":
        return [Item(gettext("yes") if value else gettext("no"))]
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
        text = gettext("yes") if value else gettext("no")
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
    groups: dict[tuple[int, str, str, str], list[Ref]] = {}
    named_roles: dict[tuple[str, str], bool] = linked.memo.setdefault("named_roles", {})
    for ref in linked.inverse.get(key, ()):
        if not ref.shown:
            continue
        collection = linked.entity(ref.source).collection
        rank = 2 if ref.field == MENTIONS else 1 if ref.shared else 0
        # A role from a fixed list names a group; a role in free words goes with each item.
        named = named_roles.get((collection, ref.field))
        if named is None:
            spec = linked.site.collections[collection]
            named = named_roles[collection, ref.field] = _named_roles(spec, ref.field)
        groups.setdefault((rank, collection, ref.field, ref.role if named else ""), []).append(ref)
    result = []
    for (_, collection, field, role), refs in sorted(groups.items()):
        title = _group_title(linked.site.collections[collection], field, refs[0].label, role)
        listed = {r.source: _listed(linked, r.source) for r in refs}
        pairs = sorted(
            {(r.source, "" if role else r.role) for r in refs},
            key=lambda p: (listed[p[0]][0], p[1], p[0]),  # the key: same titles too
        )
        items = tuple(
            item_for(linked, k, "; ".join(w for w in (words, listed[k][1]) if w)) for k, words in pairs
        )
        result.append(Group(title, _group_id(title), items))
    return result


def _listed(linked: LinkedSite, key: str) -> tuple[tuple[tuple[int, ...], str], str]:
    """Return where an entity goes in a list by date (then title), and its date in words."""
    # Made once a site: a page is listed on a score of others.
    listed: dict[str, tuple[tuple[tuple[int, ...], str], str]] = linked.memo.setdefault("listed", {})
    found = listed.get(key)
    if found is None:
        entity = linked.entity(key)
        found = listed[key] = (_by_date(entity), _date_note(entity))
    return found


def _named_roles(collection: Collection, field: str) -> bool:
    """Return whether the roles of a reference in a list of objects come from a fixed list."""
    parts = field.split(".")
    spec = collection.field(parts[0]) if len(parts) > 1 else None
    role = next((f for f in spec.fields if f.name == "role"), None) if spec else None
    return bool(role and role.enum)


def _group_title(collection: Collection, field: str, label: str, role: str) -> str:
    """Return a group's heading: its relation, and the role the page plays in it, as words."""
    if field == MENTIONS:
        return gettext("Mentioned in %(pages)s", pages=collection.plural)
    return gettext("%(relation)s as %(role)s", relation=label, role=role) if role else label


def asides(linked: LinkedSite, entity: Entity) -> list[Group]:
    """Return the lists shown beside the text: one per aside field (its nested namesakes too)."""
    collection = linked.site.collections[entity.collection]
    found = []
    for spec in collection.fields:
        if not spec.aside:
            continue
        keys = dict.fromkeys(
            r.target for r in entity.refs if r.field == spec.name or r.field.endswith("." + spec.name)
        )
        if keys:
            cited = spec.name == collection.cites
            items = tuple(cited_item(linked, k) if cited else item_for(linked, k) for k in keys)
            found.append(Group(spec.label, spec.name, items))
    tags = tags_of(linked, entity.key)
    if tags:
        found.append(Group(gettext("Tags"), "tags", tuple(tag_item(linked, t) for t in tags)))
    return found


def opens_with_heading(body: str) -> bool:
    """Return whether a body's first line of text is a level-one heading (the page's own title)."""
    first = next((line for line in body.split("\n") if line.strip()), "")
    return first.startswith("# ")


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
        source = cited_item(linked, fact.source) if fact.source else Item(gettext("no source"))
        sheet_item = item_for(linked, sheet)
        sheet_item = Item(sheet_item.text, sheet_item.url + "#" + fact.id)
        value = format_value(fact.value, fact.unit, fact.qualifier)
        period = fact.period.words() if fact.period else ""
        rows.append(FactRow(fact.id, fact.label, value, period, about, source, fact.note, sheet_item))
    return rows


def tags_of(linked: LinkedSite, key: str) -> list[str]:
    """Return a page's tags: those of its notes front matter, then those written in its text."""
    entity = linked.entity(key)
    written: list[str] = []
    if linked.site.collections[entity.collection].vault:
        value = entity.fields.get("tags")
        items = value if isinstance(value, list) else str(value).replace(",", " ").split() if value else []
        written = [str(t).strip().lstrip("#") for t in items if str(t).strip().lstrip("#")]
    rendered = linked.bodies.get(key)
    found = {t.lower(): t for t in reversed([*written, *(rendered.tags if rendered else ())])}
    return sorted(found.values(), key=str.lower)


def tag_pages(linked: LinkedSite) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Return every tag by its URL path: the tag as first written, and the pages that carry it."""
    found: dict[str, tuple[str, list[str]]] = {}
    for key in sorted(linked.site.entities):
        for tag in tags_of(linked, key):
            parts = tag.split("/")
            # A nested tag belongs to its parents too: #plants/roots is under #plants.
            for depth in range(1, len(parts) + 1):
                name = "/".join(parts[:depth])
                pages = found.setdefault(tag_path(name), (name, []))[1]
                if key not in pages:
                    pages.append(key)
    return {path: (tag, tuple(keys)) for path, (tag, keys) in sorted(found.items())}


def tag_item(linked: LinkedSite, tag: str, note: str = "") -> Item:
    """Return an item linking to a tag's page."""
    return Item("#" + tag, url_for(linked.site, f"/tags/{tag_path(tag)}/"), note=note)


def field_label(collection: Collection, dotted: str) -> str:
    """Return the declared label of a field given by its path ('roles.organization'), lower case."""
    specs, spec = collection.fields, None
    for name in dotted.split("."):
        spec = next((f for f in specs if f.name == name), None)
        if spec is None:
            return dotted
        specs = spec.fields
    label = spec.label if spec is not None else dotted
    return label[:1].lower() + label[1:] if label[1:2].islower() else label
