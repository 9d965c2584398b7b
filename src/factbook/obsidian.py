"""Obsidian-flavoured Markdown for Python-Markdown: callouts, ==marks==, %%comments%%, tasks, math, tags."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from typing import Any

import markdown
from markdown import util
from markdown.blockprocessors import BlockProcessor, HashHeaderProcessor
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

# Every callout type Obsidian knows, and the family (the look) it belongs to.
CALLOUT_FAMILIES: dict[str, str] = {
    "note": "note",
    "abstract": "abstract",
    "summary": "abstract",
    "tldr": "abstract",
    "info": "info",
    "todo": "todo",
    "tip": "tip",
    "hint": "tip",
    "important": "tip",
    "success": "success",
    "check": "success",
    "done": "success",
    "question": "question",
    "help": "question",
    "faq": "question",
    "warning": "warning",
    "caution": "warning",
    "attention": "warning",
    "failure": "failure",
    "fail": "failure",
    "missing": "failure",
    "danger": "danger",
    "error": "danger",
    "bug": "bug",
    "example": "example",
    "quote": "quote",
    "cite": "quote",
}

_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})")
_COMMENT_TOKEN = re.compile(r"\\[\\`]|`+|%%")
_QUOTE_LINE = re.compile(r"[ ]{0,3}>")
_CALLOUT_HEADER = re.compile(r"[ ]{0,3}>[ \t]*\[!([\w-]+)\]([+-]?)[ \t]*(.*?)[ \t]*")
_QUOTE_PREFIX = re.compile(r"[ ]{0,3}>[ ]?(.*)")
_BLOCK_ID_AT_END = re.compile(r"(?:^|[ \t]*\n|[ \t]+)\^([A-Za-z0-9-]+)[ \t]*$")
_BLOCK_ID_ALONE = re.compile(r"\s*\^([A-Za-z0-9-]+)\s*")
_FIRST_TAG = re.compile(r"^(\s*)<([A-Za-z][\w-]*)")
_MERMAID_PRE = re.compile(
    r"^(\s*)<pre(?P<attrs>[^>]*)>(?=<code[^>]*\bclass=\"[^\"]*\blanguage-mermaid\b)", re.DOTALL
)
_CLASS_ATTR = re.compile(r"\bclass=\"([^\"]*)\"")
DISPLAY_MATH = r"(?<![\\$])\$\$((?:\\.|[^\\$\x02])+?)\$\$"
# Pandoc's rule: no space just inside the dollars and no digit just after, so "$5 and $6" is money.
INLINE_MATH = r"(?<![\\$])\$(?![\s$])((?:\\.|[^\\$\x02])+?)(?<!\s)\$(?![\d$])"
TAG = r"(?<!\S)#([\w/-]+)"


def _default_tag_url(tag: str) -> str:
    """Return the URL of a tag's page."""
    return f"/tags/{tag}/"


class _Comments(Preprocessor):
    """Removes %%comments%%, keeping every line so that line numbers stay true."""

    def __init__(self, md: markdown.Markdown, ext: ObsidianExtension) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        """Return the lines with comments removed, as many lines as were given."""
        self.ext.source = "\n".join(lines)
        out: list[str] = []
        fence = ""
        opened = 0  # the line where the open comment began, or 0
        for number, line in enumerate(lines, 1):
            if not opened and fence:
                out.append(line)
                if re.fullmatch(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*", line):
                    fence = ""
                continue
            if not opened and (m := _FENCE.match(line)):
                fence = m.group(1)
                out.append(line)
                continue
            kept, still_open = _strip_comments(line, bool(opened))
            if still_open and not opened:
                opened = number
            elif not still_open:
                opened = 0
            out.append(kept)
        if opened:
            self.ext.problems.append((opened, "comment opened with %% is never closed"))
        return out


def _strip_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """Return the line without its comments (code spans kept whole) and whether a comment is still open."""
    kept: list[str] = []
    i = 0
    while i < len(line):
        if in_comment:
            end = line.find("%%", i)
            if end < 0:
                return "".join(kept), True
            i, in_comment = end + 2, False
            continue
        m = _COMMENT_TOKEN.search(line, i)
        if m is None:
            kept.append(line[i:])
            break
        kept.append(line[i : m.start()])
        token = m.group()
        if token == "%%":
            in_comment = True
        elif token.startswith("`"):
            close = re.compile(rf"(?<!`){token}(?!`)").search(line, m.end())
            if close is not None:
                kept.append(line[m.start() : close.end()])
                i = close.end()
                continue
            kept.append(token)
        else:
            kept.append(token)
        i = m.end()
    return "".join(kept), in_comment


class _StrictHashHeaders(HashHeaderProcessor):
    """ATX headings that need a space after the hashes, so that a line "#tag" stays a tag."""

    RE = re.compile(
        r"(?:^|\n)(?P<level>#{1,6})(?=[ \t]|\n|$)(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)"
    )


class _Callouts(BlockProcessor):
    """Turns a blockquote opening with [!type] into a callout box."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return self._header(block) is not None and not util.nearing_recursion_limit()

    @staticmethod
    def _header(block: str) -> tuple[int, re.Match[str]] | None:
        """Return the index and match of the block's first quoted line, if that line opens a callout."""
        for index, line in enumerate(block.split("\n")):
            if _QUOTE_LINE.match(line):
                m = _CALLOUT_HEADER.fullmatch(line)
                return (index, m) if m else None
        return None

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        block = blocks.pop(0)
        found = self._header(block)
        assert found is not None
        index, m = found
        lines = block.split("\n")
        if index:
            self.parser.parseBlocks(parent, ["\n".join(lines[:index])])
        kind = m.group(1).lower()
        family = CALLOUT_FAMILIES.get(kind, "note")
        attrs = {
            "class": f"callout callout-{kind}" + (f" callout-{family}" if family != kind else ""),
            "data-callout": kind,
        }
        if m.group(2):
            box = etree.SubElement(parent, "details", attrs)
            if m.group(2) == "+":
                box.set("open", "open")
            title = etree.SubElement(box, "summary", {"class": "callout-title"})
        else:
            box = etree.SubElement(parent, "div", attrs)
            title = etree.SubElement(box, "p", {"class": "callout-title"})
        title.text = m.group(3) or kind[:1].upper() + kind[1:]
        body = "\n".join(_unquote(line) for line in lines[index + 1 :])
        if body.strip():
            content = etree.SubElement(box, "div", {"class": "callout-content"})
            # As a blockquote does: paragraphs inside a callout in a list item keep their <p>.
            self.parser.state.set("blockquote")
            self.parser.parseChunk(content, body)
            self.parser.state.reset()


def _unquote(line: str) -> str:
    """Return the line without its leading "> " (lazy lines without one are kept as they are)."""
    m = _QUOTE_PREFIX.fullmatch(line)
    inner = m.group(1) if m else line
    # A line of spaces inside the quote is a blank line: it ends a paragraph or a nested callout.
    return "" if not inner.strip() else inner


class _BlockIds(Treeprocessor):
    """Moves "^block-id" markers onto their paragraph, list item, table or block as id="^block-id"."""

    def __init__(self, md: markdown.Markdown, ext: ObsidianExtension) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        for parent in list(root.iter()):
            previous: etree.Element | None = None
            for child in list(parent):
                if child.tag == "p" and child.text and not len(child):
                    alone = _BLOCK_ID_ALONE.fullmatch(child.text)
                    if alone and previous is not None and self._mark(previous, alone.group(1)):
                        previous.tail = (previous.tail or "") + (child.tail or "")
                        parent.remove(child)
                        continue
                if child.tag in ("p", "li") and child.text:
                    at_end = _BLOCK_ID_AT_END.search(child.text)
                    if at_end and "id" not in child.attrib:
                        child.text = child.text[: at_end.start()]
                        self._record(child, at_end.group(1))
                elif child.tag == "table":
                    self._table_marker(child)
                previous = child

    def _table_marker(self, table: etree.Element) -> None:
        """Take a marker line just under a table (the table parser reads it as a last row)."""
        body = table.find("tbody")
        if body is None or not len(body) or "id" in table.attrib:
            return
        cells = list(body[-1])
        alone = _BLOCK_ID_ALONE.fullmatch(cells[0].text or "") if cells else None
        if alone and not any((cell.text or "").strip() or len(cell) for cell in cells[1:]):
            body.remove(body[-1])
            self._record(table, alone.group(1))

    def _mark(self, block: etree.Element, name: str) -> bool:
        """Return whether the block could take the id (for raw HTML, such as code, its stashed tag)."""
        if "id" in block.attrib:
            return False
        stashed = util.HTML_PLACEHOLDER_RE.fullmatch((block.text or "").strip()) if block.tag == "p" else None
        if stashed is None:
            self._record(block, name)
            return True
        blocks = self.md.htmlStash.rawHtmlBlocks
        index = int(stashed.group(1))
        raw = blocks[index] if index < len(blocks) else None
        if not isinstance(raw, str) or not _FIRST_TAG.match(raw) or re.match(r"\s*<[^>]*\sid=", raw):
            return False
        anchor = html.escape(f"^{name}")
        blocks[index] = _FIRST_TAG.sub(lambda m: f'{m.group(1)}<{m.group(2)} id="{anchor}"', raw, count=1)
        self.ext.block_ids.add(f"^{name}")
        return True

    def _record(self, element: etree.Element, name: str) -> None:
        element.set("id", f"^{name}")
        self.ext.block_ids.add(f"^{name}")


class _DisplayMath(InlineProcessor):
    """$$display$$ math, rendered to MathML."""

    DISPLAY = "block"

    def __init__(self, pattern: str, ext: ObsidianExtension) -> None:
        super().__init__(pattern)  # compiled with re.DOTALL: display math spans lines
        self.ext = ext

    def handleMatch(  # noqa: N802
        self, m: re.Match[str], data: str
    ) -> tuple[etree.Element | None, int | None, int | None]:
        latex = m.group(1)
        if not latex.strip():
            return None, None, None
        return _math(latex, self.DISPLAY, m.group(0), self.ext), m.start(0), m.end(0)


class _InlineMath(_DisplayMath):
    """$inline$ math, rendered to MathML."""

    DISPLAY = "inline"


def _math(latex: str, display: str, raw: str, ext: ObsidianExtension) -> etree.Element:
    """Return the MathML element for latex, or a <code class="math-error"> holding raw if it is invalid."""
    from latex2mathml.converter import convert_to_element  # imported only for a body with math

    try:
        math = convert_to_element(latex.strip(), display=display)
    except Exception as error:  # latex2mathml raises plain exceptions of many kinds; none may stop a build
        # latex2mathml's reasons are its parser's internals: say which LaTeX did not convert.
        detail = str(error).strip()
        reason = f" ({detail})" if detail and " " in detail else ""
        ext.problems.append((ext.line_of(raw), f"math {raw} is not LaTeX that converts to MathML{reason}"))
        code = etree.Element("code", {"class": "math-error"})
        code.text = AtomicString(raw)
        return code
    for element in math.iter():
        # latex2mathml leaves character references in the text; the serializer would escape them again.
        element.text = AtomicString(html.unescape(element.text)) if element.text else AtomicString("")
        if element.tail:
            element.tail = AtomicString(html.unescape(element.tail))
    return math


class _UnwrapDisplayMath(Treeprocessor):
    """Lifts display math that is alone in its paragraph out of the <p>."""

    def run(self, root: etree.Element) -> None:
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if (
                    child.tag == "p"
                    and not child.attrib
                    and len(child) == 1
                    and child[0].tag == "math"
                    and child[0].get("display") == "block"
                    and not (child.text or "").strip()
                    and not (child[0].tail or "").strip()
                ):
                    math = child[0]
                    math.tail = child.tail
                    parent.remove(child)
                    parent.insert(index, math)


class _Tags(InlineProcessor):
    """#tags, linked to their tag page and recorded."""

    ANCESTOR_EXCLUDES = ("a",)

    def __init__(self, ext: ObsidianExtension) -> None:
        super().__init__(TAG)
        self.ext = ext

    def handleMatch(  # noqa: N802
        self, m: re.Match[str], data: str
    ) -> tuple[etree.Element | None, int | None, int | None]:
        tag = m.group(1)
        if tag.isdigit() or not any(c.isalnum() or c == "_" for c in tag) or _in_attr_list(data, m.start()):
            return None, None, None
        key = tag.lower()
        if key not in self.ext.tag_spellings:
            self.ext.tag_spellings[key] = tag
            self.ext.tags.append(key)
        link = etree.Element("a", {"class": "tag", "href": self.ext.getConfig("tag_url")(key)})
        link.text = AtomicString(f"#{tag}")
        return link, m.start(0), m.end(0)


def _in_attr_list(data: str, index: int) -> bool:
    """Return whether index lies inside braces, as the "#id" of an attribute list {: #id .class} does."""
    opened = data.rfind("{", 0, index)
    return opened >= 0 and data.rfind("}", opened, index) < 0 and data.find("}", index) >= 0


class _TaskLabels(Postprocessor):
    """A task's checkbox gets a name (done / to do): a form control without one is unlabelled."""

    def run(self, text: str) -> str:
        text = text.replace(
            '<input type="checkbox" disabled checked/>',
            '<input type="checkbox" disabled checked aria-label="done"/>',
        )
        return text.replace(
            '<input type="checkbox" disabled/>', '<input type="checkbox" disabled aria-label="to do"/>'
        )


class _Mermaid(Postprocessor):
    """Gives the <pre> of a ```mermaid fence the class "mermaid", so the theme can style it."""

    def run(self, text: str) -> str:
        # Fenced code is stashed raw HTML: edit it in the stash, before it replaces its placeholder.
        blocks = self.md.htmlStash.rawHtmlBlocks
        for index, raw in enumerate(blocks):
            if isinstance(raw, str) and "language-mermaid" in raw:
                blocks[index] = _MERMAID_PRE.sub(_add_mermaid_class, raw, count=1)
        return text


def _add_mermaid_class(m: re.Match[str]) -> str:
    """Return the opening <pre> tag with "mermaid" added to its classes."""
    attrs = m.group("attrs")
    found = _CLASS_ATTR.search(attrs)
    if found is None:
        attrs += ' class="mermaid"'
    elif "mermaid" not in found.group(1).split():
        attrs = attrs[: found.start()] + f'class="{found.group(1)} mermaid"' + attrs[found.end() :]
    return f"{m.group(1)}<pre{attrs}>"


class ObsidianExtension(Extension):
    """Obsidian's Markdown; what the last document held is in tags, block_ids and problems."""

    def __init__(self, **kwargs: Any) -> None:
        self.config = {
            "tag_url": [_default_tag_url, "A callable returning the URL of a (lowercased) tag's page"],
        }
        super().__init__(**kwargs)
        self.tags: list[str] = []  # lowercased, each once, in order of first use
        self.tag_spellings: dict[str, str] = {}  # lowercased tag -> its first spelling
        self.block_ids: set[str] = set()  # as in the HTML: "^abc-1"
        self.problems: list[tuple[int, str]] = []  # (line in the document, message)
        self.source = ""
        self._seen: dict[str, int] = {}

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802
        # Imported here: a site whose bodies use none of Obsidian's syntax never needs them, and
        # pymdownx brings urllib's HTTP client with it (40 ms of every build's start).
        from pymdownx.mark import MarkExtension
        from pymdownx.tasklist import TasklistExtension

        md.registerExtension(self)
        MarkExtension().extendMarkdown(md)
        TasklistExtension(custom_checkbox=False, clickable_checkbox=False).extendMarkdown(md)
        if "$" not in md.ESCAPED_CHARS:
            md.ESCAPED_CHARS.append("$")
        # After whitespace normalisation (30), before fenced code (25) is stashed away.
        md.preprocessors.register(_Comments(md, self), "obsidian-comments", 28)
        md.parser.blockprocessors.register(_StrictHashHeaders(md.parser), "hashheader", 70)
        # Before the blockquote processor (20), which would take the callout as a plain quote.
        md.parser.blockprocessors.register(_Callouts(md.parser), "obsidian-callouts", 21)
        md.treeprocessors.register(_BlockIds(md, self), "obsidian-block-ids", 22)
        md.treeprocessors.register(_UnwrapDisplayMath(md), "obsidian-unwrap-math", 19)
        # After code spans (190), before escapes (180): LaTeX's backslashes belong to LaTeX.
        md.inlinePatterns.register(_DisplayMath(DISPLAY_MATH, self), "obsidian-display-math", 186)
        md.inlinePatterns.register(_InlineMath(INLINE_MATH, self), "obsidian-inline-math", 185)
        # After links, autolinks and inline HTML (90), so no URL or attribute is read as a tag.
        md.inlinePatterns.register(_Tags(self), "obsidian-tags", 85)
        # Before raw HTML (30) puts the stashed fenced code into the page.
        md.postprocessors.register(_Mermaid(md), "obsidian-mermaid", 35)
        # After raw HTML (30) has put the task list's checkboxes into the page.
        md.postprocessors.register(_TaskLabels(md), "obsidian-task-labels", 25)

    def reset(self) -> None:
        """Forget what the last document held."""
        self.tags.clear()
        self.tag_spellings.clear()
        self.block_ids.clear()
        self.problems.clear()
        self.source = ""
        self._seen.clear()

    def line_of(self, raw: str) -> int:
        """Return the line (from 1) of raw's next occurrence in the document, or 0 if it is not found."""
        start = self.source.find(raw, self._seen.get(raw, -1) + 1)
        if start < 0:
            return 0
        self._seen[raw] = start
        return self.source.count("\n", 0, start) + 1


def makeExtension(**kwargs: Any) -> ObsidianExtension:  # noqa: N802
    """Return the extension, so that "factbook.obsidian" can be named in a list of extensions."""
    return ObsidianExtension(**kwargs)
