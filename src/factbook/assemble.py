"""Documents to a Site: slugs, URLs, dates, collisions and resolved references (the model stage)."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, NamedTuple

from .dates import DateError, PartialDate, parse_date
from .errors import Problem, did_you_mean
from .model import Collection, Document, Entity, Fact, FieldPath, FieldSpec, Ref, Site, SiteConfig, text_print
from .schema import validate
from .slugs import slugify
from .urls import REFUSED, refused, shown


class SlugIndex:
    """Entity keys by collection and slug, for resolving what writers type."""

    def __init__(
        self, keys: list[str], broken: frozenset[str] = frozenset(), labels: dict[str, str] | None = None
    ) -> None:
        self.keys = set(keys)
        self.broken = broken
        self.labels = labels or {}
        self.by_slug: dict[str, list[str]] = {}
        self.by_collection: dict[str, set[str]] = {}
        for key in sorted(keys):
            collection, slug = key.split("/", 1)
            self.by_slug.setdefault(slug, []).append(key)
            self.by_collection.setdefault(collection, set()).add(slug)

    def resolve(self, text: str, collection: str = "*") -> tuple[str | None, str]:
        """Return the key that text names (or None) and, if none, the message and hint.

        A name of a file that could not be read gives no message: that file's own error says it.
        """
        found, message = self._resolve(text, collection)
        if found is None and self.broken:
            slug = text.strip("/")
            wanted = (
                {slug}
                if "/" in slug
                else {f"{c}/{slug}" for c in ([collection] if collection != "*" else self.by_collection)}
            )
            if wanted & self.broken:
                return None, ""
        return found, message

    def _resolve(self, text: str, collection: str) -> tuple[str | None, str]:
        if "/" in text:
            key = text.strip("/")
            if key in self.keys and (collection == "*" or key.startswith(collection + "/")):
                return key, ""
            wanted = key.split("/", 1)[0]
            pool = (
                self.keys
                if collection == "*"
                else {f"{collection}/{s}" for s in self.by_collection.get(collection, ())}
            )
            hint = did_you_mean(key, pool)
            kind = wanted if collection == "*" else collection
            return None, f"unknown {self.label(kind)} '{text}'" + (f"; {hint}" if hint else "")
        keys = self.by_slug.get(text, [])
        if collection != "*":
            keys = [k for k in keys if k.startswith(collection + "/")]
        if len(keys) == 1:
            return keys[0], ""
        if len(keys) > 1:
            return None, f"'{text}' is ambiguous; write one of " + ", ".join(f"'{k}'" for k in keys)
        pool = self.by_slug if collection == "*" else self.by_collection.get(collection, set())
        hint = did_you_mean(text, pool)
        return None, f"unknown {self.label(collection)} '{text}'" + (f"; {hint}" if hint else "")

    def label(self, collection: str) -> str:
        """Return what one page of a collection is called in a message ("page" for any)."""
        return self.labels.get(collection, "page" if collection == "*" else collection)


# The last index made: assembling and linking a site each ask for the same one.
_LAST_INDEX: list[SlugIndex] = []


def slug_index(site_keys: frozenset[str], unreadable: frozenset[str], labels: dict[str, str]) -> SlugIndex:
    """Return the SlugIndex of these keys, naming their collections by their singular labels."""
    last = _LAST_INDEX[0] if _LAST_INDEX else None
    if last is not None and last.broken == unreadable and last.labels == labels and last.keys == site_keys:
        return last  # never changed once made
    index = SlugIndex(list(site_keys), unreadable, labels)
    _LAST_INDEX[:] = [index]
    return index


def labels_of(collections: dict[str, Collection]) -> dict[str, str]:
    """Return the singular label of each collection as it reads in a message."""
    return {name: c.label for name, c in collections.items()}


# A page's references resolved: a hash of what they were resolved against (every page's key,
# the drafts, the unreadable files, the labels), the page, the page with them, and their problems.
Resolved = tuple[str, Entity, Entity, list[Problem]]


class AssemblyCache:
    """What assemble_site found for each document last time, reused while its inputs are the same."""

    def __init__(self) -> None:
        self.entities: dict[str, tuple[Document, Collection, Entity | None, list[Problem]]] = {}
        self.refs: dict[str, Resolved] = {}  # by key
        self.keys: frozenset[str] = frozenset()
        self.facts: dict[str, tuple[Entity, tuple[Fact, ...]]] = {}
        self.drafts: frozenset[str] = frozenset()
        self.index: SlugIndex | None = None
        self.context = ""  # what the references were last resolved against (Resolved's hash)
        self.last: _Assembled | None = None  # the last call's inputs and result


class _Inputs(NamedTuple):
    """What assemble_site is given, besides its cache."""

    config: SiteConfig
    collections: dict[str, Collection]
    documents: tuple[Document, ...]
    unreadable: frozenset[str]
    files: dict[str, str]
    sizes: dict[str, tuple[int, int]]


class _Assembled(NamedTuple):
    """One call of assemble_site: its inputs and what it returned."""

    inputs: _Inputs
    site: Site
    problems: list[Problem]


def assemble_site(
    config: SiteConfig,
    collections: dict[str, Collection],
    documents: tuple[Document, ...],
    cache: AssemblyCache | None = None,
    unreadable: frozenset[str] = frozenset(),
    files: dict[str, str] | None = None,
    sizes: dict[str, tuple[int, int]] | None = None,
) -> tuple[Site, list[Problem]]:
    """Return the site's entities with resolved references, and every problem found.

    files are the attachments: each one's path inside content/ and URL.
    """
    cache = cache or AssemblyCache()
    inputs = _Inputs(config, collections, documents, unreadable, dict(files or {}), dict(sizes or {}))
    made = _assemble_again(inputs, cache) or _assemble(inputs, cache)
    cache.last = _Assembled(inputs, *made)
    return made[0], list(made[1])


def _assemble_again(inputs: _Inputs, cache: AssemblyCache) -> tuple[Site, list[Problem]] | None:
    """Return the last call's site with the few documents read again since put in, or None when
    that is not enough: a page came, went, or changed its key, URL or draft status, or another
    input changed. A save in serve changes one file; going over every page took a fifth of it."""
    last, index = cache.last, cache.index
    config, collections, documents = inputs.config, inputs.collections, inputs.documents
    if last is None or index is None:
        return None
    before = last.inputs
    if (
        before.collections is not collections
        or len(before.documents) != len(documents)
        or before.config != config
        or before.unreadable != inputs.unreadable
        or before.files != inputs.files
        or before.sizes != inputs.sizes
    ):
        return None
    moved = [i for i, other in enumerate(map(operator.is_not, documents, before.documents)) if other]
    if len(moved) > 8:
        return None
    entities, facts = dict(last.site.entities), dict(last.site.facts)
    paths = {documents[i].path for i in moved}
    problems = [p for p in last.problems if p.path not in paths]
    for i in moved:
        doc = documents[i]
        collection = collections[doc.collection]
        old = cache.entities.get(doc.path)
        if doc.path != before.documents[i].path or old is None or old[2] is None:
            return None
        found = validate(doc, collection)
        entity, more = _entity(doc, collection)
        was = old[2]
        if entity is None or (entity.key, entity.url, entity.draft) != (was.key, was.url, was.draft):
            return None
        shown = not entity.draft or config.drafts  # a draft left out stays out, as before
        placed = entities.get(entity.key)
        if shown and (placed is None or placed.doc.path != doc.path):  # renumbered, or one of two at a URL
            return None
        cache.entities[doc.path] = (doc, collection, entity, found + more)
        problems += found + more
        if not shown:
            continue
        refs, more = _references(entity, collection, index, set(cache.drafts))
        linked = _with_refs(entity, refs)
        cache.refs[entity.key] = (cache.context, entity, linked, more)
        problems += more
        entities[entity.key] = linked
        if collection.fact_list:
            cache.facts[entity.key] = (linked, _facts(entity, refs, collection.fact_list))
            facts[entity.key] = cache.facts[entity.key][1]
        problems += _no_source(collection, linked)
    return Site(config, collections, entities, facts, inputs.files, inputs.sizes), problems


def _no_source(collection: Collection, entity: Entity) -> list[Problem]:
    """Return the warning that a page of a collection that cites names no source, if it does not."""
    if not collection.cites or entity.fields.get(collection.cites):
        return []
    message = f"{collection.label} '{entity.slug}' names no source"
    hint = f"add '{collection.cites}: [...]' to its front matter"
    return [Problem(entity.doc.path, entity.doc.line(), message, hint, warning=True)]


def _assemble(inputs: _Inputs, cache: AssemblyCache) -> tuple[Site, list[Problem]]:
    """Return the site and its problems, going over every document (each reused from the cache
    while it and its collection are the same)."""
    config, collections, documents, unreadable, files, sizes = inputs
    problems: list[Problem] = []
    drafts: set[str] = set()
    placed: dict[str, Entity] = {}
    by_url: dict[str, Document] = {}
    # Collections read again compared once each, not once for each of their pages.
    same: dict[tuple[int, int], bool] = {}
    for doc in documents:
        collection = collections[doc.collection]
        cached = cache.entities.get(doc.path)
        if cached is not None and cached[1] is not collection:
            pair = (id(cached[1]), id(collection))
            if pair not in same:
                same[pair] = cached[1] == collection
        # Mostly the very objects of the last build (a file's record reused): `is` first.
        if (
            cached is None
            or not (cached[0] is doc or cached[0] == doc)
            or not (cached[1] is collection or same[(id(cached[1]), id(collection))])
        ):
            found = validate(doc, collection)
            entity, more = _entity(doc, collection)
            cached = (doc, collection, entity, found + more)
        cache.entities[doc.path] = cached
        entity = cached[2]
        if cached[3]:
            problems += cached[3]
        if entity is None:
            continue
        if entity.draft and not config.drafts:
            drafts.add(entity.key)
            continue
        if entity.url in by_url or entity.key in placed:
            other = by_url.get(entity.url) or placed[entity.key].doc
            message = f"'{entity.key}' would have the URL {entity.url}, which {other.path} has already"
            if not collection.vault:
                problems.append(Problem(doc.path, doc.line(("slug",)), message))
                continue
            # Notes that differ only in case or punctuation both exist in a vault: number the later.
            entity = _renumbered(entity, collection, by_url, placed)
            message += f"; published at {entity.url}"
            problems.append(Problem(doc.path, doc.line(), message, warning=True))
        by_url[entity.url] = doc
        placed[entity.key] = entity
    keys, draft_keys = frozenset(placed), frozenset(drafts)
    labels = labels_of(collections)
    index = cache.index
    fresh = index is None or index.keys != keys or index.broken != unreadable or index.labels != labels
    if fresh:
        index = cache.index = slug_index(keys, unreadable, labels)
    # References resolve the same way only while the same pages (and drafts) exist: each is kept
    # with a hash of them, so that those read back from the last build's records are checked too.
    if fresh or keys != cache.keys or draft_keys != cache.drafts or not cache.context:
        context = _context(keys, draft_keys, unreadable, labels)
        if context != cache.context:
            cache.refs = {k: hit for k, hit in cache.refs.items() if hit[0] == context}
        cache.context, cache.keys, cache.drafts = context, keys, draft_keys
    cache.entities = {d.path: cache.entities[d.path] for d in documents if d.path in cache.entities}
    entities: dict[str, Entity] = {}
    facts: dict[str, tuple[Fact, ...]] = {}
    for key, entity in placed.items():
        collection = collections[entity.collection]
        hit = cache.refs.get(key)
        if hit is not None and (hit[1] is entity or hit[1] == entity):
            linked, more = hit[2], hit[3]
        else:
            refs, more = _references(entity, collection, index, drafts)
            linked = _with_refs(entity, refs)
            cache.refs[key] = (cache.context, entity, linked, more)
        if more:
            problems += more
        entities[key] = linked
        if collection.fact_list:
            known = cache.facts.get(key)
            if known is None or known[0] != linked:
                known = (linked, _facts(entity, list(linked.refs), collection.fact_list))
                cache.facts[key] = known
            facts[key] = known[1]
        problems += _no_source(collection, linked)
    problems += _check_nav(config, collections, index)
    return Site(config, collections, entities, facts, files, sizes), problems


def _context(
    keys: frozenset[str], drafts: frozenset[str], unreadable: frozenset[str], labels: dict[str, str]
) -> str:
    """Return a hash of all that references are resolved against, besides the page itself."""
    return text_print(repr((sorted(keys), sorted(drafts), sorted(unreadable), sorted(labels.items()))))


def _renumbered(
    entity: Entity, collection: Collection, by_url: dict[str, Document], placed: dict[str, Entity]
) -> Entity:
    """Return the entity under the first free slug of the form slug-2, slug-3, ..."""
    n = 2
    while True:
        slug = f"{entity.slug}-{n}"
        url = collection.url.format(collection=collection.name, slug=slug)
        key = f"{collection.name}/{slug}"
        if url not in by_url and key not in placed:
            return replace(entity, slug=slug, url=url, key=key)
        n += 1


def _check_nav(config: SiteConfig, collections: dict[str, Collection], index: SlugIndex) -> list[Problem]:
    """Return a problem for each navigation item that names no collection index and no page."""
    problems: list[Problem] = []
    if not collections:  # the declarations failed: their own errors say so
        return problems
    for i, name in enumerate(config.nav):
        line = config.nav_lines[i] if i < len(config.nav_lines) else 1
        collection = collections.get(name)
        if collection is not None and not collection.index:
            message = f"nav: collection '{name}' has no index page (it sets index: false)"
            problems.append(Problem(config.path, line, message))
        elif collection is None:
            key, _ = index.resolve(name)
            if key is None:
                hint = did_you_mean(name, [*collections, *index.by_slug])
                message = f"nav: '{name}' is neither a collection nor a page"
                problems.append(Problem(config.path, line, message, hint))
    return problems


def _entity(doc: Document, collection: Collection) -> tuple[Entity | None, list[Problem]]:
    if not isinstance(doc.data, dict):
        return None, []
    data = doc.data
    problems: list[Problem] = []
    slug = data.get("slug") if isinstance(data.get("slug"), str) else None
    if slug is not None and (slug != slugify(slug) or not slug):
        message = f"slug '{slug}' must be lowercase words joined by hyphens, inside its folder"
        problems.append(Problem(doc.path, doc.line(("slug",)), message, f"did you mean '{slugify(slug)}'?"))
        return None, problems
    slug = slug or slugify(doc.stem)
    if not slug:
        return None, [Problem(doc.path, 1, f"file name '{doc.stem}' gives no slug; rename it")]
    if collection.vault and doc.folder:  # a note keeps its folders in its URL
        folders = "/".join(slugify(part) or "-" for part in doc.folder.split("/"))
        slug = f"{folders}/{slug}"
    url = collection.url.format(collection=collection.name, slug=slug)
    if url == "/index/":  # a page at the top named index is the home page
        url = "/"
    title = data.get("title") if isinstance(data.get("title"), str) else None
    if collection.vault and isinstance(data.get("title"), int | float):  # title: 2024 is a title too
        title = str(data["title"])
    if title is None:
        title = (first_heading(doc.body) if collection.vault else None) or doc.stem
    date = None
    date_spec = collection.field(collection.date) if collection.date else None
    for path, spec, value in _values(data, collection.fields):
        if spec.type == "date" and value is not None:
            try:
                parsed = parse_date(value)
            except DateError as error:
                problems.append(Problem(doc.path, doc.line(path), f"field '{path[-1]}': {error}"))
                continue
            if date_spec is spec:
                date = parsed
        elif spec.type == "url" and isinstance(value, str) and refused(value):
            message = f"field '{path[-1]}': link to '{shown(value)}' {REFUSED}"
            problems.append(Problem(doc.path, doc.line(path), message, warning=True))
    entity = Entity(
        key=f"{collection.name}/{slug}",
        collection=collection.name,
        slug=slug,
        url=url,
        title=title,
        doc=doc,
        fields=data,
        summary=_summary(data, collection),
        date=date,
        draft=data.get("draft") is True or (collection.vault and data.get("publish") is False),
    )
    return entity, problems


def _summary(data: dict[str, Any], collection: Collection) -> str:
    """Return the one-sentence summary: summary, or for a note its description."""
    for key in ("summary", "description") if collection.vault else ("summary",):
        if isinstance(data.get(key), str):
            return str(data[key])
    return ""


_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def first_heading(body: str) -> str | None:
    """Return the text of a body's first level-one heading ('# Title'), outside code blocks."""
    fenced = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and line.startswith("# "):
            return line[2:].strip().rstrip("#").strip() or None
    return None


def _values(
    data: Any, specs: tuple[FieldSpec, ...], path: FieldPath = ()
) -> Iterator[tuple[FieldPath, FieldSpec, Any]]:
    """Yield (path, spec, value) for every declared value, lists of objects included."""
    if not isinstance(data, dict):
        return
    for spec in specs:
        value = data.get(spec.name)
        here = (*path, spec.name)
        if spec.type == "list" and isinstance(value, list):
            for i, item in enumerate(value):
                yield from _values(item, spec.fields, (*here, i))
        elif spec.type == "refs" and isinstance(value, list):
            for i, item in enumerate(value):
                yield (*here, i), spec, item
        elif value is not None:
            yield here, spec, value


def _references(
    entity: Entity, collection: Collection, index: SlugIndex, drafts: set[str]
) -> tuple[list[Ref], list[Problem]]:
    refs: list[Ref] = []
    problems: list[Problem] = []
    doc = entity.doc
    for path, spec, value in _values(entity.fields, collection.fields):
        if not spec.is_reference or not isinstance(value, str):
            continue
        line = doc.line(path)
        target, message = index.resolve(value, spec.to or "*")
        if target is None and not message:
            continue
        if target is None:
            named = _draft_named(value, spec.to or "*", drafts)
            if named:
                message = f"'{value}' is a draft; build with --drafts or remove the reference"
            problems.append(Problem(doc.path, line, f"field '{_field_name(path)}': {message}"))
            continue
        parent = _parent(entity.fields, path)
        role = parent.get("role") if isinstance(parent, dict) and isinstance(parent.get("role"), str) else ""
        item = path[1] if len(path) > 2 and isinstance(path[1], int) else -1
        heading = spec.inverse.replace("{collection}", collection.title)
        refs.append(
            Ref(entity.key, target, _field_name(path), heading, role, line, item, bool(heading), spec.shared)
        )
    return refs, problems


def _draft_named(text: str, collection: str, drafts: set[str]) -> bool:
    if "/" in text:
        return text.strip("/") in drafts
    return any(d.split("/", 1)[1] == text and collection in {"*", d.split("/", 1)[0]} for d in drafts)


def _field_name(path: FieldPath) -> str:
    return ".".join(str(p) for p in path if not isinstance(p, int))


def _parent(data: Any, path: FieldPath) -> Any:
    """Return the list item that holds the value at path (for its role), if any."""
    for i in range(len(path) - 1, 0, -1):
        if isinstance(path[i], int) and i < len(path) - 1:
            node = data
            for part in path[: i + 1]:
                node = node[part]
            return node
    return None


def _with_refs(entity: Entity, refs: list[Ref]) -> Entity:
    return replace(entity, refs=tuple(refs))


def _facts(entity: Entity, refs: list[Ref], field: str) -> tuple[Fact, ...]:
    items = entity.fields.get(field)
    if not isinstance(items, list):
        return ()
    facts: list[Fact] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        label = str(item.get("label", ""))
        fact_id = base = "fact-" + (slugify(label) or str(i + 1))
        n = 2
        while fact_id in seen:
            fact_id, n = f"{base}-{n}", n + 1
        seen.add(fact_id)
        line = entity.doc.line((field, i))
        mine = [r for r in refs if r.item == i]
        period = item.get("period")
        facts.append(
            Fact(
                id=fact_id,
                label=label,
                value=item.get("value"),
                unit=str(item.get("unit") or ""),
                qualifier=str(item.get("qualifier") or ""),
                period=_safe_date(period),
                about=tuple(r.target for r in mine if r.field == f"{field}.about"),
                source=next((r.target for r in mine if r.field == f"{field}.source"), ""),
                note=str(item.get("note") or ""),
                line=line,
            )
        )
    return tuple(facts)


def _safe_date(value: Any) -> PartialDate | None:
    try:
        return parse_date(value) if value is not None else None
    except DateError:
        return None
