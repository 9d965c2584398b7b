"""Markdown and page rendering shared out among this process and forked children (which share the
site, unpickled): each takes the next piece of the work not yet taken until none is left."""

from __future__ import annotations

import mmap
import os
import pickle
import struct
from collections.abc import Callable, Sequence
from typing import TypeVar

from . import forking
from .errors import Problem
from .forking import WorkerFailed
from .link import BodyJob, RenderMany, render_serially
from .mdlinks import LinkTable, Rendered
from .render import Output, PageSpec, RenderPages, page_specs, render_site
from .write import Staging

SERIAL_BELOW = 48  # fewer pages than this are quicker to do than to hand out
# Some of the pages only (a rebuild): each child would first load the templates and make the
# site-wide views again, which a page's own share of the work repays only for many pages (91 pages
# of a title changed at 10k: 0.22 s here, 0.32 s in two workers).
SOME_SERIAL_BELOW = 300

T = TypeVar("T")
Progress = Callable[[str, int, int], None] | None


class _Counter:
    """The next piece to take, in memory every process sharing the work sees, behind a lock."""

    def __init__(self) -> None:
        import multiprocessing  # here: a rebuild of a few pages shares nothing, and would only load it

        self._memory = mmap.mmap(-1, 8)
        self._lock = multiprocessing.get_context("fork").Lock()

    def take(self) -> int:
        """Return the next piece's index, counting this one as taken."""
        with self._lock:
            (taken,) = struct.unpack_from("<q", self._memory)
            struct.pack_into("<q", self._memory, 0, taken + 1)
        return taken


def share(
    jobs: int,
    count: int,
    do: Callable[[int], T],
    first: Callable[[], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[T]:
    """Return do(i) for every i below count, done by this process and jobs - 1 forked children.

    Each process takes the next index not yet taken, so that all end together. This one does
    first's work, if any, before it takes its own share, and reports each piece it ends to
    progress with how many are taken.
    """
    counter = _Counter()

    def drain() -> list[tuple[int, T]]:
        done = []
        while (i := counter.take()) < count:
            done.append((i, do(i)))
            if progress is not None and os.getpid() == parent:
                progress(min(i + 1, count))
        return done

    def child(end: int) -> bool:
        answer: tuple[list[tuple[int, T]], BaseException | None]
        try:
            answer = (drain(), None)
        except Exception as error:  # raised again by this process, as if its own (a full disk, say)
            answer = ([], error)
        try:
            data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an error that cannot be pickled: said in words
            data = pickle.dumps(([], WorkerFailed(repr(answer[1]))))
        forking.write_all(end, data)
        return True

    parent = os.getpid()
    # No more children than pieces of work beside this process's own.
    children = [c for c in (forking.fork(child) for _ in range(min(jobs, count) - 1)) if c is not None]
    try:
        if first is not None:
            first()
        results = drain()
        while children:
            data, ended_well = forking.answer(children.pop())
            if not ended_well:
                raise WorkerFailed("a process sharing the build ended without its part (killed?)")
            theirs, error = pickle.loads(data)
            if error is not None:
                raise error
            results += theirs
    finally:
        for c in children:  # this process failed, or was interrupted, before their answers
            forking.end(c)
    results.sort(key=lambda r: r[0])
    return [result for _, result in results]


def markdown_renderer(jobs: int, progress: Progress = None) -> RenderMany:
    """Return a RenderMany that uses jobs processes for large batches."""

    def render_many(batch: list[BodyJob], table: LinkTable) -> list[Rendered]:
        if jobs <= 1 or len(batch) < SERIAL_BELOW:
            return render_serially(batch, table)
        # Small chunks, so that the other cores do not wait long for the last (a 32nd of the
        # bodies took 0.3 s at 10,000); but not below 32 bodies, whose handing out costs more.
        step = max(32, len(batch) // (jobs * 64))
        chunks = [(i, min(i + step, len(batch))) for i in range(0, len(batch), step)]

        def chunk(i: int) -> list[Rendered]:
            start, end = chunks[i]
            return render_serially(batch[start:end], table)

        def told(taken: int) -> None:
            if progress is not None:
                progress("Markdown", min(taken * step, len(batch)), len(batch))

        parts = share(jobs, len(chunks), chunk, progress=told)
        return [rendered for part in parts for rendered in part]

    return render_many


def _shards(pages: Sequence[PageSpec], count: int) -> list[Sequence[PageSpec]]:
    """Return the pages in count shards: every count-th, from the first, the second, and so on.

    The few long pages (the home page, the indexes) come first, so in different shards, taken first.
    """
    return [pages[i::count] for i in range(count)]


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
    meanwhile's work, if given, first)."""

    def render_pages(linked, env, shown, only=None, sink: Staging | None = None, meanwhile=None):  # type: ignore[no-untyped-def]
        if jobs <= 1 or len(linked.site.entities) < SERIAL_BELOW:
            return render_serially_into(linked, env, shown, only, sink, meanwhile)
        pages = [spec for spec in page_specs(linked) if only is None or only(spec)]
        if only is not None and len(pages) < SOME_SERIAL_BELOW:
            return render_serially_into(linked, env, shown, only, sink, meanwhile)
        # Many small shards: while the last one renders, the other cores wait (with 16 shards
        # of 625 pages at 10,000 pages, a quarter of a second).
        shards = _shards(pages, jobs * 32)

        def shard(i: int) -> tuple[list[Output], list[Problem], int]:
            outputs, problems = render_site(linked, env, shown, specs=shards[i])
            if sink is None or any(not p.warning for p in problems):  # a warning still writes its pages
                return outputs, problems, len(outputs)
            # Written by the process that made them: the pages never travel to this one.
            return [], problems, sink.put_all(outputs)

        def told(taken: int) -> None:
            if progress is not None:
                progress("rendering", taken, len(shards))

        parts = share(jobs, len(shards), shard, first=meanwhile, progress=told)
        outputs = sorted((o for part, _, _ in parts for o in part), key=lambda o: o.path)
        problems = sorted({p for _, found, _ in parts for p in found})
        return outputs, problems, sum(n for _, _, n in parts)

    return render_pages
