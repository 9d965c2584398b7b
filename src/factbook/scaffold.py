"""New content files, with every field of their collection ready to fill in."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .dates import FORMS
from .errors import did_you_mean
from .load import content_folder, load_sources
from .model import Collection, FieldSpec
from .slugs import slugify
from .translate import MADE_FROM, split, version


def new_file(root: Path, collection_name: str, title: str) -> Path:
    """Create the file for a new entity and return its path; raise ValueError if it cannot be."""
    collections = load_sources(root).collections
    content, vault = content_folder(root)
    if vault:  # a folder of notes takes notes, named as the notes app names them
        notes = next(c for c in collections.values() if c.vault)
        if collection_name != notes.name:
            raise ValueError(
                f'a folder of notes holds only {notes.plural}: factbook new {notes.name} "{title}"'
            )
        name = re.sub(r'[\\/:*?"<>|#^\[\]]', " ", title).strip()
        if not name:
            raise ValueError(f"the title '{title}' gives no file name")
        path = content / f"{name}.md"
        if path.exists():
            raise FileExistsError(f"{path} exists already")
        path.write_text(f"# {title}\n\n", encoding="utf-8")
        return path
    collection = collections.get(collection_name)
    if collection is None:
        hint = did_you_mean(collection_name, collections) or "known: " + ", ".join(sorted(collections))
        raise ValueError(f"unknown collection '{collection_name}'; {hint}")
    slug = slugify(title)
    if not slug:
        raise ValueError(f"the title '{title}' gives no slug; use letters or digits")
    suffix = ".yaml" if collection.format == "yaml" else ".md"
    path = root / "content" / collection.name / f"{slug}{suffix}"
    if path.exists():
        raise FileExistsError(f"{path} exists already")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template_text(collection, title), encoding="utf-8")
    return path


def template_text(collection: Collection, title: str) -> str:
    """Return the text of a new file: every field, the required ones first and filled where known."""
    lines = [f"title: {_quoted(title)}"]
    fields = [f for f in collection.fields if f.name not in {"title", "slug", "draft"}]
    for spec in sorted(fields, key=lambda f: not f.required):
        lines.extend(_field_lines(spec))
    front = "\n".join(lines)
    if collection.format == "yaml":
        return front + "\n"
    hint = f"<!-- Write about {title} here; link each page it names by its slug in double brackets. -->"
    return f"---\n{front}\n---\n\n{hint}\n"


def _note(spec: FieldSpec) -> str:
    note = f"  # {spec.type}{' → ' + spec.to if spec.to else ''}{', required' if spec.required else ''}"
    if spec.enum:
        note += ": " + " | ".join(spec.enum)
    if spec.type == "date":
        note += f" ({FORMS})"
    return note


def _field_lines(spec: FieldSpec) -> list[str]:
    note = _note(spec)
    if spec.type == "list":
        inner = [f"#   {'-' if i == 0 else ' '} {s.name}:{_note(s)}" for i, s in enumerate(spec.fields)]
        return [f"{spec.name}: []{note}", *inner]
    empty = "[]" if spec.type == "refs" else ""
    return [f"{spec.name}: {empty}".rstrip() + note]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def translation_file(root: Path, slug: str, code: str) -> Path:
    """Create the translation of a page into a language, to translate in place; return its path.

    It copies the original's title, summary, translatable fields and text, and records the
    version of the original it was made from.
    """
    sources = load_sources(root)
    config = sources.config
    codes = [language.code for language in config.languages]
    if code not in codes:
        known = ", ".join(codes) if codes else "none: add 'languages' to site.yaml"
        raise ValueError(f"'{code}' is not one of the site's other languages ({known})")
    originals, _ = split(sources.documents, config)
    wanted = slug.split("/")[-1]
    found = [
        d
        for d in originals
        if str(d.data.get("slug") or slugify(d.stem)) == wanted
        and ("/" not in slug or d.collection == slug.split("/")[0])
    ]
    if len(found) != 1:
        names = ", ".join(f"{d.collection}/{slugify(d.stem)}" for d in found)
        raise ValueError(f"no page '{slug}'" if not found else f"'{slug}' names several pages: {names}")
    doc = found[0]
    source = root / doc.path  # a document's path is relative to the site's folder
    path = source.with_name(f"{doc.stem}.{code}{source.suffix}")
    if path.exists():
        raise FileExistsError(f"{path} exists already")
    collection = sources.collections[doc.collection]
    lines = [
        f"{key}: {json.dumps(value, ensure_ascii=False)}"
        for key, value in doc.data.items()
        if (spec := collection.field(str(key))) is not None and spec.translate
    ]
    lines.append(f"{MADE_FROM}: {version(source.read_bytes())}")
    head = "\n".join(lines) + "\n"
    text = head if doc.kind == "yaml" else f"---\n{head}---\n{doc.body}"
    path.write_text(text, encoding="utf-8")
    return path
