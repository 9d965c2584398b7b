"""Obsidian-flavoured Markdown: callouts, highlights, comments, task lists, math, Mermaid, block ids, tags."""

from __future__ import annotations

import markdown
import pytest

from factbook.obsidian import ObsidianExtension

EXTENSIONS = ["tables", "attr_list", "footnotes", "fenced_code", "def_list", "sane_lists", "toc"]


def make(**options: object) -> tuple[markdown.Markdown, ObsidianExtension]:
    """Return a parser set up as factbook sets it up, and its Obsidian extension."""
    ext = ObsidianExtension(**options)
    return markdown.Markdown(extensions=[*EXTENSIONS, ext], output_format="html"), ext


def render(source: str, **options: object) -> str:
    """Return the HTML of source."""
    md, _ = make(**options)
    return md.convert(source)


# Callouts


def test_callout_with_default_title() -> None:
    html = render("> [!note]\n> Body with **bold**.")
    assert '<div class="callout callout-note" data-callout="note">' in html
    assert '<p class="callout-title">Note</p>' in html
    assert '<div class="callout-content">\n<p>Body with <strong>bold</strong>.</p>' in html
    assert "[!" not in html and "<blockquote>" not in html


def test_callout_custom_title_is_inline_markdown_and_type_is_case_insensitive() -> None:
    html = render("> [!WARNING] Mind **this**\n> line one\n>\n> - item")
    assert 'class="callout callout-warning" data-callout="warning"' in html
    assert '<p class="callout-title">Mind <strong>this</strong></p>' in html
    assert "<p>line one</p>\n<ul>\n<li>item</li>" in html
    assert "[!" not in html


@pytest.mark.parametrize(
    ("kind", "family"),
    [
        ("summary", "abstract"),
        ("tldr", "abstract"),
        ("hint", "tip"),
        ("check", "success"),
        ("faq", "question"),
    ]
    + [("caution", "warning"), ("missing", "failure"), ("error", "danger"), ("cite", "quote")],
)
def test_callout_aliases_carry_their_family(kind: str, family: str) -> None:
    html = render(f"> [!{kind}]\n> text")
    assert f'class="callout callout-{kind} callout-{family}" data-callout="{kind}"' in html
    assert f'<p class="callout-title">{kind.capitalize()}</p>' in html


@pytest.mark.parametrize("kind", ["note", "abstract", "info", "todo", "tip", "success", "question"])
def test_callout_families_have_one_class(kind: str) -> None:
    assert f'class="callout callout-{kind}" data-callout="{kind}"' in render(f"> [!{kind}]\n> text")


def test_unknown_callout_type_looks_like_a_note() -> None:
    html = render("> [!recipe] Soup\n> Boil water.")
    assert 'class="callout callout-recipe callout-note" data-callout="recipe"' in html
    assert '<p class="callout-title">Soup</p>' in html


def test_folded_callout_is_a_closed_details() -> None:
    html = render("> [!faq]- Are **callouts** foldable?\n> Yes.")
    assert '<details class="callout callout-faq callout-question" data-callout="faq">' in html
    assert '<summary class="callout-title">Are <strong>callouts</strong> foldable?</summary>' in html
    assert "<p>Yes.</p>\n</div>\n</details>" in html
    assert " open" not in html


def test_open_foldable_callout() -> None:
    html = render("> [!tip]+ Shown\n> content")
    assert '<details class="callout callout-tip" data-callout="tip" open>' in html
    assert '<summary class="callout-title">Shown</summary>' in html


def test_nested_callouts() -> None:
    html = render("> [!note] Outer\n> > [!bug]- Inner\n> > inner text\n>\n> outer text")
    assert "[!" not in html
    outer = html.index('<div class="callout callout-note"')
    inner = html.index('<details class="callout callout-bug"')
    assert (
        outer < inner < html.index("<p>inner text</p>") < html.index("</details>") < html.index("outer text")
    )


def test_callout_without_body_and_callout_after_quote_and_paragraph() -> None:
    html = render("> plain quote\n\n> [!info]\n\nPara\n> [!quote] Said\n> words")
    assert "<blockquote>\n<p>plain quote</p>\n</blockquote>" in html
    assert (
        '<div class="callout callout-info" data-callout="info">\n<p class="callout-title">Info</p>\n</div>'
        in html
    )
    assert "<p>Para</p>" in html and '<p class="callout-title">Said</p>' in html
    assert "[!" not in html


def test_callout_in_a_list_item() -> None:
    html = render("- item\n\n    > [!note] Inside\n    > text")
    assert '<li>\n<p>item</p>\n<div class="callout callout-note"' in html
    assert "<p>text</p>" in html


def test_callout_syntax_in_code_stays_literal() -> None:
    html = render("`> [!note]`\n\n```\n> [!note] x\n```")
    assert "<code>&gt; [!note]</code>" in html
    assert "<pre><code>&gt; [!note] x\n</code></pre>" in html
    assert "callout" not in html


# Highlights


def test_highlight() -> None:
    html = render("Some ==marked **text**== here, `==code==`.\n\n```\n==fence==\n```")
    assert "<mark>marked <strong>text</strong></mark>" in html
    assert "<code>==code==</code>" in html
    assert "<pre><code>==fence==\n</code></pre>" in html


# Comments


def test_comments_are_removed() -> None:
    html = render("a %%inline%% b `%%code%%` c\n\n%%\nhidden\nlines\n%%\nafter\n\n```\n%% fenced %%\n```")
    assert "inline" not in html and "hidden" not in html
    assert "<p>a  b <code>%%code%%</code> c</p>" in html
    assert "<p>after</p>" in html
    assert "<pre><code>%% fenced %%\n</code></pre>" in html


def test_comments_keep_the_line_count() -> None:
    md, _ = make()
    lines = ["one %%x%% two", "%% start", "inside", "even `%% ends it", "`%%` and ``%% b`` are code"]
    lines += ["end %% tail", "%% closed", "~~~", "%%", "~~~", "last"]
    out = md.preprocessors["obsidian-comments"].run(lines)
    assert out == ["one  two", "", "", " ends it", "`%%` and ``%% b`` are code"] + [
        "end ",
        " closed",
        "~~~",
        "%%",
        "~~~",
        "last",
    ]


def test_comment_keeps_later_lines_where_they_were() -> None:
    md, ext = make()
    md.convert("%%\na\nb\n%%\n\nText with $\\frac{a}{$ in it.")
    assert ext.problems == [(6, "math $\\frac{a}{$ is not LaTeX that converts to MathML")]


def test_unclosed_comment_runs_to_the_end_and_is_reported() -> None:
    md, ext = make()
    html = md.convert("Kept.\n\nHalf %% gone\n\nand more")
    assert html == "<p>Kept.</p>\n<p>Half </p>"
    assert ext.problems == [(3, "comment opened with %% is never closed")]


# Task lists


def test_task_list() -> None:
    html = render("- [ ] todo\n- [x] done\n- plain")
    assert '<ul class="task-list">' in html
    # Each checkbox is named by its state, as a form control must be.
    assert '<li class="task-list-item"><input type="checkbox" disabled aria-label="to do"/> todo</li>' in html
    assert (
        '<li class="task-list-item"><input type="checkbox" disabled checked aria-label="done"/> done</li>'
        in html
    )
    assert "<li>plain</li>" in html


# Math


def test_inline_and_display_math() -> None:
    html = render("Area $\\pi r^2$ and $$\\frac{a}{b}$$ end.")
    assert '<math display="inline" xmlns="http://www.w3.org/1998/Math/MathML">' in html
    assert "<mi>π</mi>" in html and "<msup><mi>r</mi><mn>2</mn></msup>" in html
    assert '<math display="block" xmlns="http://www.w3.org/1998/Math/MathML"><mrow><mfrac>' in html
    assert "$" not in html


def test_display_math_over_lines_leaves_its_paragraph() -> None:
    html = render("Before.\n\n$$\n\\sum_{i=1}^n x_i * y_i * z\n$$\n\nAfter.")
    assert html.startswith('<p>Before.</p>\n<math display="block"')
    assert "<p><math" not in html and "<em>" not in html
    assert "<mo>∑</mo>" in html and "<mo>*</mo>" in html


def test_dollars_that_are_money_stay_text() -> None:
    assert render("It costs $5 and $6.") == "<p>It costs $5 and $6.</p>"
    assert render("Not $ x$ nor $x $ nor $a$5.") == "<p>Not $ x$ nor $x $ nor $a$5.</p>"


def test_escaped_dollar_is_a_dollar() -> None:
    assert render("Pay \\$5 and \\$x\\$ here.") == "<p>Pay $5 and $x$ here.</p>"


def test_invalid_latex_does_not_raise() -> None:
    md, ext = make()
    html = md.convert("Bad $x^$ and $$\\begin{matrix} a$$.")
    assert '<code class="math-error">$x^$</code>' in html
    assert '<code class="math-error">$$\\begin{matrix} a$$</code>' in html
    assert [line for line, _ in ext.problems] == [1, 1]


def test_math_in_code_stays_literal() -> None:
    html = render("`$x$` and\n\n```\n$$y$$\n```")
    assert "<code>$x$</code>" in html and "<pre><code>$$y$$\n</code></pre>" in html
    assert "<math" not in html


# Mermaid


def test_mermaid_fence_is_kept_readable() -> None:
    html = render("```mermaid\ngraph TD\nA-->B\n```\n\n```python\nx = 1\n```")
    assert '<pre class="mermaid"><code class="language-mermaid">graph TD\nA--&gt;B\n</code></pre>' in html
    assert '<pre><code class="language-python">' in html
    assert "<script" not in html


# Block ids


def test_block_id_at_end_of_paragraph() -> None:
    md, ext = make()
    html = md.convert("Some text ^abc-1\n\nOther text\n^on-next-line")
    assert '<p id="^abc-1">Some text</p>' in html
    assert '<p id="^on-next-line">Other text</p>' in html
    assert ext.block_ids == {"^abc-1", "^on-next-line"}


def test_block_id_on_list_items_lists_tables_callouts_and_code() -> None:
    md, ext = make()
    source = (
        "- one ^li-1\n- two\n\n^list\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n^table\n\n"
        "> [!note]\n> text\n\n^box\n\n"
        "```python\nx = 1\n```\n\n^code"
    )
    html = md.convert(source)
    assert '<ul id="^list">\n<li id="^li-1">one</li>' in html
    assert '<table id="^table">' in html and "^table</td>" not in html
    assert '<div class="callout callout-note" data-callout="note" id="^box">' in html
    assert '<pre id="^code"><code class="language-python">' in html
    assert ext.block_ids == {"^li-1", "^list", "^table", "^box", "^code"}
    assert "<p>^" not in html


def test_block_id_in_code_stays_literal() -> None:
    md, ext = make()
    html = md.convert("`x ^not-id`\n\n```\nline ^nor-this\n```")
    assert "<code>x ^not-id</code>" in html and "line ^nor-this" in html
    assert ext.block_ids == set()


# Tags


def test_tags_are_linked_and_recorded() -> None:
    md, ext = make(tag_url=lambda tag: f"/topics/{tag}.html")
    html = md.convert("#start and #nested/tag, #tag-with_dash and #Start again, #Über.")
    assert '<a class="tag" href="/topics/start.html">#start</a>' in html
    assert '<a class="tag" href="/topics/nested/tag.html">#nested/tag</a>,' in html
    assert '<a class="tag" href="/topics/tag-with_dash.html">#tag-with_dash</a>' in html
    assert '<a class="tag" href="/topics/start.html">#Start</a>' in html
    assert '<a class="tag" href="/topics/über.html">#Über</a>' in html
    assert ext.tags == ["start", "nested/tag", "tag-with_dash", "über"]
    assert ext.tag_spellings["über"] == "Über"


def test_default_tag_url() -> None:
    assert '<a class="tag" href="/tags/idea/">#idea</a>' in render("An #idea.")


def test_what_is_not_a_tag() -> None:
    md, ext = make()
    source = (
        "# Heading #htag\n\n"
        "Issue #123, a#b, http://x.org/#frag, [link](#frag), [#text](/x), `#code`, \\#escaped, "
        '<span title="a #attr">x</span>, &#35; and C#.\n\n'
        "Para\n{: #pid }\n\n```\n#fenced\n```"
    )
    html = md.convert(source)
    assert '<h1 id="heading-htag">Heading <a class="tag" href="/tags/htag/">#htag</a></h1>' in html
    assert ext.tags == ["htag"]
    assert "Issue #123" in html and "#escaped" in html and '<a href="/x">#text</a>' in html
    assert '<p id="pid">Para</p>' in html


def test_line_starting_with_a_tag_is_not_a_heading() -> None:
    md, ext = make()
    html = md.convert("#project #idea\n\n## Real heading")
    assert html.startswith('<p><a class="tag" href="/tags/project/">#project</a>')
    assert '<h2 id="real-heading">Real heading</h2>' in html
    assert ext.tags == ["project", "idea"]


# State


def test_reset_forgets_the_last_document() -> None:
    md, ext = make()
    md.convert("#one ^b1\n\nBad $x^$.\n\n%% open")
    assert ext.tags == ["one"] and ext.block_ids == {"^b1"} and len(ext.problems) == 2
    md.reset()
    assert ext.tags == [] and ext.block_ids == set() and ext.problems == []
    md.convert("#two")
    assert ext.tags == ["two"]


def test_named_extension_loads() -> None:
    html = markdown.markdown("==x==", extensions=["factbook.obsidian"])
    assert html == "<p><mark>x</mark></p>"


TRICKY = [
    "Plain words and a [[link]] only.",
    "A line with two spaces  \nthen a break.",
    "A tab\t\nthen text, and a carriage\r\nreturn.",
    "Some `code`, an escaped \\*star\\*, *em*, __strong__ and snake_case_words.",
    "An entity &amp; a bare & and <b>html</b> and <https://example.org> and <a@b.org>.",
    "An image ![alt](x.png), a [ref][r] and a [short] one.\n\n[r]: https://example.org\n[short]: /x/",
    "A footnote[^1].\n\n[^1]: The note, with *emphasis*.",
    "    indented code with * and _ and < and &\n\nafter",
    "* a list\n* with _under_ and **bold**\n\n> a quote with ![[embed]] text",
    "A [bracket] and [another][] with no definition, and [a link](/x/ 'title').",
    "A [reference][id] defined below.\n\n[id]: https://example.org 'Title'",
    "[short]\n\n[short]: /s/",
    # The extensions' own processors, left out of bodies that lack what they need.
    "| a | b |\n|---|---|\n| 1 | *2* |\n\nand a pipe | in prose",
    "Term\n:   Its definition\n\n    continued, indented\n\nAnother: a colon in prose",
    "```python\nx = {'a': 1}  # [^1] | : \n```\n\n~~~\n~~~ tildes\n~~~",
    "## A heading {: id=custom .cls }\n\nA paragraph\n{: .note }\n\nA {brace} alone.",
    "1. one\n\n    continued under it\n2. two\n\n* a\n\n    b",
    "A note[^n] in a table:\n\n| x |\n|---|\n| y[^n] |\n\n[^n]: Said once.\n\nTerm\n: def {: .d }",
    # What a backslash escape leaves for the unescape pass, written in the text itself.
    "Control characters \x0265\x03 and \x02 66 \x03 in the text, and no backslash.",
]


@pytest.mark.parametrize("source", TRICKY)
def test_leaving_out_unneeded_inline_patterns_gives_the_same_bytes(source: str) -> None:
    from factbook.assemble import SlugIndex
    from factbook.mdlinks import LinkTable, MarkdownRenderer

    table = LinkTable(SlugIndex({}), {}, {})
    quick, full = MarkdownRenderer(), MarkdownRenderer()
    full._prune = False
    assert quick.render(source, 1, "", table) == full.render(source, 1, "", table)


EDGES = [
    "#tag at the start",
    "a #tag after a space",
    "x\n#tag at a line's start",
    "x\r\n#tag after a carriage return",
    "a#tag inside a word",
    "&#123; an entity, /#x in a path, #1 a number",
    "# a heading, ## another, ##x",
    "\t#tab before",
    "#1 a number at the start",
    "x\n#2b at a line's start",
    "é#accented before",
    "text ending in #",
    "==mark== and $x$ and %%note%% and [!note] and - [x] done and - [ ] not",
    "a block id ^abc-1\n\nmermaid words",
]


@pytest.mark.parametrize("source", EDGES)
def test_a_body_skips_the_obsidian_extension_only_when_it_would_change_nothing(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from factbook import mdlinks
    from factbook.assemble import SlugIndex

    table = mdlinks.LinkTable(SlugIndex({}), {}, {})
    quick = mdlinks.MarkdownRenderer().render(source, 1, "", table)
    monkeypatch.setattr(mdlinks, "OBSIDIAN", re.compile(""))  # every body with the extension
    assert quick == mdlinks.MarkdownRenderer().render(source, 1, "", table)
