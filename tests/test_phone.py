"""The flagship on a phone, 390 CSS px wide, in a real browser: legible, no sideways scrolling, clean search."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .test_site_quality import site  # noqa: F401 (site is the flagship build fixture)
from .tools import serve_folder

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}

# The size a picture's text is drawn at: its font size scaled as its SVG is scaled to fit the page.
DRAWN_SIZES = """() => [...document.querySelectorAll('svg.timeline, svg.ties')].flatMap(svg => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [...svg.querySelectorAll('text')]
        .filter(t => t.checkVisibility() && t.getBoundingClientRect().width > 0)
        .map(t => [t.textContent, parseFloat(getComputedStyle(t).fontSize) * scale]);
})"""


def test_picture_text_is_never_under_12px_and_every_event_is_a_tap_away(site: Path, chromium: Any) -> None:  # noqa: F811
    pictures = [
        "/",
        "/events/",
        "/organizations/upu/",
        "/organizations/united-nations/",
        "/people/ilham-aliyev/",
    ]
    with serve_folder(site) as base:
        page = chromium.new_page()
        drawn: dict[str, list[Any]] = {}
        for size in (PHONE, WIDE):
            page.set_viewport_size(size)
            for path in pictures:
                page.goto(base + path)
                drawn[f"{size['width']} {path}"] = page.evaluate(DRAWN_SIZES)
        small = [
            (where, text, round(px, 1)) for where, found in drawn.items() for text, px in found if px < 12
        ]
        assert small == []
        # Wide, the pictures are shown whole; on a phone their lists stand in for them.
        assert [p for p in pictures if not drawn[f"1280 {p}"]] == []
        assert [p for p in pictures if drawn[f"390 {p}"]] == []

        page.set_viewport_size(PHONE)
        page.goto(base + "/")
        bars = page.eval_on_selector_all("svg.timeline a", "els => els.map(e => e.getAttribute('href'))")
        listed = page.eval_on_selector_all(
            ".timeline-list a", "els => els.filter(e => e.checkVisibility()).map(e => e.getAttribute('href'))"
        )
        assert len(bars) >= 25 and sorted(listed) == sorted(bars)
        page.goto(base + "/organizations/upu/")
        ties = page.eval_on_selector_all("svg.ties a", "els => els.map(e => e.getAttribute('href'))")
        related = page.eval_on_selector_all(
            ".relations a, .entity-aside a", "els => els.map(e => e.getAttribute('href'))"
        )
        assert ties and not set(ties) - set(related)


def test_header_is_one_row_and_the_search_box_on_a_phone(site: Path, chromium: Any) -> None:  # noqa: F811
    with serve_folder(site) as base:
        page = chromium.new_page()
        page.set_viewport_size(PHONE)
        for path in ("/", "/organizations/united-nations/", "/facts/", "/search/"):
            page.goto(base + path)
            height = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
            assert height <= 120, (path, height)
        assert not page.is_visible(".site-nav a")
        page.click(".nav-menu summary")
        assert page.is_visible(".site-nav a") and page.locator(".site-nav a").count() >= 5
        page.set_viewport_size(WIDE)
        page.goto(base + "/")
        assert page.is_visible(".site-nav a") and not page.is_visible(".nav-menu summary")


def test_the_all_facts_table_filters_and_sorts(site: Path, chromium: Any) -> None:  # noqa: F811
    with serve_folder(site) as base:
        page = chromium.new_page()
        page.set_viewport_size(PHONE)
        page.goto(base + "/facts/")
        rows = "table[data-table-tools] tbody tr"
        total = page.locator(rows).count()
        page.fill(".table-tools input", "UNICEF")
        shown = page.eval_on_selector_all(rows, "rs => rs.filter(r => !r.hidden).length")
        assert 0 < shown < total
        assert page.text_content(".table-count[role=status]") == f"{shown} of {total} rows shown"
        page.fill(".table-tools input", "")
        page.click("th:nth-child(2) button.sort")
        assert page.get_attribute("th:nth-child(2)", "aria-sort") == "ascending"
        page.click("th:nth-child(2) button.sort")
        assert page.get_attribute("th:nth-child(2)", "aria-sort") == "descending"
        assert page.locator(rows).count() == total


GLUED = ["FactValue", "ValuePeriod", "PeriodAbout", "AboutSource", "Unionparticipant", "File 0"]


def test_search_excerpts_are_prose_with_words_apart(site: Path, chromium: Any) -> None:  # noqa: F811
    with serve_folder(site) as base:
        page = chromium.new_page()
        page.set_viewport_size(PHONE)
        page.goto(base + "/search/?q=UNICEF")
        page.wait_for_selector(".search-results a", timeout=15000)
        assert page.input_value("#site-search-q") == "UNICEF"
        fields = page.eval_on_selector_all(
            "input[type=search]", "els => els.filter(e => e.checkVisibility()).length"
        )
        assert fields == 1
        crumbs = page.eval_on_selector_all(".breadcrumbs li", "els => els.map(e => e.textContent.trim())")
        assert crumbs == ["Home", "Search"]
        excerpts = page.evaluate(
            """async () => {
                const pagefind = await import('/pagefind/pagefind.js');
                const found = await pagefind.search('UNICEF');
                const data = await Promise.all(found.results.map(r => r.data()));
                return data.flatMap(d => [d.excerpt, ...d.sub_results.map(s => s.excerpt)]);
            }"""
        )
    texts = [re.sub(r"<[^>]+>", "", e) for e in excerpts]
    assert len(texts) >= 10
    assert [t for t in texts if any(g in t for g in GLUED)] == []
    assert [t for t in texts if t.startswith(("Fact ", "Value ", "Period ", "About ", "Source "))] == []
    # A lower-case letter run into a capital, as cells without a space between them read.
    assert [t for t in texts if re.search(r"[a-z][A-Z][a-z]", t)] == []
