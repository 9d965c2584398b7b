"""YAML read into plain values together with the line of every value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

try:  # libyaml's parser is about ten times faster than the pure-Python one
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[str | int, ...]

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


@dataclass(frozen=True, slots=True)
class YamlError(Exception):
    """Raised for YAML that does not parse, with the 0-based line of the problem."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Marked:
    """Plain data read from YAML, and the 0-based line of each value by its path."""

    data: Any
    lines: dict[Path, int]

    def line(self, path: Path) -> int:
        """Return the 0-based line of the value at path, or of its nearest parent."""
        return nearest_line(self.lines, path, 0)


def nearest_line(lines: dict[Path, int], path: Path, default: int) -> int:
    """Return the line recorded for path, or for its nearest parent that has one."""
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, default)


def load_yaml(text: str) -> Marked:
    """Return the data of one YAML document with its lines, or raise YamlError."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line if mark else 0
        if line > text.count("\n") and error.context_mark:  # at the end: name where it opened
            line = error.context_mark.line
        problem = error.problem or "is not valid YAML"
        return _raise(line, f"invalid YAML: {problem}")
    except yaml.YAMLError as error:  # reader errors: control characters and the like
        return _raise(0, f"invalid YAML: {error}")
    lines: dict[Path, int] = {}
    data = _construct(node, (), lines) if node is not None else None
    return Marked(data, lines)


def _raise(line: int, message: str) -> Marked:
    raise YamlError(line, message)


def _construct(node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    lines[path] = node.start_mark.line
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_scalar(key_node)) if isinstance(key_node, yaml.ScalarNode) else "?"
            if key in result:
                raise YamlError(key_node.start_mark.line, f"duplicate key '{key}'")
            result[key] = _construct(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    # Timestamps stay text: partial dates are parsed by factbook.dates, never by YAML.
    value = node.value
    tag = node.tag
    if tag == _INT:
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            return value
    if tag == _FLOAT:
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return value
    if tag == _BOOL:
        return value.lower() in {"true", "yes", "on"}
    if tag == _NULL:
        return None
    return value
