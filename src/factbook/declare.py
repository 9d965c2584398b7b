"""Collections declared as data: the packaged starter, extended field by field by a site's own."""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from .errors import Problem, did_you_mean
from .model import Collection, FieldPath, FieldSpec
from .schema import TYPES, Checker, Words, explain
from .yamlio import Marked, YamlError, load_yaml

EVERY = "*"  # the declaration whose settings and fields every collection has
SHARED = "\0shared"  # marks a collection's own copy of a field every collection has
GROUPS = ("letter", "year", "folder")  # index sections besides those by a field

_TEXT: dict[str, Any] = {"type": "string"}
_FLAG: dict[str, Any] = {"type": "boolean"}
_NAME = {
    "type": "string",
    "pattern": "^[a-z0-9][a-z0-9_]*$",
    "title": "a field name: lowercase letters, digits and '_'",
}
_FIELD_SETTINGS: dict[str, Any] = {
    "type": {"enum": [*TYPES, "list"]},
    "label": _TEXT,
    "required": _FLAG,
    "to": _TEXT,
    "inverse": {"type": ["string", "boolean"]},
    "enum": {"type": "array", "items": {"type": ["string", "number"]}},
    "property": _TEXT,
    "note": _TEXT,
    "aside": _FLAG,
    "show": _FLAG,
    "translate": _FLAG,
    "fields": {"$ref": "#/$defs/fields"},
}
_COLLECTION_SETTINGS: dict[str, Any] = {
    "title": _TEXT,
    "singular": _TEXT,
    "description": _TEXT,
    "schema_type": _TEXT,
    "url": {"type": "string", "pattern": r"\{slug\}", "title": "a URL with {slug} in it"},
    "format": {"enum": ["markdown", "yaml"]},
    "template": _TEXT,
    "date": _TEXT,
    "sort": {"enum": ["title", "date"]},
    "timeline": _FLAG,
    "feed": _FLAG,
    "index": _FLAG,
    "group_by": {"type": "array", "items": _TEXT},
    "ties": _FLAG,
    "cites": {"type": ["string", "boolean"]},
    "related": _TEXT,
    "home": _FLAG,
    "vault": _FLAG,
    "links": {"enum": ["error", "warn"]},
    "fact_list": _TEXT,
    "fields": {"$ref": "#/$defs/fields"},
}


def _removable(properties: dict[str, Any]) -> dict[str, Any]:
    # A mapping of settings, or false to remove the thing; object keywords skip a boolean.
    return {
        "type": ["object", "boolean"],
        "not": {"const": True},
        "properties": properties,
        "additionalProperties": False,
    }


META_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "factbook collections.yaml",
    "type": "object",
    "propertyNames": {
        "pattern": r"^(\*|[a-z0-9][a-z0-9_-]*)$",
        "title": "a collection name: lowercase letters, digits, '-' and '_'",
    },
    "additionalProperties": {"$ref": "#/$defs/collection"},
    "$defs": {
        "collection": _removable(_COLLECTION_SETTINGS),
        "field": _removable(_FIELD_SETTINGS),
        "fields": {
            "type": "object",
            "propertyNames": _NAME,
            "additionalProperties": {"$ref": "#/$defs/field"},
        },
    },
}


class _SettingWords(Words):
    noun = "setting"

    def where(self, path: FieldPath) -> str:
        names = [str(p) for p in path]
        if not names:
            return "collections.yaml"
        owner = f"collection '{names[0]}'" if names[0] != EVERY else "every collection ('*')"
        inner = names[1:]
        fields = []
        while len(inner) >= 2 and inner[0] == "fields":
            fields.append(inner[1])
            inner = inner[2:]
        if fields:
            owner = f"field '{'.'.join(fields)}' of {owner}"
        if not inner:
            return owner
        return f"setting '{inner[0]}' of {owner}"

    def unknown(self, path: FieldPath, key: str) -> str:
        if not path:
            return f"'{key}' is not a collection name"
        if path[-1] == "fields":
            return f"unknown field '{key}' in {self.where(path[:-1])}"
        return f"unknown setting '{key}' of {self.where(path)}"


_WORDS = _SettingWords()


@dataclass(frozen=True, slots=True)
class Declared:
    """The collections a site has, and the problems of its declarations."""

    collections: dict[str, Collection]
    problems: tuple[Problem, ...]


def packaged_declarations() -> str:
    """Return the text of the packaged collections.yaml."""
    return resources.files("factbook").joinpath("collections.yaml").read_text("utf-8")


def declare_collections(packaged: str, site_text: str | None = None, site_path: str = "") -> Declared:
    """Return the packaged collections extended, relabelled or removed by a site's own declarations."""
    declared = copy.deepcopy(_packaged(packaged))
    if site_text is None:
        return Declared(_collections(declared, set()), ())
    try:
        marked = load_yaml(site_text)
    except YamlError as error:
        return Declared({}, (Problem(site_path, error.line + 1, error.message),))
    data = marked.data if marked.data is not None else {}
    if not isinstance(data, dict):
        return Declared(
            {}, (Problem(site_path, 1, "collections.yaml must be a mapping of collection names"),)
        )
    errors = _META.errors(data)
    problems = explain(errors, site_path, marked.lines, _WORDS, 1)
    # The rest is checked too, without what is malformed, so that one run names every problem.
    data = _without(data, errors)
    removed: set[str] = set()
    for name, body in data.items():
        line = marked.line((name,)) + 1
        if body is False:
            if name not in declared or name == EVERY:
                hint = did_you_mean(name, [n for n in declared if n != EVERY])
                problems.append(Problem(site_path, line, f"no collection '{name}' to remove", hint))
            else:
                del declared[name]
                removed.add(name)
        elif name in declared:
            shared = {} if name == EVERY else (declared.get(EVERY) or {}).get("fields") or {}
            problems += _merge(declared[name], body or {}, (name,), marked, site_path, shared)
        else:
            declared[name] = body or {}
    collections = _collections(declared, removed)
    problems += _check(collections, declared, marked, site_path)
    return Declared(collections if not problems else {}, tuple(problems))


def _without(data: dict[str, Any], errors: list[Any]) -> dict[str, Any]:
    """Return a copy of data with every value the meta-schema rejected left out."""
    data = copy.deepcopy(data)
    for error in sorted(errors, key=lambda e: -len(e.absolute_path)):
        path = list(error.absolute_path)
        node: Any = data
        for part in path[:-1]:
            node = node[part] if isinstance(node, dict | list) else None
        last = path[-1] if path else None
        names = "propertyNames" in error.schema_path  # a key is wrong, not the value under it
        if error.validator == "additionalProperties" or names:
            target = node[last] if last is not None and isinstance(node, dict) else node
            if isinstance(target, dict) and names:
                target.pop(error.instance, None)
            elif isinstance(target, dict):
                known = error.schema.get("properties", {})
                for key in [k for k in target if k not in known]:
                    del target[key]
        elif isinstance(node, dict) and last in node:
            del node[last]
        elif isinstance(node, list) and isinstance(last, int) and last < len(node):
            node[last] = None
    return data


@lru_cache(maxsize=4)
def _packaged(text: str) -> dict[str, Any]:
    return load_yaml(text).data or {}


_META = Checker(META_SCHEMA)


def _merge(
    base: dict[str, Any],
    extra: dict[str, Any],
    path: FieldPath,
    marked: Marked,
    file: str,
    shared: dict[str, Any] | None = None,
) -> list[Problem]:
    """Merge a site's settings for a declared collection or field into it, field by field.

    shared holds the fields every collection has: a collection may drop or relabel its own copy.
    """
    shared = shared or {}
    problems: list[Problem] = []
    for key, value in extra.items():
        if key != "fields":
            base[key] = value
            continue
        fields = base.setdefault("fields", {}) or {}
        base["fields"] = fields
        for name, spec in (value or {}).items():
            here = (*path, "fields", name)
            if name not in fields and isinstance(shared.get(name), dict):
                fields[name] = {**copy.deepcopy(shared[name]), SHARED: True}  # this collection's own copy
            if spec is False:
                if name not in fields:
                    hint = did_you_mean(name, fields)
                    message = f"no field '{name}' to drop in {_WORDS.where(path)}"
                    problems.append(Problem(file, marked.line(here) + 1, message, hint))
                else:
                    fields[name] = False
            elif name in fields and isinstance(fields[name], dict):
                problems += _merge(fields[name], spec or {}, here, marked, file)
            elif isinstance(spec, dict) and "type" not in spec and fields:
                # A new field of a declared collection says what it holds; else it is a typo.
                hint = did_you_mean(name, fields) or "give it a type: string, date, refs, ..."
                message = f"new field '{name}' of {_WORDS.where(path)} has no type"
                problems.append(Problem(file, marked.line(here) + 1, message, hint))
            else:
                fields[name] = spec or {}
    return problems


def _collections(declared: dict[str, Any], removed: set[str]) -> dict[str, Collection]:
    every = declared.get(EVERY) or {}
    shared = {n: s for n, s in (every.get("fields") or {}).items() if s is not False}
    settings = {k: v for k, v in every.items() if k != "fields"}
    found = {}
    for name, body in declared.items():
        if name == EVERY:
            continue
        own = body.get("fields") or {}
        fields = [_field(n, s, removed) for n, s in own.items() if s is not False]
        fields += [_field(n, s, removed, shared=True) for n, s in shared.items() if n not in own]
        found[name] = _collection(name, {**settings, **body}, tuple(f for f in fields if f is not None))
    return found


def _field(name: str, spec: dict[str, Any], removed: set[str], shared: bool = False) -> FieldSpec | None:
    spec = spec or {}
    if spec.get("to") in removed:
        return None  # a reference to a collection the site removed goes with it
    inverse = spec.get("inverse", "{collection}")
    inner = (spec.get("fields") or {}).items()
    return FieldSpec(
        name=name,
        type=str(spec.get("type", "string")),
        label=str(spec.get("label", name.replace("_", " ").capitalize())),
        required=bool(spec.get("required", False)),
        to=str(spec.get("to", "")),
        inverse="{collection}" if inverse is True else (inverse or ""),
        enum=tuple(str(v) for v in spec.get("enum", ())),
        fields=tuple(f for n, s in inner if s is not False and (f := _field(n, s, removed)) is not None),
        schema_property=str(spec.get("property", "")),
        note=str(spec.get("note", "")),
        aside=bool(spec.get("aside", False)),
        show=bool(spec.get("show", True)),
        translate=bool(spec.get("translate", False)),
        shared=shared or bool(spec.get(SHARED)),
    )


_BUILT_IN = (
    FieldSpec("title", "string", "Title", required=True, schema_property="name", translate=True),
    FieldSpec("summary", "string", "Summary", schema_property="description", translate=True),
    FieldSpec("slug", "string", "Slug"),
    FieldSpec("draft", "boolean", "Draft"),
)


def _collection(name: str, body: dict[str, Any], fields: tuple[FieldSpec, ...]) -> Collection:
    title = str(body.get("title", name.replace("_", " ").capitalize()))
    vault = bool(body.get("vault", False))
    built_in = tuple(
        replace(f, required=False, type="value") if vault and f.name == "title" else f
        for f in _BUILT_IN
        if f.name not in {o.name for o in fields}
    )
    cites = body.get("cites", "")
    names = {f.name for f in fields}
    return Collection(
        name=name,
        title=title,
        singular=str(body.get("singular", title)),
        description=str(body.get("description", "")),
        schema_type=str(body.get("schema_type", "Thing")),
        url=str(body.get("url", "/{collection}/{slug}/")),
        format=str(body.get("format", "markdown")),
        template=str(body.get("template", "entity")),
        date=str(body.get("date", "")),
        sort=str(body.get("sort", "title")),
        timeline=bool(body.get("timeline", False)),
        feed=bool(body.get("feed", False)),
        index=bool(body.get("index", True)),
        group_by=tuple(str(g) for g in body.get("group_by", ("letter",))),
        ties=bool(body.get("ties", False)),
        # A cited field that went with a removed collection leaves nothing to cite.
        cites=cites if isinstance(cites, str) and cites in names else "",
        related=str(body.get("related", "Related")),
        home=bool(body.get("home", False)),
        vault=vault,
        links=str(body.get("links", "error")),
        fact_list=str(body.get("fact_list", "")),
        fields=built_in + fields,
    )


def _check(
    collections: dict[str, Collection], declared: dict[str, Any], marked: Marked, file: str
) -> list[Problem]:
    """Return the settings that name a field or collection that does not exist."""
    problems: list[Problem] = []
    site = marked.data

    def at(*path: str | int) -> int:
        # The site's own line for a setting it wrote; else the line of its collection.
        for depth in range(len(path), 0, -1):
            if path[:depth] in marked.lines and _wrote(site, path[:depth]):
                return marked.line(path[:depth]) + 1
        return marked.line((path[0],)) + 1 if (path[0],) in marked.lines else 1

    for name, collection in collections.items():
        body = declared.get(name) or {}
        fields = {f.name: f for f in collection.fields}
        for setting in ("date", "fact_list"):
            value = getattr(collection, setting)
            if value and value not in fields:
                message = f"setting '{setting}' of collection '{name}' names unknown field '{value}'"
                problems.append(Problem(file, at(name, setting), message, did_you_mean(value, fields)))
        cites = body.get("cites", (declared.get(EVERY) or {}).get("cites"))
        if isinstance(cites, str) and cites not in fields and _wrote(site, (name, "cites")):
            message = f"setting 'cites' of collection '{name}' names unknown field '{cites}'"
            problems.append(Problem(file, at(name, "cites"), message, did_you_mean(cites, fields)))
        if collection.date and collection.date in fields and fields[collection.date].type != "date":
            message = f"setting 'date' of collection '{name}' names '{collection.date}', which is not a date"
            problems.append(Problem(file, at(name, "date"), message))
        for setting in ("sort", "timeline", "feed"):
            wants = collection.sort == "date" if setting == "sort" else getattr(collection, setting)
            if wants and not collection.date:
                message = (
                    f"setting '{setting}' of collection '{name}' needs a date: set 'date' to a date field"
                )
                problems.append(Problem(file, at(name, setting), message))
        for i, group in enumerate(collection.group_by):
            if group == "year" and not collection.date:
                message = f"collection '{name}' is grouped by year but sets no 'date' field"
                problems.append(Problem(file, at(name, "group_by", i), message))
            elif group not in (*GROUPS, *fields):
                hint = did_you_mean(group, (*GROUPS, *fields))
                message = f"setting 'group_by' of collection '{name}' names unknown field '{group}'"
                problems.append(Problem(file, at(name, "group_by", i), message, hint))
        problems += _check_fields(file, name, collection.fields, collections, fields, at)
    return problems


def _check_fields(
    file: str,
    name: str,
    specs: tuple[FieldSpec, ...],
    collections: dict[str, Collection],
    siblings: dict[str, FieldSpec],
    at: Any,
    path: tuple[str, ...] = (),
) -> list[Problem]:
    problems = []
    for spec in specs:
        here = (*path, spec.name)
        where = f"field '{'.'.join(here)}' of collection '{name}'"
        owner = EVERY if spec.shared else name
        line_path = [owner, *[p for n in here for p in ("fields", n)]]
        if spec.is_reference and spec.to != "*" and spec.to not in collections:
            message = f"{where} refers to unknown collection '{spec.to or ''}'"
            hint = did_you_mean(spec.to, collections) or "known: " + ", ".join(sorted(collections))
            problems.append(Problem(file, at(*line_path, "to"), message, hint))
        if spec.note and spec.note not in siblings:
            message = f"{where} names unknown field '{spec.note}' as its note"
            problems.append(Problem(file, at(*line_path, "note"), message, did_you_mean(spec.note, siblings)))
        if spec.type == "list":
            inner = {f.name: f for f in spec.fields}
            problems += _check_fields(file, name, spec.fields, collections, inner, at, here)
    return problems


def _wrote(data: Any, path: FieldPath) -> bool:
    """Return whether the site's own declarations hold a value at path."""
    node = data
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return False
    return True
