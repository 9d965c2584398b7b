"""A site in two languages: translations share references and facts; links, dates and order follow each."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from factbook.build import Options, build, check
from factbook.catalogues import load_translations
from factbook.collate import initial, sort_key
from factbook.theme import packaged
from factbook.translate import version

from .conftest import ROOT, SITES, run_cli
from .pseudo import (
    CLOSE,
    OPEN,
    catalogue_ids,
    content_texts,
    english_left,
    site_words,
    theme_messages,
    write_pseudo,
)

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


THEME_AZ = packaged("locales") / "az" / "LC_MESSAGES" / "messages.po"
OWN_AZ = Path("locales") / "az" / "LC_MESSAGES" / "messages.po"  # a site's own, over the theme's


def _pseudo_site(tmp_path: Path) -> Path:
    """Return a copy of the bilingual site whose Azerbaijani catalogue wraps every message in ⟦ ⟧."""
    root = _copy(tmp_path)
    # The theme's messages and the site's own words, each translated as itself, marked.
    messages = theme_messages() | site_words(root) | set(catalogue_ids(root / OWN_AZ))
    write_pseudo(root / OWN_AZ, messages, "az")
    return root


def _english_left(root: Path, output: Path) -> dict[str, list[str]]:
    """Return, by page, the words of the Azerbaijani pages that neither a catalogue nor the content gave."""
    texts, bodies = content_texts(root)
    found = {}
    for page in sorted((output / "az").rglob("*.html")):
        left = english_left(page, texts, bodies, "az", "az")
        if left:
            found[str(page.relative_to(output))] = left
    return found


def test_every_word_of_the_theme_comes_from_the_catalogue(tmp_path: Path) -> None:
    # A pseudo-translation marks what the catalogue gave: whatever a reader meets unmarked on a
    # page of the second language (text, title, aria-label, the scripts' words) is the site's own
    # content, or English no catalogue can translate.
    root = _pseudo_site(tmp_path)
    output = tmp_path / "out"
    report = build(Options(root, output, strict=True))
    assert not report.problems, [str(p) for p in report.problems]
    assert _english_left(root, output) == {}
    # Every kind of page was there to be read, and marked; the default language's pages are not.
    pages = {p.relative_to(output / "az").as_posix() for p in (output / "az").rglob("*.html")}
    assert {"index.html", "404.html", "data/index.html", "search/index.html", "facts/index.html"} <= pages
    home = _page(output, "/az/")
    assert f"{OPEN}Latest %(kinds)s{CLOSE}" not in home and f"{OPEN}Latest {OPEN}" in home
    assert OPEN not in _page(output, "/") and OPEN not in _page(output, "/data/")


def test_an_english_word_written_into_a_template_is_found(tmp_path: Path) -> None:
    root = _pseudo_site(tmp_path)
    theme = (packaged("templates") / "list.html").read_text(encoding="utf-8")
    (root / "templates").mkdir()
    (root / "templates" / "list.html").write_text(
        theme.replace(
            "{% endif %}\n{% for heading",
            '{% endif %}\n<p title="Every page">Browse them all</p>\n{% for heading',
            1,
        ),
        encoding="utf-8",
    )
    output = tmp_path / "out"
    build(Options(root, output))
    found = _english_left(root, output)
    assert found["az/organizations/index.html"] == ["Browse them all", "Every page"]
    assert set(found) == {f"az/{name}/index.html" for name in ("organizations", "events", "sources", "facts")}


def test_the_azerbaijani_catalogue_translates_every_message_of_the_theme() -> None:
    with THEME_AZ.open("rb") as handle:
        catalog = read_po(handle)
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    # Babel's own checks: as many plural forms as the language has, the same placeholders.
    assert [(m.id, errors) for m, errors in catalog.check()] == []
    translations = catalogue_ids(THEME_AZ)
    wanted = {m if isinstance(m, str) else m[0] for m in theme_messages()}
    # The flagship (this repository is its root) has its own words in the same catalogue.
    wanted |= site_words(ROOT)
    untranslated = sorted(m for m in wanted if not translations.get(m))
    assert untranslated == []
    assert all(all(forms) for forms in translations.values() if isinstance(forms, tuple))
    # The bilingual test site's own words are in its own catalogue.
    own = catalogue_ids(SITE / OWN_AZ)
    assert sorted(w for w in site_words(SITE) if not (own.get(w) or translations.get(w))) == []


def test_the_interface_of_the_second_language_is_in_its_words(built: Path) -> None:
    data = _page(built, "/az/data/")
    assert 'Hər təşkilat üçün bir sətir; <a href="#data-organizations">sütunları</a>.' in data
    assert "Columns of" not in data and "One row for each" not in data
    assert "6 sətir</p>" in data  # ngettext: one form after a number, as Azerbaijani says it
    home = _page(built, "/az/")
    assert '<h2 id="latest">Son tədbirlər</h2>' in home and "Hər tarixli tədbir öz zaman aralığında" in home
    itu = _page(built, "/az/organizations/itu/")
    assert 'aria-label="Naviqasiya zənciri"' in itu and ">Əsas səhifə</a>" in itu
    assert "Fəaliyyət sahəsi" in itu  # the site's own word, from the site's own catalogue
    index = _page(built, "/az/organizations/")
    assert ">Ada görə</h2>" in index or ">A–Z</h2>" in index


def test_a_catalogue_brings_its_languages_plural_rule(tmp_path: Path) -> None:
    folder = tmp_path / "locales" / "ru" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4'
        ' && (n%100<10 || n%100>=20) ? 1 : 2);\\n"\n\n'
        'msgid "%(num)s row"\nmsgid_plural "%(num)s rows"\n'
        'msgstr[0] "%(num)s строка"\nmsgstr[1] "%(num)s строки"\nmsgstr[2] "%(num)s строк"\n',
        encoding="utf-8",
    )
    translations, problems = load_translations(tmp_path, "ru")
    assert problems == []
    said = [translations.ngettext("%(num)s row", "%(num)s rows", n) % {"num": n} for n in (1, 3, 5, 21)]
    assert said == ["1 строка", "3 строки", "5 строк", "21 строка"]
