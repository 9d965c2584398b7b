"""The theme's messages, a pseudo-translation of them, and the words of a built page no catalogue gave."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import yaml
from babel import Locale
from babel.dates import get_month_names
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po, write_po
from jinja2.ext import babel_extract

import factbook
from factbook.declare import declare_collections, packaged_declarations
from factbook.theme import packaged
from factbook.translate import collection_words

PACKAGE = Path(factbook.__file__).parent
OPEN, CLOSE = "⟦", "⟧"  # what every pseudo-translated message is wrapped in
Message = str | tuple[str, str]  # a message, or the singular and plural of one that counts

# Attributes a reader hears or sees, and the words the theme's scripts show (data-*) on the page.
READ = {"title", "aria-label", "alt", "placeholder", "data-label", "data-filter", "data-count"}
READ |= {"data-none", "data-one", "data-many", "data-any"}
# Names no language translates: the formats of the data files, and the files themselves.
NAMES = re.compile(r"\b(JSON-LD|CSV|JSON|UTF-8|[\w.-]+\.(csv|json|jsonld))\b")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _extracted(method: object, path: Path) -> Iterator[Message]:
    """Return the messages a file passes to gettext, ngettext and their kin (literal strings only)."""
    with path.open("rb") as handle:
        for _line, message, _comments, _context in extract(method, handle, DEFAULT_KEYWORDS):  # type: ignore[arg-type]
            if isinstance(message, tuple):
                yield (message[0], message[1])
            else:
                yield message


def theme_messages() -> set[Message]:
    """Return every message of the theme: its templates', factbook's code's, and the default collections'."""
    found: set[Message] = set()
    for template in sorted(packaged("templates").iterdir()):
        found.update(_extracted(babel_extract, template))
    for module in sorted(PACKAGE.glob("*.py")):
        found.update(_extracted("python", module))
    found.update(collection_words(declare_collections(packaged_declarations()).collections))
    return found


def site_words(root: Path) -> set[str]:
    """Return the words of a site's own collections.yaml that a catalogue translates."""
    path = root / "content" / "collections.yaml"
    text = path.read_text(encoding="utf-8") if path.is_file() else None
    return collection_words(declare_collections(packaged_declarations(), text).collections)


def catalogue_ids(path: Path) -> dict[str, object]:
    """Return a catalogue's messages by id (a counting message by its singular): their translations."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in catalog if m.id}


def write_pseudo(path: Path, messages: set[Message], locale: str) -> None:
    """Write a catalogue that translates every message as itself inside ⟦ ⟧."""
    catalog = Catalog(locale=locale)
    for message in sorted(messages, key=str):
        if isinstance(message, tuple):
            catalog.add(message, tuple(OPEN + m + CLOSE for m in message))
        else:
            catalog.add(message, OPEN + message + CLOSE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)


def _strings(value: object) -> Iterator[str]:
    """Return every text inside a YAML value: its strings and numbers, in lists and mappings too."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield str(value)


def content_texts(root: Path) -> tuple[list[str], str]:
    """Return a site's own texts (site.yaml, front matter, fact sheets), longest first, and its bodies."""
    texts: set[str] = set()
    bodies = []
    for path in sorted((root / "content").rglob("*")):
        if path.suffix in {".yaml", ".yml"} and path.name != "collections.yaml":
            texts.update(_strings(yaml.safe_load(path.read_text(encoding="utf-8"))))
        elif path.suffix == ".md":
            text = path.read_text(encoding="utf-8")
            _, front, body = text.split("---", 2) if text.startswith("---") else ("", "", text)
            texts.update(_strings(yaml.safe_load(front) or {}))
            bodies.append(body)
            # Its headings, which the contents beside the text list too.
            texts.update(line.lstrip("#").strip() for line in body.splitlines() if line.startswith("#"))
    words = {t.strip() for text in texts for t in text.split("\n") if t.strip()}
    words |= {w[:1].upper() + w[1:] for w in words}  # a value as a heading (by kind: "Ministry")
    # Each language's name in itself, as the switcher gives it.
    config = yaml.safe_load((root / "content" / "site.yaml").read_text(encoding="utf-8"))
    for code in [config.get("language", "en"), *(config.get("languages") or {})]:
        name = Locale.parse(code.replace("-", "_")).display_name or code
        words.add(name[:1].upper() + name[1:])
    return sorted(words, key=len, reverse=True), " ".join(" ".join(bodies).split())


# What a text node is: words to check, content as written (a body's prose, a fallback's own
# text), a name in code, or a label of a picture (a title, cut to fit with "…").
WORDS, WRITTEN, CODE, LABEL = "words", "written", "code", "label"


class _Reader(HTMLParser):
    """The text a reader meets on a page: text nodes and attributes, each with what it is."""

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.open: list[tuple[str, str]] = []  # elements open: name, and what their text is
        self.nodes: list[tuple[str, str]] = []  # text nodes in order, with what they are
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        kind = self.open[-1][1] if self.open else WORDS
        if tag == "code":
            kind = CODE
        elif kind == WORDS and tag != "html" and found.get("lang") not in (None, self.language):
            kind = WRITTEN  # a fallback's own text, in the language of the original
        elif kind == WORDS and "prose" in (found.get("class") or "").split():
            kind = WRITTEN
        elif kind == WORDS and tag in {"text", "tspan"}:
            kind = LABEL
        if tag == "meta" and found.get("name") == "description":
            self.attributes.append(found.get("content") or "")
        self.attributes += [v for k, v in attrs if k in READ and v]
        if tag not in VOID:
            self.open.append((tag, kind))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                return

    def handle_data(self, data: str) -> None:
        if any(t in {"script", "style"} for t, _ in self.open):
            return
        self.nodes.append((data, self.open[-1][1] if self.open else WORDS))


def _unmarked(text: str) -> str:
    """Return text without its pseudo-translated parts (⟦…⟧, nested too): the words no catalogue gave."""
    marked = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
    while True:
        # A message's own markup (a link inside it) splits it into several nodes: \0 keeps them apart.
        shorter = marked.sub(lambda m: "\0" * m.group(0).count("\0"), text)
        if shorter == text:
            return text
        text = shorter


def _has_words(text: str) -> bool:
    """Return whether text has a word: letters, beyond one or two alone (an initial, a citation's b)."""
    return bool(re.search(r"[^\W\d_]", text)) and not re.fullmatch(r"\s*[^\W\d_]{1,2}\s*", text)


def english_left(page: Path, texts: list[str], bodies: str, language: str, locale: str) -> list[str]:
    """Return the words of a page that neither a catalogue (⟦…⟧ marked) nor the site's content gave."""
    reader = _Reader(language)
    reader.feed(page.read_text(encoding="utf-8"))
    months = {
        m for width in ("wide", "abbreviated") for m in get_month_names(width, "format", locale).values()
    }
    months |= set(get_month_names("wide", "stand-alone", locale).values())
    known = texts + sorted(months, key=len, reverse=True)
    left = []
    pieces = _unmarked("\0".join(text for text, _ in reader.nodes)).split("\0")
    checks = [(piece, kind) for piece, (_, kind) in zip(pieces, reader.nodes, strict=True)]
    checks += [(_unmarked(value), WORDS) for value in reader.attributes]
    for piece, kind in checks:
        words = NAMES.sub(" ", " ".join(piece.split()))
        if kind == CODE or not _has_words(words):
            continue
        if kind == WRITTEN and words in bodies:
            continue
        if kind == LABEL and any(text.startswith(words) for text in texts):
            continue
        for text in known:
            if text in words:
                words = words.replace(text, " ")
        if _has_words(words):
            left.append(" ".join(piece.split()))
    return left
