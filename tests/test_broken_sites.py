"""One small broken site per error message: the exact `path:line: message` lines, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from factbook.build import Options, build

from .conftest import SITES

BROKEN = sorted(p.name for p in SITES.glob("broken-*"))


@pytest.mark.parametrize("name", BROKEN)
def test_broken_site_reports_exact_problems_and_keeps_the_old_output(name: str, tmp_path: Path) -> None:
    root = tmp_path / name
    shutil.copytree(SITES / name, root, symlinks=True)
    output = tmp_path / "out"
    output.mkdir()
    (output / "index.html").write_text("previous build")
    expected = (root / "expected.txt").read_text(encoding="utf-8").splitlines()
    # A site whose only problems are warnings fails (and keeps the old output) under --strict.
    strict = all(": warning: " in line for line in expected)
    report = build(Options(root, output, strict=strict))
    assert [str(p) for p in report.problems] == expected
    assert report.failed(strict=strict)
    assert [p.name for p in output.iterdir()] == ["index.html"]
    assert (output / "index.html").read_text() == "previous build"


def test_every_broken_site_has_one_kind_of_error() -> None:
    assert len(BROKEN) >= 19
    for name in BROKEN:
        assert (SITES / name / "expected.txt").read_text(encoding="utf-8").strip()
