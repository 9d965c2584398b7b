"""Data downloads: every collection as CSV and JSON, every fact as CSV, and the Data page describing them."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from factbook.build import Builder, Options, build
from factbook.write import write_changes

from .conftest import SITES

TINY = SITES / "tiny"
NON_EMPTY = ["events", "facts", "organizations", "pages", "people", "programmes", "sources", "topics"]


def _build(tmp_path: Path, name: str = "out", base_url: str | None = None) -> Path:
    root = tmp_path / "tiny"
    if not root.exists():
        shutil.copytree(TINY / "content", root / "content")
    out = tmp_path / name
    report = build(Options(root, out, base_url=base_url))
    assert not report.problems, report.problems
    return out


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("data"))


def test_every_collection_with_pages_has_csv_and_json_with_as_many_rows(site: Path) -> None:
    files = sorted(p.name for p in (site / "data").iterdir() if p.suffix in {".csv", ".json"})
    expected = sorted([f"{n}.csv" for n in NON_EMPTY] + [f"{n}.json" for n in NON_EMPTY] + ["all-facts.csv"])
    assert files == expected  # notes has no page here, so no file
    for name in NON_EMPTY:
        header, rows = _csv(site / "data" / f"{name}.csv")
        objects = json.loads((site / "data" / f"{name}.json").read_text(encoding="utf-8"))
        assert len(objects) == len(rows) > 0
        assert [o["key"] for o in objects] == [r["key"] for r in rows] == sorted(r["key"] for r in rows)
        assert all(sorted(o) == sorted(header) for o in objects)


def test_columns_follow_the_declarations_in_order(site: Path) -> None:
    header, _ = _csv(site / "data" / "organizations.csv")
    assert header == [
        "key",
        "slug",
        "page_url",
        "title",
        "summary",
        "acronym",
        "kind",
        "parent",
        "founded",
        "member_since",  # the tiny site's own field, after the packaged ones
        "topics",
        "sources",
    ]
    header, _ = _csv(site / "data" / "sources.csv")
    assert header[:5] == ["key", "slug", "page_url", "title", "summary"]
    assert header[5:] == [
        "short",
        "publisher",
        "publisher_organization",
        "kind",
        "date",
        "file",
        "url",
        "topics",
        "sources",
    ]


def test_values_are_keys_dates_as_written_lists_and_objects(site: Path) -> None:
    _, rows = _csv(site / "data" / "organizations.csv")
    asan, itu = rows
    assert asan["parent"] == "organizations/itu"  # written as the bare slug 'itu'
    assert itu["member_since"] == "1993/" and itu["acronym"] == "ITU"
    assert itu["page_url"] == "/organizations/itu/" and asan["title"] == "ASAN Xidmət"
    assert asan["acronym"] == "" and asan["sources"] == "sources/press-release"
    _, (event,) = _csv(site / "data" / "events.csv")
    assert event["date"] == "2009-10-05/2009-10-09" and event["people"] == "people/ali-abbasov"
    assert json.loads(event["organizations"]) == [
        {"organization": "organizations/itu", "role": "organizer"},
        {"organization": "organizations/asan-xidmet", "role": "participant"},
    ]
    assert event["organizations"].startswith('[{"organization":"organizations/itu","role"')
    (obj,) = json.loads((site / "data" / "events.json").read_text(encoding="utf-8"))
    assert obj["people"] == ["people/ali-abbasov"] and obj["kind"] is None
    assert obj["organizations"][1] == {"organization": "organizations/asan-xidmet", "role": "participant"}
    _, (programme,) = _csv(site / "data" / "programmes.csv")
    assert programme["period"] == "~2010" and programme["title"] == "Programme <X>"


def test_the_facts_file_has_one_row_per_fact(site: Path) -> None:
    graph = json.loads((site / "graph.json").read_text(encoding="utf-8"))
    header, rows = _csv(site / "data" / "all-facts.csv")
    assert header == [
        "sheet",
        "id",
        "label",
        "value",
        "qualifier",
        "unit",
        "period",
        "about",
        "source",
        "note",
    ]
    assert len(rows) == len(graph["facts"]) == 1
    assert rows[0] == {
        "sheet": "facts/figures",
        "id": "fact-money",
        "label": "Money",
        "value": "150000",
        "qualifier": "",
        "unit": "USD",
        "period": "2012",
        "about": "organizations/itu",
        "source": "sources/press-release",
        "note": "",
    }


def test_the_data_page_lists_every_file_and_describes_its_columns(
    site: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    html = (site / "data" / "index.html").read_text(encoding="utf-8")
    for path in sorted((site / "data").glob("*.*")):
        if path.suffix != ".html":
            assert f'<a href="/data/{path.name}">{path.name}</a>' in html
    assert '<li><span aria-current="page">Data</span></li>' in html
    assert "<caption>Columns of organizations.csv and organizations.json</caption>" in html
    assert '<th scope="row"><code>member_since</code></th><td>Member since</td>' in html
    assert (
        '<th scope="row"><code>parent</code></th><td>Part of</td><td><code>ref</code> to organization' in html
    )
    assert "<td><code>refs</code> to topics</td>" in html
    assert '<th scope="row"><code>source</code></th><td>Source</td>' in html  # a fact's, by its label
    assert "Organizations, their governing bodies and committees" in html  # the collection's description
    assert '<a href="/data/">Data downloads</a>' in (site / "index.html").read_text(encoding="utf-8")
    assert not (site / "sitemap.xml").exists()  # the tiny site names no public url
    hosted = _build(tmp_path_factory.mktemp("hosted"), base_url="https://example.org/")
    assert "<loc>https://example.org/data/</loc>" in (hosted / "sitemap.xml").read_text(encoding="utf-8")


def test_urls_are_absolute_when_the_base_url_names_a_host(tmp_path: Path) -> None:
    out = _build(tmp_path, base_url="https://example.org/sub/")
    _, rows = _csv(out / "data" / "topics.csv")
    assert rows[0]["page_url"] == "https://example.org/sub/topics/ict/"
    assert 'href="/sub/data/topics.csv"' in (out / "data" / "index.html").read_text(encoding="utf-8")


def test_two_builds_give_byte_identical_data_files(tmp_path: Path) -> None:
    first, second = _build(tmp_path, "one"), _build(tmp_path, "two")
    names = sorted(p.name for p in (first / "data").iterdir())
    assert names == sorted(p.name for p in (second / "data").iterdir())
    for name in names:
        assert (first / "data" / name).read_bytes() == (second / "data" / name).read_bytes(), name
    assert all((first / "data" / n).read_bytes().endswith(b"\n") for n in names)


def test_a_collection_that_loses_its_last_page_loses_its_files_on_rebuild(tmp_path: Path) -> None:
    root = tmp_path / "tiny"
    shutil.copytree(TINY / "content", root / "content")
    served = tmp_path / "served"
    builder = Builder(Options(root))
    for step in range(2):
        if step:
            (root / "content" / "topics" / "ict.md").unlink()
            for path in (root / "content").rglob("*.md"):
                path.write_text(path.read_text(encoding="utf-8").replace("topics: [ict]\n", ""), "utf-8")
        update = builder.update()
        assert not update.report.errors, update.report.problems
        write_changes(served, update.pages, update.removed, {})
    assert not (served / "data" / "topics.csv").exists() and not (served / "data" / "topics.json").exists()
    assert "topics.csv" not in (served / "data" / "index.html").read_text(encoding="utf-8")
    assert (served / "data" / "organizations.csv").exists()
