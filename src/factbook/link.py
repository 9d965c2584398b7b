"""A Site to a LinkedSite: bodies rendered, links and anchors checked, inverse relations found."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from .assemble import labels_of, slug_index
from .errors import Problem, did_you_mean
from .frozen import pickled_as_tuple
from .mdlinks import LinkProblem, LinkTable, Rendered, Target, fragment, render_markdown
from .model import Entity, Fact, Ref, Site, text_print
from .names import LazyNameTable, NameTable, content_path, name_table

MENTIONS = "mentions"


@pickled_as_tuple
class BodyJob(NamedTuple):
    """A Markdown body to render: its text, its first line in the file, its folder in content/,
    and the hash of the file it was read from ('' if none)."""

    source: str
    line: int
    folder: str
    # The same file's bytes hold the same body: the cache knows it by this, not by hashing its text.
    checksum: str = ""


# Renders many bodies at once (perhaps in other processes) with one link table.
RenderMany = Callable[[list[BodyJob], LinkTable], list[Rendered]]


@dataclass(frozen=True, slots=True)
class LinkedSite:
    """A Site with every body rendered and every relation known in both directions."""

    site: Site
    bodies: dict[str, Rendered]
    inverse: Mapping[str, tuple[Ref, ...]]
    facts_about: dict[str, tuple[tuple[str, Fact], ...]]
    table: LinkTable
    # Each page's outgoing references (fields and mentions): kept so that the next rebuild
    # makes again only the inverse lists a change touches.
    outgoing: dict[str, tuple[Ref, ...]] = field(default_factory=dict)
    # Per page, the links to headings that do not exist (warnings only): (href, href to the page).
    dead: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    # Per page, the problems of its links to headings: kept so that the next rebuild checks
    # again only the pages whose links, or whose targets' headings, changed.
    checked: dict[str, tuple[Problem, ...]] = field(default_factory=dict)
    # Views of the whole site that templates read many times, made once on first use.
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def entity(self, key: str) -> Entity:
        """Return the entity with that key."""
        return self.site.entities[key]


def render_serially(jobs: list[BodyJob], table: LinkTable) -> list[Rendered]:
    """Return the renderings of bodies one after another in this process."""
    return [render_markdown(source, line, folder, table) for source, line, folder, _ in jobs]


def link_table(
    site: Site,
    unreadable: frozenset[str] = frozenset(),
    previous: LinkTable | None = None,
    before: Site | None = None,
) -> LinkTable:
    """Return the table that resolves [[names]] and .md paths to the site's pages.

    With the site it was made for (before), the last table's names, targets and paths are
    reused while no page came, went or changed its title, URL, file or aliases.
    """
    entities = site.entities
    prefix = site.config.base_path.rstrip("/")
    files = {path: prefix + url for path, url in site.files.items()}

    def make() -> NameTable:
        return name_table(site, files)

    if previous is not None and before is not None and _same_names(site, before):
        targets, paths, names = previous.targets, previous.paths, previous.names
        if isinstance(names, LazyNameTable):
            names.made_from(make)  # the same names: if it is ever made, from this site, not the last
        named = previous.resolves.partition(":")[0] or _names_print(site)
    else:
        targets = {key: Target(key, prefix + e.url, e.title) for key, e in entities.items()}
        paths = {content_path(e): key for key, e in entities.items()}
        names = LazyNameTable(make)
        named = _names_print(site)
    keys, labels = frozenset(entities), labels_of(site.collections)
    index = previous.index if previous is not None else None
    if index is None or index.keys != keys or index.broken != unreadable or index.labels != labels:
        index = slug_index(keys, unreadable, labels)
    content = posixpath.dirname(site.config.path)
    content = f"{content}/" if content else ""
    extensions, unsafe = site.config.markdown_extensions, site.config.unsafe_html
    rest = text_print(repr((sorted(unreadable), sorted(labels.items()), prefix, content, extensions, unsafe)))
    # The last part alone decides where a [[slug]] leads (Rendered.still_valid): the keys as well.
    slugs = text_print(rest + "\x1f" + "\x1e".join(sorted(keys)))
    resolves = f"{named}:{rest}:{slugs}"
    return LinkTable(index, targets, paths, extensions, names, prefix, content, unsafe, resolves)


def _names_print(site: Site) -> str:
    """Return a hash of what a link table's names, targets and paths are made from (as _same_names
    compares): each page's key, URL, title, file and aliases, and the attachments."""
    pages = "\x1e".join(
        f"{key}\x1f{e.url}\x1f{e.title}\x1f{e.doc.path}\x1f{e.fields.get('aliases')!r}"
        for key, e in sorted(site.entities.items())
    )
    return text_print(pages + "\x1d" + repr((sorted(site.files.items()), sorted(site.sizes.items()))))


def _same_names(site: Site, before: Site) -> bool:
    """Return whether every name, title, URL and file of site's pages is as it was in before."""
    if site.config.base_path != before.config.base_path or site.entities.keys() != before.entities.keys():
        return False
    if site.files != before.files or site.sizes != before.sizes:
        return False
    for key, entity in site.entities.items():
        was = before.entities[key]
        if entity is not was and (
            entity.title != was.title
            or entity.url != was.url
            or entity.doc.path != was.doc.path
            or entity.fields.get("aliases") != was.fields.get("aliases")
        ):
            return False
    return True


def link_site(
    site: Site,
    previous: LinkedSite | None = None,
    render_many: RenderMany = render_serially,
    unreadable: frozenset[str] = frozenset(),
) -> tuple[LinkedSite, list[Problem]]:
    """Return the site with bodies rendered and relations inverted, and the link problems.

    A body rendered before (in previous) is reused when its job is unchanged and every link in it
    still resolves to the same page, title and URL: the cache can never go stale.
    """
    table = link_table(
        site,
        unreadable,
        previous.table if previous is not None else None,
        previous.site if previous is not None else None,
    )
    bodies = _bodies(site, table, previous, render_many)
    problems = [
        Problem(site.entities[key].doc.path, p.line, p.message, warning=p.warning or _lenient(site, key, p))
        for key, rendered in bodies.items()
        for p in rendered.problems
    ]
    checked, dead = _anchor_checks(site, bodies, table, previous)
    problems += [problem for found in checked.values() for problem in found]
    problems += _check_embeds(site, bodies)
    outgoing = _outgoing(site, bodies, previous)
    inverse = _invert(outgoing, previous)
    linked = LinkedSite(
        site,
        bodies,
        inverse,
        _facts_about(site, previous),
        table,
        outgoing,
        dead=dead,
        checked=checked,
    )
    return linked, problems


def _settings(table: LinkTable) -> tuple[object, ...]:
    """Return what a body's HTML depends on besides its text and links: the Markdown settings."""
    return (table.extensions, table.unsafe_html)


def _bodies(
    site: Site, table: LinkTable, previous: LinkedSite | None, render_many: RenderMany
) -> dict[str, Rendered]:
    same_settings = previous is not None and _settings(previous.table) == _settings(table)
    old_bodies = previous.bodies if previous and same_settings else {}
    # Bodies need their links checked again only for targets that changed, unless pages came or
    # went (then a name that failed or was ambiguous may resolve differently).
    same_pages = (
        previous is not None
        and previous.table.index.keys == table.index.keys
        and (previous.table.names is table.names or previous.table.names == table.names)
    )
    changed = (
        {k for k, t in table.targets.items() if previous.table.targets.get(k) != t}
        if previous is not None and same_pages and previous.table.targets is not table.targets
        else set()
    )
    if previous is not None and previous.table.paths != table.paths:
        same_pages = False
    before = previous.site.entities if previous is not None else {}
    bodies: dict[str, Rendered] = {}
    todo: list[tuple[str, BodyJob]] = []
    for key, entity in sorted(site.entities.items()):
        doc = entity.doc
        old = old_bodies.get(key)
        was = before.get(key)
        if old is not None and was is not None and was.doc is doc and same_pages and not changed:
            bodies[key] = old  # the same file, and every link of the site leads where it led
            continue
        job = BodyJob(doc.body, doc.body_line, posixpath.dirname(content_path(entity)), doc.checksum)
        if old is not None and old.job == job:
            if same_pages and (
                not changed or not any(found.key in changed for _, _, _, found in old.resolutions)
            ):
                bodies[key] = old
                continue
            if not same_pages and old.still_valid(table):
                bodies[key] = old
                continue
        todo.append((key, job))
    for (key, job), rendered in zip(todo, render_many([j for _, j in todo], table), strict=True):
        bodies[key] = rendered.with_job(job)
    return bodies


def _outgoing(
    site: Site, bodies: dict[str, Rendered], previous: LinkedSite | None
) -> dict[str, tuple[Ref, ...]]:
    found: dict[str, tuple[Ref, ...]] = {}
    old_entities = previous.site.entities if previous is not None else {}
    old_bodies = previous.bodies if previous is not None else {}
    old_outgoing = previous.outgoing if previous is not None else {}
    for key, entity in site.entities.items():
        rendered = bodies[key]
        before = old_bodies.get(key)
        old = old_outgoing.get(key)
        if old is not None and before is rendered and old_entities.get(key) is entity:
            found[key] = old  # the very page of the last build
            continue
        made = entity.refs + mentions_of(key, rendered)
        # The same tuple when nothing changed: the inverse lists are compared by identity first.
        found[key] = old if old == made else made
    return found


_new = tuple.__new__


def mentions_of(key: str, rendered: Rendered) -> tuple[Ref, ...]:
    """Return a page's references to the pages its body links to (itself left out), in order."""
    # Each as Ref(key, target, MENTIONS, "Mentioned in", line=line), made as the tuple of its
    # fields: some 140,000 on every build at 10k pages, in half the time of the keyword call.
    return tuple(
        [
            _new(Ref, (key, target, MENTIONS, "Mentioned in", "", line, -1, True, False))
            for target, line in zip(rendered.links.keys, rendered.links.lines, strict=True)
            if target and target != key
        ]
    )


class Inverse(Mapping[str, tuple[Ref, ...]]):
    """Each page's inverse list, made from the references that lead to it when first read.

    A rebuild from the command line reads a few of them: making every one took a tenth of its
    time at 10,000 pages. A list once made is the same object on every read.
    """

    __slots__ = ("_groups", "_made")

    def __init__(self, groups: dict[str, list[Ref]]) -> None:
        self._groups = groups
        self._made: dict[str, tuple[Ref, ...]] = {}

    def __getitem__(self, key: str) -> tuple[Ref, ...]:
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = _inverse_of(self._groups[key])
        return made

    def get(self, key: str, default: Any = None) -> Any:
        """Return the inverse list of the page of key, or default if nothing leads to it."""
        made = self._made.get(key)
        if made is None:
            group = self._groups.get(key)
            if group is None:
                return default
            made = self._made[key] = _inverse_of(group)
        return made

    def __contains__(self, key: object) -> bool:
        return key in self._groups

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)


def _invert(
    outgoing: dict[str, tuple[Ref, ...]], previous: LinkedSite | None
) -> Mapping[str, tuple[Ref, ...]]:
    """Return each page's inverse list: the references that lead to it, one per source, field and
    role. With previous, only the lists that a page whose references changed led to or leads to
    are made again, each from the pages that lead there (its old list names them)."""
    if previous is None:
        groups: dict[str, list[Ref]] = {}
        for refs in outgoing.values():
            for ref in refs:
                group = groups.get(ref.target)
                if group is None:
                    groups[ref.target] = [ref]
                else:
                    group.append(ref)
        return Inverse(groups)
    old_outgoing, old_inverse = previous.outgoing, previous.inverse
    changed = {k for k in changed_keys(old_outgoing, outgoing) if outgoing.get(k) != old_outgoing.get(k)}
    inverse = dict(old_inverse)
    leading: dict[str, set[str]] = {}  # each target a changed page leads to now, and those pages
    for key in changed:
        for ref in outgoing.get(key, ()):
            leading.setdefault(ref.target, set()).add(key)
    targets = {r.target for key in changed for r in old_outgoing.get(key, ())} | leading.keys()
    for target in targets:
        sources = {r.source for r in old_inverse.get(target, ())} - changed
        sources |= leading.get(target, set())
        group = [r for source in sources for r in outgoing.get(source, ()) if r.target == target]
        if group:
            inverse[target] = _inverse_of(group)
        else:
            inverse.pop(target, None)
    return inverse


# A reference's (source, field, role), and its (field, role, source): Ref is a tuple.
_ONCE = itemgetter(0, 2, 4)
_ORDER = itemgetter(2, 4, 0)


def _inverse_of(refs: list[Ref]) -> tuple[Ref, ...]:
    """Return references to one page in the order pages list them, the first of each source's
    for each field and role."""
    unique = {_ONCE(r): r for r in reversed(refs)}
    return tuple(sorted(unique.values(), key=_ORDER))


def url_for(site: Site, url: str) -> str:
    """Return an internal URL with the site's base path in front."""
    return site.config.base_path.rstrip("/") + url


def anchors_of(site: Site, key: str, bodies: dict[str, Rendered]) -> frozenset[str]:
    """Return the #anchors a page has: its headings, and the facts of a fact sheet."""
    found = bodies[key].anchors if key in bodies else frozenset()
    return found | {fact.id for fact in site.facts.get(key, ())}


def _lenient(site: Site, key: str, problem: LinkProblem) -> bool:
    """Return whether a link that leads nowhere is only a warning (links: warn)."""
    return problem.unresolved and _warns(site, key)


def _warns(site: Site, key: str) -> bool:
    """Return whether links of a page that lead nowhere are warnings: links: warn, for the site
    or the page's collection."""
    if site.config.links:  # the site's own setting wins, either way
        return site.config.links == "warn"
    return site.collections[site.entities[key].collection].links == "warn"


def _check_embeds(site: Site, bodies: dict[str, Rendered]) -> list[Problem]:
    """Return a problem for each loop of pages that embed each other, named in order."""
    problems = []
    seen: set[tuple[str, ...]] = set()

    def visit(key: str, trail: tuple[str, ...]) -> None:
        for embed in bodies[key].embeds if key in bodies else ():
            if embed.key in trail:
                loop = (*trail[trail.index(embed.key) :], embed.key)
                start = min(range(len(loop) - 1), key=lambda i: loop[i])
                canonical = loop[start:-1] + loop[:start]
                if canonical not in seen:
                    seen.add(canonical)
                    names = " → ".join(site.entities[k].doc.path for k in loop)
                    doc = site.entities[key].doc
                    problems.append(Problem(doc.path, embed.line, f"embeds form a loop: {names}"))
            elif len(trail) < 32:
                visit(embed.key, (*trail, embed.key))

    for key, rendered in bodies.items():
        if rendered.embeds:
            visit(key, (key,))
    return problems


def changed_keys(before: Mapping[str, object], after: Mapping[str, object]) -> set[str]:
    """Return the keys of either table whose value is not the very object it was (or is gone)."""
    if before is after:
        return set()
    found = {k for k, v in after.items() if before.get(k, _GONE) is not v}
    found.update(before.keys() - after.keys())
    return found


_GONE = object()


def _anchor_checks(
    site: Site, bodies: dict[str, Rendered], table: LinkTable, previous: LinkedSite | None
) -> tuple[dict[str, tuple[Problem, ...]], dict[str, frozenset[tuple[str, str]]]]:
    """Return, per page, the problems of its links to headings, and its links that only warn
    (as _check_anchors); the last build's for each page whose links and targets are as they were."""
    checked: dict[str, tuple[Problem, ...]] = {}
    dead: dict[str, frozenset[tuple[str, str]]] = {}
    todo = bodies
    if previous is not None and _same_anchor_rules(site, table, previous):
        before = previous.site
        changed = changed_keys(previous.bodies, bodies)
        changed.update(
            k
            for k in changed_keys(before.entities, site.entities)
            if k not in before.entities
            or k not in site.entities
            or before.entities[k].doc.path != site.entities[k].doc.path
        )
        moved = changed | changed_keys(before.facts, site.facts)
        # A heading that came or went can mend or break a link from any page: then all again.
        if all(
            k in before.entities
            and k in site.entities
            and before.entities[k].doc.path == site.entities[k].doc.path
            and anchors_of(before, k, previous.bodies) == anchors_of(site, k, bodies)
            for k in moved
        ):
            todo = {k: bodies[k] for k in changed if k in bodies}
            checked = {k: v for k, v in previous.checked.items() if k not in changed}
            dead = {k: v for k, v in previous.dead.items() if k not in changed}
    found: dict[str, set[tuple[str, str]]] = {}
    for key, problems in _check_anchors(site, bodies, todo, table, found).items():
        checked[key] = tuple(problems)
    dead.update((k, frozenset(v)) for k, v in found.items())
    return checked, dead


def _same_anchor_rules(site: Site, table: LinkTable, previous: LinkedSite) -> bool:
    """Return whether links to headings are checked as in the last build: the same pages at the
    same addresses, with the same settings."""
    before = previous.site
    return (
        before.entities.keys() == site.entities.keys()
        and (previous.table.targets is table.targets or previous.table.targets == table.targets)
        and before.config == site.config
        and before.collections == site.collections
    )


def _check_anchors(
    site: Site,
    bodies: dict[str, Rendered],
    todo: dict[str, Rendered],
    table: LinkTable,
    dead: dict[str, set[tuple[str, str]]],
) -> dict[str, list[Problem]]:
    """Return, per page of todo, a problem for each link to a heading its page lacks; note those
    that only warn in dead.

    A link that only warns still leads to its page, at the top: dead holds, per page, the
    (href, href without the heading) pairs to change when the page is written.
    """
    problems: dict[str, list[Problem]] = {}
    known: dict[str, frozenset[str]] = {}  # each page's anchors, made once
    for key, rendered in todo.items():
        links = rendered.links
        if not links.anchored:
            continue
        # The columns, not LinkUse tuples: at 10,000 pages some 50,000 links name an anchor.
        for to, anchor, line in zip(links.keys, links.anchors, links.lines, strict=True):
            if not anchor:
                continue
            target = to or key
            anchors = known.get(target)
            if anchors is None:
                anchors = known[target] = anchors_of(site, target, bodies)
            if anchor not in anchors:
                doc = site.entities[key].doc
                where = "this page" if target == key else site.entities[target].doc.path
                what = "block" if anchor.startswith("^") else "heading"
                message = f"link to #{anchor}: {where} has no such {what}"
                hint = did_you_mean(anchor, anchors)
                problem = Problem(doc.path, line, message, hint, warning=_warns(site, key))
                problems.setdefault(key, []).append(problem)
                url = table.targets[to].url if to else ""
                dead.setdefault(key, set()).add((f"{url}#{fragment(anchor)}", url or "#"))
    return problems


def _facts_about(site: Site, previous: LinkedSite | None = None) -> dict[str, tuple[tuple[str, Fact], ...]]:
    """Return each page's facts (with their sheets): the last build's, where the sheets are its."""
    if previous is not None:
        before = previous.site.facts
        # A rebuild compares each page's inputs by identity first: the same tuples keep them so.
        if before.keys() == site.facts.keys() and all(before[k] is v for k, v in site.facts.items()):
            return previous.facts_about
    found: dict[str, list[tuple[str, Fact]]] = {}
    for sheet, facts in sorted(site.facts.items()):
        for fact in facts:
            for key in dict.fromkeys((*fact.about, fact.source)):
                if key:
                    found.setdefault(key, []).append((sheet, fact))
    made = {key: tuple(v) for key, v in found.items()}
    if previous is not None:
        made = {k: old if (old := previous.facts_about.get(k)) == v else v for k, v in made.items()}
    return made
