"""What machines read: schema.org JSON-LD per page, and the knowledge graph of all entities."""

from __future__ import annotations

import json
from typing import Any

from .dates import DateError, PartialDate, parse_date
from .link import LinkedSite, url_for
from .model import Entity, FieldSpec

# schema.org properties whose value, given as text, names a thing of this type.
NAMED = {"location": "Place", "publisher": "Organization", "organizer": "Organization"}


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
    """Return the schema.org description of one entity, fields and relations as properties."""
    collection = linked.site.collections[entity.collection]
    node: dict[str, Any] = {
        "@type": collection.schema_type,
        "@id": node_id(linked, entity.key),
        "name": entity.title,
        "url": node_id(linked, entity.key),
    }
    if entity.summary:
        node["description"] = entity.summary
    for spec in collection.fields:
        value = entity.fields.get(spec.name)
        if not spec.schema_property or spec.is_reference or spec.type == "list" or value in (None, ""):
            continue
        if spec.schema_property in node:
            continue
        if spec.type == "date":
            node.update(_dates(spec.schema_property, value))
        elif spec.schema_property in NAMED:
            node[spec.schema_property] = {"@type": NAMED[spec.schema_property], "name": str(value)}
        else:
            node[spec.schema_property] = value if isinstance(value, int | float) else str(value)
    specs = _specs(collection.fields)
    for ref in entity.refs:
        spec = specs.get(ref.field)
        prop = spec.schema_property if spec is not None and spec.schema_property else "mentions"
        if isinstance(node.get(prop), dict):  # a named value is replaced by the linked entity
            del node[prop]
        node.setdefault(prop, []).append({"@id": node_id(linked, ref.target)})
    return node


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
                "date": entity.date.iso() if entity.date and not entity.date.undated else None,
            }
        )
        for ref in linked.outgoing.get(key, ()):
            if ref.target == key:  # a page that names itself is no relation
                continue
            edges.append(
                {"source": key, "target": ref.target, "relation": ref.field, "role": ref.role or None}
            )
    unique = {(e["source"], e["target"], e["relation"], e["role"] or ""): e for e in edges}
    edges = [unique[k] for k in sorted(unique)]
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
