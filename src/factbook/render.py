"""A LinkedSite to pages: every URL's HTML from the Jinja theme (StrictUndefined, autoescape)."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from types import FunctionType, MethodType
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

import jinja2
import jinja2.compiler
import jinja2.runtime
import jinja2.utils
from markupsafe import Markup, escape

from . import __version__
from .depend import date_order, text_print
from .embeds import body_html
from .errors import Problem
from .frozen import unpacked
from .indexes import by_name, index_context
from .link import LinkedSite, changed_keys, url_for
from .model import Collection, Entity, FieldSpec
from .pictures import ties, timeline
from .semantic import absolute, kinds_of, og_locale, page_graph
from .views import (
    BUILT_IN,
    Group,
    Item,
    asides,
    date_note,
    date_words,
    details,
    fact_rows,
    format_value,
    item_for,
    opens_with_heading,
    references,
    relations,
    tag_item,
    tag_pages,
    tags_of,
)
from .words import gettext, joined

THEMED = (".html", ".xml", ".txt")  # the theme's templates: pages and the files for machines


@dataclass(frozen=True, slots=True)
class Output:
    """One file of the built site: its path inside the output folder and its bytes."""

    path: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Crumb:
    """One step of a breadcrumb trail."""

    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Editions:
    """A site's languages as one edition's pages see them: which pages each language has."""

    current: str  # the code of the language of this edition
    languages: tuple[tuple[str, str, str], ...]  # (code, name, base URL), the default language first
    translated: dict[str, frozenset[str]]  # entity keys each other language has translated
    fallbacks: frozenset[str] = frozenset()  # entity keys shown here in the original's language
    root: str = "/"  # the default edition's base path, where the one search index of every language is

    def has(self, code: str, key: str) -> bool:
        """Return whether the page of that key is written in that language (not a fallback)."""
        return code not in self.translated or key in self.translated[code]


def _plain_escaper() -> Callable[[Any], str]:
    """Return a function that escapes a value for HTML as markupsafe.escape does, as a plain str."""
    try:
        from markupsafe import _escape_inner  # MarkupSafe 3: what escape() wraps in a Markup
    except ImportError:  # MarkupSafe 2, whose escape() is all in C
        return escape

    def escaped(value: Any) -> str:
        if type(value) is str:
            return _escape_inner(value)  # type: ignore[no-any-return]
        html = getattr(value, "__html__", None)
        if html is not None:
            return html()  # type: ignore[no-any-return]
        return _escape_inner(str(value))  # type: ignore[no-any-return]

    return escaped


# The form of the code factbook's templates compile to: part of the name each is kept under.
COMPILED_FORM = "plain-escape-1"


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code generator, but each value a template prints, escaped, is a plain str.

    Jinja wraps each in a Markup only for the page (or the macro, or the block) to join them into
    one string: 150 Markups a page were a tenth of the time the templates took. The page is the
    same: the joined text is made Markup where Jinja makes it so.
    """

    def _output_child_pre(self, node: Any, frame: Any, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.escaped(")
            if finalize.src is not None:
                self.write(finalize.src)
        else:
            super()._output_child_pre(node, frame, finalize)


_PASS_CONTEXT = jinja2.utils._PassArg.context
_PASS_EVAL_CONTEXT = jinja2.utils._PassArg.eval_context
_PASS_ENVIRONMENT = jinja2.utils._PassArg.environment


class _Context(jinja2.runtime.Context):
    """Jinja's template context, whose calls of functions and methods ask less on the way.

    A template calls through Context.call fifty times a page (translations, fields, dates, macros
    imported by name); for a function or a bound method it asked Python for attributes that only
    a callable object can have. Anything else goes through Jinja's own call.
    """

    @jinja2.utils.internalcode
    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's names)
        """Return what the callable returns, given the context, its eval context or the
        environment first if it asks for one (jinja2.pass_context and its kin), as Jinja does."""
        kind = type(__obj)
        if kind is MethodType:
            pass_arg = getattr(__obj.__func__, "jinja_pass_arg", None)
        elif kind is FunctionType:
            pass_arg = getattr(__obj, "jinja_pass_arg", None)
        else:
            return super().call(__obj, *args, **kwargs)
        loop_vars = kwargs.pop("_loop_vars", None) if kwargs else None
        block_vars = kwargs.pop("_block_vars", None) if kwargs else None
        if pass_arg is _PASS_CONTEXT:
            # As Jinja: the variables of the loop or block the call is in, without changing ours.
            if loop_vars:
                __self = __self.derived(loop_vars)
            if block_vars:
                __self = __self.derived(block_vars)
            args = (__self, *args)
        elif pass_arg is _PASS_EVAL_CONTEXT:
            args = (__self.eval_ctx, *args)
        elif pass_arg is _PASS_ENVIRONMENT:
            args = (__self.environment, *args)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class _Environment(jinja2.Environment):
    """The environment factbook's templates compile in (see _CodeGenerator and _Context)."""

    code_generator_class = _CodeGenerator
    context_class = _Context
    escaped = staticmethod(_plain_escaper())


def make_environment(
    template_dirs: list[Path], translations: Any = None, compiled: jinja2.BytecodeCache | None = None
) -> jinja2.Environment:
    """Return the Jinja environment: the site's templates over the theme's, strict and escaping.

    Its strings are translated by translations (gettext's), or kept as they are written; compiled
    templates are kept in compiled, if given.
    """
    env = _Environment(
        bytecode_cache=compiled,
        extensions=["jinja2.ext.i18n"],
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a changed theme gets a new environment (build.Builder's stamp)
    )
    env.filters["date_words"] = date_words
    env.filters["value"] = format_value
    env.filters["joined"] = joined
    if translations is None:
        env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    else:
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals["_"] = env.globals["gettext"] = _remembered(env.globals["gettext"])
    return env


def _remembered(gettext: Callable[..., str]) -> Callable[..., str]:
    """Return the environment's gettext, each string without variables translated once.

    A page calls it a score of times; each call went through the `_` alias, a translation, a
    Markup and a % with no variables, about a fifth of the time pages took to render.
    """
    done: dict[str, str] = {}

    @jinja2.pass_context
    def remembered(context: jinja2.runtime.Context, string: str, **variables: Any) -> str:
        if variables or not context.eval_ctx.autoescape:
            return gettext(context, string, **variables)
        made = done.get(string)
        if made is None:
            made = done[string] = gettext(context, string)
        return made

    return remembered


def check_templates(env: jinja2.Environment, shown: Callable[[str], str]) -> list[Problem]:
    """Return a problem for every template that does not compile."""
    problems = []
    for name in env.list_templates(filter_func=lambda n: n.endswith(THEMED)):
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as error:
            path = shown(error.filename or name)
            problems.append(Problem(path, error.lineno or 1, f"template error: {error.message}"))
    return problems


Shows = Literal["home", "settings", "urls", "tags", "faces"]


class PageSpec(NamedTuple):  # not a frozen dataclass: made for every page on every rebuild
    """A page to render: its templates (first found wins), URL, entity or collection, and context."""

    templates: str
    url: str
    key: str  # the entity's, or the collection's (its index and feed); '' for a page of the site's
    context: Callable[[LinkedSite], dict[str, Any]]  # given the site when the page is made
    # What a page of the site's own shows, for a rebuild to tell whether it changed: "home",
    # "settings" (only what every page shows), "urls" (every page's address), "tags" (the tags
    # and their pages), "faces" (what pages show of each other).
    shows: Shows = "faces"


# (linked, env, shown, only, sink, meanwhile) -> (pages kept in memory, problems, pages made);
# meanwhile, if given, is work of the caller's done while the pages are rendered.
RenderPages = Callable[..., tuple[list["Output"], list[Problem], int]]


def render_site(
    linked: LinkedSite,
    env: jinja2.Environment,
    shown: Callable[[str], str],
    only: Callable[[PageSpec], bool] | None = None,
    specs: Sequence[PageSpec] | None = None,
) -> tuple[list[Output], list[Problem]]:
    """Return the HTML of every page of the site (or of specs, those of its pages given, or
    those only picks), and the template problems."""
    problems = check_templates(env, shown)
    if problems:
        return [], problems
    if specs is None:
        specs = page_specs(linked)
    problems += linked.memo.get("collisions", [])
    common = _common(linked)
    outputs: list[Output] = []
    for spec in specs:
        if only is not None and not only(spec):
            continue
        template = _choose(env, spec.templates)
        try:
            context = {**common, **spec.context(linked)}  # a page's own values win over the defaults
            context.update(page_url=url_for(linked.site, spec.url), canonical=absolute(linked, spec.url))
            if "editions" in linked.memo:
                context.update(_in_languages(linked, spec))
            if is_page(spec.url):
                context["jsonld"] = Markup(_jsonld(linked, spec, context))
            html = template.render(context)
        except jinja2.TemplateError as error:
            problems.append(_template_problem(error, template.filename or spec.templates, shown))
            continue
        outputs.append(Output(file_for(spec.url), html.encode("utf-8")))
    outputs.sort(key=lambda o: o.path)
    return outputs, problems


def _in_languages(linked: LinkedSite, spec: PageSpec) -> dict[str, Any]:
    """Return a page's language switcher, its hreflang alternates, and whether it is a fallback."""
    editions: Editions = linked.memo["editions"]
    switcher, alternates = [], []
    for code, name, base in editions.languages:
        address = base + spec.url.lstrip("/")
        # The switcher links within the site, as every other link; hreflang alternates are absolute.
        here = urlsplit(address).path
        switcher.append({"code": code, "name": name, "url": here, "current": code == editions.current})
        if spec.key not in linked.site.entities or editions.has(code, spec.key):
            alternates.append({"code": code, "url": address})
    fallback = spec.key in editions.fallbacks
    original = editions.languages[0][0]
    return {
        "languages": switcher,
        "alternates": alternates if len(alternates) > 1 else [],
        "fallback": fallback,
        # A fallback's own text is in the original's language: said so for screen readers.
        "text_lang": Markup(f' lang="{escape(original)}"') if fallback else "",
    }


def file_for(url: str) -> str:
    """Return the output file that serves a URL: a named file, or a folder's index.html."""
    if not url.endswith("/"):
        return url.lstrip("/")
    return (url.strip("/") + "/index.html").lstrip("/")


def is_page(url: str) -> bool:
    """Return whether a URL is an HTML page (rather than a file for machines)."""
    return url.endswith(("/", ".html"))


def _jsonld(linked: LinkedSite, spec: PageSpec, context: dict[str, Any]) -> str:
    """Return the JSON-LD of a page: what kind of page it is, what it is about, where it sits."""
    site = linked.site
    base = len(site.config.base_path.rstrip("/"))
    crumbs = [(c.title, c.url[base:] or "/") for c in context.get("crumbs", [])]
    title, description = str(context.get("title", "")), str(context.get("description", ""))
    if spec.key in site.entities:
        return page_graph(linked, spec.url, title, description, crumbs, key=spec.key)
    if spec.key in site.collections:
        # In the order the index lists them by name.
        members = by_name((e for e in site.entities.values() if e.collection == spec.key), site.config.locale)
        items = [(e.title, e.url) for e in members]
        return page_graph(
            linked, spec.url, title, description, crumbs, page_type="CollectionPage", items=items
        )
    kind = "SearchResultsPage" if spec.url == "/search/" else "WebPage"
    return page_graph(linked, spec.url, title, description, crumbs, page_type=kind)


def _choose(env: jinja2.Environment, names: str) -> jinja2.Template:
    return env.select_template(names.split("|"))


def _template_problem(error: jinja2.TemplateError, fallback: str, shown: Callable[[str], str]) -> Problem:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(THEMED)]
    path, line = (frames[-1].filename, frames[-1].lineno or 1) if frames else (fallback, 1)
    message = error.message if isinstance(error, jinja2.TemplateSyntaxError) else str(error)
    return Problem(shown(path), line, f"template error: {message}")


def _common(linked: LinkedSite) -> dict[str, Any]:
    site = linked.site
    config = site.config

    def url(path: str) -> str:
        return url_for(site, "/" + path.lstrip("/"))

    editions = linked.memo.get("editions")
    root = editions.root if editions is not None else config.base_path

    def asset(path: str) -> str:
        # The theme's files are published once, at the top, for every language's edition.
        return root + path.lstrip("/")

    return {
        "site": config,
        "version": __version__,
        "url": url,
        "asset": asset,
        "absolute": partial(absolute, linked),
        # Whether pages here must name their sources, as the footer then says they do.
        "cites": any(c.cites and has_index(linked, c) for c in site.collections.values()),
        "nav": _nav(linked),
        "counts": _counts(linked),
        "feeds": _feeds(linked),
        "search_url": url("/search/"),
        # Pagefind indexes every language at the top, one index per page language.
        "pagefind_url": (linked.memo["editions"].root if "editions" in linked.memo else url("/"))
        + "pagefind/",
        "jsonld": "",
        "languages": [],
        "alternates": [],
        "fallback": False,
        "text_lang": "",
        "description": config.description,
        "og_type": "website",
        "og_locale": og_locale(config.language),
        "og_image": absolute(linked, "/" + (config.image or "assets/card.png").lstrip("/")),
    }


def _nav(linked: LinkedSite) -> list[Item]:
    site = linked.site
    names = site.config.nav or tuple(n for n, c in site.collections.items() if c.index)
    items = []
    for name in names:
        collection = site.collections.get(name)
        if collection is not None and has_index(linked, collection):
            items.append(Item(collection.title, url_for(site, f"/{name}/")))
        elif collection is None:
            key, _ = linked.table.index.resolve(name)
            if key is not None:  # an unknown name is reported by the model stage
                items.append(item_for(linked, key))
    return items


def index_url(collection: Collection) -> str:
    """Return the URL of a collection's index page."""
    return f"/{collection.name}/"


def feed_url(collection: Collection) -> str:
    """Return the URL of a collection's Atom feed."""
    return f"/{collection.name}/feed.xml"


def _feeds(linked: LinkedSite) -> list[Item]:
    site = linked.site
    return [
        Item(c.title, url_for(site, feed_url(c)), note=c.plural)
        for c in site.collections.values()
        if c.feed and has_index(linked, c) and site.config.host
    ]


def _counts(linked: LinkedSite) -> list[Item]:
    site = linked.site
    counts: dict[str, int] = {}
    for entity in site.entities.values():
        counts[entity.collection] = counts.get(entity.collection, 0) + 1
    items = [
        Item(c.title, url_for(site, index_url(c)), note=str(counts.get(n, 0)))
        for n, c in site.collections.items()
        if has_index(linked, c)
    ]
    for name, collection in site.collections.items():
        spec = collection.field(collection.fact_list) if collection.fact_list else None
        if spec is not None and has_index(linked, collection):
            facts = sum(len(f) for k, f in site.facts.items() if linked.entity(k).collection == name)
            items.append(Item(spec.label, url_for(site, index_url(collection)), note=str(facts)))
    return items


def page_specs(linked: LinkedSite) -> list[PageSpec]:
    """Return every page of the site: home, 404, collection indexes, and one per entity."""
    return _cached(linked, "page_specs", lambda: _page_specs(linked))


def page_files(linked: LinkedSite) -> frozenset[str]:
    """Return the output file of every page of the site."""
    return _cached(linked, "page_files", lambda: frozenset(file_for(s.url) for s in page_specs(linked)))


def _page_specs(linked: LinkedSite) -> list[PageSpec]:
    # Each context is given the linked site when the page is made: a spec holds nothing of the
    # site it was listed for, so a rebuild with the same pages can keep the list (carry_views).
    site = linked.site
    pages = [
        PageSpec("home.html", "/", "", _home, "home"),
        PageSpec("404.html", "/404.html", "", _not_found, "settings"),
        PageSpec("search.html", "/search/", "", _search, "settings"),
    ]
    for name, collection in site.collections.items():
        if has_index(linked, collection):
            pages.append(
                PageSpec(
                    f"list-{name}.html|list.html", index_url(collection), name, partial(_index, collection)
                )
            )
        if collection.feed and has_index(linked, collection) and site.config.host:
            feed = partial(_feed, collection)
            pages.append(PageSpec(f"{name}-feed.xml|feed.xml", feed_url(collection), name, feed))
    templates = {n: f"{n}.html|{c.template}.html|entity.html" for n, c in site.collections.items()}
    for key, entity in sorted(site.entities.items()):
        if entity.url != "/":
            pages.append(PageSpec(templates[entity.collection], entity.url, key, partial(_entity_page, key)))
    tags = _tag_pages(linked)
    if tags:
        pages.append(PageSpec("tags.html", "/tags/", "", _tags, "tags"))
        for path, (tag, keys) in tags.items():
            pages.append(PageSpec("tag.html", f"/tags/{path}/", "", partial(_tag, tag, keys), "tags"))
    pages.append(PageSpec("data.html", DATA_URL, "", _data))
    if site.config.host:  # a sitemap or feed with addresses that name no host is invalid
        pages.append(PageSpec("sitemap.xml", "/sitemap.xml", "", _sitemap, "urls"))
    pages.append(PageSpec("robots.txt", "/robots.txt", "", _robots, "settings"))
    return _without_collisions(linked, pages)


def _not_found(linked: LinkedSite) -> dict[str, Any]:
    """Return the context of the page for addresses the site does not have."""
    return {"title": gettext("Page not found"), "crumbs": []}


def _search(linked: LinkedSite) -> dict[str, Any]:
    return {"title": gettext("Search"), "crumbs": _crumbs(linked)[:1], "filters": _filters(linked)}


def _robots(linked: LinkedSite) -> dict[str, Any]:
    return {"title": "robots.txt", "crumbs": []}


def _entity_page(key: str, linked: LinkedSite) -> dict[str, Any]:
    return _entity(linked, linked.entity(key))


def _filters(linked: LinkedSite) -> dict[str, str]:
    """Return the name of each search filter pages declare in the edition's language, by its key."""
    labels = {"type": gettext("Type")}
    for collection in linked.site.collections.values():
        for spec in collection.fields:
            if spec.aside and spec.name != collection.cites:
                labels.setdefault(spec.name, spec.label)
    labels["tags"] = gettext("Tags")
    return labels


def _no_host(linked: LinkedSite) -> list[Problem]:
    """Return the warning that the site names no public URL, so some files are left out."""
    config = linked.site.config
    if config.host:
        return []
    left = ["sitemap.xml"] + (["the feeds"] if any(c.feed for c in linked.site.collections.values()) else [])
    message = f"site.yaml names no public url: {' and '.join(left)} left out, links to pages not absolute"
    hint = "add a line such as 'url: https://example.org/' to site.yaml, or build with --base-url https://…"
    return [Problem(config.path or "site.yaml", 1, message, hint, warning=True)]


def _without_collisions(linked: LinkedSite, pages: list[PageSpec]) -> list[PageSpec]:
    """Return the pages, less any entity page at the URL of one of factbook's own pages."""
    own = {p.url: p for p in pages if p.key not in linked.site.entities}
    kept, problems = [], []
    for spec in pages:
        if spec.key in linked.site.entities and spec.url in own:
            entity = linked.entity(spec.key)
            made = own[spec.url].templates.split("|")[-1]
            message = f"its URL {spec.url} is that of a page factbook makes ({made}); it is left out"
            # A vault builds as it is: a note there only warns; a site's page is an error.
            vault = linked.site.collections[entity.collection].vault
            hint = "rename the file" + ("" if vault else ", or give it another slug")
            problems.append(
                Problem(entity.doc.path, entity.doc.line(("slug",)), message, hint, warning=vault)
            )
            continue
        kept.append(spec)
    linked.memo["collisions"] = problems
    # Not a problem of the content (check and --strict pass): a word from the build, once.
    linked.memo["notices"] = _no_host(linked)
    return kept


def views_print(linked: LinkedSite) -> dict[str, str]:
    """Return hashes of what the site's own pages that list many others read: every page's
    address (the sitemap), and the tags with their pages."""

    def made() -> dict[str, str]:
        # Lists of strings, and a dict in sorted order: their repr is the same in every process.
        urls = sorted((spec.url, spec.key) for spec in page_specs(linked))
        return {"urls": text_print(repr(urls)), "tags": text_print(repr(_tag_pages(linked)))}

    return _cached(linked, "views_print", made)


def counts_print(linked: LinkedSite) -> str:
    """Return a hash of the number of pages of each collection and of facts (the home page shows
    them): made once per site, never carried to another (carry_views), since a fact may come or
    go while every page stays."""
    return _cached(
        linked, "counts_print", lambda: text_print(repr([(i.text, i.url, i.note) for i in _counts(linked)]))
    )


def _tag_pages(linked: LinkedSite) -> dict[str, tuple[str, tuple[str, ...]]]:
    return _cached(linked, "tag_pages", lambda: tag_pages(linked))


def nav_items(linked: LinkedSite) -> list[Item]:
    """Return the navigation every page shows."""
    return _nav(linked)


def _index(collection: Collection, linked: LinkedSite) -> dict[str, Any]:
    crumbs = _crumbs(linked, None, collection)[:1]
    name = collection.name

    def own_timeline() -> str:
        members = [e for e in linked.site.entities.values() if e.collection == name]
        label = gettext("Timeline of the %(pages)s on this site", pages=collection.plural)
        return _cached(linked, f"timeline:{name}", lambda: timeline(linked, members, label))

    return index_context(linked, collection, crumbs, own_timeline)


def _crumbs(
    linked: LinkedSite, entity: Entity | None = None, collection: Collection | None = None
) -> list[Crumb]:
    site = linked.site
    crumbs = [Crumb(gettext("Home"), url_for(site, "/"))]
    if collection is not None and has_index(linked, collection):
        crumbs.append(Crumb(collection.title, url_for(site, index_url(collection))))
    if entity is not None:
        crumbs.append(Crumb(entity.title, url_for(site, entity.url)))
    return crumbs


def _body(linked: LinkedSite, key: str) -> Markup:
    return Markup(body_html(linked, key))


def has_index(linked: LinkedSite, collection: Collection) -> bool:
    """Return whether a collection has an index page: it asks for one and has a page to list."""
    sizes = _cached(linked, "sizes", lambda: _sizes(linked))
    return collection.index and sizes.get(collection.name, 0) > 0


def _sizes(linked: LinkedSite) -> dict[str, int]:
    found: dict[str, int] = {}
    for entity in linked.site.entities.values():
        found[entity.collection] = found.get(entity.collection, 0) + 1
    return found


def _entity(linked: LinkedSite, entity: Entity) -> dict[str, Any]:
    site = linked.site
    collection = site.collections[entity.collection]
    rendered = linked.bodies.get(entity.key)
    beside = asides(linked, entity)
    filters = {g.id: [i.text for i in g.items] for g in beside if g.id != collection.cites}
    before, after = neighbours(linked, entity)
    return {
        "description": entity.summary or site.config.description,
        "og_type": "profile" if "Person" in kinds_of(collection.schema_type) else "article",
        "ties": Markup(ties(linked, entity)) if collection.ties else Markup(""),
        "previous": item_for(linked, before.key, _when(before)) if before else None,
        "next": item_for(linked, after.key, _when(after)) if after else None,
        "filters": {"type": [collection.singular], **filters},
        "title": entity.title,
        "entity": entity,
        "collection": collection,
        "crumbs": _crumbs(linked, entity, collection),
        "body": _body(linked, entity.key),
        "toc": unpacked(rendered.toc) if rendered else (),
        "references": references(linked, entity.key),
        "details": details(linked, entity),
        "relations": relations(linked, entity.key),
        "figures": fact_rows(linked, linked.facts_about.get(entity.key, ())),
        "sheet": fact_rows(linked, tuple((entity.key, f) for f in site.facts.get(entity.key, ()))),
        "asides": beside,
        "own_title": opens_with_heading(entity.doc.body),
        "date_note": date_note(collection, entity),
    }


def _dated(linked: LinkedSite) -> list[Entity]:
    """Return the pages of every collection on the timeline."""
    on = {n for n, c in linked.site.collections.items() if c.timeline}
    return [e for e in linked.site.entities.values() if e.collection in on]


def _home(linked: LinkedSite) -> dict[str, Any]:
    site = linked.site
    events = sorted(
        (e for e in _dated(linked) if e.date and not e.date.undated),
        key=lambda e: (e.date.sort_key() if e.date else (), e.key),
        reverse=True,
    )
    home = next((e for e in site.entities.values() if e.url == "/"), None)
    lists = [
        Group(
            c.title,
            f"home-{n}",
            tuple(item_for(linked, k) for k in sorted(site.entities) if k.startswith(f"{n}/")),
        )
        for n, c in site.collections.items()
        if c.home
    ]
    timelines = [c for c in site.collections.values() if c.timeline]
    # The timeline as a list, oldest first, for screens too narrow for the picture.
    years: dict[int, list[Item]] = {}
    for event in reversed(events):
        if event.date and event.date.year:
            years.setdefault(event.date.year, []).append(item_for(linked, event.key, _when(event)))
    return {
        "timeline": Markup(_timeline(linked)),
        "timeline_years": [Group(str(y), f"year-{y}", tuple(found)) for y, found in years.items()],
        "lead": (home.summary if home else "") or site.config.description,
        "timeline_index": url_for(site, index_url(timelines[0])) if len(timelines) == 1 else "",
        "timeline_name": joined([c.plural for c in timelines]),
        "timeline_single": timelines[0].label if len(timelines) == 1 else gettext("page"),
        "title": home.title if home else site.config.title,
        "crumbs": [],
        "body": _body(linked, home.key) if home else Markup(""),
        "latest": [item_for(linked, e.key, e.date.words() if e.date else "") for e in events[:8]],
        "lists": [g for g in lists if g.items],
    }


def _when(entity: Entity) -> str:
    return entity.date.words() if entity.date else ""


def _time_order(linked: LinkedSite, name: str) -> tuple[list[str], dict[str, int]]:
    """Return a date-sorted collection's keys in time order, and each key's place in it."""
    order = _cached(linked, f"order:{name}", lambda: date_order(linked, name))
    return order, _cached(linked, f"index:{name}", lambda: {k: i for i, k in enumerate(order)})


def warm_views(linked: LinkedSite) -> None:
    """Make the whole-site views that pages read in this process (a whole build's children made
    some only in theirs), so that the next rebuild finds them, or keeps them (carry_views)."""
    page_files(linked)
    views_print(linked)
    for name, collection in linked.site.collections.items():
        if collection.sort == "date":
            _time_order(linked, name)


def neighbours(linked: LinkedSite, entity: Entity) -> tuple[Entity | None, Entity | None]:
    """Return the pages just before and after a page in time, for a collection sorted by date."""
    if linked.site.collections[entity.collection].sort != "date":
        return None, None
    order, index = _time_order(linked, entity.collection)
    i = index[entity.key]
    before = linked.entity(order[i - 1]) if i > 0 else None
    after = linked.entity(order[i + 1]) if i + 1 < len(order) else None
    return before, after


def _feed(collection: Collection, linked: LinkedSite) -> dict[str, Any]:
    """Return the context of an Atom feed of a collection's dated pages, newest first."""
    dated = [
        e
        for e in linked.site.entities.values()
        if e.collection == collection.name and e.date and not e.date.undated
    ]
    dated.sort(key=lambda e: (e.date.sort_key(), e.key), reverse=True)  # type: ignore[union-attr]
    entries = [
        {
            "title": e.title,
            "url": absolute(linked, e.url),
            "updated": _stamp(e),
            "summary": f"{e.date.words()}. {e.summary}".strip(),  # type: ignore[union-attr]
        }
        for e in dated
    ]
    return {
        "title": f"{linked.site.config.title}: {collection.plural}",
        "crumbs": [],
        "collection": collection,
        "home": absolute(linked, "/"),
        "feed_id": absolute(linked, index_url(collection)),
        "self_url": absolute(linked, feed_url(collection)),
        "updated": entries[0]["updated"] if entries else "1970-01-01T00:00:00Z",
        "entries": entries,
    }


def _stamp(entity: Entity) -> str:
    """Return when an entry happened, for a feed: its date, not the build's."""
    point = entity.date.start or entity.date.end  # type: ignore[union-attr]
    assert point is not None
    return f"{point.year:04d}-{point.month or 1:02d}-{point.day or 1:02d}T00:00:00Z"


def _tags(linked: LinkedSite) -> dict[str, Any]:
    items = [tag_item(linked, tag, str(len(keys))) for tag, keys in _tag_pages(linked).values()]
    return {"title": gettext("Tags"), "crumbs": _crumbs(linked)[:1], "tags": items, "tagged": []}


def _tag(tag: str, keys: tuple[str, ...], linked: LinkedSite) -> dict[str, Any]:
    crumbs = [*_crumbs(linked)[:1], Crumb(gettext("Tags"), url_for(linked.site, "/tags/"))]
    tagged = [item_for(linked, e.key) for e in by_name(map(linked.entity, keys), linked.site.config.locale)]
    return {"title": "#" + tag, "crumbs": crumbs, "tags": [], "tagged": tagged}


DATA_URL = "/data/"

# The columns every page table starts with, described as declared fields are; "key" is the page's own.
PAGE_COLUMNS = (
    FieldSpec("key", "key", "Key"),
    FieldSpec("slug", "string", "Slug"),
    FieldSpec("page_url", "url", "Page"),
    FieldSpec("title", "string", "Title"),
    FieldSpec("summary", "text", "Summary"),
)


def page_columns() -> tuple[FieldSpec, ...]:
    """Return the columns every page table starts with, labelled in the edition's language."""
    # The labels as literals, so that the catalogue's extraction finds them.
    labels = {
        "key": gettext("Key"),
        "slug": gettext("Slug"),
        "page_url": gettext("Page"),
        "title": gettext("Title"),
        "summary": gettext("Summary"),
    }
    return tuple(replace(c, label=labels[c.name]) for c in PAGE_COLUMNS)


@dataclass(frozen=True, slots=True)
class DataTable:
    """One table of the data downloads: a collection's pages, or every item of its fact list."""

    collection: Collection
    path: str  # the files' path without their extension
    formats: tuple[str, ...]
    columns: tuple[FieldSpec, ...]
    rows: int
    items: FieldSpec | None = None  # the fact list whose items are the rows; None: one row per page

    @property
    def title(self) -> str:
        """Return the table's heading: the collection's title, or its fact list's label."""
        return self.items.label if self.items else self.collection.title

    @property
    def name(self) -> str:
        """Return the files' name without folder or extension."""
        return self.path.rsplit("/", 1)[-1]


def data_tables(linked: LinkedSite) -> list[DataTable]:
    """Return the tables of the data downloads, each collection with pages followed by its fact list."""
    return _cached(linked, "data_tables", lambda: _data_tables(linked))


def _data_tables(linked: LinkedSite) -> list[DataTable]:
    site = linked.site
    sizes = _cached(linked, "sizes", lambda: _sizes(linked))
    own = {c.name for c in PAGE_COLUMNS} | BUILT_IN  # a draft is never published: no column for it
    tables = []
    for name, collection in site.collections.items():
        if not sizes.get(name):
            continue
        columns = page_columns() + tuple(f for f in collection.fields if f.name not in own)
        tables.append(DataTable(collection, f"data/{name}", ("csv", "json"), columns, sizes[name]))
        spec = collection.field(collection.fact_list) if collection.fact_list else None
        rows = sum(len(f) for k, f in site.facts.items() if linked.entity(k).collection == name)
        if spec is None or not rows:
            continue
        # "all-<list>" reads best; a dot, which no collection or field name has, keeps a clash apart.
        path = f"data/all-{spec.name}"
        if path in {t.path for t in tables} or path.removeprefix("data/") in site.collections:
            path = f"data/{name}.{spec.name}"
        first = (
            FieldSpec("sheet", "ref", collection.singular, to=name),
            FieldSpec("id", "anchor", gettext("Id")),
        )
        columns = first + tuple(f for f in spec.fields if f.name not in {"sheet", "id"})
        tables.append(DataTable(collection, path, ("csv",), columns, rows, spec))
    return tables


def _data(linked: LinkedSite) -> dict[str, Any]:
    crumbs = [*_crumbs(linked)[:1], Crumb(gettext("Data"), url_for(linked.site, DATA_URL))]
    return {
        "title": gettext("Data"),
        "crumbs": crumbs,
        "tables": data_tables(linked),
        "collections": linked.site.collections,
    }


def _sitemap(linked: LinkedSite) -> dict[str, Any]:
    pages = sorted(
        (spec.url, spec.key) for spec in page_specs(linked) if is_page(spec.url) and spec.url != "/404.html"
    )
    locations = [absolute(linked, url) for url, _ in pages]
    alternates_of: dict[str, list[dict[str, Any]]] = {}
    if "editions" in linked.memo:  # every language's pages, each with its alternates
        locations = []
        for url, key in pages:
            spec = PageSpec("", url, key, _not_found)
            found = _in_languages(linked, spec)
            mine = [a["url"] for a in found["alternates"]] or [absolute(linked, url)]
            locations += mine
            for address in mine:
                alternates_of[address] = found["alternates"]
    return {"title": "sitemap", "crumbs": [], "locations": locations, "alternates_of": alternates_of}


def carry_views(old: LinkedSite, new: LinkedSite) -> None:
    """Give new the whole-site views of old that read nothing that changed: each collection's
    size and date order, the tags, the page list and its hashes (a rebuild in serve made them
    again for every save)."""
    before, after = old.site, new.site
    if before.entities.keys() != after.entities.keys() or before.collections != after.collections:
        return
    changed = changed_keys(before.entities, after.entities) | changed_keys(old.bodies, new.bodies)
    names = ["sizes"]  # which pages each collection has: the same keys
    if all(before.entities[k].date == after.entities[k].date for k in changed):
        names += [n for n in old.memo if n.startswith(("order:", "index:"))]
    if all(tags_of(old, k) == tags_of(new, k) for k in changed):
        names.append("tag_pages")
        # Every page's address and the tags, hashed: an address follows from its page's key and
        # collection, and the site's own pages from the settings.
        if before.config == after.config:
            # The page list, and what listing it found, with them.
            names += ["views_print", "page_files", "page_specs", "collisions", "notices"]
    for name in names:
        if name in old.memo and name not in new.memo:
            new.memo[name] = old.memo[name]


def _cached(linked: LinkedSite, name: str, make: Callable[[], Any]) -> Any:
    # Whole-site views (page list, date order, timelines) are made once per linked site and
    # kept with it: a new site starts with none, so no view of an older site is ever served.
    memo = linked.memo
    if name not in memo:
        memo[name] = make()
    return memo[name]


def _timeline(linked: LinkedSite) -> str:
    names = joined([c.plural for c in linked.site.collections.values() if c.timeline])
    label = gettext("Timeline of the %(pages)s on this site", pages=names)
    return _cached(linked, "timeline", lambda: timeline(linked, _dated(linked), label))
