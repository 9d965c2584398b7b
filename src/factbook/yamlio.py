"""YAML read into plain values together with the line of every value."""

from __future__ import annotations

import copy
from collections.abc import Mapping
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
# Deeper data is no fact sheet: it would only overflow the stack of whatever walks it.
MAX_DEPTH = 100
ALIAS_BUDGET = 10_000


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


def nearest_line(lines: Mapping[Path, int], path: Path, default: int) -> int:
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
    except RecursionError:  # pragma: no cover - libyaml composes without Python recursion
        return _raise(0, f"invalid YAML: nested more than {MAX_DEPTH} levels deep")
    if node is None:
        return Marked(None, {})
    # Without an anchor ('&') no node can be used twice: the alias bookkeeping, a third of
    # building a document's values, is left out.
    builder = _Builder(aliases="&" in text)
    data = builder.value(node, (), 0, node.start_mark.line)
    return Marked(data, builder.lines)


def _raise(line: int, message: str) -> Marked:
    raise YamlError(line, message)


class _Builder:
    """Turns composed YAML nodes into plain values, with the line of each, within bounds.

    An alias is the same node as its anchor: each use is a copy, and all the copies of a document
    together may hold at most ALIAS_BUDGET values, so that a few hundred bytes of nested aliases
    (a "billion laughs") cannot grow into gigabytes here or in whatever walks the data after.
    """

    def __init__(self, aliases: bool = True) -> None:
        self.aliases = aliases  # whether the document may use a node twice (it has an anchor)
        self.lines: dict[Path, int] = {}
        self.done: dict[int, Any] = {}  # a node's value, by the node's id
        self.sizes: dict[int, int] = {}  # how many values a node holds, itself included
        self.open: set[int] = set()  # the nodes being built: one met again is its own ancestor
        self.copied = 0

    def value(self, node: yaml.Node, path: Path, depth: int, line: int) -> Any:
        """Return the plain value of node, found at path on line (0-based)."""
        self.lines[path] = line
        if not self.aliases:
            if depth > MAX_DEPTH:
                raise YamlError(line, f"YAML nested more than {MAX_DEPTH} levels deep")
            return self._build(node, path, depth)
        key = id(node)
        if key in self.open:
            raise YamlError(line, "YAML alias refers to a value that holds it")
        if key in self.done:
            self.copied += self.sizes[key]
            if self.copied > ALIAS_BUDGET:
                raise YamlError(
                    line, f"YAML aliases expand to more than {ALIAS_BUDGET} values; write them out"
                )
            return copy.deepcopy(self.done[key])
        if depth > MAX_DEPTH:
            raise YamlError(line, f"YAML nested more than {MAX_DEPTH} levels deep")
        self.open.add(key)
        result = self._build(node, path, depth)
        self.open.discard(key)
        children = node.value if isinstance(node.value, list) else ()
        nested = (n for item in children for n in (item if isinstance(item, tuple) else (item,)))
        self.sizes[key] = 1 + sum(self.sizes.get(id(n), 1) for n in nested)
        self.done[key] = result
        return result

    def _build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(_scalar(key_node)) if isinstance(key_node, yaml.ScalarNode) else "?"
                if key in result:
                    raise YamlError(key_node.start_mark.line, f"duplicate key '{key}'")
                line = key_node.start_mark.line
                result[key] = self.value(value_node, (*path, key), depth + 1, line)
                self.lines[(*path, key)] = line
            return result
        if isinstance(node, yaml.SequenceNode):
            start = node.start_mark.line
            return [
                self.value(item, (*path, i), depth + 1, max(item.start_mark.line, start))
                for i, item in enumerate(node.value)
            ]
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
