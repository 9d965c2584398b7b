"""The flagship site as readers, search engines and machines see it, checked with real tools."""

from __future__ import annotations

import json
import multiprocessing
import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from factbook.build import Options, build
from factbook.starter import init_site

from .browser import chromium
from .conftest import SITES
from .tools import npm_package, nu_errors, serve_folder

ROOT = Path(__file__).parents[1]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("flagship") / "site"
    report = build(Options(ROOT, out, jobs=2, search=True))
    assert not report.failed(strict=True), report.problems
    return out


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "pagefind" not in p.parts)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        for name in ("href", "src"):
            value = found.get(name)
            if value and not (tag == "link" and found.get("rel") == "canonical"):
                self.links.append(value)


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _target(site: Path, url_path: str) -> Path | None:
    path = site / unquote(url_path).lstrip("/")
    if path.is_dir():
        path = path / "index.html"
    return path if path.is_file() else None


def test_every_internal_link_anchor_and_asset_resolves(site: Path) -> None:
    parsed = {page: _parse(page) for page in _pages(site)}
    broken = []
    for page, found in parsed.items():
        base = "/" + page.relative_to(site).as_posix()
        for link in found.links:
            parts = urlsplit(urljoin(base, link))
            if parts.scheme or parts.netloc:
                broken.append(f"{base}: external {link}")
                continue
            target = _target(site, parts.path)
            if target is None:
                broken.append(f"{base}: {link} has no file")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{base}: {link} has no #{parts.fragment}")
    assert broken == []
    assert sum(len(p.links) for p in parsed.values()) > 5000


def test_sitemap_feed_and_graph_point_at_real_pages(site: Path) -> None:
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "a": "http://www.w3.org/2005/Atom"}
    locs = [e.text or "" for e in ET.parse(site / "sitemap.xml").getroot().findall("s:url/s:loc", ns)]
    assert len(locs) == len(_pages(site)) - 1  # every page but 404.html
    assert all(_target(site, loc) for loc in locs)
    feed = ET.parse(site / "events" / "feed.xml").getroot()
    entries = feed.findall("a:entry", ns)
    assert len(entries) >= 25
    assert all(_target(site, e.find("a:link", ns).get("href", "")) for e in entries)  # type: ignore[union-attr]
    assert "Sitemap: /sitemap.xml" in (site / "robots.txt").read_text()
    graph = json.loads((site / "graph.json").read_text())
    assert len(graph["nodes"]) >= 190 and len(graph["edges"]) > 1000 and len(graph["facts"]) >= 50
    assert all(_target(site, n["url"]) for n in graph["nodes"])
    edges = [(e["source"], e["target"], e["relation"], e["role"]) for e in graph["edges"]]
    assert len(edges) == len(set(edges)) and not [e for e in edges if e[0] == e[1]]
    assert "undated" not in {n["date"] for n in graph["nodes"]}  # no date is null, not a word
    jsonld = json.loads((site / "graph.jsonld").read_text())
    kinds = {n["@type"] for n in jsonld["@graph"]}
    assert {"Organization", "Event", "Person", "CreativeWork"} <= kinds


def test_entity_pages_carry_metadata_and_pictures(site: Path) -> None:
    html = (site / "organizations" / "itu" / "index.html").read_text()
    assert '<link rel="canonical" href="/organizations/itu/">' in html
    assert '<meta property="og:title" content="International Telecommunication Union">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert data["@type"] == "Organization" and data["alternateName"] == "ITU"
    assert {"@id": "/organizations/united-nations/"} in data["parentOrganization"]
    assert (
        '<svg class="ties"' in html
        and 'href="/events/itu-telecom-world-2009/"' in html.split('<svg class="ties"')[1]
    )
    home = (site / "index.html").read_text()
    assert '<svg class="timeline"' in home and home.count('<rect class="mark') >= 25
    event = (site / "events" / "itu-telecom-world-2011" / "index.html").read_text()
    assert 'rel="prev"' in event and 'rel="next"' in event
    event_ld = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', event, re.S).group(1)
    )  # type: ignore[union-attr]
    assert event_ld["startDate"] == "2011-10-24" and event_ld["endDate"] == "2011-10-27"


def test_html_is_valid_by_the_nu_checker(site: Path) -> None:
    errors, checked = nu_errors(site)
    assert errors == []
    assert len(_pages(site)) > 150 and "None" not in checked


def test_sites_that_are_not_the_flagship_are_valid_html_too(tmp_path: Path) -> None:
    # A vault with every Obsidian form, a site of its own collections, and init's starter.
    starter = tmp_path / "starter"
    init_site(starter)
    outputs = []
    for name, root in (("vault", SITES / "vault"), ("species", SITES / "species"), ("starter", starter)):
        out = tmp_path / f"{name}-out"
        report = build(Options(root, out))
        assert not report.errors, report.problems
        outputs.append(out)
    errors, _ = nu_errors(*outputs)
    assert errors == []


def _audit(base: str, urls: list[str], axe: str) -> list[str]:
    """Return axe violations (2 viewings a page), console errors and foreign requests of urls."""
    problems: list[str] = []
    host = urlsplit(base).netloc
    with chromium() as browser:
        page = browser.new_page()
        page.on(
            "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        def request(r) -> None:  # type: ignore[no-untyped-def]
            # The browser's own pages (its PDF viewer, say) are not requests the site makes.
            own = r.url.startswith(("data:", "chrome:", "chrome-extension:", "blob:"))
            if urlsplit(r.url).netloc not in {host, ""} and not own:
                problems.append(f"request to another host: {r.url}")

        page.on("request", request)
        for url in urls:
            page.goto(url)
            page.add_script_tag(content=axe)
            # Both schemes and both widths, paired: light wide and dark narrow.
            for scheme, width in (("light", 1280), ("dark", 390)):
                page.emulate_media(color_scheme=scheme)
                page.set_viewport_size({"width": width, "height": 900})
                result = page.evaluate(
                    "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
                )
                for violation in result["violations"]:
                    targets = [n["target"] for n in violation["nodes"][:3]]
                    problems.append(
                        f"{url} [{scheme} {width}px] {violation['id']}: {violation['help']} {targets}"
                    )
    return problems


def test_no_wcag_violations_console_errors_or_foreign_requests(site: Path) -> None:
    axe = (npm_package("axe-core") / "axe.min.js").read_text(encoding="utf-8")
    with serve_folder(site) as base:
        urls = [base + "/" + p.relative_to(site).as_posix().removesuffix("index.html") for p in _pages(site)]
        # Two browsers side by side (one per core): every page, light and wide, dark and narrow.
        with ThreadPoolExecutor(2) as pool:
            halves = list(pool.map(_audit_in_process, [(base, urls[0::2], axe), (base, urls[1::2], axe)]))
    assert [p for half in halves for p in half] == []


def test_a_vault_has_no_wcag_violations_either(tmp_path: Path) -> None:
    out = tmp_path / "vault"
    assert not build(Options(SITES / "vault", out, search=True)).errors
    axe = (npm_package("axe-core") / "axe.min.js").read_text(encoding="utf-8")
    with serve_folder(out) as base:
        urls = [base + "/" + p.relative_to(out).as_posix().removesuffix("index.html") for p in _pages(out)]
        assert _audit_in_process((base, urls, axe)) == []


def _audit_in_process(args: tuple[str, list[str], str]) -> list[str]:
    # Playwright's sync API wants a thread of its own per browser; a child process gives that.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_audit, args)


def test_search_finds_an_organization_and_nothing_for_nonsense(site: Path) -> None:
    with serve_folder(site) as base, chromium() as browser:
        page = browser.new_page()
        page.goto(base + "/search/?q=UNESCO")
        page.wait_for_selector(".pagefind-ui__result-link", timeout=15000)
        links = page.eval_on_selector_all(
            ".pagefind-ui__result-link", "els => els.map(e => e.getAttribute('href'))"
        )
        assert "/organizations/unesco/" in links
        found = page.evaluate(
            """async () => {
                const pagefind = await import('/pagefind/pagefind.js');
                const hits = await pagefind.search('Universal Postal Union');
                const none = await pagefind.search('qzxqjvbnonsenseword');
                const urls = await Promise.all(hits.results.slice(0, 5).map(r => r.data().then(d => d.url)));
                return {urls, none: none.results.length};
            }"""
        )
        assert "/organizations/upu/" in found["urls"]
        assert found["none"] == 0
