"""Translations of pages (itu.az.md beside itu.md): each language's edition of the documents."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from .errors import Problem
from .model import Collection, Document, FieldSpec, SiteConfig

MADE_FROM = "translated_from"  # the front-matter key naming the version of the original translated


@dataclass(frozen=True, slots=True)
class Edition:
    """One language's documents: translations where there are some, else the originals."""

    code: str
    documents: tuple[Document, ...]
    fallbacks: frozenset[str]  # paths of the originals shown untranslated in this language
    translated: frozenset[str]  # paths of the originals this language has a translation of


def version(data: bytes) -> str:
    """Return the version of a file a translation records: 12 hex digits of its SHA-256."""
    return hashlib.sha256(data).hexdigest()[:12]


def language_of(doc: Document, config: SiteConfig) -> tuple[str, str]:
    """Return (the original's stem, the language code) of a translation, or (stem, '') for an original."""
    stem, _, code = doc.stem.rpartition(".")
    if stem and code in {language.code for language in config.languages}:
        return stem, code
    return doc.stem, ""


def original_path(doc: Document, stem: str) -> str:
    """Return the path of the file a translation translates: its sibling without the language code."""
    folder, _, name = doc.path.rpartition("/")
    suffix = name[len(doc.stem) :]
    return f"{folder}/{stem}{suffix}" if folder else stem + suffix


def split(
    documents: tuple[Document, ...], config: SiteConfig
) -> tuple[tuple[Document, ...], dict[str, dict[str, Document]]]:
    """Return the originals, and each language's translations by the path of their original."""
    if not config.languages:
        return documents, {}
    originals: list[Document] = []
    translations: dict[str, dict[str, Document]] = {lang.code: {} for lang in config.languages}
    for doc in documents:
        stem, code = language_of(doc, config)
        if code:
            translations[code][original_path(doc, stem)] = doc
        else:
            originals.append(doc)
    return tuple(originals), translations


def editions(
    originals: tuple[Document, ...],
    translations: dict[str, dict[str, Document]],
    collections: dict[str, Collection],
    read: Callable[[str], bytes | None],
) -> tuple[list[Edition], list[Problem]]:
    """Return each language's edition of the documents, and the problems of the translations."""
    by_path = {doc.path: doc for doc in originals}
    problems: list[Problem] = []
    found = []
    for code, made in translations.items():
        documents, translated = [], set()
        for path, doc in sorted(made.items()):
            original = by_path.get(path)
            if original is None:
                message = f"translation of {path}, which is not there"
                problems.append(Problem(doc.path, 1, message, "name it after the page it translates"))
                continue
            merged, found_problems = _translated(original, doc, collections[doc.collection], read)
            problems += found_problems
            if merged is not None:
                documents.append(merged)
                translated.add(path)
        fallbacks = frozenset(by_path) - translated
        documents += [by_path[path] for path in sorted(fallbacks)]
        documents.sort(key=lambda d: d.path)
        found.append(Edition(code, tuple(documents), fallbacks, frozenset(translated)))
    return found, problems


def _translated(
    original: Document, doc: Document, collection: Collection, read: Callable[[str], bytes | None]
) -> tuple[Document | None, list[Problem]]:
    """Return the original with the translation's text and translatable fields, and their problems."""
    problems = []
    data = dict(original.data)
    lines = dict(original.lines)
    for key, value in doc.data.items():
        if key == MADE_FROM:
            continue
        spec = collection.field(str(key))
        if spec is None or not spec.translate:
            what = "is not translatable" if spec is not None else "is not a field of this collection"
            message = f"field '{key}' {what}: it is taken from the original"
            problems.append(Problem(doc.path, doc.line((key,)), message, f"remove it from {doc.path}"))
            continue
        data[key] = value
        lines[(key,)] = doc.line((key,))
    made_from = doc.data.get(MADE_FROM)
    current = read(original.path)
    if made_from is None:
        message = f"translation of {original.path} does not say which version it was made from"
        hint = f"add '{MADE_FROM}: {version(current or b'')}' if it translates the original as it is now"
        problems.append(Problem(doc.path, 1, message, hint))
    elif current is not None and str(made_from) != version(current):
        message = (
            f"translation of {original.path}, which changed since"
            f" (made from {made_from}, now {version(current)}); update it, then its {MADE_FROM}"
        )
        problems.append(Problem(doc.path, doc.line((MADE_FROM,)), message, warning=True))
    if any(not p.warning for p in problems):
        return None, problems
    body = doc.body if original.kind == "markdown" else original.body
    # Made from both files: its checksum is of both, or of neither if either has none.
    both = f"{original.checksum}:{doc.checksum}".encode()
    checksum = hashlib.blake2b(both, digest_size=16).hexdigest() if original.checksum and doc.checksum else ""
    merged = replace(
        original, path=doc.path, data=data, lines=lines, body=body, body_line=doc.body_line, checksum=checksum
    )
    return merged, problems


def translated_collections(
    collections: dict[str, Collection], gettext: Callable[[str], str]
) -> dict[str, Collection]:
    """Return the collections with their titles, descriptions and field labels in another language."""

    def field(spec: FieldSpec) -> FieldSpec:
        inverse = gettext(spec.inverse) if spec.inverse else ""
        return replace(
            spec, label=gettext(spec.label), inverse=inverse, fields=tuple(map(field, spec.fields))
        )

    return {
        name: replace(
            collection,
            title=gettext(collection.title),
            singular=gettext(collection.singular),
            description=gettext(collection.description) if collection.description else "",
            related=gettext(collection.related),
            fields=tuple(map(field, collection.fields)),
        )
        for name, collection in collections.items()
    }


def collection_words(collections: dict[str, Collection]) -> set[str]:
    """Return every text of the collections a catalogue translates (what translated_collections looks up)."""
    found: set[str] = set()

    def record(text: str) -> str:
        found.add(text)
        return text

    translated_collections(collections, record)
    return {text for text in found if text.replace("{collection}", "").strip()}
