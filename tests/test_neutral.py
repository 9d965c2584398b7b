"""The generator is neutral: no collection is named in its Python, and no subject in its defaults."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

import factbook

PACKAGE = Path(factbook.__file__).parent
BUILT_IN = sorted(n for n in yaml.safe_load((PACKAGE / "collections.yaml").read_text("utf-8")) if n != "*")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _strings(path: Path) -> list[tuple[int, str]]:
    """Return every string literal of a module (docstrings aside) with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    ]


def test_the_built_in_collections_are_the_ones_the_test_looks_for() -> None:
    assert BUILT_IN == [
        "events",
        "facts",
        "notes",
        "organizations",
        "pages",
        "people",
        "programmes",
        "sources",
        "topics",
    ]


# "facts" is also a key of factbook's own data formats (graph.json, check --format json): a word
# of the format, the same whatever a site calls its collections.
FORMAT_WORDS = {("cli.py", "facts"), ("semantic.py", "facts")}


def _names(text: str) -> set[str]:
    """Return the collection names a literal uses as a name, key or path (prose is left alone)."""
    if re.search(r"\s", text):
        return set()  # a message or help text: words such as "pages" are English there
    return set(re.findall(r"[a-z_]+", text)) & set(BUILT_IN)


def test_no_collection_name_appears_in_the_python() -> None:
    found = []
    for path in sorted(PACKAGE.glob("*.py")):
        for line, text in _strings(path):
            for name in sorted(_names(text)):
                if (path.name, text) not in FORMAT_WORDS:
                    found.append(f"{path.name}:{line}: {text!r} names '{name}'")
    assert found == []


def test_the_check_catches_a_hard_coded_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        '"""Docstrings may speak of events."""\nKIND = "events"\nX = f"/{1}/people/"\nY = "no pages"\n'
    )
    found = {text: sorted(_names(text)) for _, text in _strings(bad)}
    assert found == {"events": ["events"], "/": [], "/people/": ["people"], "no pages": []}


def test_the_packaged_defaults_name_no_country_or_subject() -> None:
    shipped = [PACKAGE / "collections.yaml", *sorted((PACKAGE.parent.parent / "templates").glob("*"))]
    shipped += sorted((PACKAGE / "starter").rglob("*"))
    for path in shipped:
        if path.is_file():
            text = path.read_text(encoding="utf-8").lower()
            assert "azerbaij" not in text and "azərbaycan" not in text, path
