"""Collections declared as data, turned into JSON Schema, and front matter checked against them."""

from __future__ import annotations

import copy
import hashlib
import json
import marshal
import sys
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import fastjsonschema

from .errors import Problem, did_you_mean
from .model import Collection, Document, FieldPath, FieldSpec

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

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
    "object": "a mapping",
}
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
    if collection.vault:  # a notes app's own keys (aliases, cssclasses, publish, ...) are kept
        schema["additionalProperties"] = True
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


class CodeStore(Protocol):
    """Where compiled validators are kept between builds (cache.ValidatorCache)."""

    def get(self, key: str) -> bytes | None:
        """Return the code kept under key, if any."""

    def put(self, key: str, code: bytes) -> None:
        """Keep code under key."""


_STORE: list[CodeStore] = []  # the builder's, while it keeps a cache


def keep_compiled(store: CodeStore | None) -> None:
    """Have validators compiled from now on kept in store (or no longer kept, with None)."""
    _STORE[:] = [store] if store is not None else []


def _compiled(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """Return fastjsonschema's validator of a schema, its code taken from the store if kept there.

    Writing and compiling a collection's validator took two to three milliseconds, one after
    another at the start of every build.
    """
    text = json.dumps(schema, sort_keys=True, default=repr)
    made = f"{fastjsonschema.VERSION}\0{sys.implementation.cache_tag}\0{text}"
    key = hashlib.blake2b(made.encode(), digest_size=16).hexdigest()
    code = None
    kept = _STORE[0].get(key) if _STORE else None
    if kept is not None:
        try:
            code = marshal.loads(kept)
        except (EOFError, ValueError, TypeError):
            code = None
    if code is None:
        code = compile(fastjsonschema.compile_to_code(schema), "<validator>", "exec")
        if _STORE:
            _STORE[0].put(key, marshal.dumps(code))
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # the module fastjsonschema wrote: its imports, patterns and validate()
    return namespace["validate"]  # type: ignore[no-any-return]


class Checker:
    """A JSON Schema check that answers "valid?" with fastjsonschema (compiled on first use,
    some ten times quicker), and explains with jsonschema (imported only then: it takes a sixth
    of a second), with every error, only what is not."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self._gate: Callable[[Any], Any] | None = None
        self._full: Draft202012Validator | None = None

    def errors(self, data: Any) -> list[ValidationError]:
        """Return every way data breaks the schema (none if it keeps to it)."""
        if self._gate is None:
            self._gate = _compiled(self.schema)
        try:
            self._gate(data)
            return []
        except fastjsonschema.JsonSchemaException:
            pass
        if self._full is None:
            from jsonschema import Draft202012Validator

            self._full = Draft202012Validator(self.schema)
        return list(self._full.iter_errors(data))


@lru_cache(maxsize=64)
def _checker(collection: Collection) -> Checker:
    return Checker(json_schema(collection))


def validate(doc: Document, collection: Collection) -> list[Problem]:
    """Return the problems of a document's data against its collection's schema."""
    if not isinstance(doc.data, dict):
        return [Problem(doc.path, doc.line(), "front matter must be a mapping of fields")]
    errors = _checker(collection).errors(without_nulls(doc.data))
    return explain(errors, doc.path, doc.lines, FIELD_WORDS)


def without_nulls(value: Any) -> Any:
    """Return value with empty (null) fields left out: a blank field is an absent one."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def dotted(path: FieldPath) -> str:
    """Return a path to a value as a writer reads it: 'roles[2].body'."""
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class Words:
    """How the problems of one kind of file name what they are about."""

    noun = "field"

    def where(self, path: FieldPath) -> str:
        """Return the words that name the value at path."""
        return f"{self.noun} '{dotted(path)}'"

    def unknown(self, path: FieldPath, key: str) -> str:
        """Return the message for a key that the schema does not know."""
        return f"unknown {self.noun} '{dotted((*path, key))}'"


FIELD_WORDS = Words()


def explain(
    errors: Any, path: str, lines: Mapping[FieldPath, int], words: Words, offset: int = 0
) -> list[Problem]:
    """Return one problem per thing wrong, at its own line, from jsonschema's errors."""
    found: list[Problem] = []
    for error in errors:
        found += _problems(error, path, lines, words, offset)
    return found


def _line(lines: Mapping[FieldPath, int], path: FieldPath, offset: int) -> int:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1 - offset) + offset


def _problems(
    error: ValidationError, file: str, lines: Mapping[FieldPath, int], words: Words, offset: int
) -> list[Problem]:
    path = tuple(error.absolute_path)
    line = _line(lines, path, offset)
    where = words.where(path)
    if error.validator == "required":
        missing = str(error.message).split("'")[1]
        # A key written with no value is missing too; point at it rather than at the block.
        line = _line(lines, (*path, missing), offset) if (*path, missing) in lines else line
        return [Problem(file, line, f"missing required {words.where((*path, missing))}")]
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        problems = []
        for extra in sorted(set(error.instance) - set(known)):
            hint = did_you_mean(extra, known) or (
                f"known {words.noun}s: " + ", ".join(sorted(known)) if known else ""
            )
            problems.append(
                Problem(file, _line(lines, (*path, extra), offset), words.unknown(path, extra), hint)
            )
        return problems
    if error.validator == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else wanted
        text = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
        got = _TYPE_WORDS.get(_json_type(error.instance), "empty")
        return [Problem(file, line, f"{where} should be {text}, not {got}")]
    if error.validator in {"enum", "const"}:
        allowed = [str(v) for v in error.validator_value] if error.validator == "enum" else []
        hint = did_you_mean(str(error.instance), allowed) or (
            "use one of: " + ", ".join(allowed) if allowed else ""
        )
        return [Problem(file, line, f"{where} has unknown value '{error.instance}'", hint)]
    if error.validator in {"minItems", "minLength"}:
        return [Problem(file, line, f"{where} must not be empty")]
    if error.validator == "not":
        return [Problem(file, line, f"{where} should be a mapping of settings, or false to remove it")]
    if error.validator == "pattern":
        title = error.schema.get("title", "allowed")
        if "propertyNames" in error.schema_path:  # a key, not a value, is wrong: point at it
            key = str(error.instance)
            return [Problem(file, _line(lines, (*path, key), offset), f"'{key}' is not {title}")]
        return [Problem(file, line, f"{where} '{error.instance}' is not {title}")]
    if error.validator == "maxProperties":
        return [Problem(file, line, f"{where} should name one thing with its settings")]
    return [Problem(file, line, f"{where}: {error.message}")]


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
