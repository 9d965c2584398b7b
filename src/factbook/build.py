"""The one orchestrator: load, model, link, render, write."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import with_overrides
from .errors import Problem
from .graph import build_graph
from .link import LinkedSite, link_site
from .load import load_sources
from .render import Output, make_environment, render_site
from .theme import theme_dirs
from .write import check_output, static_files, write_site


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line asked for."""

    root: Path
    output: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    strict: bool = False


@dataclass(frozen=True, slots=True)
class Report:
    """What a build or check found and made."""

    problems: tuple[Problem, ...]
    pages: int = 0
    files: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    facts: int = 0

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Return the problems that fail the build."""
        return tuple(p for p in self.problems if not p.warning)

    def failed(self, strict: bool) -> bool:
        """Return whether the build fails: any error, or under --strict any warning."""
        return bool(self.errors) or (strict and bool(self.problems))


def _shown(root: Path):  # type: ignore[no-untyped-def]
    def shown(path: str) -> str:
        try:
            return Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path

    return shown


def make_site(options: Options) -> tuple[LinkedSite | None, list[Output], Report]:
    """Return the linked site and its pages (none if anything failed), with the report."""
    sources = load_sources(options.root)
    problems = list(sources.problems)
    config = with_overrides(sources.config, options.base_url, options.drafts)
    site, found = build_graph(config, sources.collections, sources.documents)
    problems += found
    linked, found = link_site(site)
    problems += found
    env = make_environment(theme_dirs(options.root, "templates"))
    pages, found = render_site(linked, env, _shown(options.root))
    problems += found
    counts: dict[str, int] = {}
    for entity in site.entities.values():
        counts[entity.collection] = counts.get(entity.collection, 0) + 1
    facts = sum(len(f) for f in site.facts.values())
    report = Report(tuple(sorted(set(problems))), len(pages), 0, counts, facts)
    if report.failed(options.strict):
        return linked, [], report
    return linked, pages, report


def check(options: Options) -> Report:
    """Return the report of every validation a build makes, writing nothing."""
    return make_site(options)[2]


def build(options: Options) -> Report:
    """Build the site into the output folder; on any failure leave the old output untouched."""
    output = options.output or options.root / "_site"
    check_output(output, options.root)
    _, pages, report = make_site(options)
    if report.failed(options.strict):
        return report
    assets = static_files(theme_dirs(options.root, "static"))
    files = write_site(output, pages, assets)
    return Report(report.problems, report.pages, files, report.entities, report.facts)
