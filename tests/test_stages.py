"""Each stage on small inline sites: loading, the graph, links, inverse relations, rendering."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from factbook.assemble import assemble_site
from factbook.build import Options, build, check, make_site
from factbook.link import MENTIONS, link_site, mentions_of
from factbook.load import load_sources
from factbook.mdlinks import LinkUse, Rendered
from factbook.model import Ref
from factbook.views import details, relations

ITU = "---\ntitle: International Telecommunication Union\nacronym: ITU\nsources: [press]\n---\n## History\n"


def _problems(root: Path, **options: object) -> list[str]:
    return [str(p) for p in check(Options(root, **options)).problems]  # type: ignore[arg-type]


def test_bom_and_crlf_build_normally(make_site, tmp_path: Path) -> None:
    text = "---\r\ntitle: ITU\r\nsources: [press]\r\n---\r\nBody with [[press]].\r\n"
    root = make_site({"content/organizations/itu.md": b"\xef\xbb\xbf" + text.encode()})
    assert _problems(root) == []
    report = build(Options(root, tmp_path / "out"))
    html = (tmp_path / "out/organizations/itu/index.html").read_text()
    assert report.pages > 0 and "\r" not in html and "\ufeff" not in html


def test_symlink_out_of_the_tree_is_not_followed(make_site, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("---\ntitle: Secret\nsources: [press]\n---\nsecret text\n")
    root = make_site({"content/organizations/itu.md": ITU})
    os.symlink(outside, root / "content/organizations/secret.md")
    problems = _problems(root)
    assert problems == [
        "content/organizations/secret.md:1: warning: symbolic link points outside the source tree; not followed"
    ]
    linked, _, _ = make_site_result(root)
    assert "organizations/secret" not in linked.site.entities


def make_site_result(root: Path):  # type: ignore[no-untyped-def]
    return make_site(Options(root))


def test_symlink_inside_the_tree_is_read(make_site) -> None:
    root = make_site({"content/organizations/itu.md": ITU})
    os.symlink(root / "content/organizations/itu.md", root / "content/organizations/union.md")
    assert _problems(root) == []
    linked, _, _ = make_site_result(root)
    assert linked.site.entities["organizations/union"].title == "International Telecommunication Union"


def test_html_in_a_yaml_value_is_escaped(make_site, tmp_path: Path) -> None:
    root = make_site(
        {
            "content/organizations/x.md": "---\ntitle: '<script>alert(1)</script> & Co'\nkind: '<b>bold</b>'\nsources: [press]\n---\n",
            "content/organizations/y.md": "---\ntitle: Y\nparent: x\nsources: [press]\n---\nSee [[x]].\n",
        }
    )
    build(Options(root, tmp_path / "out"))
    for page in ("organizations/x/index.html", "organizations/y/index.html", "organizations/index.html"):
        html = (tmp_path / "out" / page).read_text()
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "<b>bold</b>" not in (tmp_path / "out/organizations/x/index.html").read_text()


def test_references_accept_collection_prefix_and_report_ambiguity(make_site) -> None:
    root = make_site(
        {
            "content/organizations/itu.md": ITU,
            "content/programmes/itu.md": "---\ntitle: ITU programme\nsources: [press]\n---\n",
            "content/events/e.md": "---\ntitle: E\ndate: 2009\nsources: [press]\n---\n[[itu]] and [[organizations/itu]]\n",
        }
    )
    assert _problems(root) == [
        "content/events/e.md:6: link [[itu]]: 'itu' is ambiguous; write one of 'organizations/itu', 'programmes/itu'"
    ]


def test_drafts_are_left_out_unless_asked_and_references_to_them_say_so(make_site) -> None:
    root = make_site(
        {
            "content/organizations/itu.md": "---\ntitle: ITU\ndraft: true\nsources: [press]\n---\n",
            "content/organizations/bdt.md": "---\ntitle: BDT\nparent: itu\nsources: [press]\n---\n",
        }
    )
    assert _problems(root) == [
        "content/organizations/bdt.md:3: field 'parent': 'itu' is a draft; build with --drafts or remove the reference"
    ]
    assert _problems(root, drafts=True) == []


def test_relative_md_links_and_anchors_resolve_in_the_tree(make_site, tmp_path: Path) -> None:
    root = make_site(
        {
            "content/organizations/itu.md": ITU,
            "content/events/e.md": "---\ntitle: E\ndate: 2009\nsources: [press]\n---\n"
            "[the Union](../organizations/itu.md#history), [[itu#history|its past]], `[[not a link]]`\n",
        }
    )
    assert _problems(root) == []
    build(Options(root, tmp_path / "out"))
    html = (tmp_path / "out/events/e/index.html").read_text()
    assert '<a href="/organizations/itu/#history">the Union</a>' in html
    assert '<a href="/organizations/itu/#history">its past</a>' in html
    assert "<code>[[not a link]]</code>" in html


def test_a_toc_marker_is_replaced_by_the_table_of_the_pages_headings(make_site, tmp_path: Path) -> None:
    root = make_site(
        {
            "content/topics/placed.md": "---\ntitle: Placed\n---\n[TOC]\n\n## First part\n\nText.\n\n"
            "### A detail\n\nMore.\n\n## Second part\n\nEnd.\n",
            "content/topics/plain.md": "---\ntitle: Plain\n---\n## Only part\n\nText with [TOC] inside.\n",
        }
    )
    build(Options(root, tmp_path / "out"))
    placed = (tmp_path / "out/topics/placed/index.html").read_text()
    table = placed[placed.index('<div class="toc">') :]
    assert (
        table.index('href="#first-part"')
        < table.index('href="#a-detail"')
        < table.index('href="#second-part"')
    )
    assert "[TOC]" not in placed and '<h2 id="first-part">First part</h2>' in placed
    plain = (tmp_path / "out/topics/plain/index.html").read_text()
    assert '<div class="toc">' not in plain and "Text with [TOC] inside." in plain


def test_a_body_mentions_each_page_it_links_to_but_itself_as_a_reference_would() -> None:
    links = (
        LinkUse("events/a", "", 3),
        LinkUse("", "", 4),
        LinkUse("topics/me", "x", 5),
        LinkUse("events/a", "h", 9),
    )
    made = mentions_of("topics/me", Rendered("", (), frozenset(), links, ()))
    expected = (
        Ref("topics/me", "events/a", MENTIONS, "Mentioned in", line=3),
        Ref("topics/me", "events/a", MENTIONS, "Mentioned in", line=9),
    )
    assert made == expected and all(
        type(r) is Ref and r._asdict() == e._asdict() for r, e in zip(made, expected, strict=True)
    )


def test_inverse_relations_group_by_role_and_order_by_date(make_site) -> None:
    event = "---\ntitle: {t}\ndate: {d}\norganizations:\n  - {{organization: itu, role: {r}}}\nsources: [press]\n---\n"
    root = make_site(
        {
            "content/organizations/itu.md": ITU,
            "content/events/late.md": event.format(t="Late", d="2011-10", r="organizer"),
            "content/events/early.md": event.format(t="Early", d="2009", r="organizer"),
            "content/events/visit.md": event.format(t="Visit", d="2005-05", r="participant"),
            "content/people/p.md": "---\ntitle: P\nroles:\n  - {title: Head, organization: itu}\nsources: [press]\n---\n[[itu]]\n",
        }
    )
    sources = load_sources(root)
    site, problems = assemble_site(sources.config, sources.collections, sources.documents)
    linked, more = link_site(site)
    assert problems + more == []
    groups = {g.title: [i.text for i in g.items] for g in relations(linked, "organizations/itu")}
    assert groups == {
        "Events as organizer": ["Early", "Late"],
        "Events as participant": ["Visit"],
        "People": ["P"],
        "Mentioned in people": ["P"],
    }
    cited = {g.title: [i.text for i in g.items] for g in relations(linked, "sources/press")}
    assert cited["Events citing it"] == ["Visit", "Early", "Late"]


def test_details_leave_out_fields_not_shown_and_text_that_a_link_repeats(make_site) -> None:
    memo = "---\ntitle: A memo\npublisher: example office\npublisher_organization: office\nfile: 001.txt\nkind: memo\n---\n"
    root = make_site(
        {
            "content/organizations/office.md": "---\ntitle: Example Office\nsources: [press]\n---\n",
            "content/sources/memo.md": memo,
        }
    )
    sources = load_sources(root)
    site, problems = assemble_site(sources.config, sources.collections, sources.documents)
    linked, more = link_site(site)
    assert problems + more == []
    rows = {d.label: [i.text for i in d.items] for d in details(linked, linked.entity("sources/memo"))}
    assert rows == {"Publishing organization": ["Example Office"], "Kind": ["memo"]}
    press = {d.label: [i.text for i in d.items] for d in details(linked, linked.entity("sources/press"))}
    assert press == {"Publisher": ["Example Office"]}  # no link to say it instead


def test_fact_sheets_feed_the_fact_box_of_what_they_are_about(make_site, tmp_path: Path) -> None:
    root = make_site(
        {
            "content/organizations/itu.md": ITU,
            "content/facts/figures.yaml": "title: Figures\nfacts:\n  - label: Members\n    value: 192\n"
            "    about: [itu]\n    source: press\n  - label: Share\n    value: 70\n    unit: '%'\n"
            "    qualifier: up to\n    about: [itu]\n    source: press\n",
            "content/events/e.md": "---\ntitle: E\ndate: 2009\nsources: [press]\n---\n[[figures#fact-share]]\n",
        }
    )
    assert _problems(root) == []
    build(Options(root, tmp_path / "out"))
    html = (tmp_path / "out/organizations/itu/index.html").read_text()
    assert 'href="/facts/figures/#fact-members">Members</a>' in html
    assert "up to 70%" in html and ">192<" in html
    assert 'id="fact-share"' in (tmp_path / "out/facts/figures/index.html").read_text()


def test_missing_fact_source_is_an_error(make_site) -> None:
    root = make_site(
        {"content/facts/f.yaml": "title: F\nfacts:\n  - label: X\n    value: 1\n    about: [press]\n"}
    )
    assert _problems(root) == ["content/facts/f.yaml:3: missing required field 'facts[1].source'"]


def test_site_template_overrides_packaged_one_by_name(make_site, tmp_path: Path) -> None:
    root = make_site(
        {
            "content/organizations/itu.md": ITU,
            "templates/organizations.html": '{% extends "entity.html" %}{% block lead %}<p class="mine">own</p>{% endblock %}',
            "static/assets/print.css": "/* mine */",
        }
    )
    build(Options(root, tmp_path / "out"))
    assert '<p class="mine">own</p>' in (tmp_path / "out/organizations/itu/index.html").read_text()
    assert (tmp_path / "out/assets/print.css").read_text() == "/* mine */"
    assert "--accent" in (tmp_path / "out/assets/factbook.css").read_text()


def test_problems_from_every_stage_come_in_one_run(make_site) -> None:
    root = make_site(
        {
            "content/organizations/a.md": "---\ntitle: [unclosed\n---\n",
            "content/organizations/b.md": "---\ntitle: B\nparent: nobody\nsources: [press]\n---\n[[nothing]]\n",
            "content/events/c.md": "---\ntitle: C\ndate: someday\nsources: [press]\n---\n",
            "templates/topics.html": "{% block %}",
        }
    )
    problems = _problems(root)
    assert [p.split(":")[0] for p in problems] == [
        "content/events/c.md",
        "content/organizations/a.md",
        "content/organizations/b.md",
        "content/organizations/b.md",
        "templates/topics.html",
    ]


@pytest.mark.parametrize("base", ["/factbook/", "https://example.org/factbook", "factbook"])
def test_base_url_becomes_a_path_prefix(make_site, tmp_path: Path, base: str) -> None:
    root = make_site({"content/organizations/itu.md": ITU + "[[press]]\n"})
    build(Options(root, tmp_path / "out", base_url=base))
    html = (tmp_path / "out/organizations/itu/index.html").read_text()
    assert 'href="/factbook/sources/press/"' in html
    assert 'href="/factbook/assets/factbook.css"' in html


def test_pages_of_the_same_title_list_in_one_order_whatever_the_hash_seed(make_site, tmp_path: Path) -> None:
    import subprocess
    import sys

    files = {"content/organizations/itu.md": ITU}
    for i in range(6):  # same title, no date: only their keys tell them apart
        files[f"content/events/e{i}.md"] = (
            "---\ntitle: Meeting\ndate: undated\nsources: [press]\n---\nOn [[itu]].\n"
        )
    root = make_site(files)
    pages = []
    for seed in ("1", "2", "3"):
        out = tmp_path / f"out{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [
            sys.executable,
            "-m",
            "factbook",
            "build",
            "--no-search",
            "--no-cache",
            "--output",
            str(out),
        ]
        subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
        pages.append((out / "organizations" / "itu" / "index.html").read_bytes())
    assert pages[0] == pages[1] == pages[2]


def test_an_assembly_after_each_edit_equals_a_fresh_one(tmp_path: Path) -> None:
    # serve assembles again from the last result, going over only the files read again.
    import shutil

    from factbook.assemble import AssemblyCache
    from factbook.load import refresh_sources

    from .conftest import SITES

    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    content = root / "content"
    cache = AssemblyCache()
    sources = load_sources(root)

    def assembled(fresh: bool):  # type: ignore[no-untyped-def]
        site, problems = assemble_site(
            sources.config,
            sources.collections,
            sources.documents,
            None if fresh else cache,
            sources.unreadable,
        )
        return site, sorted(set(map(str, problems)))

    assembled(False)
    event, itu = content / "events" / "telecom-2009.md", content / "organizations" / "itu.md"
    edits = [
        (event, "in [[programme-x]]", "in [[programme-x]] and [[itu]]"),  # the body
        (event, "topics: [ict]", "topics: [ict, nowhere]"),  # a reference that leads nowhere
        (event, "topics: [ict, nowhere]", "topics: [ict]"),
        (event, "sources: [press-release]", "# no source yet"),  # a warning of its own
        (event, "place: Geneva", "place: [Geneva, 3]"),  # a field of the wrong type
        (event, "place: [Geneva, 3]", "place: Geneva"),
        (itu, "title: International", "title: The International"),
        (itu, "---\ntitle:", "---\ndraft: true\ntitle:"),  # no longer on the site
        (itu, "---\ndraft: true\ntitle:", "---\ntitle:"),
        (event, "title: ITU Telecom", "slug: telecom-world\ntitle: ITU Telecom"),  # another URL
    ]
    for path, old, new in edits:
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new))
        sources = refresh_sources(root, sources, [str(path.resolve())]) or load_sources(root)
        assert assembled(False) == assembled(True), new


def test_a_digest_made_from_the_last_one_equals_a_whole_one(tmp_path: Path) -> None:
    # The command line hashes again only the inverse lists a changed page led to or leads to;
    # every other one it takes from the last build's digest.
    import shutil

    from factbook.depend import Digest, digest

    from .conftest import SITES

    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    content = root / "content"

    def linked():  # type: ignore[no-untyped-def]
        sources = load_sources(root)
        site, _ = assemble_site(sources.config, sources.collections, sources.documents)
        return link_site(site)[0]

    last = digest(linked())
    event, itu, person = (
        content / "events/telecom-2009.md",
        content / "organizations/itu.md",
        content / "people/ali-abbasov.md",
    )
    edits = [
        (event, "in [[programme-x]]", "in [[programme-x]] and [[itu]]"),  # itu gains a mention
        (event, "in [[programme-x]] and [[itu]]", "in [[itu]]"),  # programme-x loses its only one
        (event, "role: organizer", "role: participant"),  # a reference's role
        (person, "organization: itu", "organization: asan-xidmet"),  # one page's list to another's
        (itu, "[[events/telecom-2009|Geneva]]", "Geneva"),  # a link gone: the event's list
        (
            content / "topics/extra.md",
            None,
            "---\ntitle: Extra\n---\nSee [[itu]] and [[ict]].\n",
        ),  # a new page
        (event, "topics: [ict]", "topics: [ict, extra]"),  # the new page's first inverse
        (content / "topics/extra.md", "", None),  # gone again, with what led to it
        (event, "topics: [ict, extra]", "topics: [ict]"),
    ]
    for path, old, new in edits:
        if new is None:
            path.unlink()
        elif old is None:
            path.write_text(new)
        else:
            text = path.read_text()
            assert old in text, old
            path.write_text(text.replace(old, new))
        if path.name == "extra.md" and new is None:
            continue  # the event still leads there: a build that fails, with no digest
        made = linked()
        whole = digest(made)
        made.memo.clear()
        assert digest(made, Digest.from_json(last.to_json())) == whole, new
        last = whole
    assert last.leads["events/telecom-2009"] and last.inverses["organizations/itu"]


@pytest.mark.parametrize("name", ["tiny", "ties", "vault"])
def test_the_pages_that_show_a_face_are_those_whose_dependencies_name_it(name: str) -> None:
    # A title edited: its pages are found from the page itself, not by asking every page.
    from factbook.depend import _showing, dependencies

    from .conftest import SITES

    linked, _, _ = make_site(Options(SITES / name))
    assert linked is not None
    entities = linked.site.entities
    for face in entities:
        asked = {k for k in entities if face in dependencies(linked, k)} | {face}
        assert _showing(linked, {face}) == asked, face
    assert any(len(_showing(linked, {face})) > 2 for face in entities)
