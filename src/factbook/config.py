"""Site settings read from content/site.yaml into a SiteConfig."""

from __future__ import annotations

import dataclasses
from typing import Any

from .errors import Problem, did_you_mean
from .model import SiteConfig
from .yamlio import YamlError, load_yaml

_FIELDS = {f.name: f for f in dataclasses.fields(SiteConfig) if f.name != "drafts"}


def parse_config(text: str | None, path: str) -> tuple[SiteConfig, list[Problem]]:
    """Return the settings written in site.yaml (defaults where it is absent) and its problems."""
    if text is None or not text.strip():
        return SiteConfig(), []
    try:
        marked = load_yaml(text)
    except YamlError as error:
        return SiteConfig(), [Problem(path, error.line + 1, error.message)]
    if not isinstance(marked.data, dict):
        return SiteConfig(), [Problem(path, 1, "site settings must be a mapping of names to values")]
    values: dict[str, Any] = {}
    problems = []
    for key, value in marked.data.items():
        line = marked.line((key,)) + 1
        if key not in _FIELDS:
            hint = did_you_mean(key, _FIELDS) or "known settings: " + ", ".join(sorted(_FIELDS))
            problems.append(Problem(path, line, f"unknown setting '{key}'", hint))
        elif key == "nav":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(Problem(path, line, "setting 'nav' should be a list of names"))
            else:
                values[key] = tuple(value)
        elif not isinstance(value, str):
            problems.append(Problem(path, line, f"setting '{key}' should be text"))
        else:
            values[key] = value
    return SiteConfig(**values), problems


def with_overrides(config: SiteConfig, base_url: str | None, drafts: bool) -> SiteConfig:
    """Return the settings with the command line's --base-url and --drafts applied."""
    changes: dict[str, Any] = {"drafts": drafts}
    if base_url is not None:
        changes["base_url"] = base_url
    return dataclasses.replace(config, **changes)
