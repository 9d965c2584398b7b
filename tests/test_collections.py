"""Collections wholly declared as data: a site that is not the flagship extends, removes and adds them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from factbook.build import Options, build, check
from factbook.declare import declare_collections, packaged_declarations

from .conftest import SITES, write_files

SPECIES = SITES / "species"


@pytest.fixture(scope="module")
def species_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("species") / "out"
    report = build(Options(root=SPECIES, output=output, strict=True))
    assert report.problems == ()
    return output


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_packaged_declarations_are_valid_and_neutral() -> None:
    declared = declare_collections(packaged_declarations(), "")
    assert declared.problems == ()
    assert "azerbaij" not in packaged_declarations().lower()


def test_a_new_collection_has_its_schema_org_type_and_sorts_by_its_own_date(species_site: Path) -> None:
    page = _text(species_site / "species" / "edelweiss" / "index.html")
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page).group(1))
    assert "Taxon" in {node["@type"] for node in data["@graph"]}
    index = _text(species_site / "species" / "index.html").split("<main", 1)[1]
    assert index.index("Trumpet gentian") < index.index("Edelweiss")  # 1753 before 1822
    assert 'id="year-1753"' in index and "Undated" not in index
    assert "By family" in index and 'class="timeline"' not in index  # no timeline unless declared


def test_removed_collections_leave_no_page_sitemap_entry_feed_or_nav_item(species_site: Path) -> None:
    files = [p.relative_to(species_site).as_posix() for p in species_site.rglob("*") if p.is_file()]
    assert not [f for f in files if f.startswith(("programmes/", "people/"))]
    everything = "".join(_text(species_site / f) for f in files if f.endswith((".html", ".xml", ".json")))
    assert "/programmes/" not in everything and "/people/" not in everything
    sitemap = _text(species_site / "sitemap.xml")
    assert "<loc>https://flora.example.org/species/edelweiss/</loc>" in sitemap


def test_organization_pages_list_what_points_at_them_under_the_declared_heading(species_site: Path) -> None:
    page = _text(species_site / "organizations" / "alpine-institute" / "index.html")
    heading = page.index("Species studied")
    assert page.index("Trumpet gentian", heading) and page.index("Edelweiss", heading)
    assert "<dt>Type of body</dt>" in page  # the relabelled field
    assert "Working in" not in page and "member since" not in page.lower()


def test_messages_name_a_new_collection_by_its_own_label(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(SPECIES, root)
    gentian = root / "content" / "species" / "gentian.md"
    gentian.write_text(_text(gentian).replace("sources: [field-guide]\n", ""), encoding="utf-8")
    event = root / "content" / "events" / "survey-2019.md"
    event.write_text(_text(event) + "\nAlso [[species/edelwiess]].\n", encoding="utf-8")
    report = check(Options(root=root))
    assert [str(p) for p in report.problems] == [
        "content/events/survey-2019.md:11: link [[species/edelwiess]]: unknown species 'species/edelwiess';"
        " did you mean 'species/edelweiss' or 'species/gentian'?",
        "content/species/gentian.md:1: warning: species 'gentian' names no source;"
        " add 'sources: [...]' to its front matter",
    ]


def test_a_site_adds_relabels_and_drops_fields_of_a_built_in_collection(tmp_path: Path) -> None:
    root = write_files(
        tmp_path,
        {
            "content/collections.yaml": """\
                events:
                  title: Meetings
                  singular: Meeting
                  fields:
                    place: false
                    date: {label: Held on}
                    minutes: {type: url, label: Minutes}
            """,
            "content/sources/note.md": "---\ntitle: A note\n---\n",
            "content/events/kickoff.md": (
                "---\ntitle: Kick-off\ndate: 2020-01-05\nminutes: https://example.org/m\n"
                "place: Hall\nsources: [note]\n---\n"
            ),
        },
    )
    report = check(Options(root=root))
    assert [str(p) for p in report.problems] == [
        "content/events/kickoff.md:5: unknown field 'place'; known fields: date, date_note, draft, kind,"
        " minutes, organizations, people, programmes, slug, sources, summary, title, topics"
    ]
    (root / "content/events/kickoff.md").write_text(
        "---\ntitle: Kick-off\ndate: 2020-01-05\nminutes: https://example.org/m\nsources: [note]\n---\n"
    )
    output = tmp_path / "out"
    assert build(Options(root=root, output=output)).problems == ()
    page = _text(output / "events" / "kickoff" / "index.html")
    assert "<dt>Held on</dt>" in page and "<dt>Minutes</dt>" in page
    assert "<h1>Meetings" in _text(output / "events" / "index.html")


def test_a_notes_only_site_has_no_empty_index_pages(tmp_path: Path) -> None:
    removed = "\n".join(
        f"{n}: false" for n in ("organizations", "events", "people", "programmes", "topics", "facts")
    )
    root = write_files(
        tmp_path,
        {
            "content/collections.yaml": removed
            + "\nsources: false\nnotes:\n  title: Notes\n  singular: Note\n  cites: false\n",
            "content/notes/first.md": "---\ntitle: First note\n---\nSee [[second]].\n",
            "content/notes/second.md": "---\ntitle: Second note\n---\nBack to [[first]].\n",
        },
    )
    output = tmp_path / "out"
    assert build(Options(root=root, output=output, base_url="https://n.example.org/")).problems == ()
    sitemap = _text(output / "sitemap.xml")
    assert [
        loc.removeprefix("https://n.example.org") for loc in re.findall(r"<loc>([^<]*)</loc>", sitemap)
    ] == [
        "/",
        "/data/",
        "/notes/",
        "/notes/first/",
        "/notes/second/",
        "/search/",
    ]
    assert not (output / "events").exists()


def test_notes_live_in_a_factbook_site_as_one_more_collection(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "site",
        {
            "content/sources/report.md": "---\ntitle: Annual report\n---\n",
            "content/organizations/ice-council.md": (
                "---\ntitle: Ice Council\nsources: [report]\n---\nIts log: [[Field Log]].\n\n![[Field Log#Day one]]\n"
            ),
            "content/notes/Research/Field Log.md": (
                "---\naliases: [log]\ncssclasses: [wide]\n---\n# Field Log\n\n## Day one\n\nMet the [[ice-council]].\n"
                "![[floe.png|120]]\n\n## Day two\n\nRain.\n"
            ),
            "content/notes/Research/floe.png": b"\x89PNG\r\n\x1a\n",
        },
    )
    output = tmp_path / "out"
    report = build(Options(root=root, output=output))
    assert report.problems == ()
    note = _text(output / "notes" / "research" / "field-log" / "index.html")
    assert note.count("<h1") == 1 and '<a href="/organizations/ice-council/">Ice Council</a>' in note
    assert '<img alt="floe" loading="lazy" src="/notes/research/floe.png" width="120">' in note
    assert (output / "notes" / "research" / "floe.png").is_file()
    council = _text(output / "organizations" / "ice-council" / "index.html")
    assert '<a href="/notes/research/field-log/">Field Log</a>' in council
    embedded = council[council.index('class="transclusion"') :]
    assert "Met the" in embedded and "Rain." not in embedded
