"""The build's search index: made while the build writes its other files, whole, or the build fails."""

from __future__ import annotations

import gzip
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from factbook.cli import main
from tests.conftest import SITES


def _indexed(output: Path) -> str:
    """Return the text of every page in the output's search index."""
    fragments = (output / "pagefind" / "fragment").iterdir()
    return "\n".join(gzip.decompress(f.read_bytes()).decode("utf-8", "replace") for f in fragments)


def _site(tmp_path: Path) -> Path:
    root = tmp_path / "species"
    shutil.copytree(SITES / "species", root)
    return root


def test_the_index_holds_every_page_and_a_page_among_the_sites_own_files(tmp_path: Path) -> None:
    root = _site(tmp_path)
    static = root / "static"
    static.mkdir()
    # Written after Pagefind has started on the pages: the index must hold it all the same.
    (static / "note.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Note</title></head>'
        "<body><main data-pagefind-body><h1>Note</h1><p>Quokkaword lives here.</p></main></body></html>",
        encoding="utf-8",
    )
    output = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "-s", str(root), "-o", str(output), "-j", "1"])
    assert result.exit_code == 0, result.output
    text = _indexed(output)
    assert "Quokkaword" in text
    pages = [p for p in output.rglob("*.html") if "data-pagefind-body" in p.read_text(encoding="utf-8")]
    assert len(pages) > 5
    assert len(list((output / "pagefind" / "fragment").iterdir())) == len(pages)

    # A later build, in place, indexes the edit again and leaves nothing beside the output.
    page = next((root / "content" / "species").glob("*.md"))
    page.write_text(page.read_text(encoding="utf-8") + "\n\nWombatword.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "-s", str(root), "-o", str(output), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "updated" in result.output and "Wombatword" in _indexed(output)
    assert not list(output.parent.glob(".*pagefind*"))


@pytest.mark.parametrize("first", [True, False], ids=["whole-build", "in-place-update"])
def test_a_failing_pagefind_fails_the_build_and_keeps_the_old_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: bool
) -> None:
    root = _site(tmp_path)
    output = tmp_path / "out"
    if not first:
        result = CliRunner().invoke(main, ["build", "-s", str(root), "-o", str(output), "-j", "1"])
        assert result.exit_code == 0, result.output
        page = next((root / "content" / "species").glob("*.md"))
        page.write_text(page.read_text(encoding="utf-8") + "\n\nAn edit.\n", encoding="utf-8")
    before = sorted(p.relative_to(output).as_posix() for p in output.rglob("*")) if output.exists() else []
    broken = tmp_path / "pagefind"
    broken.write_text("#!/bin/sh\necho 'Error: the disk is on fire' >&2\nexit 3\n", encoding="utf-8")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(broken))
    result = CliRunner().invoke(main, ["build", "-s", str(root), "-o", str(output), "-j", "1"])
    assert result.exit_code == 1
    assert "search index: pagefind failed: Error: the disk is on fire" in result.output
    after = sorted(p.relative_to(output).as_posix() for p in output.rglob("*")) if output.exists() else []
    if first:
        assert after == [] and not output.exists()
    else:
        assert after == before  # pages written in place stay; the old index is whole
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".out")]  # no staging folder left

    # Pagefind mended: the next build is whole again and succeeds.
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    result = CliRunner().invoke(main, ["build", "-s", str(root), "-o", str(output), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert (output / "pagefind" / "pagefind.js").is_file()


def test_an_update_that_changes_no_page_keeps_the_index_and_one_that_does_makes_it_again(
    tmp_path: Path,
) -> None:
    root = _site(tmp_path)
    (root / "static").mkdir()
    note = root / "static" / "note.html"
    note.write_text('<html lang="en"><body><main data-pagefind-body>Quokkaword</main></body></html>')
    output = tmp_path / "out"
    build = ["build", "-s", str(root), "-o", str(output), "-j", "1"]
    assert CliRunner().invoke(main, build).exit_code == 0
    entry = output / "pagefind" / "pagefind-entry.json"
    made = entry.stat().st_mtime_ns
    # Saved again unchanged: the pages are the same, so is the index.
    page = next((root / "content" / "species").glob("*.md"))
    page.write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    os.utime(page, ns=(made + 10**9, made + 10**9))
    result = CliRunner().invoke(main, build)
    assert result.exit_code == 0 and "updated" in result.output, result.output
    assert entry.stat().st_mtime_ns == made
    # A page of the site's own files changed: indexed again.
    note.write_text(note.read_text().replace("Quokkaword", "Numbatword"))
    result = CliRunner().invoke(main, build)
    assert result.exit_code == 0 and "updated" in result.output, result.output
    assert "Numbatword" in _indexed(output) and "Quokkaword" not in _indexed(output)


def test_pagefind_runs_as_its_binary_found_as_its_python_package_finds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from factbook.search import pagefind_command

    monkeypatch.delenv("PAGEFIND_BINARY_PATH", raising=False)
    command = pagefind_command()
    assert len(command) == 1 and os.access(command[0], os.X_OK)  # pagefind[bin] is a dependency
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", "/opt/pagefind")
    assert pagefind_command() == ["/opt/pagefind"]
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    for package in ("pagefind_bin_extended", "pagefind_bin"):
        monkeypatch.setitem(sys.modules, package, None)  # not installed: its import fails
    assert pagefind_command() == [sys.executable, "-m", "pagefind"]  # which looks on the PATH
