"""The command line, run in this process (test_init runs it as a process): exit codes, output, refused folders."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from factbook import __version__

from .conftest import SITES, write_files
from .conftest import invoke_cli as run_cli


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    return root


def test_version_and_help() -> None:
    result = run_cli("--version", cwd=SITES)
    assert result.returncode == 0
    assert result.stdout.strip() == f"factbook, version {__version__}"
    for command in ("build", "check", "new", "clean"):
        result = run_cli(command, "--help", cwd=SITES)
        assert result.returncode == 0
        assert "Usage: python -m factbook " + command in result.stdout


def test_build_writes_site_and_says_how_to_open_it(tiny: Path) -> None:
    result = run_cli("build", cwd=tiny)
    assert result.returncode == 0, result.stderr
    assert (tiny / "_site" / "organizations" / "itu" / "index.html").is_file()
    assert re.search(r"built \d+ pages \(\d+ files\) into _site", result.stdout)
    assert (
        "to browse it: python -m http.server -d _site 8000, then open http://127.0.0.1:8000/" in result.stdout
    )
    assert result.stderr.startswith("ok: 0 errors, 0 warnings; 1 event, 1 fact sheet, 2 organizations")
    # The tiny site names no public url: said once, and the files invalid without a host left out.
    assert result.stderr.count("names no public url") == 1
    assert (
        "content/site.yaml:1: warning: site.yaml names no public url: sitemap.xml and the feeds"
        in result.stderr
    )
    assert (
        not (tiny / "_site" / "sitemap.xml").exists()
        and not (tiny / "_site" / "events" / "feed.xml").exists()
    )
    assert "canonical" not in (tiny / "_site" / "index.html").read_text()
    check = run_cli("check", "--strict", cwd=tiny)  # not a problem of the content
    assert check.returncode == 0 and "public url" not in check.stderr
    hosted = run_cli("build", "--base-url", "https://example.org/", "--output", "hosted", cwd=tiny)
    assert "public url" not in hosted.stderr and (tiny / "hosted" / "sitemap.xml").is_file()


def test_failed_build_prints_problems_sorted_and_keeps_previous_output(tiny: Path) -> None:
    assert run_cli("build", cwd=tiny).returncode == 0
    before = (tiny / "_site" / "index.html").read_bytes()
    write_files(
        tiny,
        {
            "content/organizations/zz.md": "---\ntitle: Z\nparent: iut\nsources: [press-release]\n---\n",
            "content/events/aa.md": "---\ntitle: A\nsources: [press-release]\n---\nSee [[nowhere]].\n",
        },
    )
    result = run_cli("build", cwd=tiny)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        "content/events/aa.md:1: missing required field 'date'",
        "content/events/aa.md:5: link [[nowhere]]: unknown page 'nowhere'",
        "content/organizations/zz.md:3: field 'parent': unknown organization 'iut'; did you mean 'itu'?",
    ]
    assert lines[3].startswith("failed: 3 errors, 0 warnings")
    assert "nothing written" in lines[4]
    assert "Traceback" not in result.stderr
    assert (tiny / "_site" / "index.html").read_bytes() == before
    assert not [p for p in tiny.iterdir() if p.name.startswith("._site")]


def test_strict_fails_on_warnings(tiny: Path) -> None:
    write_files(tiny, {"content/organizations/nosource.md": "---\ntitle: No source\n---\n"})
    relaxed = run_cli("check", cwd=tiny)
    assert relaxed.returncode == 0
    warning = "content/organizations/nosource.md:1: warning: organization 'nosource' names no source"
    assert warning in relaxed.stderr
    strict = run_cli("check", "--strict", cwd=tiny)
    assert strict.returncode == 1
    assert strict.stderr.splitlines()[-1].startswith("failed: 0 errors, 1 warning")


def test_check_writes_nothing_and_speaks_json(tiny: Path) -> None:
    result = run_cli("check", "--format", "json", cwd=tiny)
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["problems"] == [] and data["counts"]["organizations"] == 2
    assert not (tiny / "_site").exists()


def test_usage_errors_exit_2(tmp_path: Path, tiny: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("build", cwd=empty)
    assert result.returncode == 2
    assert "no content/ folder" in result.stderr
    assert run_cli("frobnicate", cwd=tiny).returncode == 2


@pytest.mark.parametrize("output", [".", "content", "content/out", "/", "~"])
def test_dangerous_output_folders_are_refused(tiny: Path, output: str) -> None:
    target = str(Path(output).expanduser()) if output == "~" else output
    result = run_cli("build", "--output", target, cwd=tiny)
    assert result.returncode == 2
    assert "refusing to build into" in result.stderr
    assert (tiny / "content" / "organizations" / "itu.md").is_file()


def test_repository_root_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SITES / "tiny" / "content", repo / "site" / "content")
    (repo / ".git").mkdir()
    result = run_cli("build", "--source", "site", "--output", ".", cwd=repo)
    assert result.returncode == 2
    assert "repository root" in result.stderr


def test_base_url_prefixes_every_internal_link(tiny: Path) -> None:
    assert run_cli("build", "--base-url", "/factbook/", cwd=tiny).returncode == 0
    site = tiny / "_site"
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for href in re.findall(r'(?:href|src)="([^"]+)"', html):
            if href.startswith(("http", "#")):
                continue
            assert href.startswith("/factbook/"), f"{page}: {href}"
            path = href.removeprefix("/factbook/").split("#")[0]
            target = site / path
            assert target.is_file() or (target / "index.html").is_file(), f"{page}: {href}"


def test_new_creates_a_file_with_the_collection_fields(tiny: Path) -> None:
    result = run_cli("new", "organizations", "ASAN Xidmət Centres", cwd=tiny)
    assert result.returncode == 0, result.stderr
    path = tiny / "content" / "organizations" / "asan-xidmet-centres.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith('---\ntitle: "ASAN Xidmət Centres"\n')
    assert "member_since:" in text and "parent:" in text
    again = run_cli("new", "organizations", "ASAN Xidmət Centres", cwd=tiny)
    assert again.returncode == 2 and "exists already" in again.stderr
    wrong = run_cli("new", "organisations", "X", cwd=tiny)
    assert wrong.returncode == 2 and "did you mean 'organizations'?" in wrong.stderr


def test_new_file_checks_once_filled_in(tiny: Path) -> None:
    assert run_cli("new", "events", "A launch", cwd=tiny).returncode == 0
    result = run_cli("check", cwd=tiny)
    assert "content/events/a-launch.md:3: missing required field 'date'" in result.stderr
    path = tiny / "content" / "events" / "a-launch.md"
    path.write_text(
        path.read_text()
        .replace("date:", "date: 2013", 1)
        .replace("sources: []", "sources: [press-release]", 1)
    )
    result = run_cli("check", "--strict", cwd=tiny)
    assert result.returncode == 0, result.stderr


def test_clean_removes_the_output(tiny: Path) -> None:
    assert run_cli("build", cwd=tiny).returncode == 0
    result = run_cli("clean", cwd=tiny)
    assert result.returncode == 0 and not (tiny / "_site").exists()
    assert run_cli("clean", "--output", "content", cwd=tiny).returncode == 2
    assert (tiny / "content").is_dir()


def test_profile_prints_where_the_time_went(tiny: Path) -> None:
    result = run_cli("build", "--profile", "--no-search", "--jobs", "1", cwd=tiny)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "stage      seconds  share"
    assert [line.split()[0] for line in lines[1:6]] == ["load", "model", "link", "render", "write"]
    assert any(line.startswith("total") and "pages/s" in line for line in lines)


def test_a_second_build_with_nothing_changed_says_so(tiny: Path) -> None:
    assert run_cli("build", "--no-search", cwd=tiny).returncode == 0
    again = run_cli("build", "--no-search", cwd=tiny)
    assert again.returncode == 0
    assert "_site is up to date" in again.stdout
    forced = run_cli("build", "--no-search", "--no-cache", cwd=tiny)
    assert "built " in forced.stdout


def test_schema_writes_editor_schemas_with_dates_and_slugs(tiny: Path) -> None:
    result = run_cli("schema", "--output", "schemas", cwd=tiny)
    assert result.returncode == 0, result.stderr
    events = json.loads((tiny / "schemas" / "events.schema.json").read_text())
    assert events["required"] == ["title", "date"]
    assert events["additionalProperties"] is False
    assert "pattern" in events["properties"]["date"]["anyOf"][0]
    assert events["properties"]["people"]["items"]["examples"] == ["ali-abbasov"]
    organization = events["properties"]["organizations"]["items"]["properties"]["organization"]
    assert organization["examples"] == ["asan-xidmet", "itu"]
    # The settings files' schemas, the same the build checks them with.
    site = json.loads((tiny / "schemas" / "site.schema.json").read_text())
    assert "markdown_extensions" in site["properties"] and site["additionalProperties"] is False
    declared = json.loads((tiny / "schemas" / "collections.schema.json").read_text())
    assert "group_by" in declared["$defs"]["collection"]["properties"]


def test_progress_bar_shows_only_on_long_builds(capsys: pytest.CaptureFixture[str]) -> None:
    from factbook.cli import _Bar

    bar = _Bar()
    bar("Markdown", 5, 10)
    assert capsys.readouterr().err == ""
    bar.started -= 3
    bar("Markdown", 5, 10)
    bar.close()
    shown = capsys.readouterr().err
    assert "Markdown  [###############...............] 5/10" in shown
