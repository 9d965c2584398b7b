"""Site settings read from content/site.yaml into a SiteConfig, checked against their schema."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import markdown

from .errors import Problem, did_you_mean
from .model import Language, SiteConfig
from .schema import Checker, Words, explain
from .yamlio import YamlError, load_yaml

_TEXT = {"type": "string"}
SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "factbook site.yaml",
    "type": "object",
    "properties": {
        "title": _TEXT,
        "description": _TEXT,
        "language": _TEXT,
        "url": {
            "type": "string",
            "pattern": "^https?://[^/]+",
            "title": "a full address such as https://example.org/",
        },
        "base_url": _TEXT,
        "image": _TEXT,
        "copyright": _TEXT,
        "nav": {"type": "array", "items": _TEXT},
        "links": {"enum": ["error", "warn"]},
        "markdown": {
            "type": "object",
            "properties": {"unsafe_html": {"type": "boolean"}},
            "additionalProperties": False,
        },
        "language_name": _TEXT,
        "languages": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"},
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "name": _TEXT,
                    "locale": _TEXT,
                    "prefix": {"type": "string", "pattern": "^/[^/].*/$"},
                },
                "additionalProperties": False,
            },
        },
        "markdown_extensions": {
            "type": "array",
            "items": {
                "type": ["string", "object"],
                "maxProperties": 1,
                "minProperties": 1,
                "additionalProperties": {"type": ["object", "null"]},
            },
        },
    },
    "additionalProperties": False,
}
# Python-Markdown's own extensions, for "did you mean" when a name does not load.
KNOWN_EXTENSIONS = (
    "abbr",
    "admonition",
    "attr_list",
    "codehilite",
    "def_list",
    "extra",
    "fenced_code",
    "footnotes",
    "legacy_attrs",
    "legacy_em",
    "md_in_html",
    "meta",
    "nl2br",
    "sane_lists",
    "smarty",
    "tables",
    "toc",
    "wikilinks",
)


class _Words(Words):
    noun = "setting"


_CHECKER = Checker(SETTINGS_SCHEMA)


def parse_config(text: str | None, path: str) -> tuple[SiteConfig, list[Problem]]:
    """Return the settings written in site.yaml (defaults where it is absent) and its problems."""
    if text is None or not text.strip():
        return SiteConfig(path=path), []
    try:
        marked = load_yaml(text)
    except YamlError as error:
        return SiteConfig(path=path), [Problem(path, error.line + 1, error.message)]
    data = marked.data
    if not isinstance(data, dict):
        return SiteConfig(path=path), [Problem(path, 1, "site settings must be a mapping of names to values")]
    errors = _CHECKER.errors(data)
    problems = explain(errors, path, marked.lines, _Words(), 1)
    bad = {e.absolute_path[0] for e in errors if e.absolute_path}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in SETTINGS_SCHEMA["properties"] or value is None or key in bad:
            continue
        if key == "nav":
            values["nav"] = tuple(value)
            values["nav_lines"] = tuple(marked.line((key, i)) + 1 for i in range(len(value)))
        elif key == "markdown_extensions":
            extensions, found = _extensions(value, path, lambda i: marked.line((key, i)) + 1)  # noqa: B023
            values[key] = extensions
            problems += found
        elif key == "languages":
            values[key] = tuple(
                Language(
                    code,
                    str((spec or {}).get("name") or code),
                    str((spec or {}).get("locale") or code),
                    str((spec or {}).get("prefix") or f"/{code}/"),
                )
                for code, spec in value.items()
            )
        elif key == "markdown":
            values["unsafe_html"] = bool(value.get("unsafe_html"))
        elif key == "image":
            values["image"] = value
            values["image_line"] = marked.line((key,)) + 1
        elif key == "url":
            if "base_url" in data:
                message = "'url' and 'base_url' both set: 'base_url' is the older name of 'url'"
                problems.append(Problem(path, marked.line((key,)) + 1, message, "keep one of them"))
            values["base_url"] = value
        elif key != "base_url" or "url" not in data:
            values[key] = value
    return SiteConfig(path=path, **values), problems


def _extensions(
    items: list[Any], path: str, line_of: Any
) -> tuple[tuple[tuple[str, str], ...], list[Problem]]:
    """Return the Markdown extensions as (name, configuration JSON), and those that do not load."""
    found: list[tuple[str, str]] = []
    problems = []
    for i, item in enumerate(items):
        name, options = (item, {}) if isinstance(item, str) else next(iter(item.items()))
        options = options or {}
        try:
            extension = markdown.Markdown().build_extension(name, {})
        except Exception as error:  # an extension that does not import is the writer's to fix
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            message = f"markdown extension '{name}' does not load: {reason}"
            problems.append(Problem(path, line_of(i), message, did_you_mean(name, KNOWN_EXTENSIONS)))
            continue
        known = extension.getConfigs()
        unknown = sorted(set(options) - set(known))
        for option in unknown:
            message = f"markdown extension '{name}' has no option '{option}'"
            hint = did_you_mean(option, known) or "its options: " + ", ".join(sorted(known))
            problems.append(Problem(path, line_of(i), message, hint))
        if unknown:
            continue
        try:
            markdown.Markdown(extensions=[name], extension_configs={name: options})
        except Exception as error:  # a bad value for an option
            message = f"markdown extension '{name}' does not accept its options: {error}"
            problems.append(Problem(path, line_of(i), message))
            continue
        found.append((name, json.dumps(options, sort_keys=True, default=str)))
    return tuple(found), problems


def with_overrides(config: SiteConfig, base_url: str | None, drafts: bool) -> SiteConfig:
    """Return the settings with the command line's --base-url and --drafts applied."""
    changes: dict[str, Any] = {"drafts": drafts}
    if base_url is not None:
        changes["base_url"] = base_url
    return dataclasses.replace(config, **changes)
