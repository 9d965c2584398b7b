"""The knowledge graph for machines: graph.json and graph.jsonld (the sitemap and feeds are templates)."""

from __future__ import annotations

import json

from .link import LinkedSite
from .render import Output
from .semantic import graph_json, graph_jsonld


def graph_exports(linked: LinkedSite) -> list[Output]:
    """Return the graph exports: every entity and relation as JSON and as schema.org JSON-LD."""
    return [
        Output("graph.json", _json(graph_json(linked))),
        Output("graph.jsonld", _json(graph_jsonld(linked))),
    ]


def _json(data: object) -> bytes:
    # Compact: with indent, json falls back from its C encoder to a far slower Python one.
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()
