"""Untrusted input: raw HTML, link schemes, control characters, NUL bytes, size and depth."""

from __future__ import annotations

import xml.etree.ElementTree as etree
from pathlib import Path

import markdown
import pytest
from markdown.treeprocessors import InlineProcessor

from factbook import load
from factbook.assemble import SlugIndex
from factbook.build import Builder, Options, build
from factbook.cache import body_key
from factbook.config import parse_config
from factbook.errors import Problem
from factbook.link import BodyJob
from factbook.mdlinks import LinkTable, MarkdownRenderer, _LinearInline
from factbook.urls import refused, url_scheme

TABLE = LinkTable(SlugIndex({}), {}, {})
REFUSED = "refused: only http, https, mailto, tel and relative links are published"


def _render(source: str, unsafe_html: bool = False) -> tuple[str, list[str]]:
    rendered = MarkdownRenderer(unsafe_html=unsafe_html).render(source, 1, "", TABLE)
    return rendered.html, [f"{p.line}: {p.message}" for p in rendered.problems]


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("A <script>alert(1)</script> b", "A &lt;script&gt;alert(1)&lt;/script&gt; b"),
        ('<iframe src="https://example.org"></iframe>', '&lt;iframe src="https://example.org"&gt;'),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("<div>\n*x*\n</div>", "&lt;div&gt;\n<em>x</em>\n&lt;/div&gt;"),
        ("a <!-- a note --> b", "<p>a  b</p>"),
    ],
)
def test_raw_html_is_text_by_default(source: str, shown: str) -> None:
    html, problems = _render(source)
    assert shown in html
    assert "<script" not in html and "<iframe" not in html and "<img" not in html and "<div" not in html
    assert problems == []


def test_raw_html_is_published_when_the_site_opts_in() -> None:
    html, _ = _render('A <b onclick="x()">b</b>\n\n<div class="x">\nhi\n</div>\n', unsafe_html=True)
    assert '<b onclick="x()">b</b>' in html and '<div class="x">\nhi\n</div>' in html


def test_attribute_lists_set_no_event_handlers_by_default() -> None:
    source = '## Title {: onclick="alert(1)" .big }\n'
    assert _render(source)[0] == '<h2 class="big" id="title">Title</h2>'
    assert 'onclick="alert(1)"' in _render(source, unsafe_html=True)[0]


@pytest.mark.parametrize(
    ("source", "url"),
    [
        ("[x](javascript:alert(1))", "javascript:alert(1)"),
        ("[x](JaVaScRiPt:alert(1))", "JaVaScRiPt:alert(1)"),
        ("[x](&#106;avascript:alert(1))", "&#106;avascript:alert(1)"),
        ("[x](java&#x09;script:alert(1))", "java&#x09;script:alert(1)"),
        ("[x](vbscript:msgbox)", "vbscript:msgbox"),
        ("[x][r]\n\n[r]: javascript:alert(1)", "javascript:alert(1)"),
        ("[x](https://example.org){: href='javascript:alert(1)' }", "javascript:alert(1)"),
    ],
)
def test_links_to_other_schemes_are_refused_with_a_warning(source: str, url: str) -> None:
    for unsafe_html in (False, True):
        html, problems = _render(source, unsafe_html)
        assert html == '<p><span class="broken-link">x</span></p>'
        line = 3 if "[r]:" in source else 1  # a reference link: where its URL is written
        assert problems == [f"{line}: link to '{url}' {REFUSED}"]


def test_images_from_data_urls_are_refused() -> None:
    html, problems = _render("Text\n\n![a map](data:text/html;base64,PHNjcmlwdD4=)")
    assert html == '<p>Text</p>\n<p><span class="broken-link">a map</span></p>'
    assert problems == [f"3: image 'data:text/html;base64,PHNjcmlwdD4=' {REFUSED}"]


def test_safe_links_are_kept() -> None:
    source = (
        "[a](https://x.org) [b](http://x.org) [c](mailto:a@x.org) [d](tel:+994) [e](#top) <https://x.org>"
    )
    html, problems = _render(source)
    assert problems == []
    for href in ("https://x.org", "http://x.org", "mailto:a@x.org", "tel:+994", "#top"):
        assert f'href="{href}"' in html


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("java\tscript:x", "javascript"),
        (" \x01JAVASCRIPT:x", "javascript"),
        ("&#x6A;avascript&colon;x", "javascript"),
        ("folder/a:b.md", ""),
        ("//example.org/x", ""),
        ("?q=a:b", ""),
    ],
)
def test_the_scheme_is_read_as_a_browser_reads_it(url: str, scheme: str) -> None:
    assert url_scheme(url) == scheme


def test_only_a_srcset_is_read_as_a_list_of_urls() -> None:
    assert not refused("https://example.org/wiki/A,B:C")
    assert refused("a.png 1x, javascript:alert(1) 2x", "srcset")
    assert not refused("a.png 1x, https://x.org/b.png 2x", "srcset")


def test_markdown_settings_are_read_and_checked() -> None:
    config, problems = parse_config("markdown:\n  unsafe_html: true\n", "content/site.yaml")
    assert config.unsafe_html and problems == []
    assert not parse_config("title: x\n", "content/site.yaml")[0].unsafe_html
    config, problems = parse_config("markdown:\n  unsafe_htm: true\n", "content/site.yaml")
    assert not config.unsafe_html
    assert [str(p) for p in problems] == [
        "content/site.yaml:2: unknown setting 'markdown.unsafe_htm'; did you mean 'unsafe_html'?"
    ]


def test_a_body_cached_under_one_setting_is_not_used_under_the_other(make_site, tmp_path: Path) -> None:
    job = BodyJob("<b>x</b>", 5, "")
    assert body_key(job, (), False) != body_key(job, (), True)
    root = make_site({"content/pages/index.md": "---\ntitle: Home\n---\nA <b>bold</b> claim.\n"})
    output = tmp_path / "out"
    build(Options(root, output, cache=True))
    assert "&lt;b&gt;bold&lt;/b&gt;" in (output / "index.html").read_text()
    (root / "content/site.yaml").write_text("markdown: {unsafe_html: true}\n")
    build(Options(root, output, cache=True))
    assert "<b>bold</b>" in (output / "index.html").read_text()


def test_control_characters_in_messages_are_escaped() -> None:
    problem = Problem("content/pages/a\ncontent/pages/b.md:9: forged.md", 1, "bad\rvalue", "x\x1b[31m")
    assert str(problem) == "content/pages/a\\ncontent/pages/b.md:9: forged.md:1: bad\\rvalue; x\\x1b[31m"


def test_a_file_name_with_a_newline_stays_on_one_line(make_site) -> None:
    root = make_site({"content/organizations/a\nb.md": "---\ntitle: [x\n---\n"})
    report = build(Options(root))
    assert [str(p) for p in report.problems] == [
        "content/organizations/a\\nb.md:2: invalid YAML: did not find expected ',' or ']'"
    ]


def test_nul_characters_in_a_body_are_a_warning_and_replaced(make_site) -> None:
    body = "---\ntitle: Home\n---\nOne\n\nTwo \x00 and \x00\n"
    root = make_site({"content/pages/index.md": body, "content/pages/about.md": "Plain\x00"})
    report = build(Options(root))
    assert [str(p) for p in report.problems] == [
        "content/pages/about.md:1: no front matter: start the file with a '---' line",
        "content/pages/index.md:6: warning: 2 NUL characters in the text, replaced by U+FFFD",
    ]
    document, _ = load.read_document(root / "content/pages/index.md", "index.md", _pages(root))
    assert document is not None and document.body == "One\n\nTwo \ufffd and \ufffd\n"


def _pages(root: Path):  # type: ignore[no-untyped-def]
    return load.load_sources(root).collections["pages"]


def test_a_file_over_the_size_limit_is_refused(make_site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_BYTES", 2_000_000)
    root = make_site({"content/pages/index.md": "---\ntitle: Home\n---\n" + "word " * 500_000})
    report = build(Options(root))
    assert [str(p) for p in report.problems] == [
        "content/pages/index.md:1: file is 2.5 MB; content files may be up to 2 MB; split it into several pages"
    ]


def test_markdown_nested_too_deeply_is_an_error_not_a_traceback() -> None:
    html, problems = _render("".join("    " * i + "- x\n" for i in range(400)))
    assert html == ""
    assert problems == ["1: text nested too deeply to render (lists or emphasis hundreds of levels deep)"]


def test_emphasis_thousands_deep_renders_in_one_inline_pass() -> None:
    html, problems = _render("*" * 5000 + "x" + "*" * 5000)
    assert not problems and html.startswith("<p>" + "<strong>" * 100)


def test_an_alias_bomb_in_a_fact_sheet_is_refused_fast(make_site) -> None:
    rows = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [
        f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    root = make_site({"content/facts/figures.yaml": "title: Figures\nfacts: []\n" + "\n".join(rows) + "\n"})
    report = build(Options(root))
    assert [str(p) for p in report.problems] == [
        "content/facts/figures.yaml:7: YAML aliases expand to more than 10000 values; write them out"
    ]


def _tree_with_tails():  # type: ignore[no-untyped-def]
    root = etree.Element("div")
    paragraph = etree.SubElement(root, "p")
    paragraph.text = "*a* and"
    for n in range(3):
        child = etree.SubElement(paragraph, "span")
        child.text = f"**{n}**"
        child.tail = f" *t{n}* [l{n}](https://x.org/{n}) `c{n}` "
    return root


def test_the_linear_inline_pass_handles_tails_as_python_markdown_does() -> None:
    # A tail before the inline pass is rare in Markdown (raw trees, extensions): built by hand here.
    results = []
    for kind in (InlineProcessor, _LinearInline):
        md = markdown.Markdown(extensions=["tables"])
        md.treeprocessors.register(kind(md), "inline", 20)
        tree = md.treeprocessors["inline"].run(_tree_with_tails())
        results.append(etree.tostring(tree, encoding="unicode"))
    assert results[0] == results[1]
    assert "<em>t2</em>" in results[1] and results[1].count("<a ") == 3


def test_a_url_field_with_a_refused_scheme_is_a_warning_and_no_link(make_site, tmp_path: Path) -> None:
    source = "---\ntitle: A press release\nurl: 'javascript:alert(1)'\n---\n"
    root = make_site({"content/sources/press.md": source})
    output = tmp_path / "out"
    report = build(Options(root, output))
    assert [str(p) for p in report.problems] == [
        f"content/sources/press.md:3: warning: field 'url': link to 'javascript:alert(1)' {REFUSED}"
    ]
    page = (output / "sources/press/index.html").read_text()
    assert "javascript:alert(1)" in page and 'href="javascript' not in page


def test_a_rebuild_after_the_setting_changes_renders_the_bodies_again(make_site) -> None:
    root = make_site({"content/pages/index.md": "---\ntitle: Home\n---\nA <b>bold</b> claim.\n"})
    builder = Builder(Options(root))
    assert "&lt;b&gt;bold" in builder.update().linked.bodies["pages/index"].html  # type: ignore[union-attr]
    (root / "content/site.yaml").write_text("markdown: {unsafe_html: true}\n")
    assert "<b>bold</b>" in builder.update().linked.bodies["pages/index"].html  # type: ignore[union-attr]
