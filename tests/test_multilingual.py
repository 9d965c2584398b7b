"""A site in two languages: translations share references and facts; links, dates and order follow each."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from factbook.build import Options, build, check
from factbook.collate import initial, sort_key
from factbook.translate import version

from .conftest import SITES, run_cli

SITE = SITES / "bilingual"
HOST = "https://caspian.example.org"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("bilingual") / "out"
    report = build(Options(SITE, output, strict=True))
    assert not report.problems, [str(p) for p in report.problems]
    return output


def _page(output: Path, url: str) -> str:
    return (output / url.strip("/") / "index.html").read_text(encoding="utf-8")


def _alternates(html: str) -> dict[str, str]:
    return dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html))


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE, root, ignore=shutil.ignore_patterns("_site"))
    return root


def test_the_site_checks_clean() -> None:
    assert [str(p) for p in check(Options(SITE, strict=True)).problems] == []


def test_a_translation_has_its_own_text_and_the_originals_references_and_facts(built: Path) -> None:
    page = _page(built, "/az/organizations/itu/")
    assert '<html lang="az">' in page
    assert '<h1 data-pagefind-meta="title">Beynəlxalq Telekommunikasiya İttifaqı' in page
    assert "Radiotezlik spektri" in page  # a field declared translate: true
    assert "(ITU)" in page and "UN specialized agency" in page  # the original's, not translated
    assert "Cenevrədə" in page
    # Its references are the original's, each to the page in the same language.
    assert 'href="/az/sources/itu-report/"' in page
    event = _page(built, "/az/events/telecom-2009/")
    assert 'href="/az/organizations/itu/"' in event and 'href="/az/organizations/ministry/"' in event
    sheet = _page(built, "/az/facts/subscribers/")
    assert "Mobil abunəçilər" in sheet and "107.7" in sheet and 'href="/az/organizations/azercell/"' in sheet


def test_wiki_links_in_a_translation_go_to_the_translation(built: Path) -> None:
    page = _page(built, "/az/events/telecom-2009/")
    prose = page.split('<div class="prose">', 1)[1].split("</div>", 1)[0]
    assert 'href="/az/organizations/itu/">Beynəlxalq Telekommunikasiya İttifaqı</a>' in prose
    # A link to a page with no translation goes to that page in this language's edition.
    assert 'href="/az/events/bakutel-2012/"' in _page(built, "/az/organizations/ministry/")


def test_the_switcher_and_hreflang_link_both_ways(built: Path) -> None:
    english, azerbaijani = _page(built, "/organizations/itu/"), _page(built, "/az/organizations/itu/")
    both = {"en": f"{HOST}/organizations/itu/", "az": f"{HOST}/az/organizations/itu/"}
    assert _alternates(english) == both
    assert _alternates(azerbaijani) == both
    # The switcher links within the site, as every other link does.
    assert '<a href="/az/organizations/itu/" hreflang="az" lang="az">Azərbaycanca</a>' in english
    assert '<a href="/organizations/itu/" hreflang="en" lang="en">English</a>' in azerbaijani
    assert 'lang="az" aria-current="true">Azərbaycanca' in azerbaijani
    assert 'lang="en" aria-current="true">English' in english


def test_the_sitemap_lists_every_language_with_its_alternates(built: Path) -> None:
    sitemap = (built / "sitemap.xml").read_text(encoding="utf-8")
    assert 'xmlns:xhtml="http://www.w3.org/1999/xhtml"' in sitemap
    itu = f'<xhtml:link rel="alternate" hreflang="az" href="{HOST}/az/organizations/itu/"/>'
    assert sitemap.count(itu) == 2  # on the English page's entry and on the Azerbaijani one's
    assert f"<loc>{HOST}/az/organizations/itu/</loc>" in sitemap
    assert f"<loc>{HOST}/az/organizations/iot/</loc>" not in sitemap  # a fallback is no translation
    assert not (built / "az" / "sitemap.xml").exists() and not (built / "az" / "robots.txt").exists()


def test_a_page_with_no_translation_falls_back_with_a_note(built: Path) -> None:
    page = _page(built, "/az/organizations/iot/")
    assert "Bu səhifə hələ tərcümə olunmayıb; aşağıda ingiliscə mətn verilir." in page
    assert "An office with no translation yet." in page
    assert "Innovation Office" in page and '<html lang="az">' in page
    # Its English text says so, and search finds it on the English page only.
    assert '<div class="prose" lang="en">' in page and "data-pagefind-body" not in page
    assert _alternates(page) == {} and _alternates(_page(built, "/organizations/iot/")) == {}
    assert "translation-note" not in _page(built, "/organizations/iot/")
    assert "translation-note" not in _page(built, "/az/organizations/itu/")


def test_the_interface_and_feeds_are_in_each_language(built: Path) -> None:
    home = _page(built, "/az/")
    assert 'placeholder="Axtarış"' in home and ">Təşkilatlar<" in home and "Bağlı Xəzər" in home
    assert 'placeholder="Search"' in _page(built, "/")
    feed = (built / "az" / "events" / "feed.xml").read_text(encoding="utf-8")
    assert f'<link href="{HOST}/az/events/telecom-2009/"/>' in feed
    assert f"{HOST}/az/events/telecom-2009/" in feed and f"<id>{HOST}/events/" not in feed
    assert "<title>Connected Caspian: tədbirlər</title>" in feed and "5–9 oktyabr 2009" in feed


def test_dates_are_in_words_in_the_pages_language(built: Path) -> None:
    assert "5–9 oktyabr 2009" in _page(built, "/az/events/telecom-2009/")
    assert "5–9 October 2009" in _page(built, "/events/telecom-2009/")
    assert ">dekabr 2012<" in _page(built, "/az/events/bakutel-2012/")
    assert ">December 2012<" in _page(built, "/events/bakutel-2012/")


def test_a_to_z_follows_the_languages_alphabet(built: Path) -> None:
    def order(url: str) -> list[str]:
        index = _page(built, url).split("</section>", 1)[0]
        return re.findall(r'<li><a href="[^"]*/organizations/([^/"]+)/">', index)

    # Azerbaijani puts Ç after C, and X (Xəzər) before I (Innovation Office, read as ı).
    assert order("/az/organizations/") == ["azercell", "itu", "caspian-cable", "xazar", "iot", "ministry"]
    assert order("/organizations/") == ["azercell", "caspian-cable", "iot", "itu", "xazar", "ministry"]


def test_letters_group_and_sort_by_the_azerbaijani_alphabet() -> None:
    names = ["Zəngilan", "Əli", "İsmayıllı", "Ismayıl", "Xaçmaz", "Çay", "Cəlil", "Qax", "Ka", "Ğ", "Ö", "Ə"]
    ordered = sorted(names, key=lambda n: sort_key(n, "az"))
    assert ordered == [
        "Cəlil",
        "Çay",
        "Ə",
        "Əli",
        "Ğ",
        "Xaçmaz",
        "Ismayıl",
        "İsmayıllı",
        "Ka",
        "Qax",
        "Ö",
        "Zəngilan",
    ]
    assert [initial(n, "az") for n in ("İsmayıllı", "Ismayıl", "əli", "çay", "1990")] == [
        "İ",
        "I",
        "Ə",
        "Ç",
        "#",
    ]


def test_a_stale_translation_warns_naming_both_files(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    original = root / "content" / "organizations" / "itu.md"
    before = version(original.read_bytes())
    original.write_text(original.read_text(encoding="utf-8") + "\nIt met again in 2010.\n", encoding="utf-8")
    problems = [str(p) for p in check(Options(root)).problems]
    assert problems == [
        f"content/organizations/itu.az.md:5: warning: translation of content/organizations/itu.md,"
        f" which changed since (made from {before}, now {version(original.read_bytes())});"
        " update it, then its translated_from"
    ]


def test_a_translation_may_not_set_a_field_of_the_original(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "content" / "organizations" / "azercell.az.md"
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "kind: operator\ntitle:"), "utf-8")
    problems = [str(p) for p in check(Options(root)).problems]
    assert problems == [
        "content/organizations/azercell.az.md:2: field 'kind' is not translatable: it is taken from the"
        " original; remove it from content/organizations/azercell.az.md"
    ]


def test_new_translate_starts_a_translation_that_checks(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    result = run_cli("new", "--translate", "bakutel-2012", "az", cwd=root)
    assert result.returncode == 0, result.stderr
    made = root / "content" / "events" / "bakutel-2012.az.md"
    original = (root / "content" / "events" / "bakutel-2012.md").read_bytes()
    assert made.read_text(encoding="utf-8") == (
        "---\n"
        'title: "Bakutel 2012"\n'
        'place: "Baku"\n'
        f"translated_from: {version(original)}\n"
        "---\n"
        "The yearly exhibition in Baku, hosted by [[ministry]].\n"
    )
    assert check(Options(root, strict=True)).problems == ()
    again = run_cli("new", "--translate", "bakutel-2012", "az", cwd=root)
    assert again.returncode != 0 and "exists already" in again.stderr
    unknown = run_cli("new", "--translate", "bakutel-2012", "fr", cwd=root)
    assert unknown.returncode != 0 and "'fr' is not one of the site's other languages" in unknown.stderr


def test_search_is_per_language_from_one_index_at_the_top(tmp_path: Path) -> None:
    output = tmp_path / "out"
    report = build(Options(SITE, output, search=True))
    assert not report.errors, [str(p) for p in report.problems]
    entry = json.loads((output / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert {"en", "az"} <= set(entry["languages"])
    search = _page(output, "/az/search/")
    assert 'data-bundle="/pagefind/"' in search and 'href="/pagefind/pagefind.js"' in search
