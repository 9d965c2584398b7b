"""Alphabetical order and A–Z letters follow each language's CLDR rules, through ICU."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from factbook.build import Options, build
from factbook.collate import initial, sort_key

from .conftest import ROOT, SOURCE, write_files


def _sorted(names: list[str], locale: str) -> list[str]:
    return sorted(names, key=lambda n: sort_key(n, locale))


def test_swedish_puts_a_ring_a_umlaut_and_o_umlaut_after_z_as_letters_of_their_own() -> None:
    assert _sorted(["Öberg", "Ärla", "Zeta", "Åsa", "Olsson", "Adam"], "sv") == [
        "Adam",
        "Olsson",
        "Zeta",
        "Åsa",
        "Ärla",
        "Öberg",
    ]
    assert [initial(n, "sv") for n in ("Zeta", "Åsa", "ärla", "Öberg", "Olsson")] == ["Z", "Å", "Ä", "Ö", "O"]


def test_german_files_a_umlaut_under_a_beside_its_plain_letter() -> None:
    assert _sorted(["Zorn", "Äpfel", "Apfel", "Bahn", "Öl", "Ofen"], "de") == [
        "Apfel",
        "Äpfel",
        "Bahn",
        "Ofen",
        "Öl",
        "Zorn",
    ]
    assert [initial(n, "de") for n in ("Äpfel", "Apfel", "Öl", "über")] == ["A", "A", "O", "U"]


def test_spanish_has_enye_as_a_letter_after_n() -> None:
    assert _sorted(["Oso", "Ñandú", "Nube", "Nzeta"], "es") == ["Nube", "Nzeta", "Ñandú", "Oso"]
    assert [initial(n, "es") for n in ("Nube", "ñandú", "Oso")] == ["N", "Ñ", "O"]


def test_azerbaijani_has_schwa_after_e_and_dotted_and_dotless_i_apart() -> None:
    assert _sorted(["Fərid", "Əli", "Elçin", "İlham", "Ilqar", "Həsən", "Xaçmaz"], "az") == [
        "Elçin",
        "Əli",
        "Fərid",
        "Həsən",
        "Xaçmaz",
        "Ilqar",
        "İlham",
    ]
    assert [initial(n, "az") for n in ("İlham", "ilham", "Ilqar", "ılıq", "Əli")] == ["İ", "İ", "I", "I", "Ə"]


def test_english_ignores_case_and_accents_before_anything_else() -> None:
    assert _sorted(["Zola", "émile", "Eve", "Ezra", "adam"], "en") == ["adam", "émile", "Eve", "Ezra", "Zola"]
    assert initial("Émile", "en") == "E"


@pytest.mark.parametrize("locale", ["en", "sv", "de", "es", "az", "ja"])
def test_a_name_starting_with_a_digit_or_a_sign_is_listed_under_hash_before_the_letters(locale: str) -> None:
    assert [initial(n, locale) for n in ("1990 Act", "'Quoted'", "(Bracketed)", "#1")] == ["#"] * 4
    assert sort_key("1990 Act", locale) < sort_key("Abc", locale)


def test_a_name_in_a_script_the_language_does_not_index_is_listed_under_hash() -> None:
    assert [initial(n, "en") for n in ("Жуков", "Ωmega", "東京")] == ["#", "#", "#"]


def test_a_locale_icu_does_not_know_gets_the_root_order_whatever_the_process_locale() -> None:
    names = ["Zeta", "Öberg", "Åsa", "Apfel", "Ärla"]
    # Root order, not Swedish, although Swedish is the environment's and ICU's default locale.
    script = (
        "import icu, json; icu.Locale.setDefault(icu.Locale('sv_SE'));"
        "from factbook.collate import initial, sort_key;"
        f"names = {names!r};"
        "print(json.dumps([sorted(names, key=lambda n: sort_key(n, 'qq-ZZ')),"
        " [initial(n, 'qq-ZZ') for n in names]], ensure_ascii=False))"
    )
    env = {**os.environ, "LANG": "sv_SE.UTF-8", "LC_ALL": "sv_SE.UTF-8", "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [["Apfel", "Ärla", "Åsa", "Öberg", "Zeta"], ["Z", "O", "A", "A", "A"]]
    assert _sorted(names, "qq-ZZ") == _sorted(names, "en")


def test_ties_on_every_level_still_differ_and_case_orders_them() -> None:
    assert sort_key("abc", "en") != sort_key("Abc", "en")
    assert _sorted(["Abc", "abc", "ABC"], "en") == ["abc", "Abc", "ABC"]


# A Swedish site, with a German edition of the same pages (none translated: the same names).
NAMES = "Adam Apfel Äpfel Åsa Ärla Bo Olsson Ofen Öberg Öl Zeta Zorn 1990".split()
SETTINGS = """\
title: Namn
url: https://namn.example.org/
language: sv
languages:
  de:
    name: Deutsch
    locale: de_DE
"""


@pytest.fixture(scope="module")
def swedish(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("swedish") / "site"
    files = {"content/site.yaml": SETTINGS, "content/sources/press.md": SOURCE}
    for i, name in enumerate(NAMES):
        files[f"content/organizations/o{i}.md"] = f"---\ntitle: '{name}'\nsources: [press]\n---\nA body.\n"
    write_files(root, files)
    output = root / "out"
    report = build(Options(root, output))
    assert not report.problems, [str(p) for p in report.problems]
    return output


def _letters(html: str) -> list[tuple[str, list[str]]]:
    sections = re.findall(r'<h3 id="letter-[^"]+">([^ <]+) .*?</h3>(.*?)</ul>', html, re.S)
    return [(letter, re.findall(r'<li><a href="[^"]*">([^<]*)</a>', items)) for letter, items in sections]


def _listed(html: str) -> list[str]:
    graph = json.loads(re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[0])
    page = next(n for n in graph["@graph"] if n["@type"] == "CollectionPage")
    return [i["name"] for i in page["mainEntity"]["itemListElement"]]


def test_the_default_languages_index_follows_its_own_alphabet(swedish: Path) -> None:
    html = (swedish / "organizations" / "index.html").read_text(encoding="utf-8")
    assert _letters(html) == [
        ("#", ["1990"]),
        ("A", ["Adam", "Apfel"]),
        ("B", ["Bo"]),
        ("O", ["Ofen", "Olsson"]),
        ("Z", ["Zeta", "Zorn"]),
        ("Å", ["Åsa"]),
        ("Ä", ["Äpfel", "Ärla"]),
        ("Ö", ["Öberg", "Öl"]),
    ]
    # The page's JSON-LD lists the pages in the order the index does.
    assert _listed(html) == [name for _, names in _letters(html) for name in names]


def test_another_languages_edition_orders_the_same_names_by_its_locale(swedish: Path) -> None:
    html = (swedish / "de" / "organizations" / "index.html").read_text(encoding="utf-8")
    assert _letters(html) == [
        ("#", ["1990"]),
        ("A", ["Adam", "Apfel", "Äpfel", "Ärla", "Åsa"]),
        ("B", ["Bo"]),
        ("O", ["Öberg", "Ofen", "Öl", "Olsson"]),
        ("Z", ["Zeta", "Zorn"]),
    ]
    assert _listed(html) == [name for _, names in _letters(html) for name in names]
