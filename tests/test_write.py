"""Writing is all or nothing: a fresh folder swapped in, the old site kept on any failure."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from factbook.render import Output
from factbook.write import UnsafeOutput, check_output, write_site

ROOT = Path(__file__).parents[1]


def test_write_swaps_in_a_complete_site(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.html").write_text("old")
    count = write_site(out, [Output("index.html", b"new"), Output("a/b/index.html", b"b")], {})
    assert count == 2
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")) == [
        "a/b/index.html",
        "index.html",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_failure_while_writing_leaves_the_old_site_and_no_debris(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("old")

    def pages() -> Iterator[Output]:
        yield Output("index.html", b"new")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_site(out, pages(), {})
    assert (out / "index.html").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_output_inside_static_or_templates_is_refused(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "static").mkdir()
    with pytest.raises(UnsafeOutput, match="static"):
        check_output(tmp_path / "static" / "out", tmp_path)
    check_output(tmp_path / "public", tmp_path)


def test_the_wheel_ships_the_theme_and_the_collections(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("factbook-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "templates/base.html",
        "templates/entity.html",
        "static/assets/factbook.css",
        "collections.yaml",
    ):
        assert f"factbook/{name}" in names
