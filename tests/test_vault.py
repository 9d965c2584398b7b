"""An Obsidian vault built as it is: tests/sites/vault, its links, embeds, Markdown and unpublished files."""

from __future__ import annotations

import re
import shutil
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from factbook.build import Options, Report, build, check

from .conftest import SITES, write_files
from .conftest import invoke_cli as run_cli

VAULT = SITES / "vault"

# Each bare [[Ideas]] names two notes: the one Obsidian picks, and a warning naming both files.
DUPLICATE_WARNINGS = [
    "Plants/Vegetables/Carrots.md:3: warning: 'Ideas' names Plants/Vegetables/Ideas.md and "
    "Projects/Ideas.md; linked to Plants/Vegetables/Ideas.md",
    "Projects/Raised Bed.md:34: warning: 'Ideas' names Projects/Ideas.md and "
    "Plants/Vegetables/Ideas.md; linked to Projects/Ideas.md",
    "Welcome.md:18: warning: 'Ideas' names Projects/Ideas.md and Plants/Vegetables/Ideas.md; "
    "linked to Projects/Ideas.md",
]


# Helpers


class _Elements(HTMLParser):
    """Collects every start tag with its attributes, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    """Return (tag, attributes) for every element of html."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def page_file(out: Path, url: str) -> Path:
    """Return the output file an internal URL leads to: /x/ -> x/index.html, fragment dropped."""
    path = unquote(urlsplit(url).path).lstrip("/")
    return out / path / "index.html" if path == "" or path.endswith("/") else out / path


def page(out: Path, url: str) -> str:
    """Return the HTML of the page at url."""
    return page_file(out, url).read_text(encoding="utf-8")


def element(html: str, opening: str) -> str:
    """Return the first element that opens with the given start tag, up to its own closing tag."""
    start = html.index(opening)
    tag = opening[1:].split(" ")[0].rstrip(">")
    depth = 0
    for m in re.finditer(rf"<(/?){tag}[\s>]", html[start:]):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return html[start : html.index(">", start + m.start()) + 1]
    raise AssertionError(f"{opening} is never closed")


def prose(html: str) -> str:
    """Return the note's own text: the <div class="prose"> of the page, with what it holds."""
    return element(html, '<div class="prose">')


def links(html: str) -> list[tuple[str, str]]:
    """Return (href, text) for each link of html, the href percent-decoded (#^id may be #%5Eid)."""
    return [(unquote(href), text) for href, text in re.findall(r'<a href="([^"]*)">([^<]*)</a>', html)]


def link_texts(html: str) -> dict[str, str]:
    """Return each link's text by its decoded href (the last one wins)."""
    return dict(links(html))


def html_files(out: Path) -> dict[str, str]:
    """Return every HTML file of the output by its path inside it."""
    return {p.relative_to(out).as_posix(): p.read_text("utf-8") for p in sorted(out.rglob("*.html"))}


def lines(report: Report) -> list[str]:
    """Return the report's problems as the command line prints them."""
    return [str(p) for p in sorted(report.problems)]


def vault_copy(tmp_path: Path, notes: dict[str, str]) -> Path:
    """Return a copy of the vault with the given notes added (their text dedented)."""
    root = tmp_path / "vault"
    shutil.copytree(VAULT, root)
    for name, text in notes.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    """Build the vault once: its output folder and report."""
    out = tmp_path_factory.mktemp("vault") / "out"
    report = build(Options(VAULT, out, search=False, base_url="https://notes.example.org/"))
    assert not report.failed(strict=False), lines(report)
    return out, report


@pytest.fixture(scope="module")
def out(built: tuple[Path, Report]) -> Path:
    return built[0]


# The vault as a whole


def test_vault_checks_clean_but_for_the_duplicate_names() -> None:
    report = check(Options(VAULT))
    assert lines(report) == DUPLICATE_WARNINGS
    assert not report.failed(strict=False)
    assert report.failed(strict=True)  # --strict fails on the warnings, and only on them
    assert report.entities == {"notes": 11}


def test_build_reports_the_duplicate_names(built: tuple[Path, Report]) -> None:
    assert lines(built[1]) == DUPLICATE_WARNINGS


def test_every_note_has_its_page_and_every_file_is_published(out: Path) -> None:
    pages = {
        "compost/index.html",
        "journal/2024-05-01/index.html",
        "plants/tomatoes/index.html",
        "plants/vegetables/carrots/index.html",
        "plants/vegetables/ideas/index.html",
        "projects/ideas/index.html",
        "projects/raised-bed/index.html",
        "reference/pest-control/index.html",
        "shopping-list/index.html",
        "soil/index.html",
        "welcome/index.html",
    }
    assert pages <= set(html_files(out))
    for name in ["pic.png", "Seed catalogue.pdf", "birdsong.mp3", "time-lapse.mp4"]:
        assert (out / "attachments" / name).read_bytes() == (VAULT / "attachments" / name).read_bytes()


def test_unpublished_notes_and_folders_leave_no_trace(out: Path) -> None:
    published = [p.relative_to(out).as_posix().lower() for p in out.rglob("*")]
    for word in [".obsidian", ".trash", "template", "private", "old-plan", "daily-note", "app.json"]:
        assert not [p for p in published if word in p], word
    markers = ["private-note-marker", "trashed-note-marker", "template-marker", "Old plan", "Daily note"]
    for name, text in html_files(out).items():
        for marker in markers:
            assert marker not in text, (name, marker)
        assert "/private/" not in text and ">Private<" not in text, name
        assert "{{date}}" not in text, name
    for name in ["sitemap.xml", "graph.json", "graph.jsonld"]:
        text = (out / name).read_text("utf-8")
        assert "private" not in text.lower() and "old-plan" not in text and "daily-note" not in text, name


def test_no_obsidian_syntax_is_left_in_any_page(out: Path) -> None:
    for name, text in html_files(out).items():
        for raw in ["![[", "[[", "]]", "%%", "[!", "klzzwxh"]:
            assert raw not in text, (name, raw)
        if '<div class="prose">' in text:
            body = re.sub(r'(id="|#)\^', r"\1", prose(text))  # block ids stay in ids and links
            for raw in ["==", "^ratio", "^pinch", "$$", "\\|"]:
                assert raw not in body, (name, raw)


def test_every_internal_link_and_anchor_resolves(out: Path) -> None:
    files = html_files(out)
    ids = {name: [a["id"] for _, a in elements(text) if "id" in a] for name, text in files.items()}
    for name, found in ids.items():
        assert len(found) == len(set(found)), (name, sorted(i for i in found if found.count(i) > 1))
    checked = 0
    for name, text in files.items():
        for _, attrs in elements(text):
            for attribute in ("href", "src", "data"):
                url = attrs.get(attribute, "")
                if not url or url.startswith("/pagefind/"):  # the search index: not made here
                    continue
                if url.startswith("#"):
                    target = name
                elif url.startswith("/") and not url.startswith("//"):
                    target_file = page_file(out, url)
                    assert target_file.is_file(), (name, url)
                    target = target_file.relative_to(out).as_posix()
                    checked += 1
                else:
                    continue
                fragment = unquote(urlsplit(url).fragment)
                if fragment and target.endswith(".html"):
                    assert fragment in ids[target], (name, url)
    assert checked > 100


# Titles


def test_titles_from_front_matter_heading_or_file_name(out: Path) -> None:
    expected = {
        "/welcome/": "Garden Journal",  # title: in front matter
        "/compost/": "Compost",  # its own "# Compost" first
        "/plants/tomatoes/": "Tomato diary",  # "# Tomato diary" in Tomatoes.md
        "/journal/2024-05-01/": "1 May 2024",  # front matter without title:, then a heading
        "/plants/vegetables/carrots/": "Carrots",  # neither: the file name
        "/projects/ideas/": "Project ideas",
        "/reference/pest-control/": "Pest control",
    }
    for url, title in expected.items():
        html = page(out, url)
        assert f"<title>{title} · " in html, url
        assert len(re.findall(r"<h1[\s>]", html)) == 1, url
        assert re.search(rf"<h1[^>]*>{re.escape(title)}</h1>", html), url


def test_a_note_that_starts_with_its_heading_has_one_h1(out: Path) -> None:
    html = page(out, "/compost/")
    assert html.count("<h1") == 1
    assert prose(html).startswith('<div class="prose"><h1 id="compost">Compost</h1>')


def test_notes_index_groups_by_folder(out: Path) -> None:
    html = page(out, "/notes/")
    assert '<span class="count">11</span>' in html
    for folder in ["Journal", "Plants", "Plants/Vegetables", "Projects", "Reference"]:
        assert f">{folder} <span" in html, folder


# Links


def test_links_by_file_name_title_alias_path_and_heading(out: Path) -> None:
    welcome = link_texts(prose(page(out, "/welcome/")))
    assert welcome["/compost/"] == "Compost"  # by file name
    assert welcome["/compost/#turning-the-heap"] == "Compost › Turning the heap"  # heading text
    assert welcome["/soil/"] == "understanding soil"  # by title, in another case
    assert welcome["/projects/raised-bed/"] == "the raised bed project"  # [[Note|shown]]
    assert welcome["/reference/pest-control/"] == "Pest control"
    assert welcome["#where-to-start"] == "Where to start"  # [[#Heading]] on the same page
    assert welcome["/shopping-list/"] == "shopping list"  # [text](Shopping%20list.md)
    carrots = link_texts(prose(page(out, "/plants/vegetables/carrots/")))
    assert carrots["/reference/pest-control/"] == "Pests"  # by alias (aliases: Pests)
    assert carrots["/welcome/"] == "the start page"  # by alias (aliases: [Home, Start here])
    assert '<a href="/welcome/">Garden Journal</a>' in page(out, "/plants/vegetables/carrots/")
    soil = prose(page(out, "/soil/"))
    assert '<a href="/plants/tomatoes/">tomato diary</a>' in soil  # by its "# Tomato diary" heading
    tomatoes = prose(page(out, "/plants/tomatoes/"))
    assert '<a href="/soil/#testing-the-ph">understanding soil › Testing the pH</a>' in tomatoes


def test_folder_path_and_relative_markdown_links(out: Path) -> None:
    welcome = prose(page(out, "/welcome/"))
    assert '<a href="/plants/tomatoes/">Plants/Tomatoes</a>' in welcome
    bed = prose(page(out, "/projects/raised-bed/"))
    # [tomatoes](../Plants/Tomatoes.md#Pinching%20out), from Projects/
    assert '<a href="/plants/tomatoes/#pinching-out">tomatoes</a>' in bed


def test_block_links_and_block_ids(out: Path) -> None:
    assert ("/compost/#^ratio", "three browns to one green") in links(page(out, "/welcome/"))
    assert ("/plants/tomatoes/#^pinch", "pinching out") in links(page(out, "/reference/pest-control/"))
    compost = prose(page(out, "/compost/"))
    assert '<p id="^ratio">Aim for roughly three parts browns to one part greens by volume.</p>' in compost
    assert '<p id="^pinch">Remove the side shoots' in page(out, "/plants/tomatoes/")
    assert '<a href="#browns-and-greens">Browns and greens</a>' in compost


def test_escaped_pipe_in_a_table(out: Path) -> None:
    welcome = prose(page(out, "/welcome/"))
    assert '<td><a href="/plants/tomatoes/">tomato diary</a></td>' in welcome
    assert '<td><a href="/plants/vegetables/carrots/">carrot notes</a></td>' in welcome
    assert "\\" not in welcome


def test_duplicate_names_link_as_obsidian_does(out: Path) -> None:
    # The shorter path from the top of the vault; the note in the same folder from beside it.
    assert '<a href="/projects/ideas/">Ideas</a>' in page(out, "/welcome/")
    assert '<a href="/projects/ideas/">Ideas</a>' in page(out, "/projects/raised-bed/")
    assert '<a href="/plants/vegetables/ideas/">Ideas</a>' in page(out, "/plants/vegetables/carrots/")


def test_backlinks_list_the_notes_that_mention_a_note(out: Path) -> None:
    html = page(out, "/compost/")
    related = html[html.index('id="related"') :]
    for title in ["1 May 2024", "Garden Journal", "Project ideas", "Understanding Soil"]:
        assert f">{title}</a>" in related, title


# Attachments


def test_image_embeds_carry_size_and_alt(out: Path) -> None:
    images = [a for tag, a in elements(prose(page(out, "/projects/raised-bed/"))) if tag == "img"]
    shown = [(a["src"], a["alt"], a.get("width"), a.get("height")) for a in images]
    assert shown == [
        # The image's own size (4x4) unless the embed gives one; a width alone keeps the proportions.
        ("/attachments/pic.png", "pic", "4", "4"),  # ![[pic.png]]
        ("/attachments/pic.png", "pic", "300", "300"),  # ![[pic.png|300]]
        ("/attachments/pic.png", "pic", "300", "200"),  # ![[pic.png|300x200]]
        ("/attachments/pic.png", "A red square", "4", "4"),  # ![[pic.png|A red square]]
        ("/attachments/pic.png", "The bed from above", "4", "4"),  # ![...](attachments/pic.png)
    ]
    assert (out / "attachments/pic.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_pdf_audio_and_video_embeds(out: Path) -> None:
    found = elements(prose(page(out, "/projects/raised-bed/")))
    pdf = [a for tag, a in found if tag == "object"]
    assert [(a["data"], a["type"]) for a in pdf] == [("/attachments/Seed%20catalogue.pdf", "application/pdf")]
    assert [a["src"] for tag, a in found if tag == "audio"] == ["/attachments/birdsong.mp3"]
    assert [a["src"] for tag, a in found if tag == "video"] == ["/attachments/time-lapse.mp4"]
    assert "controls" in [a for tag, a in found if tag == "audio"][0]
    for url in [
        "/attachments/Seed%20catalogue.pdf",
        "/attachments/birdsong.mp3",
        "/attachments/time-lapse.mp4",
    ]:
        assert page_file(out, url).is_file(), url
        assert f'<a href="{url}">' in page(out, "/projects/raised-bed/"), url  # a fallback link


# Transclusion


def _embeds(html: str) -> list[str]:
    return re.findall(r'<div class="transclusion">(.*?)</div>\n', prose(html) + "\n", re.S)


def test_section_transclusion_holds_the_section_only(out: Path) -> None:
    embeds = _embeds(page(out, "/journal/2024-05-01/"))
    assert len(embeds) == 3
    section = embeds[0]
    assert '<a href="/compost/#browns-and-greens">Compost</a>' in section
    assert "<h2>Browns and greens</h2>" in section  # without its id: it stays on its own page
    assert "Browns are dry and rich in carbon" in section
    assert "three parts browns to one part greens" in section
    assert "Turn the heap every two weeks" not in section
    assert "A compost heap turns kitchen scraps" not in section


def test_block_transclusion_holds_the_block_only(out: Path) -> None:
    block = _embeds(page(out, "/journal/2024-05-01/"))[1]
    assert links(block)[0] == ("/compost/#^ratio", "Compost")
    assert "<p>Aim for roughly three parts browns to one part greens by volume.</p>" in block
    assert "Browns are dry" not in block and "A heap that smells" not in block
    assert 'id="' not in block


def test_whole_note_transclusion(out: Path) -> None:
    whole = _embeds(page(out, "/journal/2024-05-01/"))[2]
    assert '<a href="/shopping-list/">Shopping list</a>' in whole
    for item in ["Seed potatoes", "Netting for the brassicas", "Twine"]:
        assert item in whole


# Obsidian Markdown


def test_callouts(out: Path) -> None:
    html = prose(page(out, "/reference/pest-control/"))
    assert (
        '<div class="callout callout-note" data-callout="note">\n<p class="callout-title">Slugs</p>' in html
    )
    assert '<div class="callout callout-tip" data-callout="tip">\n<p class="callout-title">Tip</p>' in html
    assert (
        '<details class="callout callout-faq callout-question" data-callout="faq">\n'
        '<summary class="callout-title">Do copper rings work?</summary>'
    ) in html
    assert (
        '<details class="callout callout-example" data-callout="example" open>\n'
        '<summary class="callout-title">An open example</summary>'
    ) in html
    # The nested callout sits inside the content of the outer one.
    outer = element(html, '<div class="callout callout-warning" data-callout="warning">')
    content = element(outer, '<div class="callout-content">')
    nested = element(content, '<div class="callout callout-info" data-callout="info">')
    assert '<p class="callout-title">Ladybirds</p>' in nested
    assert "Ladybird larvae eat hundreds of aphids." in nested
    assert "Squash them by hand" in content and "Squash them by hand" not in nested
    assert "<blockquote" not in html
    assert html.count('class="callout ') == 6


def test_highlight_and_comments(out: Path) -> None:
    html = page(out, "/journal/2024-05-01/")
    assert "<mark>first tomato flowers</mark>" in html
    for hidden in ["note to self", "greenhouse vent", "Half-written", "neighbour", "cold frame", "%%"]:
        assert hidden not in html, hidden


def test_task_lists(out: Path) -> None:
    html = prose(page(out, "/journal/2024-05-01/"))
    assert '<ul class="task-list">' in html
    tasks = re.findall(
        r'<li class="task-list-item"><input type="checkbox" disabled( checked)?[^>]*> ([^<]*)', html
    )
    assert tasks[:3] == [
        (" checked", "Turned the compost"),
        ("", "Pinch out the tomatoes"),
        ("", "Order twine "),
    ]
    boxes = [a for tag, a in elements(html) if tag == "input"]  # with the embedded shopping list's
    assert all(a["type"] == "checkbox" and "disabled" in a for a in boxes)
    assert ["checked" in a for a in boxes] == [True, False, False, True, False, False]


def test_math_and_money(out: Path) -> None:
    html = prose(page(out, "/journal/2024-05-01/"))
    maths = [a for tag, a in elements(html) if tag == "math"]
    assert [m["display"] for m in maths] == ["inline", "block"]
    assert "<mi>π</mi>" in html and "<mo>∫</mo>" in html
    assert '<p>Euler would say <math display="inline"' in html
    assert '\n<math display="block"' in html  # display math alone is not wrapped in a <p>
    assert "costs $5 and $6 at the market" in html
    assert "$e^" not in html and "$$" not in html and "\\int" not in html


def test_mermaid(out: Path) -> None:
    html = prose(page(out, "/journal/2024-05-01/"))
    assert '<pre class="mermaid"><code class="language-mermaid">graph LR\n' in html
    assert "Sow --&gt; Prick[Prick out] --&gt; Plant" in html


def test_inline_and_nested_tags(out: Path) -> None:
    compost = prose(page(out, "/compost/"))
    assert '<a class="tag" href="/tags/soil/">#soil</a>' in compost
    carrots = prose(page(out, "/plants/vegetables/carrots/"))
    assert '<a class="tag" href="/tags/vegetables/root/">#vegetables/root</a>' in carrots
    journal = prose(page(out, "/journal/2024-05-01/"))
    # A line that starts with a tag is a paragraph of tags, never a heading.
    assert (
        '<p><a class="tag" href="/tags/garden/">#garden</a> '
        '<a class="tag" href="/tags/project/raised-bed/">#project/raised-bed</a></p>'
    ) in journal
    assert journal.count("<h1") == 1


def _listed(out: Path, url: str) -> list[str]:
    html = page(out, url)
    main = html[html.index("<main") : html.index("</main>")]
    return re.findall(r'<li><a href="(/[^"]*)">', main)


def test_tag_pages_list_their_notes(out: Path) -> None:
    assert _listed(out, "/tags/garden/") == [  # front matter lists, inline tags; not the unpublished note
        "/journal/2024-05-01/",
        "/welcome/",
        "/reference/pest-control/",
        "/projects/raised-bed/",
    ]
    assert _listed(out, "/tags/soil/") == ["/compost/", "/soil/"]  # inline, and "tags: soil science"
    assert _listed(out, "/tags/science/") == ["/soil/"]
    assert _listed(out, "/tags/vegetables/root/") == ["/plants/vegetables/carrots/"]
    assert _listed(out, "/tags/project/raised-bed/") == ["/journal/2024-05-01/"]
    assert _listed(out, "/tags/shopping/") == ["/journal/2024-05-01/"]  # a tag inside a task
    tags = _listed(out, "/tags/")
    assert "/tags/garden/" in tags and "/tags/vegetables/root/" in tags
    assert not [t for t in tags if "date" in t or "template" in t]


def test_front_matter_tags_are_shown_on_the_note(out: Path) -> None:
    html = page(out, "/welcome/")
    assert '<li><a href="/tags/garden/">#garden</a></li>' in html
    assert '<li><a href="/tags/meta/">#meta</a></li>' in html


# Migration mode: a vault's unresolved links are warnings, shown as marked text


MIGRATION_NOTE = """\
    ---
    tags: [draft]
    ---
    Things to write up later.

    See [[Missing note]] for the details.

    ![[missing.png]]
    """


def test_unresolved_links_are_warnings_in_a_vault(tmp_path: Path) -> None:
    root = vault_copy(tmp_path, {"Scratch.md": MIGRATION_NOTE})
    report = check(Options(root))
    scratch = [line for line in lines(report) if line.startswith("Scratch.md")]
    assert scratch == [
        "Scratch.md:6: warning: link [[Missing note]]: unknown page 'Missing note'",
        "Scratch.md:8: warning: embed ![[missing.png]]: no file 'missing.png' in the content",
    ]
    assert not report.failed(strict=False)
    assert report.failed(strict=True)


def test_a_vault_with_unresolved_links_builds_and_marks_them(tmp_path: Path) -> None:
    root = vault_copy(tmp_path, {"Scratch.md": MIGRATION_NOTE})
    output = tmp_path / "out"
    report = build(Options(root, output))
    assert not report.failed(strict=False), lines(report)
    html = prose(page(output, "/scratch/"))
    assert 'See <span class="broken-link">Missing note</span> for the details.' in html
    assert re.search(r'<span class="broken-link">[^<]*missing\.png[^<]*</span>', html)
    assert "<img" not in html
    strict = build(Options(root, tmp_path / "strict", strict=True))
    assert strict.failed(strict=True)
    assert not (tmp_path / "strict").exists()


def test_a_broken_link_in_a_table_is_reported_at_its_line(tmp_path: Path) -> None:
    note = """\
        # Buying

        Items still to buy:

        | Item | Where |
        | ---- | ----- |
        | Netting | [[Nope\\|alias]] |
        """
    root = vault_copy(tmp_path, {"Projects/Buying.md": note})
    report = check(Options(root))
    found = [p for p in report.problems if p.path == "Projects/Buying.md"]
    assert [str(p) for p in found] == [
        "Projects/Buying.md:7: warning: link [[Nope|alias]]: unknown page 'Nope'"
    ]
    assert not any("klzzwxh" in p.message or "\x02" in p.message for p in report.problems)
    output = tmp_path / "out"
    assert not build(Options(root, output)).failed(strict=False)
    assert '<td><span class="broken-link">alias</span></td>' in page(output, "/projects/buying/")


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        (  # the same link written with and without the table's \|
            "Intro.\n\n| Item | Where |\n| ---- | ----- |\n| Net | [[Nope\\|alias]] |\n\nLater [[Nope|alias]].\n",
            [5, 7],
        ),
        ("Intro. %% see [[Nope]] later %%\n\nReal link: [[Nope]].\n", [3]),  # a link in a comment
        ("Code: `[[Nope]]` is how a link is written.\n\nReal link: [[Nope]].\n", [3]),  # in a code span
        ("![[Gone]]\n\nThen [[Gone]] as a link.\n", [1, 3]),  # an embed holds the link's text
    ],
    ids=["table-pipe-then-plain", "after-comment", "after-code-span", "after-embed"],
)
def test_each_unresolved_link_is_reported_at_its_own_line(
    tmp_path: Path, note: str, expected: list[int]
) -> None:
    root = vault_copy(tmp_path, {"Lines.md": note})
    report = check(Options(root))
    assert [p.line for p in sorted(report.problems) if p.path == "Lines.md"] == expected


def test_a_missing_markdown_link_target_is_named_as_written_in_a_vault(tmp_path: Path) -> None:
    root = vault_copy(tmp_path, {"Lines.md": "Intro.\n\nSee [this](Absent.md).\n"})
    found = [str(p) for p in check(Options(root)).problems if p.path == "Lines.md"]
    assert len(found) == 1 and found[0].startswith("Lines.md:3: warning: link 'Absent.md': ")
    assert "content/" not in found[0]


def test_an_edited_note_is_rebuilt_with_the_cache_on(tmp_path: Path) -> None:
    root = vault_copy(tmp_path, {})
    output = tmp_path / "out"
    assert not build(Options(root, output, cache=True)).failed(strict=False)
    with (root / "Compost.md").open("a", encoding="utf-8") as note:
        note.write("\nWorms arrive on their own once the heap is warm.\n")
    report = build(Options(root, output, cache=True))
    assert not report.up_to_date
    assert "Worms arrive on their own" in page(output, "/compost/")


def test_a_note_with_a_dot_in_its_name_is_transcluded(tmp_path: Path) -> None:
    root = vault_copy(
        tmp_path,
        {
            "Projects/Release 1.2 notes.md": "Notes on release one point two.\n",
            "Projects/Releases.md": "All releases: [[Release 1.2 notes]].\n\n![[Release 1.2 notes]]\n",
        },
    )
    output = tmp_path / "out"
    report = build(Options(root, output))
    assert [str(p) for p in report.problems if "Release" in p.path] == []
    html = prose(page(output, "/projects/releases/"))
    assert ("/projects/release-1-2-notes/", "Release 1.2 notes") in links(html)
    assert "Notes on release one point two." in html


# Transclusion loops


def test_notes_that_embed_each_other_are_an_error(tmp_path: Path) -> None:
    root = vault_copy(
        tmp_path,
        {
            "Loops/Loop A.md": "First loop note.\n\n![[Loop B]]\n",
            "Loops/Loop B.md": "---\ntitle: Loop B\n---\nSecond loop note.\n\n![[Loop A]]\n",
        },
    )
    report = check(Options(root))
    assert [str(p) for p in report.errors] == [
        "Loops/Loop B.md:6: embeds form a loop: Loops/Loop A.md → Loops/Loop B.md → Loops/Loop A.md"
    ]
    assert report.failed(strict=False)
    output = tmp_path / "out"
    assert build(Options(root, output)).failed(strict=False)
    assert not output.exists()


# The command line


def test_cli_builds_a_vault(tmp_path: Path) -> None:
    root = vault_copy(tmp_path, {})
    output = tmp_path / "out"
    result = run_cli("build", "--source", str(root), "--output", str(output), "--no-search", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (output / "welcome/index.html").is_file()
    assert (output / "attachments/pic.png").is_file()
    for warning in DUPLICATE_WARNINGS:
        assert warning in result.stdout + result.stderr


# What a first reviewer tried (each once broke)


def test_a_vault_with_awkward_notes_reports_them_and_still_builds(tmp_path: Path) -> None:
    vault = write_files(
        tmp_path / "vault",
        {
            "Home.md": "Para before\n![[Part#Sec]]\nPara after\n\n[top](/Home.md) [short](Deep.md) [gone](Nope.md)\n",
            "Part.md": "## Sec\n\nShown.\n\n## Rest\n\nNot shown.\n",
            "Folder/Deeper/Deep.md": "---\ntitle: 2024\n---\nA note titled by a number.\n",
            "Bin.md": b"\xff\xfe not text",
            "Search.md": "A note where factbook's search page goes.\n",
            "Projects/content/Inner.md": "A folder may be called content too: [up](../../Part.md).\n",
        },
    )
    out = tmp_path / "out"
    assert [str(p) for p in check(Options(root=vault)).problems] == [
        "Bin.md:1: file is not UTF-8 text (byte 0xff)",
        "Home.md:5: warning: link 'Nope.md': no page Nope.md",
        "Search.md:1: warning: its URL /search/ is that of a page factbook makes (search.html);"
        " it is left out; rename the file",
    ]
    (vault / "Bin.md").unlink()
    out = vault / "public"
    assert not build(Options(root=vault, output=out)).errors
    assert not build(Options(root=vault)).errors  # the site built in public/ is not notes
    assert not (vault / "_site" / "public").exists()
    home = (out / "home" / "index.html").read_text(encoding="utf-8")
    assert "<p>Para before</p>" in home and "Shown." in home and "Not shown." not in home
    assert '<a href="/home/">top</a>' in home and '<a href="/folder/deeper/deep/">short</a>' in home
    assert '<span class="broken-link">gone</span>' in home
    inner = (out / "projects" / "content" / "inner" / "index.html").read_text(encoding="utf-8")
    assert '<a href="/part/">up</a>' in inner
    assert "<title>2024 ·" in (out / "folder" / "deeper" / "deep" / "index.html").read_text(encoding="utf-8")


def test_links_error_in_site_yaml_makes_a_vault_strict(tmp_path: Path) -> None:
    vault = write_files(tmp_path / "vault", {"A.md": "[[Nowhere]]\n", "site.yaml": "links: error\n"})
    assert [str(p) for p in check(Options(root=vault)).problems] == [
        "A.md:1: link [[Nowhere]]: unknown page 'Nowhere'"
    ]


def test_new_writes_a_note_and_init_refuses_a_folder_of_notes(tmp_path: Path) -> None:
    vault = write_files(tmp_path / "vault", {"A.md": "A note.\n"})
    result = run_cli("new", "notes", "New Idea", cwd=vault)
    assert result.returncode == 0, result.stderr
    assert (vault / "New Idea.md").read_text(encoding="utf-8") == "# New Idea\n\n"
    assert not (vault / "content").exists()
    refused = run_cli("init", str(vault), cwd=tmp_path)
    assert refused.returncode == 2 and "already holds notes" in refused.stderr


def test_a_note_titled_by_its_own_heading_has_its_contents_after_it(tmp_path: Path) -> None:
    body = "# Big note\n\nIntro.\n\n## One\n\na\n\n## Two\n\nb\n\n## Three\n\nc\n"
    vault = write_files(tmp_path / "vault", {"Big.md": body})
    out = tmp_path / "out"
    assert not build(Options(root=vault, output=out)).problems
    html = (out / "big" / "index.html").read_text(encoding="utf-8")
    assert html.count("<h1") == 1 and html.index("<h1") < html.index('class="toc"') < html.index(">One</h2>")
