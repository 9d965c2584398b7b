"""Whole-site files for machines: the knowledge graph, and the data downloads of the Data page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection
from typing import Any

from .link import LinkedSite
from .model import Entity, FieldSpec
from .render import DataTable, Output, data_tables
from .semantic import GraphReuse, absolute, graph_files

Row = dict[str, Any]


GRAPH = ("graph.json", "graph.jsonld")


def graph_exports(
    linked: LinkedSite, parts: Collection[str] | None = None, reuse: GraphReuse | None = None
) -> list[Output]:
    """Return the whole-site exports: the graph as JSON and schema.org JSON-LD, and every data download.

    With parts, only the graph files (if "" is among them) and the data downloads of the
    collections named. With reuse, the graph files' parts of the pages it names are those of the
    last build's files. Where each page's parts are is kept in linked.memo["graph_spans"].
    """
    outputs = []
    if parts is None or "" in parts:
        json_file, jsonld_file, linked.memo["graph_spans"] = graph_files(linked, reuse)
        outputs += [Output(GRAPH[0], json_file), Output(GRAPH[1], jsonld_file)]
    return outputs + data_exports(linked, parts)


def export_files(linked: LinkedSite) -> set[str]:
    """Return the path of every file graph_exports makes."""
    found = set(GRAPH)
    for table in data_tables(linked):
        found.update(f"{table.path}.{extension}" for extension in table.formats)
    return found


def data_exports(linked: LinkedSite, collections: Collection[str] | None = None) -> list[Output]:
    """Return every table of the Data page (or those of the collections named) as a file per
    format it is offered in (CSV, JSON)."""
    outputs = []
    for table in data_tables(linked):
        if collections is not None and table.collection.name not in collections:
            continue
        rows = _item_rows(linked, table) if table.items else _page_rows(linked, table)
        if "csv" in table.formats:
            outputs.append(Output(f"{table.path}.csv", _csv(table.columns, rows)))
        if "json" in table.formats:
            outputs.append(Output(f"{table.path}.json", _json(rows)))
    return outputs


def _page_rows(linked: LinkedSite, table: DataTable) -> list[Row]:
    """Return one row per page of the table's collection, in key order."""
    rows = []
    for key, entity in _in_key_order(linked).get(table.collection.name, ()):
        row: Row = {
            "key": key,
            "slug": entity.slug,
            "page_url": absolute(linked, entity.url),
            "title": entity.title,
            "summary": entity.summary,
        }
        for spec in table.columns:
            if spec.name not in row:
                row[spec.name] = _value(entity, spec, entity.fields.get(spec.name), spec.name)
        rows.append(row)
    return rows


def _in_key_order(linked: LinkedSite) -> dict[str, list[tuple[str, Entity]]]:
    """Return each collection's pages in key order (made once per linked site)."""
    made = linked.memo.get("in_key_order")
    if made is None:
        made = {}
        for key, entity in sorted(linked.site.entities.items()):
            made.setdefault(entity.collection, []).append((key, entity))
        linked.memo["in_key_order"] = made
    return made  # type: ignore[no-any-return]


def _item_rows(linked: LinkedSite, table: DataTable) -> list[Row]:
    """Return one row per item of the table's fact list, sheets in key order, items as written."""
    spec = table.items
    assert spec is not None
    rows = []
    for key, facts in sorted(linked.site.facts.items()):
        entity = linked.entity(key)
        if entity.collection != table.collection.name:
            continue
        written = entity.fields.get(spec.name)
        listed = written if isinstance(written, list) else []
        items = [(i, o) for i, o in enumerate(listed) if isinstance(o, dict)]
        # A fact is made from each object of the list, in order: the two line up one to one.
        for fact, (i, obj) in zip(facts, items, strict=True):
            values = _object(entity, spec, obj, i)
            rows.append({c.name: values.get(c.name) for c in table.columns} | {"sheet": key, "id": fact.id})
    return rows


def _value(entity: Entity, spec: FieldSpec, value: Any, field: str, item: int = -1) -> Any:
    """Return a field's value as the data files hold it: references as keys, dates as written."""
    if value is None:
        return None
    if spec.is_reference:
        # The references made from this value, resolved: a bare slug becomes collection/slug.
        keys = [r.target for r in entity.refs if r.field == field and r.item == item]
        if spec.type == "ref":
            return keys[0] if keys else str(value)
        return keys if keys or not isinstance(value, list) else [str(v) for v in value]
    if spec.type == "list" and isinstance(value, list) and item == -1:
        return [_object(entity, spec, o, i) if isinstance(o, dict) else o for i, o in enumerate(value)]
    if spec.type == "date":
        return str(value)
    return value


def _object(entity: Entity, spec: FieldSpec, obj: dict[str, Any], item: int) -> Row:
    """Return one object of a list field with its declared fields' values, references as keys."""
    return {
        sub.name: _value(entity, sub, obj[sub.name], f"{spec.name}.{sub.name}", item)
        for sub in spec.fields
        if sub.name in obj
    }


def _csv(columns: tuple[FieldSpec, ...], rows: list[Row]) -> bytes:
    """Return the rows as CSV under a header of the column names."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = [c.name for c in columns]
    writer.writerow(names)
    writer.writerows([_cell(row.get(n)) for n in names] for row in rows)
    return buffer.getvalue().encode()


def _cell(value: Any) -> str:
    """Return a value as CSV text: a list of plain values joined by '; ', objects as JSON."""
    if type(value) is str:  # most cells: first, before the tests that cannot match them
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return str(value)


def _json(data: object) -> bytes:
    # Compact: with indent, json falls back from its C encoder to a far slower Python one.
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()
