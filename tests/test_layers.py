"""Data flows one way: a module may import only modules of lower stages (checked with ast)."""

from __future__ import annotations

import ast
from pathlib import Path

import factbook

PACKAGE = Path(factbook.__file__).parent

# load → model → link → render → write, with build, serve and the CLI on top.
STAGES: dict[str, int] = {
    "__init__": 0,
    "frozen": -1,
    "forking": -1,
    "errors": 0,
    "dates": 0,
    "words": 0.5,
    "collate": 0,
    "slugs": 0,
    "yamlio": 0,
    "urls": 0,
    "model": 1,
    "schema": 2,
    "declare": 2.5,
    "config": 2.5,
    "load": 3,
    "readahead": 3.2,
    "translate": 3.5,
    "assemble": 4,
    "names": 4.5,
    "obsidian": 0,
    "images": 0,
    "mdlinks": 5,
    "link": 6,
    "depend": 7,
    "embeds": 7,
    "views": 7,
    "pictures": 7.2,
    "semantic": 7,
    "indexes": 7.5,
    "exports": 9,
    "search": 9,
    "theme": 0,
    "render": 8,
    "catalogues": 7.7,
    "write": 9,
    "cache": 9,
    "stamp": 0.5,
    "parallel": 9.5,
    "build": 10,
    "scaffold": 11,
    "starter": 11,
    "rebuild": 10.5,
    "serve": 11,
    "cli": 12,
    "__main__": 13,
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level and node.module:
                found.add(node.module.split(".")[0])
            elif node.level:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("factbook."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("factbook."))
    return found


def test_every_module_has_a_stage() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules - set(STAGES) == set(), "give each new module a stage in STAGES"


def test_no_module_imports_a_higher_or_equal_stage() -> None:
    upward = []
    for path in sorted(PACKAGE.glob("*.py")):
        mine = STAGES[path.stem]
        for name in _imports(path) - {path.stem}:
            if name in STAGES and STAGES[name] >= mine and path.stem != "__main__":
                upward.append(f"{path.stem} (stage {mine}) imports {name} (stage {STAGES[name]})")
    assert upward == []


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "assemble.py"
    bad.write_text("from .render import render_site\nfrom factbook.build import build\n")
    assert _imports(bad) == {"render", "build"}
