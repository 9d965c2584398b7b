"""What machines read: schema.org JSON-LD per page, and the knowledge graph of all entities."""

from __future__ import annotations

import json
from typing import Any

from .link import LinkedSite, url_for
from .model import Entity

SCHEMA_TYPES = {
    "organizations": "Organization",
    "events": "Event",
    "people": "Person",
    "programmes": "Project",
    "sources": "CreativeWork",
    "topics": "DefinedTerm",
    "facts": "Dataset",
    "pages": "WebPage",
}
# How a factbook field reads as a schema.org property, by collection and field.
PROPERTIES = {
    ("organizations", "parent"): "parentOrganization",
    ("events", "organizations.organization"): "organizer",
    ("events", "people"): "attendee",
    ("events", "programmes"): "about",
    ("people", "roles.organization"): "affiliation",
    ("programmes", "organizations.organization"): "funder",
    ("programmes", "parent"): "isPartOf",
    ("sources", "publisher_organization"): "publisher",
    ("facts", "facts.about"): "about",
    ("facts", "facts.source"): "isBasedOn",
}


def absolute(linked: LinkedSite, url: str) -> str:
    """Return a page's URL, absolute when base_url names a host."""
    base = linked.site.config.base_url
    path = url_for(linked.site, url)
    if "://" in base:
        scheme, rest = base.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}{path}"
    return path


def node_id(linked: LinkedSite, key: str) -> str:
    """Return the JSON-LD @id of an entity: its page URL."""
    return absolute(linked, linked.entity(key).url)


def entity_node(linked: LinkedSite, entity: Entity) -> dict[str, Any]:
    """Return the schema.org description of one entity, relations as properties."""
    kind = SCHEMA_TYPES.get(entity.collection, "Thing")
    node: dict[str, Any] = {
        "@type": kind,
        "@id": node_id(linked, entity.key),
        "name": entity.title,
        "url": node_id(linked, entity.key),
    }
    if entity.summary:
        node["description"] = entity.summary
    acronym = entity.fields.get("acronym")
    if acronym:
        node["alternateName"] = str(acronym)
    if entity.date and not entity.date.undated:
        start, end = entity.date.start, entity.date.end
        if kind == "Event":
            if start:
                node["startDate"] = str(start)
            if end or (start and not entity.date.is_range):
                node["endDate"] = str(end or start)
        elif kind == "CreativeWork" and start:
            node["datePublished"] = str(start)
    place = entity.fields.get("place")
    if place and kind == "Event":
        node["location"] = {"@type": "Place", "name": str(place)}
    publisher = entity.fields.get("publisher")
    if publisher and kind == "CreativeWork":
        node.setdefault("publisher", {"@type": "Organization", "name": str(publisher)})
    for ref in entity.refs:
        if ref.field == "sources":
            node.setdefault("citation", []).append({"@id": node_id(linked, ref.target)})
        elif ref.field == "topics":
            node.setdefault("keywords", []).append(linked.entity(ref.target).title)
        else:
            prop = PROPERTIES.get((entity.collection, ref.field), "mentions")
            if isinstance(node.get(prop), dict):  # a named value is replaced by the linked entity
                del node[prop]
            node.setdefault(prop, []).append({"@id": node_id(linked, ref.target)})
    return node


def page_jsonld(linked: LinkedSite, entity: Entity) -> str:
    """Return the JSON-LD script text of an entity page, safe inside <script>."""
    data = {"@context": "https://schema.org", **entity_node(linked, entity)}
    return _script_safe(json.dumps(data, ensure_ascii=False, sort_keys=True))


def _script_safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def graph_json(linked: LinkedSite) -> dict[str, Any]:
    """Return every entity as a node and every relation as an edge (graph.json)."""
    nodes, edges = [], []
    for key, entity in sorted(linked.site.entities.items()):
        nodes.append(
            {
                "id": key,
                "collection": entity.collection,
                "title": entity.title,
                "url": absolute(linked, entity.url),
                "summary": entity.summary,
                "date": entity.date.iso() if entity.date else None,
            }
        )
        for ref in linked.outgoing.get(key, ()):
            edges.append(
                {"source": key, "target": ref.target, "relation": ref.field, "role": ref.role or None}
            )
    edges.sort(key=lambda e: (e["source"], e["target"], e["relation"], e["role"] or ""))
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
    return {"nodes": nodes, "edges": edges, "facts": facts}


def graph_jsonld(linked: LinkedSite) -> dict[str, Any]:
    """Return every entity as schema.org JSON-LD in one @graph."""
    graph = [entity_node(linked, e) for _, e in sorted(linked.site.entities.items())]
    return {"@context": "https://schema.org", "@graph": graph}
