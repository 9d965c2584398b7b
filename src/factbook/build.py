"""The one orchestrator: load, model, link, render, write (once, or again and again for serve)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import jinja2
from babel import Locale, UnknownLocaleError

from . import forking
from .assemble import AssemblyCache, assemble_site
from .cache import (
    MarkdownCache,
    Records,
    TemplateCache,
    ValidatorCache,
    cache_files,
    forget_state,
    load_records,
    load_state,
    save_records,
    save_state,
)
from .catalogues import catalogue_print, load_translations
from .config import with_overrides
from .dates import SPEECH, Speech
from .depend import PRINTS, Digest, PagePrints, affected_entities, digest, face, fingerprint
from .errors import Problem, os_problem
from .exports import GRAPH, export_files, graph_exports
from .link import LinkedSite, RenderMany, link_site, render_serially
from .load import Ahead, FileRecord, Sources, load_sources, refresh_sources
from .model import Document, Site, SiteConfig
from .parallel import markdown_renderer, page_renderer, render_serially_into
from .render import (
    Editions,
    Output,
    PageSpec,
    RenderPages,
    carry_views,
    counts_print,
    has_index,
    make_environment,
    nav_items,
    page_files,
    render_site,
    views_print,
)
from .schema import keep_compiled
from .search import BUNDLE, Indexing, SearchError, start_index
from .semantic import GraphReuse
from .stamp import Listing, OutputLook, build_settings, cache_folder, record, site_inputs, survey, up_to_date
from .theme import theme_dirs
from .translate import Edition, editions, language_of, original_path, split, translated_collections
from .write import LOCK, Staging, check_output, output_lock, static_files, write_changes, write_site

if TYPE_CHECKING:  # imported only for a site in more than one language
    from babel.support import Translations


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line asked for: the site and output folders, then settings by keyword."""

    root: Path
    output: Path | None = None
    _: KW_ONLY
    base_url: str | None = None
    drafts: bool = False
    strict: bool = False
    jobs: int = 1
    search: bool = False
    cache: bool = False
    progress: Callable[[str, int, int], None] | None = None
    # The inputs' signature, when the caller took it (before any source was read) to see that
    # the output is out of date: not taken twice.
    inputs: str | None = None
    # What stat gave for each input file when inputs was taken: the first build does not ask again.
    seen: Mapping[str, os.stat_result] | None = None
    # The process ends once the build returns (the command line): what it made is left in memory.
    ending: bool = False
    # Content files being read by another process meanwhile, for the first update to take.
    ahead: Ahead | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """What a build or check found and made."""

    problems: tuple[Problem, ...]
    pages: int = 0
    files: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    facts: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    up_to_date: bool = False
    cache_hits: int = 0
    # Each collection's labels as they read in a sentence: (singular, plural).
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    notices: tuple[Problem, ...] = ()  # what the build left out and why, not problems of the content
    incremental: bool = False  # only the pages a change touched were rendered again

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Return the problems that fail the build."""
        return tuple(p for p in self.problems if not p.warning)

    def failed(self, strict: bool) -> bool:
        """Return whether the build fails: any error, or under --strict any warning."""
        return bool(self.errors) or (strict and bool(self.problems))


@dataclass(frozen=True, slots=True)
class Update:
    """The result of one (re)build: every file to write (pages and exports), the files that went away."""

    report: Report
    linked: LinkedSite | None
    pages: list[Output]
    removed: list[str]
    full: bool
    attachments: dict[str, Path] = field(default_factory=dict)  # new or changed since the last success


def _shown(root: Path):  # type: ignore[no-untyped-def]
    def shown(path: str) -> str:
        try:
            return Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path

    return shown


def _template_stamp(dirs: list[Path]) -> tuple[tuple[str, int, int], ...]:
    found = []
    for folder in dirs:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(found)


@dataclass
class _EditionMemory:
    """What a builder keeps of one other language's edition between builds."""

    good: LinkedSite | Digest | None = None  # its last good link graph (serve) or digest (read back)
    stamp: str = ""  # what every page of it shows: settings, templates, catalogue, languages
    views: dict[str, str] = field(default_factory=dict)  # render.views_print of it
    export_paths: set[str] = field(default_factory=set)
    assembly: AssemblyCache = field(default_factory=AssemblyCache)
    linked: LinkedSite | None = None
    catalogue: str = ""  # catalogues.catalogue_print of what translations were made from
    translations: Translations | None = None
    catalogue_problems: list[Problem] = field(default_factory=list)
    env: jinja2.Environment | None = None  # speaking translations
    env_templates: object = None  # the templates it compiled


def _edition_memory(value: object) -> _EditionMemory:
    """Return an edition's memory read back from a snapshot; raise ValueError for anything else."""
    if not isinstance(value, dict):
        raise ValueError("an edition is not an object")
    stamp, exports = value.get("stamp"), value.get("exports")
    if (
        not isinstance(stamp, str)
        or not isinstance(exports, list)
        or not all(isinstance(e, str) for e in exports)
    ):
        raise ValueError("an edition's stamp or exports are of the wrong types")
    return _EditionMemory(Digest.from_json(value.get("digest")), stamp, _views(value), set(exports))


def _views(state: dict[str, object]) -> dict[str, str]:
    """Return the views' hashes a snapshot keeps ({} if none: the pages that show them are made again)."""
    views = state.get("views", {})
    if not isinstance(views, dict) or not all(isinstance(v, str) for v in views.values()):
        raise ValueError("views of the wrong types")
    return {str(k): v for k, v in views.items()}


def _graph_spans(state: dict[str, object]) -> dict[str, tuple[int, ...]]:
    """Return where each page's parts are in the graph files a snapshot's build wrote ({} if not kept)."""
    spans = state.get("graph_spans", {})
    if not isinstance(spans, dict):
        raise ValueError("graph spans of the wrong types")
    found = {}
    for key, span in spans.items():
        if (
            not isinstance(span, list | tuple)
            or len(span) != 6
            or not all(type(n) is int and n >= 0 for n in span)
        ):
            raise ValueError("graph spans of the wrong types")
        found[str(key)] = tuple(span)
    return found


def _digest_of(good: LinkedSite | Digest) -> Digest:
    """Return the digest of a last good build, kept as a link graph or read back as a digest."""
    return good if isinstance(good, Digest) else digest(good)


@dataclass(frozen=True, slots=True)
class _EditionMade:
    """One edition's part of an update: its pages made again, every file it has, what to keep."""

    outputs: list[Output]
    problems: list[Problem]
    files: set[str]
    kept: dict[str, tuple[LinkedSite, str, set[str]]]  # by language: linked site, stamp, export paths


class Builder:
    """Builds a site again and again, re-rendering only the pages a change touches.

    Every cache here is checked against its inputs on each use (file signatures, document
    identity, link resolutions, the two link graphs), so a rebuild equals a full build.
    """

    def __init__(
        self,
        options: Options,
        render_many: RenderMany = render_serially,
        render_pages: RenderPages = render_serially_into,
        compiled: jinja2.BytecodeCache | None = None,
    ) -> None:
        self.options = options
        self.compiled = compiled
        self.render_many = render_many
        self.render_pages = render_pages
        self.files: dict[str, FileRecord] = {}
        self.assembly_cache = AssemblyCache()
        self.linked: LinkedSite | None = None  # the last linking, good or not: a checked cache
        self.template_dirs = theme_dirs(options.root, "templates")
        self.env: jinja2.Environment = make_environment(self.template_dirs, compiled=compiled)
        self.env_stamp: object = None  # the templates self.env compiled: a new one only for new templates
        # The last good build: its link graph (in serve), or its digest (read back by the command line).
        self.good: LinkedSite | Digest | None = None
        self.good_files: set[str] = set()
        self.good_stamp = ""
        self.good_views: dict[str, str] = {}  # render.views_print of the last good build
        self.good_attachments: dict[str, tuple[Path, tuple[int, int]]] = {}
        self.good_exports: list[Output] = []  # in serve; the command line knows only their paths
        self.good_export_paths: set[str] = set()
        self.graph_spans: dict[str, tuple[int, ...]] = {}  # where each page's parts are in its graph files
        self.editions: dict[str, _EditionMemory] = {}  # each other language's, by its code
        self.sources: Sources | None = None  # what the last update read
        self.seen = options.seen  # what the caller's stat gave for each input file, for the first update
        self.ahead = options.ahead  # and the files read by another process meanwhile
        self.prints: dict[str, PagePrints] = {}  # what the last digest made of each page, by file

    def snapshot(self) -> dict[str, object]:
        """Return, as JSON values, what a build in another process needs to redo only what changed."""
        if self.good is None:
            raise ValueError("no successful build to take a snapshot of")
        good = _digest_of(self.good)
        return {
            "digest": good.to_json(),
            "stamp": self.good_stamp,
            "views": self.good_views,
            "files": sorted(self.good_files),
            "exports": sorted(self.good_export_paths),
            "graph_spans": self.graph_spans,
            "attachments": {
                name: [str(source), *signature]
                for name, (source, signature) in sorted(self.good_attachments.items())
            },
            "editions": {
                code: {
                    "digest": _digest_of(m.good).to_json(),
                    "stamp": m.stamp,
                    "views": m.views,
                    "exports": sorted(m.export_paths),
                }
                for code, m in sorted(self.editions.items())
                if m.good is not None
            },
        }

    def restore(self, state: dict[str, object]) -> None:
        """Continue from the snapshot of a build made by another process; raise ValueError if malformed."""
        try:
            good = Digest.from_json(state["digest"])
            stamp, files, attachments = state["stamp"], state["files"], state["attachments"]
            exports = state["exports"]
            if not isinstance(stamp, str) or not isinstance(files, list) or not isinstance(attachments, dict):
                raise TypeError("wrong types")
            if not isinstance(exports, list) or not all(isinstance(path, str) for path in exports):
                raise TypeError("wrong types")
            kept = {
                str(name): (Path(str(source)), (int(size), int(mtime)))
                for name, (source, size, mtime) in attachments.items()
            }
            names = {str(name) for name in files}
            editions = {code: _edition_memory(v) for code, v in dict(state.get("editions", {})).items()}
            views = _views(state)
            spans = _graph_spans(state)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a build snapshot: {error}") from error
        self.good, self.good_stamp, self.good_files, self.good_attachments = good, stamp, names, kept
        self.good_export_paths = set(exports)
        self.editions, self.good_views, self.graph_spans = editions, views, spans

    def update(
        self,
        sink: Staging | None = None,
        ready: Callable[[], None] | None = None,
        changed: Iterable[str] | None = None,
        meanwhile: Callable[[LinkedSite], None] | None = None,
    ) -> Update:
        """Rebuild from what is on disk now; return the pages that changed since the last success.

        With a sink, the pages are put there (by the processes that render them) instead, and
        ready is called once every page is in it, before the whole-site exports are made.
        With changed (the paths a watcher saw change since the last update), only those content
        files are looked at again where that is enough; without, every one is.
        meanwhile, if given, is given the linked site to work on in this process as its pages
        begin to render (in forked children, then here too, for a whole build of many pages).
        """
        before = self._held()
        try:
            return self._update(sink, ready, changed, meanwhile)
        finally:
            self._release(before)

    def page_prints(self) -> dict[str, PagePrints]:
        """Return what the digest of the last linking made of each page (by file), for the next build."""
        return self.linked.memo.get(PRINTS, self.prints) if self.linked is not None else self.prints

    def _held(self) -> list[LinkedSite]:
        """Return the link graphs this builder keeps for the next build."""
        held = [self.linked, self.good]
        for memory in self.editions.values():
            held += [memory.linked, memory.good]
        return [linked for linked in held if isinstance(linked, LinkedSite)]

    def _release(self, before: list[LinkedSite]) -> None:
        """Empty the memo of each link graph of before that this builder no longer keeps.

        Its cached views may refer back to it (they once did, through the page list): a cycle that only
        the cyclic collector frees, and serve freezes what each build leaves, so that the
        collector's passes skip it. Emptied, a graph is freed as soon as nothing refers to it.
        """
        kept = {id(linked) for linked in self._held()}
        for linked in before:
            if id(linked) not in kept:
                linked.memo.clear()

    def _update(
        self,
        sink: Staging | None,
        ready: Callable[[], None] | None,
        changed: Iterable[str] | None,
        meanwhile: Callable[[LinkedSite], None] | None = None,
    ) -> Update:
        options = self.options
        clock = _Clock()
        output = options.output or options.root / "_site"
        sources = None
        if changed is not None and self.sources is not None:
            sources = refresh_sources(options.root, self.sources, changed)
        if sources is None:
            skip = frozenset({os.path.realpath(output)})
            sources = load_sources(options.root, self.files, skip, self.seen, self.ahead)
        self.seen, self.ahead = None, None  # from here on the files may change: each update looks again
        self.sources = sources
        self.files = sources.files
        problems = list(sources.problems)
        config = with_overrides(sources.config, options.base_url, options.drafts)
        clock.lap("load")
        files = {path: attachment.url for path, attachment in sources.attachments.items()}
        sizes = {path: a.size for path, a in sources.attachments.items() if a.size}
        originals, translations = split(sources.documents, config)
        unreadable = sources.unreadable
        site, found = assemble_site(
            config,
            sources.collections,
            originals,
            self.assembly_cache,
            unreadable,
            files,
            sizes,
        )
        problems += found
        problems += _missing_image(config, files, options.root)
        clock.lap("model")
        linked, found = link_site(site, self.linked, self.render_many, unreadable)
        if self.linked is not None:
            carry_views(self.linked, linked)
            self.prints = self.linked.memo.get(PRINTS, self.prints)
        linked.memo[PRINTS] = self.prints  # the digest's, when it is made, takes them as it may
        self.linked = linked
        problems += found
        plans, found = editions(originals, translations, sources.collections, self._read)
        problems += found
        if config.languages:
            linked.memo["editions"] = _editions_of(config, config.language, site, plans, frozenset())
        clock.lap("link")
        self.template_dirs = theme_dirs(options.root, "templates")  # a templates/ made since counts
        templates = _template_stamp(self.template_dirs)
        # Which pages each language has shows on every page (its switcher and alternates).
        languages = sorted((p.code, sorted(p.translated)) for p in plans)
        # Every page's footer names the feeds, and whether pages cite: both follow which
        # collections have an index.
        indexed = sorted(n for n, c in site.collections.items() if has_index(linked, c))
        stamp = fingerprint((config, sources.collections, templates, nav_items(linked), languages, indexed))
        only = None
        if self.good is not None and stamp == self.good_stamp:
            only = self._only(self.good, linked, self.good_views)
        if templates != self.env_stamp:
            # Compiling the templates is most of a whole-site rebuild: a site.yaml save keeps them.
            self.env, self.env_stamp = make_environment(self.template_dirs, compiled=self.compiled), templates
        # Not for a build that fails already: nothing it would make is kept.
        failing = any(not p.warning for p in problems)
        work = (lambda: meanwhile(linked)) if meanwhile is not None and not failing else None
        pages, found, count = self.render_pages(linked, self.env, _shown(options.root), only, sink, work)
        problems += found
        edition = _EditionMade([], [], set(), {})
        if plans and not any(not p.warning for p in problems):
            edition = self._render_editions(
                config, sources, site, plans, problems, files, sizes, stamp, only is None
            )
            made = edition.outputs
            problems += edition.problems
            if sink is not None and not any(not p.warning for p in edition.problems):
                count += sink.put_all(made)
            else:
                pages, count = [*pages, *made], count + len(made)
        clock.lap("render")
        report = replace(
            _report(site, problems, count, clock.laps),
            notices=tuple(linked.memo.get("notices", ())),
            incremental=only is not None,
        )
        if report.failed(options.strict):
            return Update(report, linked, [], [], only is None)
        if ready is not None:
            ready()
        # Whole-site files: made again unless no page's face, fields, references, facts or links
        # changed since the last good build (a body's prose edited, say, in serve).
        remade: set[str] | None = None  # the parts of the exports to make again (None: all)
        if only is None:
            same = False
        elif isinstance(self.good, LinkedSite):
            same = _same_exports(self.good, linked)
        else:  # the command line: the exports on disk are those of the last build's digest
            was, now = self.good.exports, digest(linked).exports
            remade = {part for part in was.keys() | now.keys() if was.get(part) != now.get(part)}
            same = not remade
        spans = self.graph_spans
        if same:
            exports, export_paths = self.good_exports, self.good_export_paths
        elif remade is not None:
            # A title changed, say: the graph files and its collection's data downloads; the
            # other collections' downloads name it by key only, and stay as they are on disk.
            reuse = self._graph_reuse(linked, output) if "" in remade else None
            exports, export_paths = graph_exports(linked, remade, reuse), export_files(linked)
            spans = linked.memo.get("graph_spans", spans)
        else:
            exports = graph_exports(linked)
            export_paths = {e.path for e in exports}
            spans = linked.memo.get("graph_spans", {})
        if sink is not None:
            sink.put_all(exports)
        else:
            pages = [*pages, *exports]
        report = replace(report, pages=report.pages + len(exports))
        attachments = {
            unquote(a.url.lstrip("/")): (a.source, _signature(a.source)) for a in sources.attachments.values()
        }
        # Each language's edition has its own copy of the attachments, where its pages link to them.
        for language in config.languages:
            folder = language.prefix.lstrip("/")
            attachments |= {folder + name: value for name, value in list(attachments.items()) if "/" in name}
        changed = {
            name: source
            for name, (source, signature) in attachments.items()
            if self.good_attachments.get(name, (None, None))[1] != signature
        }
        files = set(page_files(linked)) | set(attachments) | export_paths
        files |= edition.files
        files |= set(static_files(theme_dirs(options.root, "static")))  # an asset deleted goes too
        removed = sorted(self.good_files - files)
        self.good, self.good_files, self.good_stamp = linked, files, stamp
        self.good_views = _site_views(linked)
        self.good_exports, self.good_export_paths, self.graph_spans = exports, export_paths, spans
        self.good_attachments = attachments
        for code, (edition_linked, edition_stamp, edition_exports) in edition.kept.items():
            memory = self.editions.setdefault(code, _EditionMemory())
            memory.good, memory.stamp, memory.export_paths = edition_linked, edition_stamp, edition_exports
            memory.views = _site_views(edition_linked)
        for code in set(self.editions) - set(edition.kept):
            self.editions[code].good = None  # a language no longer built starts whole when it returns
        return Update(report, linked, pages, removed, only is None, changed)

    def _graph_reuse(self, linked: LinkedSite, output: Path) -> GraphReuse | None:
        """Return what of the graph files in the output the new ones may copy (None: nothing).

        A page's parts are copied while its face and what it leads to are as they were (all that
        graph.json reads of it) and, for graph.jsonld, no page it leads to changed its face.
        """
        old, spans = self.good, self.graph_spans
        if not isinstance(old, Digest) or not spans:
            return None
        try:
            files = [(output / name).read_bytes() for name in GRAPH]
        except OSError:
            return None
        sizes = [len(files[0]), len(files[0]), len(files[1])]
        if any(span[i] + span[i + 1] > sizes[i // 2] for span in spans.values() for i in (0, 2, 4)):
            return None  # not the files these spans were taken in
        new = digest(linked, old)
        faces, outs = new.faces, new.outs
        same = frozenset(
            k
            for k, face in faces.items()
            if k in spans and old.faces.get(k) == face and old.outs.get(k) == outs[k]
        )
        faced = {k for k in old.faces.keys() | faces.keys() if old.faces.get(k) != faces.get(k)}
        leading = {ref.source for key in faced for ref in linked.inverse.get(key, ())}
        return GraphReuse(files[0], files[1], spans, same, same - leading)

    def _read(self, path: str) -> bytes | None:
        """Return the bytes of a content file (path as messages show it), or None if it does not read."""
        try:
            return (self.options.root / path).read_bytes()
        except OSError:
            return None

    def _render_editions(
        self,
        config: SiteConfig,
        sources: Sources,
        site: Site,
        plans: list[Edition],
        problems: list[Problem],
        files: dict[str, str],
        sizes: dict[str, tuple[int, int]],
        stamp: str,
        whole: bool,
    ) -> _EditionMade:
        """Return the pages of each other language's edition, under its prefix, that a change
        touches (every page when whole), with their problems and every file the editions have."""
        shown = _shown(self.options.root)
        seen = {(p.path, p.message) for p in problems}
        originals = {d.path: d for d in sources.documents}
        outputs: list[Output] = []
        found: list[Problem] = []
        every: set[str] = set()
        kept: dict[str, tuple[LinkedSite, str, set[str]]] = {}
        unreadable = sources.unreadable
        for plan in plans:
            language = next(lang for lang in config.languages if lang.code == plan.code)
            memory = self.editions.setdefault(plan.code, _EditionMemory())
            catalogue = catalogue_print(self.options.root, language.locale)
            if memory.translations is None or catalogue != memory.catalogue:
                memory.translations, memory.catalogue_problems = load_translations(
                    self.options.root, language.locale
                )
                memory.catalogue, memory.env = catalogue, None
            translations = memory.translations
            found += memory.catalogue_problems
            gettext = translations.gettext
            edition_config = replace(
                config,
                language=plan.code,
                base_url=config.base_url.rstrip("/") + language.prefix,
                nav=config.nav,
            )
            collections = translated_collections(sources.collections, gettext)
            edition_site, made = assemble_site(
                edition_config, collections, plan.documents, memory.assembly, unreadable, files, sizes
            )
            linked, more = link_site(edition_site, memory.linked, self.render_many, unreadable)
            if memory.linked is not None:
                carry_views(memory.linked, linked)
            memory.linked = linked
            made += more
            fallbacks = frozenset(
                e.key for e in edition_site.entities.values() if e.doc.path in plan.fallbacks
            )
            linked.memo["editions"] = _editions_of(config, plan.code, site, plans, fallbacks)
            # Besides the default edition's settings and templates, every page of this one shows
            # its catalogue's words, its menu and which pages each language has.
            edition_stamp = fingerprint((stamp, catalogue, nav_items(linked), linked.memo["editions"]))
            if memory.env is None or self.env_stamp != memory.env_templates:
                memory.env = make_environment(self.template_dirs, translations, self.compiled)
                memory.env_templates = self.env_stamp
            same = not whole and memory.good is not None and memory.stamp == edition_stamp
            only = self._only(memory.good, linked, memory.views) if same and memory.good is not None else None
            token = SPEECH.set(Speech(language.locale, gettext, translations.ngettext))
            try:
                pages, more = render_site(linked, memory.env, shown, only)
            finally:
                SPEECH.reset(token)
            made += more
            for problem in made:
                # A fallback's problems, and a translation's that its original has too, are told once.
                source = _original_of(problem.path, originals, config) or problem.path
                if problem.path in plan.fallbacks or (source, problem.message) in seen:
                    continue
                found.append(problem)
            folder = language.prefix.lstrip("/")
            machines = {"robots.txt", "sitemap.xml"}  # one of each, at the top, for every language
            outputs += [Output(folder + o.path, o.data) for o in pages if o.path not in machines]
            old = memory.good
            if same and old is not None and _digest_of(old).exports == digest(linked).exports:
                export_paths = memory.export_paths  # on disk already, as the last build made them
            else:
                exports = [Output(folder + o.path, o.data) for o in graph_exports(linked)]
                outputs += exports
                export_paths = {o.path for o in exports}
            every |= {folder + f for f in page_files(linked)} - {folder + m for m in machines}
            every |= export_paths
            kept[plan.code] = (linked, edition_stamp, export_paths)
        return _EditionMade(outputs, found, every, kept)

    @staticmethod
    def _only(old: LinkedSite | Digest, new: LinkedSite, views: dict[str, str]):  # type: ignore[no-untyped-def]
        """Return which pages of new to make again, given the last good build and its views' hashes."""
        pages, collections = affected_entities(old, new)
        # A face changed, or a fact: then collections name where (and pages that show faces,
        # such as the data downloads' row counts, may show it).
        home = next((k for k, e in new.site.entities.items() if e.url == "/"), None)
        # The home page lists the pages of the collections shown there and of those on the
        # timeline, counts every collection's pages and the facts, and shows no other page's
        # face but through its own body (then home is in pages).
        shown_home = {n for n, c in new.site.collections.items() if c.home or c.timeline}
        now: dict[str, str] = {}

        def changed(view: str) -> bool:
            if not now:
                now.update(_site_views(new))
            return views.get(view) != now[view]

        def only(spec: PageSpec) -> bool:
            if spec.key:
                return spec.key in pages or spec.key in collections
            if spec.shows == "home":
                # Its lists and timeline show faces; its own page's body; making it again cost a
                # tenth of a rebuild at 10k pages.
                return not collections.isdisjoint(shown_home) or home in pages or changed("counts")
            if spec.shows == "settings":  # what changes it changes the stamp: a whole build
                return False
            if spec.shows in ("urls", "tags"):  # the sitemap at 10k took a tenth of a rebuild in serve
                return changed(spec.shows) or (spec.shows == "tags" and bool(collections))
            return bool(collections)

        return only


def _site_views(linked: LinkedSite) -> dict[str, str]:
    """Return the hashes of what the site's own pages read of many others (views_print), and of
    the counts the home page shows."""
    return {**views_print(linked), "counts": counts_print(linked)}


def _same_exports(old: LinkedSite, new: LinkedSite) -> bool:
    """Return whether the whole-site exports of new are those of old: every input they read is."""
    before, after = old.site, new.site
    if before.entities.keys() != after.entities.keys() or before.facts != after.facts:
        return False
    if before.files != after.files or before.sizes != after.sizes:
        return False
    if old.inverse != new.inverse or old.outgoing != new.outgoing:
        return False
    for key, entity in after.entities.items():
        was = before.entities[key]
        if was is entity:
            continue
        if face(was) != face(entity) or was.refs != entity.refs or was.draft != entity.draft:
            return False
        a, b = old.bodies.get(key), new.bodies.get(key)
        if (a is None) != (b is None):
            return False
        if a is not None and b is not None:
            if a.prints[1] != b.prints[1]:  # what the exports read of each body
                return False
    return True


def _original_of(path: str, documents: dict[str, Document], config: SiteConfig) -> str:
    """Return the path of the original a translation's path names, or ''."""
    doc = documents.get(path)
    if doc is None:
        return ""
    stem, code = language_of(doc, config)
    return original_path(doc, stem) if code else ""


def _editions_of(
    config: SiteConfig, current: str, site: Site, plans: list[Edition], fallbacks: frozenset[str]
) -> Editions:
    """Return the languages of a site as the pages of one language's edition see them."""
    base = config.host + config.base_path
    keys = {entity.doc.path: key for key, entity in site.entities.items()}
    names = [(config.language, config.language_name or _own_name(config.language), base)]
    names += [(lang.code, lang.name, base + lang.prefix.lstrip("/")) for lang in config.languages]
    translated = {plan.code: frozenset(keys[p] for p in plan.translated if p in keys) for plan in plans}
    return Editions(current, tuple(names), translated, fallbacks, config.base_path)


def _own_name(code: str) -> str:
    """Return a language's name in that language ('English'), from Babel's CLDR data."""
    try:
        name = Locale.parse(code.replace("-", "_")).display_name or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def _missing_image(config: SiteConfig, files: dict[str, str], root: Path) -> list[Problem]:
    """Return a warning when the site's picture for sharing is no file of the content or theme."""
    if not config.image:
        return []
    name = config.image.lstrip("/")
    if "/" + quote(name) in files.values() or name in static_files(theme_dirs(root, "static")):
        return []
    message = f"image '{config.image}' is no file of the content or of the theme's static folder"
    return [Problem(config.path or "site.yaml", config.image_line, message, warning=True)]


def _signature(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1)
    return (stat.st_size, stat.st_mtime_ns)


class _Clock:
    """Seconds spent in each stage, for --profile."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = self.laps.get(stage, 0.0) + now - self._last
        self._last = now


def _report(site: Site, problems: list[Problem], pages: int, laps: dict[str, float]) -> Report:
    counts: dict[str, int] = {}
    for entity in site.entities.values():
        counts[entity.collection] = counts.get(entity.collection, 0) + 1
    total = sum(len(f) for f in site.facts.values())
    labels = {name: (c.label, c.plural) for name, c in site.collections.items()}
    return Report(tuple(sorted(set(problems))), pages, 0, counts, total, dict(laps), labels=labels)


def builder_for(options: Options, cache: MarkdownCache | None = None) -> Builder:
    """Return a Builder that uses options.jobs processes for Markdown and pages, and the cache."""
    markdown = markdown_renderer(options.jobs, options.progress)
    pages = page_renderer(options.jobs, options.progress)
    kept = cache is not None and cache.folder is not None
    keep_compiled(ValidatorCache() if kept else None)
    if cache is None:
        return Builder(options, markdown, pages)
    compiled = TemplateCache() if kept else None
    return Builder(options, cache.wrap(markdown), pages, compiled)


def make_site(options: Options) -> tuple[LinkedSite | None, list[Output], Report]:
    """Return the linked site and its pages (none if anything failed), with the report."""
    update = builder_for(options).update()
    return update.linked, update.pages, update.report


def check(options: Options) -> Report:
    """Return the report of every validation a build makes, writing nothing."""
    return make_site(options)[2]


def build(options: Options) -> Report:
    """Build the site into the output folder; on any failure leave the old output untouched.

    With the cache, a build after a successful one renders and writes only the pages a change
    touches, in place: the result is the same as a whole build's. Builds into one output take
    turns: a second waits for the first to finish.
    """
    output = options.output or options.root / "_site"
    check_output(output, options.root)
    with output_lock(output, cache_folder(output) / LOCK):
        return _build_locked(options, output)


# What builds made for a process that ends once they return (Options.ending): freeing the heap of
# a 10,000-page site object by object took 0.04 s of a one-page rebuild, for nothing.
_LEFT: list[object] = []


def _build_locked(options: Options, output: Path) -> Report:
    inputs = ""
    settings = build_settings(options.base_url, options.drafts, options.search)
    if options.cache:
        inputs = options.inputs or site_inputs(options.root, output, settings)
        if up_to_date(output, inputs):
            return Report((), up_to_date=True)
    # Whether the output is as the last build left it: looked at while the caches are read.
    look = OutputLook(output, fork=options.jobs > 1) if options.cache else None
    # And the caches read and checked in another process, while this one reads them back.
    files = cache_files(output, fork=options.jobs > 1) if options.cache else None
    try:
        markdown_cache = MarkdownCache(cache_folder(output) if options.cache else None, files)
        builder = builder_for(options, markdown_cache)
        kept = _Kept(options, output, builder, markdown_cache)
        if options.cache:
            kept.before = load_records(output, files)
            builder.files = dict(kept.before.files)
            builder.assembly_cache.entities = dict(kept.before.entities)
            builder.assembly_cache.refs = {hit[2].key: hit for hit in kept.before.refs.values()}
            builder.prints = dict(kept.before.prints)
        state = load_state(output, settings, kept.seen, look, files) if options.cache else None
    finally:
        if look is not None:
            look.stop()
        if files is not None:
            files.close()
    if state is not None:
        try:
            builder.restore(state)
        except ValueError:
            pass  # a state this factbook cannot read: a whole build, as with none
    if options.ending:
        _LEFT.append((kept, state))  # the builder, the caches, the last state: the exit drops them
    search = _Search(options.search)
    try:
        if builder.good is not None:
            report = _update_in_place(options, output, builder, search, kept)
        else:
            report = _build_whole(options, output, builder, search, kept)
    finally:
        search.stop()
    if markdown_cache.discarded:
        count = len(markdown_cache.discarded)
        message = f"{count} cache file(s) not written by factbook on this machine, or damaged: discarded"
        notice = Problem(str(cache_folder(output)), 1, message, warning=True)
        report = replace(report, notices=(*report.notices, notice))
    if report.failed(options.strict):
        return report
    return replace(kept.record(report, inputs, settings), cache_hits=markdown_cache.hits)


class _Search:
    """The Pagefind run of one build: started once the pages are written, waited for last."""

    def __init__(self, wanted: bool) -> None:
        self.wanted = wanted
        self.indexing: Indexing | None = None
        self.problem: Problem | None = None
        self.started = 0.0

    def start(self, folder: Path, swap: bool = False) -> None:
        """Start indexing folder, if search is wanted."""
        if not self.wanted:
            return
        try:
            self.indexing = start_index(folder, swap)
        except SearchError as error:
            self.problem = Problem("content", 1, f"search index: {error}")

    def finish(self, report: Report) -> Report:
        """Return the report once the index is in place, with Pagefind's failure as a problem."""
        if self.indexing is None and self.problem is None:
            return report  # not wanted, or the index in place is still this build's
        if self.indexing is not None:
            indexing, self.indexing = self.indexing, None
            self.started = time.perf_counter()
            try:
                indexing.wait()
            except SearchError as error:
                self.problem = Problem("content", 1, f"search index: {error}")
        if self.problem is not None:
            return replace(report, problems=(*report.problems, self.problem))
        if self.wanted:
            # Only what the build waited for: the index is made while the exports and the
            # cache are written, so its own time would be counted twice.
            return replace(report, seconds={**report.seconds, "search": time.perf_counter() - self.started})
        return report

    def stop(self) -> None:
        """End Pagefind if the build ends without its index."""
        if self.indexing is not None:
            self.indexing.stop()
            self.indexing = None


class _Kept:
    """What a build keeps for the next: the Markdown cache and file records (written while the
    exports are made and the search index is built), then its state, once the new output is in place."""

    def __init__(self, options: Options, output: Path, builder: Builder, markdown: MarkdownCache) -> None:
        self.wanted, self.output, self.builder, self.markdown_cache = options.cache, output, builder, markdown
        # With more than one core, a whole build writes them in a child process of its own.
        self.fork = options.jobs > 1 and hasattr(os, "fork")
        self.snapshot: dict[str, object] | None = None
        self.before = Records({}, {}, {}, {})  # the records the build started from
        self.problem: str | None = None  # why the cache could not be written
        self.seconds = 0.0
        self.in_place = False  # the output was changed in place, not swapped for a new one
        self.seen: Listing = {}  # each path of the output as the build found it, before it began
        self.touched: set[str] | None = None  # the paths changed in place since (None: not known)
        self.child: forking.Child | None = None  # the writing process, and the pipe it reports on

    def start(self) -> None:
        """Begin writing the Markdown cache and the records in a forked child, if that is worth it.

        Once every page is rendered they are final; the whole-site exports that follow take one
        core for as long as writing them does (about a second each at 10,000 pages). What the
        records keep of each page is the digest's, made as the pages began to render (prepare).
        """
        if not self.wanted or not self.fork or self.child is not None:
            return
        if self.builder.linked is not None:
            digest(self.builder.linked)  # first: the records keep what it makes of each page
        self.child = forking.fork(self._write_in_child)  # None: save() writes them in this one

    def prepare(self, linked: LinkedSite) -> None:
        """Make the digest of the linked site, which the records and the state keep, if kept."""
        if self.wanted:
            digest(linked)

    def _write_in_child(self, end: int) -> bool:
        """Write the Markdown cache and the records (in the child); say why not to end."""
        message = self._write()
        if message:
            forking.write_all(end, message.encode())
        return not message

    def stop(self) -> None:
        """End the child writing the cache, if any (the build failed, or was interrupted)."""
        if self.child is not None:
            forking.end(self.child)
            self.child = None

    def _join(self) -> None:
        """Wait for the child writing the cache; keep its failure as the problem."""
        if self.child is None:
            return
        message, ended_well = forking.answer(self.child)
        self.child = None
        if not ended_well:
            self.problem = (
                message.decode("utf-8", "replace") or f"{cache_folder(self.output)}: not written; build again"
            )

    def _write(self) -> str:
        """Write the Markdown cache and the records; return why they could not be, or ''."""
        try:
            self.markdown_cache.save()
            assembly = self.builder.assembly_cache
            refs = {hit[2].doc.path: hit for hit in assembly.refs.values()}
            records = Records(self.builder.files, assembly.entities, refs, self.builder.page_prints())
            save_records(self.output, records, self.before)
        except OSError as error:
            return os_problem(error, "")
        return ""

    def save(self) -> None:
        """Have the Markdown cache and the records written, and take the state to keep."""
        if not self.wanted:
            return
        started = time.perf_counter()
        self.snapshot = self.builder.snapshot()  # first: while the child, if any, writes
        if self.child is not None:
            self._join()
        else:
            self.problem = self._write() or None
        self.seconds += time.perf_counter() - started

    def record(self, report: Report, inputs: str, settings: dict[str, object]) -> Report:
        """Return the report once the state of the output now in place is kept for the next build."""
        if not self.wanted or self.snapshot is None:
            return report
        started = time.perf_counter()
        problem = self.problem
        if problem is None:
            try:
                signature, entries, numbers = survey(self.output, self.in_place, self.seen, self.touched)
                save_state(self.output, self.snapshot, settings, signature)
                record(self.output, inputs, signature, entries, numbers)
            except OSError as error:  # the new site is in place: only the next build is slower
                problem = os_problem(error, "")
        if problem is not None:
            notice = Problem(str(cache_folder(self.output)), 1, f"cache not saved: {problem}")
            report = replace(report, notices=(*report.notices, notice))
        seconds = {**report.seconds, "cache": self.seconds + time.perf_counter() - started}
        return replace(report, seconds=seconds)


def _build_whole(options: Options, output: Path, builder: Builder, search: _Search, kept: _Kept) -> Report:
    """Build the whole site into a staging folder and swap it in; return the report."""
    staging = Staging(output)

    def ready() -> None:  # every page is in staging: what needs only the pages starts now
        search.start(staging.folder)
        kept.start()

    try:
        # The digest is made as the pages begin to render, while a child takes them, rather than
        # on one core after them (0.43 s at 10,000 pages).
        update = builder.update(staging, ready, meanwhile=kept.prepare)
        report = update.report
        if report.failed(options.strict) or update.linked is None:
            kept.stop()
            staging.discard()
            return report
        started = time.perf_counter()
        publish(update, staging.output, options.root, staging)
        report = replace(report, seconds={**report.seconds, "write": time.perf_counter() - started})
        if _html_among(update.attachments) or _html_among(static_files(theme_dirs(options.root, "static"))):
            # Pagefind started before these were written: it may have missed them.
            search.stop()
            search.start(staging.folder)
        kept.save()
        report = search.finish(report)
        if report.failed(options.strict):
            staging.discard()
            return report
        files = sum(len(names) for _, _, names in os.walk(staging.folder))  # workers wrote most of them
        staging.commit()
    except BaseException:
        search.stop()  # first: a Pagefind still writing into the folder would leave it behind
        kept.stop()
        staging.discard()
        raise
    return replace(report, files=files)


def _html_among(files: dict[str, Path]) -> bool:
    """Return whether any of these files is a page Pagefind would index."""
    return any(name.endswith(".html") for name in files)


def _update_in_place(
    options: Options, output: Path, builder: Builder, search: _Search, kept: _Kept
) -> Report:
    """Render and write only what changed since the build the output holds, as serve does.

    Each file is replaced atomically; the state is dropped first, so that an update cut short
    is followed by a whole build.
    """
    update = builder.update()
    report = update.report
    if report.failed(options.strict) or update.linked is None:
        return report
    forget_state(output)
    kept.in_place = True
    started = time.perf_counter()
    changed: list[str] = []
    written = publish(update, output, options.root, changed=changed)
    report = replace(
        report, seconds={**report.seconds, "write": time.perf_counter() - started}, files=written
    )
    # The index reads only the pages: while none changed or went, the one in place is this one's.
    pages_changed = update.full or any(name.endswith(".html") for name in [*changed, *update.removed])
    if pages_changed or not (output / BUNDLE).is_dir():
        search.start(output, swap=True)
    if search.indexing is None:  # Pagefind's files are not among these
        kept.touched = {*changed, *update.removed}
    kept.save()
    return search.finish(report)


def publish(
    update: Update,
    output: Path,
    root: Path,
    staging: Staging | None = None,
    assets_changed: bool = True,
    changed: list[str] | None = None,
) -> int:
    """Put every file of a successful update in place: pages, exports, assets and attachments.

    The one way a build reaches the disk, for build and serve alike: a whole build goes into a
    staging folder (the one given, whose pages the workers wrote already, or a new one) that is
    then swapped in; a rebuild replaces only what changed, each file atomically.
    Return the files written (and, for a rebuild, add their names to changed, if given).
    """
    static = static_files(theme_dirs(root, "static")) if update.full or assets_changed else {}
    assets = {**static, **update.attachments}
    if staging is not None:
        for name, source in sorted(assets.items()):
            staging.put(name, source.read_bytes())
        return staging.count
    if update.full:
        return write_site(output, update.pages, assets)
    return write_changes(output, update.pages, update.removed, assets, changed)
