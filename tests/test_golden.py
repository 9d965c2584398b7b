"""The tiny site against its golden output; UPDATE_GOLDEN=1 rewrites expected/ on purpose."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from factbook.build import Options, build

from .conftest import SITES

TINY = SITES / "tiny"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_tiny_site_matches_golden_output(tmp_path: Path) -> None:
    root = tmp_path / "tiny"
    shutil.copytree(TINY / "content", root / "content")
    output = tmp_path / "out"
    report = build(Options(root, output))
    assert not report.problems
    expected = TINY / "expected"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(output, expected)
    built, golden = _files(output), _files(expected)
    assert sorted(built) == sorted(golden)
    for name, data in built.items():
        assert data == golden[name], f"{name} differs from tests/sites/tiny/expected/{name}"


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    build(Options(TINY, first))
    build(Options(TINY, second))
    assert _files(first) == _files(second)
