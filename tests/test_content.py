"""The shape of the flagship documentary in content/, so later changes cannot quietly break it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from factbook.build import Options, make_site
from factbook.link import LinkedSite

ROOT = Path(__file__).parents[1]
CITING = ("organizations", "events", "people", "programmes")
MINIMUM = {
    "organizations": 50,
    "events": 40,
    "people": 8,
    "programmes": 45,
    "sources": 5,
    "topics": 11,
    "facts": 4,
}


@pytest.fixture(scope="module")
def flagship() -> tuple[LinkedSite, list[str]]:
    linked, _, report = make_site(Options(ROOT, strict=True))
    assert linked is not None
    return linked, [str(p) for p in report.problems]


def test_flagship_checks_strictly_clean(flagship) -> None:
    assert flagship[1] == []


def test_flagship_has_every_collection_filled(flagship) -> None:
    linked, _ = flagship
    counts: dict[str, int] = {}
    for entity in linked.site.entities.values():
        counts[entity.collection] = counts.get(entity.collection, 0) + 1
    for collection, least in MINIMUM.items():
        assert counts.get(collection, 0) >= least, collection
    assert sum(len(f) for f in linked.site.facts.values()) >= 50
    assert {"pages/index", "pages/about", "pages/method"} <= set(linked.site.entities)


def test_every_entity_cites_a_source_and_has_a_topic(flagship) -> None:
    linked, _ = flagship
    for key, entity in linked.site.entities.items():
        if entity.collection in CITING:
            assert [r for r in entity.refs if r.field == "sources"], f"{key} cites no source"
            assert [r for r in entity.refs if r.field == "topics"], f"{key} has no topic"
            assert entity.summary, f"{key} has no summary"


def test_every_fact_has_a_source_and_a_subject(flagship) -> None:
    linked, _ = flagship
    for sheet, facts in linked.site.facts.items():
        for fact in facts:
            assert fact.source.startswith("sources/"), f"{sheet} {fact.label}"
            assert fact.about, f"{sheet} {fact.label}"


def test_every_event_has_a_date_or_says_why_not(flagship) -> None:
    linked, _ = flagship
    for key, entity in linked.site.entities.items():
        if entity.collection == "events":
            assert entity.date is not None, key
            if entity.date.undated:
                assert entity.fields.get("date_note"), f"{key} is undated and does not say why"


def test_no_page_is_orphaned(flagship) -> None:
    linked, _ = flagship
    for key in linked.site.entities:
        if key.startswith("pages/"):
            continue
        assert linked.inverse.get(key), f"nothing links to {key}"


def test_every_source_is_a_seed_and_is_cited(flagship) -> None:
    linked, _ = flagship
    sources = [e for e in linked.site.entities.values() if e.collection == "sources"]
    assert len(sources) == 5
    for source in sources:
        assert str(source.fields.get("file", "")).endswith(".txt"), source.key
        citing = [r for r in linked.inverse.get(source.key, ()) if r.field in {"sources", "facts.source"}]
        assert len(citing) >= 3, source.key


def test_bodies_without_obsidian_syntax_render_the_same_without_its_extension(flagship) -> None:
    # The quick parser is used only where it gives the same bytes as the one with every extension.
    import posixpath

    from factbook.mdlinks import MarkdownRenderer
    from factbook.names import content_path

    linked = flagship[0]
    renderer = MarkdownRenderer()
    full, plain = renderer._obsidian(), renderer._plain
    for entity in linked.site.entities.values():
        folder = posixpath.dirname(content_path(entity))
        renderer._plain, renderer._prune = full, False  # everything through the full parser
        with_notes = renderer.render(entity.doc.body, entity.doc.body_line, folder, linked.table)
        renderer._plain, renderer._prune = plain, True  # the quick one, without unneeded patterns
        assert renderer.render(entity.doc.body, entity.doc.body_line, folder, linked.table) == with_notes


def test_the_linear_inline_pass_gives_the_bytes_of_python_markdowns_own(flagship) -> None:
    # factbook replaces Python-Markdown's inline pass (quadratic in a page's size) with its own.
    import posixpath

    from markdown.treeprocessors import InlineProcessor

    from factbook.mdlinks import MarkdownRenderer
    from factbook.names import content_path

    linked = flagship[0]
    ours, theirs = MarkdownRenderer(), MarkdownRenderer()
    for renderer in (ours, theirs):
        renderer._plain, renderer._prune = renderer._obsidian(), False  # every body through every pattern
    theirs._obsidian().treeprocessors.register(InlineProcessor(theirs._obsidian()), "inline", 20)
    for entity in linked.site.entities.values():
        folder = posixpath.dirname(content_path(entity))
        body = entity.doc.body + "\n\n*a* **b** `c` [d](https://x.org) <e> &amp; [[f]]\n"
        mine = ours.render(body, entity.doc.body_line, folder, linked.table)
        assert mine == theirs.render(body, entity.doc.body_line, folder, linked.table)


def test_claims_carry_numbered_citations_under_one_label_per_source(flagship) -> None:
    linked, _ = flagship
    sources = {k for k, e in linked.site.entities.items() if e.collection == "sources"}
    cited = 0
    for key, entity in linked.site.entities.items():
        body = entity.doc.body
        # The old way, a parenthesised link with a label chosen each time, is gone.
        assert not re.search(r"\(\[\[(?:" + "|".join(s.split("/")[1] for s in sources) + r")\b", body), key
        rendered = linked.bodies[key]
        cited += len(rendered.citations)
        if entity.collection in CITING and len(body.split()) > 60:
            assert rendered.citations, f"{key} makes claims without a citation mark"
    assert cited > 200
    for key in sources:  # the one short label each source is cited by
        assert linked.site.entities[key].fields.get("short"), key


@pytest.mark.parametrize(
    "slip",
    [
        "traditional kahriz",
        "IFRC",
        "(NAM)",
        "channelled",
        "leading role",
        "the main step",
        "representative of the UN Secretary",
        "three sources are undated",
    ],
)
def test_the_slips_a_reviewer_found_against_the_seeds_stay_fixed(flagship, slip: str) -> None:
    linked, _ = flagship
    found = []
    for key, entity in linked.site.entities.items():
        # What a reader sees: the text, without the slugs of links ([[ifrc|...]] names a file).
        text = re.sub(r"\[\[[^|\]]*\|", "[[", entity.doc.body) + entity.title + entity.summary
        if (slip in text) if slip.isupper() else (slip.lower() in text.lower()):
            found.append(key)
    assert found == []
