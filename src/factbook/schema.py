"""Collections declared as data, turned into JSON Schema, and front matter checked against them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .errors import Problem, did_you_mean
from .model import Collection, Document, FieldSpec
from .yamlio import YamlError, load_yaml

TYPES = ("string", "text", "integer", "number", "boolean", "date", "url", "value", "ref", "refs")
_JSON_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "text": {"type": "string"},
    "url": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": ["string", "integer"]},
    "value": {"type": ["string", "number"]},
    "ref": {"type": "string", "minLength": 1},
    "refs": {"type": "array", "items": {"type": "string", "minLength": 1}},
}
_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of fields",
}
COMMON_FIELDS = (
    FieldSpec("title", "string", "Title", required=True),
    FieldSpec("summary", "string", "Summary"),
    FieldSpec("slug", "string", "Slug"),
    FieldSpec("draft", "boolean", "Draft"),
    FieldSpec("topics", "refs", "Topics", to="topics"),
    FieldSpec("sources", "refs", "Sources", to="sources", inverse="Cited by"),
)


def default_declarations() -> str:
    """Return the text of the packaged collections.yaml."""
    return resources.files("factbook").joinpath("collections.yaml").read_text("utf-8")


def load_collections(
    default_text: str, site_text: str | None = None, site_path: str = ""
) -> tuple[dict[str, Collection], list[Problem]]:
    """Return the collections declared by the default text, overridden by a site's own."""
    declared: dict[str, Any] = load_yaml(default_text).data or {}
    problems: list[Problem] = []
    if site_text is not None:
        try:
            marked = load_yaml(site_text)
        except YamlError as error:
            return {}, [Problem(site_path, error.line + 1, error.message)]
        if not isinstance(marked.data, dict):
            return {}, [Problem(site_path, 1, "collections must be a mapping of names")]
        for name, body in marked.data.items():
            declared[name] = body
            problems += _check_declaration(name, body, site_path, marked.line((name,)) + 1)
    if problems:
        return {}, problems
    collections = {name: _collection(name, body or {}) for name, body in declared.items()}
    return collections, _check_targets(collections, site_path)


def _check_declaration(name: str, body: Any, path: str, line: int) -> list[Problem]:
    if not isinstance(body, dict):
        return [Problem(path, line, f"collection '{name}' must be a mapping")]
    problems = []
    for field_name, spec in _walk_specs(body.get("fields") or {}):
        kind = spec.get("type", "string") if isinstance(spec, dict) else None
        if kind not in (*TYPES, "list"):
            hint = did_you_mean(str(kind), (*TYPES, "list"))
            message = f"field '{field_name}' of '{name}' has unknown type '{kind}'"
            problems.append(Problem(path, line, message, hint))
    return problems


def _walk_specs(fields: dict[str, Any]) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for name, spec in fields.items():
        found.append((name, spec))
        if isinstance(spec, dict) and spec.get("type") == "list":
            found += [(f"{name}.{n}", s) for n, s in _walk_specs(spec.get("fields") or {})]
    return found


def _check_targets(collections: dict[str, Collection], path: str) -> list[Problem]:
    problems = []
    for collection in collections.values():
        for spec in _all_fields(collection.fields):
            if spec.is_reference and spec.to != "*" and spec.to not in collections:
                hint = did_you_mean(spec.to, collections)
                message = (
                    f"field '{spec.name}' of '{collection.name}' refers to unknown collection '{spec.to}'"
                )
                problems.append(Problem(path or "collections.yaml", 1, message, hint))
    return problems


def _all_fields(fields: tuple[FieldSpec, ...]) -> list[FieldSpec]:
    return [s for f in fields for s in (f, *_all_fields(f.fields))]


def _collection(name: str, body: dict[str, Any]) -> Collection:
    own = tuple(_field(n, s or {}) for n, s in (body.get("fields") or {}).items())
    common = tuple(f for f in COMMON_FIELDS if f.name not in {o.name for o in own})
    return Collection(
        name=name,
        title=str(body.get("title", name.title())),
        singular=str(body.get("singular", name.title())),
        description=str(body.get("description", "")),
        url=str(body.get("url", "/{collection}/{slug}/")),
        index=bool(body.get("index", True)),
        sort=str(body.get("sort", "title")),
        cites=bool(body.get("cites", True)),
        format=str(body.get("format", "markdown")),
        fields=common + own,
    )


def _field(name: str, spec: dict[str, Any]) -> FieldSpec:
    return FieldSpec(
        name=name,
        type=str(spec.get("type", "string")),
        label=str(spec.get("label", name.replace("_", " ").capitalize())),
        required=bool(spec.get("required", False)),
        to=str(spec.get("to", "")),
        inverse=str(spec.get("inverse", "")),
        enum=tuple(str(v) for v in spec.get("enum", ())),
        fields=tuple(_field(n, s or {}) for n, s in (spec.get("fields") or {}).items()),
    )


DATE_PATTERN = r"^(undated|~?(\d{4}(-\d{2}(-\d{2})?)?)?(/(\d{4}(-\d{2}(-\d{2})?)?)?)?)$"


def editor_schema(collection: Collection, slugs: dict[str, list[str]]) -> dict[str, Any]:
    """Return the JSON Schema an editor validates front matter with while typing.

    Dates get their pattern, and references the existing slugs as completions.
    """
    schema = json_schema(collection)

    def enrich(properties: dict[str, Any], fields: tuple[FieldSpec, ...]) -> None:
        for spec in fields:
            prop = properties[spec.name]
            if spec.type == "date":
                prop["anyOf"] = [{"type": "string", "pattern": DATE_PATTERN}, {"type": "integer"}]
                prop.pop("type")
                prop["description"] = (
                    "2013, 2005-05, 2009-10-05, 2009-10-05/2009-10-09, 1993/, ~2010 or undated"
                )
            elif spec.is_reference:
                pool = sorted(s for c, names in slugs.items() if spec.to in {"*", c} for s in names)
                target = prop["items"] if spec.type == "refs" else prop
                target["examples"] = pool
            elif spec.type == "list":
                enrich(prop["items"]["properties"], spec.fields)

    enrich(schema["properties"], collection.fields)
    return schema


def json_schema(collection: Collection) -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a collection's front matter."""
    schema = _object_schema(collection.fields)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = collection.singular
    if collection.description:
        schema["description"] = collection.description
    return schema


def _object_schema(fields: tuple[FieldSpec, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {f.name: _field_schema(f) for f in fields},
        "required": [f.name for f in fields if f.required],
        "additionalProperties": False,
    }


def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    if spec.type == "list":
        schema: dict[str, Any] = {"type": "array", "items": _object_schema(spec.fields)}
    else:
        schema = copy.deepcopy(_JSON_TYPES[spec.type])
    if spec.enum:
        schema["enum"] = list(spec.enum)
    if spec.required and spec.type in {"list", "refs"}:
        schema["minItems"] = 1
    schema["title"] = spec.label
    return schema


@lru_cache(maxsize=64)
def _validator(collection: Collection) -> Draft202012Validator:
    return Draft202012Validator(json_schema(collection))


@lru_cache(maxsize=64)
def _gate(collection: Collection) -> Callable[[Any], Any]:
    # fastjsonschema compiles the schema to Python and answers "valid?" some ten times faster;
    # jsonschema then explains, with every error, only the documents that are not.
    return fastjsonschema.compile(json_schema(collection))


def validate(doc: Document, collection: Collection) -> list[Problem]:
    """Return the problems of a document's data against its collection's schema."""
    if not isinstance(doc.data, dict):
        return [Problem(doc.path, doc.line(), "front matter must be a mapping of fields")]
    data = _without_nulls(doc.data)
    try:
        _gate(collection)(data)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    return [_problem(doc, error) for error in _validator(collection).iter_errors(data)]


def _without_nulls(value: Any) -> Any:
    """Return value with empty (null) fields left out: a blank field is an absent one."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _problem(doc: Document, error: ValidationError) -> Problem:
    path = tuple(error.absolute_path)
    line = doc.line(path)
    where = _dotted(path)
    if error.validator == "required":
        missing = str(error.message).split("'")[1]
        # A key written with no value is missing too; point at it rather than at the block.
        line = doc.lines.get((*path, missing), line)
        return Problem(doc.path, line, f"missing required field '{_dotted((*path, missing))}'")
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        extra = sorted(set(error.instance) - set(known))[0]
        line = doc.line((*path, extra))
        hint = did_you_mean(extra, known) or "known fields: " + ", ".join(sorted(known))
        return Problem(doc.path, line, f"unknown field '{_dotted((*path, extra))}'", hint)
    if error.validator == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else wanted
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
        got = _TYPE_WORDS.get(_json_type(error.instance), "empty")
        return Problem(doc.path, line, f"field '{where}' should be {words}, not {got}")
    if error.validator == "enum":
        allowed = [str(v) for v in error.validator_value]
        hint = did_you_mean(str(error.instance), allowed) or "use one of: " + ", ".join(allowed)
        return Problem(doc.path, line, f"field '{where}' has unknown value '{error.instance}'", hint)
    if error.validator in {"minItems", "minLength"}:
        return Problem(doc.path, line, f"field '{where}' must not be empty")
    return Problem(doc.path, line, f"field '{where}': {error.message}")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"
