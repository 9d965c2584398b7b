"""Markdown and page rendering spread over worker processes (forked, so they share the site)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import Problem
from .link import BodyJob, RenderMany, render_serially
from .mdlinks import LinkTable, Rendered
from .render import Output, PageSpec, RenderPages, page_specs, render_site
from .write import Staging

SERIAL_BELOW = 48  # fewer pages than this are quicker to do than to hand out
# Some of the pages only (a rebuild): each worker would first load the templates and make the
# site-wide views again, which a page's own share of the work repays only for many pages (91 pages
# of a title changed at 10k: 0.22 s here, 0.32 s in two workers).
SOME_SERIAL_BELOW = 300
# Set in each worker process only, when it starts: what it works on. Forked workers receive it
# as the initializer's argument, in memory, never pickled.
_WORK: dict[str, Any] = {}


def _adopt(work: dict[str, Any]) -> None:
    _WORK.update(work)


def _pool(jobs: int, work: dict[str, Any]):  # type: ignore[no-untyped-def]
    import multiprocessing  # here: a rebuild of a few pages uses no pool, and would only load it

    return multiprocessing.get_context("fork").Pool(jobs, initializer=_adopt, initargs=(work,))


def _markdown_chunk(bounds: tuple[int, int]) -> list[Rendered]:
    start, end = bounds
    return render_serially(_WORK["jobs"][start:end], _WORK["table"])


Progress = Callable[[str, int, int], None] | None


def markdown_renderer(jobs: int, progress: Progress = None) -> RenderMany:
    """Return a RenderMany that uses jobs processes for large batches."""

    def render_many(batch: list[BodyJob], table: LinkTable) -> list[Rendered]:
        if jobs <= 1 or len(batch) < SERIAL_BELOW:
            return render_serially(batch, table)
        # Small chunks, so that the other cores do not wait long for the last (a 32nd of the
        # bodies took 0.3 s at 10,000); but not below 32 bodies, whose handing out costs more.
        step = max(32, len(batch) // (jobs * 64))
        chunks = [(i, min(i + step, len(batch))) for i in range(0, len(batch), step)]
        parts = []
        with _pool(jobs, {"jobs": batch, "table": table}) as pool:
            for part in pool.imap(_markdown_chunk, chunks):
                parts.append(part)
                if progress is not None:
                    progress("Markdown", sum(len(p) for p in parts), len(batch))
        return [rendered for part in parts for rendered in part]

    return render_many


def _shard(shard: int) -> list[PageSpec]:
    """Return the pages of a shard: every count-th of those to render, from the shard-th on.

    Each worker makes the same shards, once, from the same pages in the same order: the few
    long pages (the home page, the indexes) come first, in different shards, handed out first.
    """
    shards: list[list[PageSpec]] | None = _WORK.get("shards")
    if shards is None:
        only, count = _WORK["only"], _WORK["count"]
        pages = [spec for spec in page_specs(_WORK["linked"]) if only is None or only(spec)]
        shards = _WORK["shards"] = [pages[i::count] for i in range(count)]
    return shards[shard]


def _pages_shard(shard: int) -> tuple[list[Output], list[Problem], int]:
    linked, env, shown, sink = (_WORK[k] for k in ("linked", "env", "shown", "sink"))
    outputs, problems = render_site(linked, env, shown, specs=_shard(shard))
    if sink is None or any(not p.warning for p in problems):  # a warning still writes its pages
        return outputs, problems, len(outputs)
    # Written here, in the worker: the pages never travel back to the parent process.
    return [], problems, sink.put_all(outputs)


def render_serially_into(linked, env, shown, only=None, sink: Staging | None = None, meanwhile=None):  # type: ignore[no-untyped-def]
    """Return the pages (or, with a sink, put them there) and the problems, in this process
    (and do meanwhile's work, if given, first)."""
    if meanwhile is not None:
        meanwhile()
    outputs, problems = render_site(linked, env, shown, only)
    if sink is None or any(not p.warning for p in problems):  # a warning still writes its pages
        return outputs, problems, len(outputs)
    return [], problems, sink.put_all(outputs)


def page_renderer(jobs: int, progress: Progress = None) -> RenderPages:
    """Return a RenderPages that shares many pages out among jobs processes (this one doing
    meanwhile's work, if given, as they render)."""

    def render_pages(linked, env, shown, only=None, sink: Staging | None = None, meanwhile=None):  # type: ignore[no-untyped-def]
        if jobs <= 1 or len(linked.site.entities) < SERIAL_BELOW:
            return render_serially_into(linked, env, shown, only, sink, meanwhile)
        if only is not None and sum(1 for spec in page_specs(linked) if only(spec)) < SOME_SERIAL_BELOW:
            return render_serially_into(linked, env, shown, only, sink, meanwhile)
        # Many small shards: while the last one renders, the other cores wait (with 16 shards
        # of 625 pages at 10,000 pages, a quarter of a second).
        count = jobs * 32
        work = {"linked": linked, "env": env, "shown": shown, "only": only, "count": count, "sink": sink}
        parts = []
        with _pool(jobs, work) as pool:
            shards = pool.imap_unordered(_pages_shard, range(count))  # handed out from now on
            if meanwhile is not None:
                meanwhile()
            for part in shards:
                parts.append(part)
                if progress is not None:
                    progress("rendering", len(parts), count)
        outputs = sorted((o for part, _, _ in parts for o in part), key=lambda o: o.path)
        problems = sorted({p for _, found, _ in parts for p in found})
        return outputs, problems, sum(n for _, _, n in parts)

    return render_pages
