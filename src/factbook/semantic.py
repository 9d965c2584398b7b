"""What machines read: schema.org JSON-LD per page, and the knowledge graph of all entities."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from json.encoder import encode_basestring
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.core import get_global

from .dates import DateError, PartialDate, parse_date
from .link import LinkedSite, url_for
from .model import Entity, FieldSpec

# schema.org properties whose value, given as text, names a thing of this type.
NAMED = {"location": "Place", "publisher": "Organization", "organizer": "Organization"}


def absolute(linked: LinkedSite, url: str) -> str:
    """Return a page's URL, absolute when the site's url names a host."""
    # Made some 100,000 times for the exports of 10,000 pages: the host and base path once.
    prefix = linked.memo.get("absolute")
    if prefix is None:
        prefix = linked.memo["absolute"] = linked.site.config.host + url_for(linked.site, "")
    return prefix + url  # type: ignore[operator]


def og_locale(language: str) -> str:
    """Return a language tag as Open Graph writes a locale: 'en' -> 'en_US', 'pt-BR' -> 'pt_BR'."""
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return language.replace("-", "_")
    territory = locale.territory or get_global("likely_subtags").get(locale.language, "").split("_")[-1]
    return f"{locale.language}_{territory}" if territory else locale.language


def node_id(linked: LinkedSite, key: str) -> str:
    """Return the JSON-LD @id of an entity: its page's URL with #it (the page itself is the URL)."""
    # Each page's node names every page it refers to: made once per page, not once per reference.
    made: dict[str, str] = linked.memo.setdefault("node_ids", {})
    found = made.get(key)
    if found is None:
        found = made[key] = absolute(linked, linked.entity(key).url) + "#it"
    return found


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, Any]:
    return json.loads((resources.files("factbook") / "schemaorg.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=256)
def kinds_of(schema_type: str) -> frozenset[str]:
    """Return a schema.org type and every type above it (a type schema.org lacks is a Thing)."""
    types = _vocabulary()["types"]
    found, todo = {schema_type, "Thing"}, [schema_type]
    while todo:
        for parent in types.get(todo.pop(), ()):
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    return frozenset(found)


@lru_cache(maxsize=4096)
def fits(prop: str, schema_type: str) -> bool:
    """Return whether schema.org allows the property on a thing of that type."""
    domains = _vocabulary()["properties"].get(prop)
    return domains is not None and not kinds_of(schema_type).isdisjoint(domains)


def entity_node(linked: LinkedSite, entity: Entity) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the schema.org node of one entity, and the properties that belong on its page instead.

    A property schema.org does not allow on the entity's type (a citation on an Organization)
    goes to the WebPage about it when a page may have it, else the page mentions its values.
    """
    # The page's JSON-LD and the site's graph both need it: made once per linked site (read only).
    nodes = linked.memo.setdefault("entity_nodes", {})
    if entity.key not in nodes:
        nodes[entity.key] = _entity_node(linked, entity)
    return nodes[entity.key]  # type: ignore[no-any-return]


def _entity_node(linked: LinkedSite, entity: Entity) -> tuple[dict[str, Any], dict[str, Any]]:
    collection = linked.site.collections[entity.collection]
    kind = collection.schema_type
    node: dict[str, Any] = {"@type": kind, "@id": node_id(linked, entity.key), "name": entity.title}
    page: dict[str, Any] = {}
    node["url"] = absolute(linked, entity.url)
    if entity.summary:
        node["description"] = entity.summary
    values: dict[str, Any] = {}
    for spec in collection.fields:
        value = entity.fields.get(spec.name)
        if not spec.schema_property or spec.is_reference or spec.type == "list" or value in (None, ""):
            continue
        if spec.schema_property in values:
            continue
        if spec.type == "date":
            values.update(_dates(spec.schema_property, value))
        elif spec.schema_property in NAMED:
            values[spec.schema_property] = {"@type": NAMED[spec.schema_property], "name": str(value)}
        else:
            values[spec.schema_property] = value if isinstance(value, int | float) else str(value)
    specs = linked.memo.setdefault("field_specs", {}).get(collection.name)
    if specs is None:
        specs = linked.memo["field_specs"][collection.name] = _specs(collection.fields)
    listed: set[tuple[str, str]] = set()  # (property, @id): a page with many references scanned no list
    for ref in entity.refs:
        spec = specs.get(ref.field)
        prop = spec.schema_property if spec is not None and spec.schema_property else "mentions"
        if isinstance(values.get(prop), dict):  # a named value is replaced by the linked entity
            del values[prop]
        if ref.target != entity.key:
            target = node_id(linked, ref.target)
            found = values.setdefault(prop, [])
            if (prop, target) not in listed:
                listed.add((prop, target))
                found.append({"@id": target})
    for prop, value in values.items():
        if value == []:
            continue
        if fits(prop, kind):
            node[prop] = value
        elif fits(prop, "WebPage"):
            page[prop] = value
        elif isinstance(value, list):
            mentions = page.setdefault("mentions", [])
            mentions.extend(v for v in value if v not in mentions)
    return node, page


def _dates(prop: str, value: Any) -> dict[str, str]:
    """Return a date field as schema.org properties: a start and an end for startDate."""
    try:
        date = value if isinstance(value, PartialDate) else parse_date(value)
    except DateError:
        return {}
    if date.undated:
        return {}
    start, end = date.start, date.end
    if prop != "startDate":
        return {prop: str(start)} if start else {}
    found = {}
    if start:
        found["startDate"] = str(start)
    if end or (start and not date.is_range):
        found["endDate"] = str(end or start)
    return found


def _specs(fields: tuple[FieldSpec, ...], prefix: str = "") -> dict[str, FieldSpec]:
    found: dict[str, FieldSpec] = {}
    for spec in fields:
        name = f"{prefix}{spec.name}"
        found[name] = spec
        found.update(_specs(spec.fields, name + "."))
    return found


def page_graph(
    linked: LinkedSite,
    url: str,
    title: str,
    description: str,
    crumbs: list[tuple[str, str]],
    key: str = "",
    page_type: str = "WebPage",
    items: list[tuple[str, str]] | None = None,
) -> str:
    """Return the JSON-LD script text of one page, safe inside <script>.

    Every page is a WebPage (or the page_type given) within the WebSite, with its BreadcrumbList;
    an entity's page has the entity as its main entity, an index lists its items, and the home
    page describes the WebSite and how to search it.
    """
    config = linked.site.config
    here = absolute(linked, url)
    home = absolute(linked, "/")
    page: dict[str, Any] = {
        "@type": page_type,
        "@id": here,
        "url": here,
        "name": title,
        "inLanguage": config.language,
        "isPartOf": {"@id": home + "#website"},
        "breadcrumb": {"@id": here + "#breadcrumb"},
    }
    if description:
        page["description"] = description
    graph: list[dict[str, Any]] = [page]
    if key:
        node, moved = entity_node(linked, linked.entity(key))
        page["mainEntity"] = {"@id": node["@id"]}
        page.update(moved)
        graph.append(node)
    if items is not None:
        elements = [
            {"@type": "ListItem", "position": i, "url": absolute(linked, link), "name": name}
            for i, (name, link) in enumerate(items, 1)
        ]
        page["mainEntity"] = {
            "@type": "ItemList",
            "numberOfItems": len(elements),
            "itemListElement": elements,
        }
    if url == "/":
        graph.append(website_node(linked))
    trail = [("Home", "/")] if not crumbs or crumbs[0][1] != "/" else []
    trail += crumbs
    if trail[-1][1] != url:
        trail.append((title, url))
    graph.append(
        {
            "@type": "BreadcrumbList",
            "@id": here + "#breadcrumb",
            "itemListElement": [
                {"@type": "ListItem", "position": i, "name": name, "item": absolute(linked, link)}
                for i, (name, link) in enumerate(trail, 1)
            ],
        }
    )
    data = {"@context": "https://schema.org", "@graph": graph}
    return _script_safe(json.dumps(data, ensure_ascii=False, sort_keys=True))


def website_node(linked: LinkedSite) -> dict[str, Any]:
    """Return the WebSite node: its name, language, and the search it offers."""
    config = linked.site.config
    home = absolute(linked, "/")
    node: dict[str, Any] = {
        "@type": "WebSite",
        "@id": home + "#website",
        "url": home,
        "name": config.title,
        "inLanguage": config.language,
        "potentialAction": {
            "@type": "SearchAction",
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": absolute(linked, "/search/") + "?q={search_term_string}",
            },
            "query-input": "required name=search_term_string",
        },
    }
    if config.description:
        node["description"] = config.description
    return node


def _script_safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass(frozen=True, slots=True)
class GraphReuse:
    """The graph files the last build wrote, where each page's parts are in them, and the pages
    whose parts in each file are as they were (what they read is the same)."""

    json: bytes
    jsonld: bytes
    spans: Mapping[str, Sequence[int]]
    json_keys: frozenset[str]
    jsonld_keys: frozenset[str]


# Per page, where its parts are in the graph files: its node and its edges in graph.json, and
# its node with the WebPage about it in graph.jsonld, each as a start and a length in bytes.
Spans = dict[str, tuple[int, int, int, int, int, int]]


class _Joined:
    """Bytes joined in order, each part's place in the whole known."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, part: bytes) -> int:
        """Add part; return where it starts."""
        start = self.size
        self.parts.append(part)
        self.size += len(part)
        return start

    def bytes(self) -> bytes:
        """Return the whole."""
        return b"".join(self.parts)


def graph_files(linked: LinkedSite, reuse: GraphReuse | None = None) -> tuple[bytes, bytes, Spans]:
    """Return graph.json and graph.jsonld, and where each page's parts are in them.

    With reuse, the parts of the pages it names are copied from the last build's files, not
    made again: a title changed at 10,000 pages made the two files again in a third of a second.
    """
    nodes_json, edges_json, ld, spans = _Joined(), _Joined(), _Joined(), {}
    text = encode_basestring
    old = reuse.spans if reuse is not None else {}
    ld.add(b'{"@context":"https://schema.org","@graph":[' + _dumps(website_node(linked)))
    # Pages in key order, and each page's edges in order: the edges sorted by source, target,
    # relation and role, as a sort of them all would have them, in smaller sorts.
    for key, entity in sorted(linked.site.entities.items()):
        was = old.get(key)
        if was is not None and key in reuse.json_keys:  # type: ignore[union-attr]
            node = reuse.json[was[0] : was[0] + was[1]]  # type: ignore[union-attr]
            edges = reuse.json[was[2] : was[2] + was[3]]  # type: ignore[union-attr]
        else:
            source = text(key)
            date = text(entity.date.iso()) if entity.date and not entity.date.undated else "null"
            node = (
                f'{{"collection":{text(entity.collection)},"date":{date},"id":{source},'
                f'"summary":{text(entity.summary)},"title":{text(entity.title)},'
                f'"url":{text(absolute(linked, entity.url))}}}'
            ).encode()
            # A page that names itself is no relation; the same relation twice is one edge.
            refs = linked.outgoing.get(key, ())
            found = sorted({(r.target, r.field, r.role) for r in refs if r.target != key})
            edges = ",".join(
                f'{{"relation":{text(relation)},"role":{text(role) if role else "null"},'
                f'"source":{source},"target":{text(target)}}}'
                for target, relation, role in found
            ).encode()
        if was is not None and key in reuse.jsonld_keys:  # type: ignore[union-attr]
            about = reuse.jsonld[was[4] : was[4] + was[5]]  # type: ignore[union-attr]
        else:
            about = _about(linked, entity)
        if nodes_json.size:
            nodes_json.add(b",")
        node_at = nodes_json.add(node)
        if edges and edges_json.size:
            edges_json.add(b",")
        edges_at = edges_json.add(edges)  # a page with no edges: an empty part
        ld.add(b",")
        about_at = ld.add(about)
        spans[key] = (node_at, len(node), edges_at, len(edges), about_at, len(about))
    facts = [
        {
            "sheet": sheet,
            "id": fact.id,
            "label": fact.label,
            "value": fact.value,
            "unit": fact.unit or None,
            "qualifier": fact.qualifier or None,
            "period": fact.period.iso() if fact.period else None,
            "about": list(fact.about),
            "source": fact.source,
        }
        for sheet, items in sorted(linked.site.facts.items())
        for fact in items
    ]
    head = b'{"edges":['
    middle = b'],"facts":' + _dumps(facts) + b',"nodes":['
    # The spans were counted inside each list: now from the start of the file.
    nodes_from = len(head) + edges_json.size + len(middle)
    spans = {k: (n + nodes_from, nl, e + len(head), el, a, al) for k, (n, nl, e, el, a, al) in spans.items()}
    whole = head + edges_json.bytes() + middle + nodes_json.bytes() + b"]}\n"
    return whole, ld.bytes() + b"]}\n", spans


def _about(linked: LinkedSite, entity: Entity) -> bytes:
    """Return an entity's node and the WebPage about it, as they stand in graph.jsonld's @graph."""
    node, moved = entity_node(linked, entity)
    here = absolute(linked, entity.url)
    page = {"@type": "WebPage", "@id": here, "url": here, "mainEntity": {"@id": node["@id"]}, **moved}
    return _dumps(node) + b"," + _dumps(page)


def _dumps(data: object) -> bytes:
    # Compact: with indent, json falls back from its C encoder to a far slower Python one.
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
