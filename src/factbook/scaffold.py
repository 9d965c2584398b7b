"""New content files, with every field of their collection ready to fill in."""

from __future__ import annotations

import re
from pathlib import Path

from .dates import FORMS
from .errors import did_you_mean
from .load import content_folder, load_sources
from .model import Collection, FieldSpec
from .slugs import slugify


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
