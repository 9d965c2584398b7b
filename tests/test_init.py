"""factbook init: a new site of any subject from the packaged starter, which builds as it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from factbook.cli import main
from factbook.config import SETTINGS_SCHEMA
from factbook.starter import init_site, starter_files
from factbook.yamlio import load_yaml

from .conftest import run_cli

SETTINGS = set(SETTINGS_SCHEMA["properties"])  # every setting factbook knows
COLLECTIONS = ("organizations", "events", "people", "programmes", "sources", "topics", "pages", "facts")


def tree(root: Path) -> dict[str, bytes]:
    """Return every file below root by its path inside root, with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_init_into_a_new_folder_lists_the_files(tmp_path: Path) -> None:
    target = tmp_path / "mysite"
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    written = tree(target)
    assert ".gitignore" in written and "content/site.yaml" in written
    assert f"created a factbook site in {target} ({len(written)} files)" in result.stdout
    for name in written:
        assert f"  {target / name}\n" in result.stdout
    assert result.stdout.endswith(
        "next:\n"
        f"  cd {target}\n"
        "  factbook serve  # preview at http://127.0.0.1:8000/ while you write\n"
        f"  factbook build  # the site in {target / '_site'}, ready to publish\n"
    )
    assert written[".gitignore"].decode().split("\n")[1:3] == ["_site/", ".factbook-cache/"]


def test_init_site_returns_the_files_it_wrote_sorted(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    files = init_site(target)
    assert files == sorted(files)
    assert [p.relative_to(target).as_posix() for p in files] == sorted(tree(target))
    assert {p.relative_to(target).as_posix() for p in files} == set(starter_files())


def test_init_defaults_to_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "content" / "pages" / "index.md").is_file()
    assert "created a factbook site in . (" in result.stdout
    assert "cd " not in result.stdout
    assert 'factbook new organizations "Some Body"' in result.stdout
    assert "# the site in _site, ready to publish" in result.stdout


@pytest.mark.parametrize("marker", ["content/", "site.yaml", "content/site.yaml"])
def test_init_refuses_a_folder_holding_a_site(tmp_path: Path, marker: str) -> None:
    target = tmp_path / "old"
    path = target / marker.rstrip("/")
    path.parent.mkdir(parents=True)
    if marker.endswith("/"):
        path.mkdir()
    else:
        path.write_text("title: Mine\n", encoding="utf-8")
    (target / "notes.md").write_text("my notes\n", encoding="utf-8")
    before = tree(target)
    folders = sorted(p for p in target.rglob("*") if p.is_dir())
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 2
    assert f"{target} already holds a site" in result.stderr
    assert tree(target) == before
    assert sorted(p for p in target.rglob("*") if p.is_dir()) == folders


def test_init_site_raises_file_exists_error_naming_the_folder(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    with pytest.raises(FileExistsError, match=str(tmp_path)):
        init_site(tmp_path)


def test_init_keeps_an_existing_gitignore_and_adds_what_it_lacks(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc\n_site/\n", encoding="utf-8")
    files = init_site(tmp_path)
    assert tmp_path / ".gitignore" in files
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == (
        "*.pyc\n_site/\n# factbook\n.factbook-cache/\n"
    )


def test_the_starter_is_packaged_neutral_and_complete() -> None:
    files = starter_files()
    assert ".gitignore" in files
    assert not any(name.split("/")[-1].startswith((".", "_")) for name in files if name != ".gitignore")
    for collection in COLLECTIONS:
        assert any(name.startswith(f"content/{collection}/") for name in files), collection
    assert {"content/pages/index.md", "content/pages/about.md"} <= set(files)
    for name, data in files.items():
        assert "azerbaijan" not in data.decode("utf-8").lower(), name


def test_the_starter_settings_show_every_setting_each_with_a_comment() -> None:
    text = starter_files()["content/site.yaml"].decode("utf-8")
    settings = load_yaml(text).data
    # A setting with no neutral value (the site's own address) is shown commented out.
    shown = re.findall(r"^# ([a-z_]+): ", text, re.M)
    assert set(settings) | (set(shown) & SETTINGS) == SETTINGS - {
        "base_url"
    }  # base_url: the older name of url
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line and not line.startswith(("#", " ", "-")):
            assert lines[number - 1].startswith("#"), f"no comment above {line!r}"
    # The collections file may only show examples: the site builds with the packaged collections.
    declared = load_yaml(starter_files()["content/collections.yaml"].decode("utf-8")).data
    assert not declared


def test_the_starter_builds_and_checks_strictly(tmp_path: Path) -> None:
    site, out = tmp_path / "mysite", tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(site)]).exit_code == 0
    result = runner.invoke(main, ["check", "--strict", "--source", str(site)])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("ok: 0 errors, 0 warnings")
    result = runner.invoke(main, ["build", "--source", str(site), "--output", str(out), "--no-search"])
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file()
    assert (out / "organizations" / "example-society" / "index.html").is_file()
    assert (out / "facts" / "example-society-in-figures" / "index.html").is_file()
    for path in sorted(out.rglob("*")):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace").lower()
            assert "azerbaijan" not in text, path


def test_init_then_check_in_a_subprocess(tmp_path: Path) -> None:
    result = run_cli("init", "mysite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "created a factbook site in mysite (" in result.stdout
    assert "  cd mysite\n" in result.stdout
    result = run_cli("check", "--strict", cwd=tmp_path / "mysite")
    assert result.returncode == 0, result.stderr
    result = run_cli("init", "mysite", cwd=tmp_path)
    assert result.returncode == 2
    assert "already holds a site (content exists)" in result.stderr
