"""A Site to a LinkedSite: bodies rendered, links and anchors checked, inverse relations found."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import Problem, did_you_mean
from .graph import Index
from .mdlinks import LinkTable, Rendered, Target, render_markdown
from .model import Entity, Fact, Ref, Site

MENTIONS = "mentions"
BodyJob = tuple[str, int, str]  # (source, first line, folder inside content/)
# Renders many bodies at once (perhaps in other processes) with one link table.
RenderMany = Callable[[list[BodyJob], LinkTable], list[Rendered]]


@dataclass(frozen=True, slots=True)
class LinkedSite:
    """A Site with every body rendered and every relation known in both directions."""

    site: Site
    bodies: dict[str, Rendered]
    inverse: dict[str, tuple[Ref, ...]]
    facts_about: dict[str, tuple[tuple[str, Fact], ...]]
    table: LinkTable

    def entity(self, key: str) -> Entity:
        """Return the entity with that key."""
        return self.site.entities[key]


def render_serially(jobs: list[BodyJob], table: LinkTable) -> list[Rendered]:
    """Return the renderings of bodies one after another in this process."""
    return [render_markdown(source, line, folder, table) for source, line, folder in jobs]


def link_table(site: Site, unreadable: frozenset[str] = frozenset()) -> LinkTable:
    """Return the table that resolves [[names]] and .md paths to the site's pages."""
    entities = site.entities
    targets = {key: Target(key, url_for(site, e.url), e.title) for key, e in entities.items()}
    paths = {content_path(e): key for key, e in entities.items()}
    return LinkTable(Index(list(entities), unreadable), targets, paths)


def link_site(
    site: Site,
    previous: dict[str, Rendered] | None = None,
    render_many: RenderMany = render_serially,
    unreadable: frozenset[str] = frozenset(),
) -> tuple[LinkedSite, list[Problem]]:
    """Return the site with bodies rendered and relations inverted, and the link problems.

    A body rendered before (in previous, by key) is reused when its job is unchanged and every
    link in it still resolves to the same page, title and URL: the cache can never go stale.
    """
    table = link_table(site, unreadable)
    previous = previous or {}
    bodies: dict[str, Rendered] = {}
    todo: list[tuple[str, BodyJob]] = []
    for key, entity in sorted(site.entities.items()):
        job = (entity.doc.body, entity.doc.body_line, posixpath.dirname(content_path(entity)))
        old = previous.get(key)
        if old is not None and old.job == job and old.still_valid(table):
            bodies[key] = old
        else:
            todo.append((key, job))
    for (key, job), rendered in zip(todo, render_many([j for _, j in todo], table), strict=True):
        bodies[key] = rendered.with_job(job)
    problems = [
        Problem(site.entities[key].doc.path, line, message)
        for key, rendered in bodies.items()
        for line, message in rendered.problems
    ]
    problems += _check_anchors(site, bodies)
    mentions = [
        Ref(key, use.key, MENTIONS, "Mentioned in", line=use.line)
        for key, rendered in bodies.items()
        for use in rendered.links
        if use.key and use.key != key
    ]
    inverse = _inverse([r for e in site.entities.values() for r in e.refs] + mentions)
    return LinkedSite(site, bodies, inverse, _facts_about(site), table), problems


def url_for(site: Site, url: str) -> str:
    """Return an internal URL with the site's base path in front."""
    return site.config.base_path.rstrip("/") + url


def content_path(entity: Entity) -> str:
    """Return the entity's file path inside content/."""
    return entity.doc.path.split("content/", 1)[-1]


def anchors_of(site: Site, key: str, bodies: dict[str, Rendered]) -> frozenset[str]:
    """Return the #anchors a page has: its headings, and the facts of a fact sheet."""
    found = bodies[key].anchors if key in bodies else frozenset()
    return found | {fact.id for fact in site.facts.get(key, ())}


def _check_anchors(site: Site, bodies: dict[str, Rendered]) -> list[Problem]:
    problems = []
    for key, rendered in bodies.items():
        for use in rendered.links:
            if not use.anchor:
                continue
            target = use.key or key
            anchors = anchors_of(site, target, bodies)
            if use.anchor not in anchors:
                doc = site.entities[key].doc
                where = "this page" if target == key else f"'{target}'"
                message = f"link to #{use.anchor}: {where} has no such heading"
                problems.append(Problem(doc.path, use.line, message, _anchor_hint(use.anchor, anchors)))
    return problems


def _anchor_hint(anchor: str, anchors: Iterable[str]) -> str:
    return did_you_mean(anchor, anchors)


def _inverse(refs: list[Ref]) -> dict[str, tuple[Ref, ...]]:
    found: dict[str, list[Ref]] = {}
    seen: set[tuple[str, str, str, str]] = set()
    for ref in refs:
        mark = (ref.target, ref.source, ref.field, ref.role)
        if mark in seen:
            continue
        seen.add(mark)
        found.setdefault(ref.target, []).append(ref)
    return {key: tuple(sorted(v, key=lambda r: (r.field, r.role, r.source))) for key, v in found.items()}


def _facts_about(site: Site) -> dict[str, tuple[tuple[str, Fact], ...]]:
    found: dict[str, list[tuple[str, Fact]]] = {}
    for sheet, facts in sorted(site.facts.items()):
        for fact in facts:
            for key in dict.fromkeys((*fact.about, fact.source)):
                if key:
                    found.setdefault(key, []).append((sheet, fact))
    return {key: tuple(v) for key, v in found.items()}
