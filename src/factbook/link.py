"""A Site to a LinkedSite: bodies rendered, links and anchors checked, inverse relations found."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import Problem, did_you_mean
from .graph import Index
from .mdlinks import MarkdownRenderer, Rendered, Target
from .model import Entity, Fact, Ref, Site

MENTIONS = "mentions"


@dataclass(frozen=True, slots=True)
class LinkedSite:
    """A Site with every body rendered and every relation known in both directions."""

    site: Site
    bodies: dict[str, Rendered]
    inverse: dict[str, tuple[Ref, ...]]
    facts_about: dict[str, tuple[tuple[str, Fact], ...]]

    def entity(self, key: str) -> Entity:
        """Return the entity with that key."""
        return self.site.entities[key]


def link_site(site: Site) -> tuple[LinkedSite, list[Problem]]:
    """Return the site with bodies rendered and relations inverted, and the link problems."""
    entities = site.entities
    index = Index(list(entities))
    by_path = {_content_path(e): key for key, e in entities.items()}

    def target(key: str) -> Target:
        entity = entities[key]
        return Target(key, url_for(site, entity.url), entity.title)

    def by_name(text: str) -> tuple[Target | None, str]:
        key, message = index.resolve(text)
        return (target(key), "") if key else (None, message)

    def by_file(path: str) -> Target | None:
        key = by_path.get(path)
        return target(key) if key else None

    renderer = MarkdownRenderer()
    bodies: dict[str, Rendered] = {}
    problems: list[Problem] = []
    for key, entity in sorted(entities.items()):
        doc = entity.doc
        folder = posixpath.dirname(_content_path(entity))
        rendered = renderer.render(doc.body, doc.body_line, folder, by_name, by_file)
        bodies[key] = rendered
        problems += [Problem(doc.path, line, message) for line, message in rendered.problems]
    problems += _check_anchors(site, bodies)
    mentions = [
        Ref(key, use.key, MENTIONS, "Mentioned in", line=use.line)
        for key, rendered in bodies.items()
        for use in rendered.links
        if use.key and use.key != key
    ]
    inverse = _inverse([r for e in entities.values() for r in e.refs] + mentions)
    facts_about = _facts_about(site)
    return LinkedSite(site, bodies, inverse, facts_about), problems


def url_for(site: Site, url: str) -> str:
    """Return an internal URL with the site's base path in front."""
    return site.config.base_path.rstrip("/") + url


def _content_path(entity: Entity) -> str:
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
            if use.anchor not in anchors_of(site, target, bodies):
                doc = site.entities[key].doc
                where = "this page" if target == key else f"'{target}'"
                message = f"link to #{use.anchor}: {where} has no such heading"
                hint = _anchor_hint(use.anchor, anchors_of(site, target, bodies))
                problems.append(Problem(doc.path, use.line, message, hint))
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
