"""Numbered citations: [@source] marks in the prose, and the list of sources cited after it."""

from __future__ import annotations

import re
from pathlib import Path

from factbook.build import Options, build, check

REPORT = "---\ntitle: Annual report of the alpine society, 2021\nshort: Society report 2021\n---\nA report.\n"
SURVEY = "---\ntitle: Meadow survey\n---\nA survey.\n"
PAGE = """\
---
title: Gentian
sources: [report]
---
The gentian flowers in June [@report, p. 4]. It grows above 1,500 m [@survey].

It was counted twice [@report; @survey, table 2], and again [@report].
"""


def _site(make_site, page: str = PAGE) -> Path:
    return make_site(
        {
            "content/sources/report.md": REPORT,
            "content/sources/survey.md": SURVEY,
            "content/organizations/gentian.md": page,
        },
        with_source=False,
    )


def test_marks_are_numbered_by_first_citation_and_carry_their_locator(make_site, tmp_path: Path) -> None:
    build(Options(_site(make_site), tmp_path / "out"))
    html = (tmp_path / "out" / "organizations" / "gentian" / "index.html").read_text(encoding="utf-8")
    marks = re.findall(r'<sup class="cite" id="(cite-[\d-]+)"><a href="#ref-(\d)"[^>]*>([^<]+)</a>', html)
    assert marks == [
        ("cite-1-1", "1", "[1, p. 4]"),
        ("cite-2-1", "2", "[2]"),
        ("cite-1-2", "1", "[1]"),
        ("cite-2-2", "2", "[2, table 2]"),
        ("cite-1-3", "1", "[1]"),
    ]


def test_each_page_ends_with_its_sources_under_their_short_label_with_links_back(
    make_site, tmp_path: Path
) -> None:
    build(Options(_site(make_site), tmp_path / "out"))
    html = (tmp_path / "out" / "organizations" / "gentian" / "index.html").read_text(encoding="utf-8")
    section = html[html.index('<section class="references"') :]
    first = section[section.index('<li id="ref-1"') : section.index("</li>")]
    # The short label is declared once, on the source, and used here; the title follows it.
    assert '<a href="/sources/report/">Society report 2021</a>: <cite>Annual report' in first
    assert re.findall(r'href="#(cite-1-\d)"', first) == ["cite-1-1", "cite-1-2", "cite-1-3"]
    assert "(p. 4)" in first
    second = section[section.index('<li id="ref-2"') :]
    assert '<a href="/sources/survey/">Meadow survey</a></li>' in second  # no short label: the title
    aside = html[html.index('<aside class="entity-aside"') :]
    assert '<a href="/sources/report/">Society report 2021</a>' in aside  # the same label beside the text
    # Every mark links to an entry, and every back link to a mark.
    ids = set(re.findall(r'id="([^"]+)"', html))
    assert {h for h in re.findall(r'href="#((?:cite|ref)-[^"]+)"', html)} <= ids


def test_the_source_page_lists_the_pages_that_cite_it(make_site, tmp_path: Path) -> None:
    build(Options(_site(make_site), tmp_path / "out"))
    html = (tmp_path / "out" / "sources" / "survey" / "index.html").read_text(encoding="utf-8")
    assert 'href="/organizations/gentian/"' in html.split('id="related"')[1]


def test_a_citation_of_an_unknown_source_is_an_error_with_a_suggestion(make_site) -> None:
    root = _site(make_site, PAGE.replace("[@survey]", "[@survy]"))
    problems = [str(p) for p in check(Options(root)).problems]
    assert problems == [
        "content/organizations/gentian.md:5: citation [@survy]: unknown page 'survy'; did you mean 'survey'?"
    ]


def test_citation_syntax_in_code_is_left_as_written(make_site, tmp_path: Path) -> None:
    root = _site(make_site, PAGE + "\nWrite `[@report]` to cite.\n")
    build(Options(root, tmp_path / "out"))
    html = (tmp_path / "out" / "organizations" / "gentian" / "index.html").read_text(encoding="utf-8")
    assert "<code>[@report]</code>" in html
