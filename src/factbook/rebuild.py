"""serve's builds, in a process of their own: a build that hangs or overruns can be ended whole.

The serving process has threads (the event loop's, the watcher's, the rebuild's), and a process
forked from a threaded one may inherit a lock another thread held, and wait on it forever. So the
builder is started with exec (never a bare fork), in a session of its own that is ended with all
its children; it forks its own render workers only while it has no other thread.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .build import Options, builder_for, publish
from .link import render_serially
from .mdlinks import warm_renderer
from .parallel import render_serially_into
from .render import check_templates, warm_views
from .theme import theme_dirs
from .write import static_files, write_changes

SETTLE_AFTER = 1.0  # seconds without a request before what a build left is collected
SETTLE_EVERY = 3  # builds in a row after which it is collected all the same


class BuildTimeout(Exception):
    """Raised when a build takes longer than it may."""


class BuilderGone(Exception):
    """Raised when the builder process ended without answering."""


@dataclass(frozen=True, slots=True)
class Result:
    """What one build did, for the serving process to log and tell the browsers."""

    log: tuple[str, ...]
    problems: tuple[str, ...] | None  # shown in the overlay; None leaves the overlay as it is
    reload: dict[str, Any] | None  # the livereload message, when the browsers should reload
    built: bool = False  # pages were built (counted in Preview.rebuilds)
    crashed: str = ""  # our bug's traceback: the builder has ended and the next save starts anew


class Rebuilder:
    """Builds one site into the served folder: all of it first, then what each save changed."""

    def __init__(self, options: Options, output: Path) -> None:
        self.options = options
        self.output = output
        self.builder = builder_for(options)
        self.first = True

    def build(self, changes: set[str] | None) -> Result:
        """Return what building for the changed paths did (None or the first call: the whole site)."""
        if self.first:
            return self._first()
        assert changes is not None
        root = str(self.options.root.resolve())
        static = [str(d.resolve()) for d in theme_dirs(self.options.root, "static")]
        in_static = {c for c in changes if any(c.startswith(s + os.sep) for s in static)}
        assets = static_files(theme_dirs(self.options.root, "static"))
        if in_static == changes:
            write_changes(self.output, [], [], assets)
            css = sorted(c for c in changes if c.endswith(".css"))
            path = "/" + Path(css[0]).name if css and len(css) == len(changes) else "*"
            names = ", ".join(os.path.relpath(c, root) for c in sorted(changes))
            return Result(
                (f"assets changed: {names}",),
                None,
                {"command": "reload", "path": path, "liveCSS": path != "*"},
            )
        started = time.perf_counter()
        update = self.builder.update(changed=changes)
        failed = update.report.failed(self.options.strict)
        if not failed:
            publish(update, self.output, self.options.root, assets_changed=bool(in_static))
        seconds = time.perf_counter() - started
        done = (
            f"rebuilt {len(update.pages)} pages in {seconds * 1000:.0f} ms" if not failed else "build failed"
        )
        return self._result(update.report.problems, failed, done)

    @staticmethod
    def settle() -> None:
        """Collect what the last rebuild left, then keep the cyclic collector off all there is.

        A full collection of a big site's objects takes longer than a rebuild, so what has been
        built so far is frozen; this pass covers only the objects made since the last freeze.
        Without it, the cycles that rendering makes (Jinja's contexts) would be frozen, and
        kept, after every save. Called once the answer is sent: off the save's path.
        """
        gc.collect()
        gc.freeze()

    def _first(self) -> Result:
        update = self.builder.update()
        publish(replace(update, full=True), self.output, self.options.root)
        failed = update.report.failed(self.options.strict)
        self.first = False
        # The few pages a save touches are quicker to render here than to hand out to workers.
        self.builder.render_many = render_serially
        self.builder.render_pages = render_serially_into
        # The first build's children compiled templates this process may not have used in its
        # share of the pages: compiled now, not at the first save (a tenth of a second and more).
        check_templates(self.builder.env, str)
        # So are the Markdown renderer and the views of the whole site: the first save took
        # twice as long as the next.
        if update.linked is not None:
            warm_renderer(update.linked.table)
            warm_views(update.linked)
        gc.freeze()
        return self._result(update.report.problems, failed, "")

    @staticmethod
    def _result(problems: Any, failed: bool, done: str) -> Result:
        lines = (done, *map(str, problems)) if done else tuple(map(str, problems))
        reload = None if failed else {"command": "reload", "path": "*", "liveCSS": False}
        return Result(lines, tuple(map(str, problems)) if failed else (), reload, built=bool(done))


def main(requests_fd: int, replies_fd: int) -> None:
    """Build on each request from the serving process until it closes the pipe (the builder's main)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the serving process ends this one, with its children
    # No collector passes during a build (they walk the heap of a big site again and again):
    # Rebuilder.settle collects what each build left, once it has answered.
    gc.disable()
    requests = Connection(requests_fd, writable=False)
    replies = Connection(replies_fd, readable=False)
    try:
        options, output = requests.recv()
        site = Rebuilder(options, Path(output))
        unsettled = 0  # builds since the last settle()
        while True:
            changes = requests.recv()
            try:
                result = site.build(changes)
            except Exception as error:  # a bug of ours: report it, and let the next save start anew
                message = f"factbook: internal error while building: {error!r}"
                replies.send(Result((message,), (message,), None, crashed=traceback.format_exc()))
                return
            replies.send(result)
            unsettled += 1
            # The browsers reload as the answer comes: a collection then would take the CPU from
            # them. It waits for a quiet moment, or for a few saves that came one on another.
            if unsettled >= SETTLE_EVERY or not requests.poll(SETTLE_AFTER):
                site.settle()
                unsettled = 0
    except (EOFError, BrokenPipeError):  # the serving process has gone
        return


class BuilderProcess:
    """A builder process for one site and served folder, and the pipes to it."""

    def __init__(self, options: Options, output: Path) -> None:
        requests_read, requests_write = os.pipe()
        replies_read, replies_write = os.pipe()
        package = str(Path(__file__).resolve().parents[1])
        code = (
            f"import sys; sys.path.insert(0, {package!r}); "
            "from factbook.rebuild import main; main(*map(int, sys.argv[1:]))"
        )
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, str(requests_read), str(replies_write)],
                pass_fds=(requests_read, replies_write),
                stdin=subprocess.DEVNULL,
                # A group of its own: ended with its render workers; the terminal's Ctrl-C is ours.
                start_new_session=True,
            )
        finally:
            os.close(requests_read)
            os.close(replies_write)
        self.requests = Connection(requests_write, readable=False)
        self.replies = Connection(replies_read, writable=False)
        self.requests.send((replace(options, progress=None), str(output)))

    @property
    def pid(self) -> int:
        """Return the builder's process id."""
        return self.process.pid

    def build(self, changes: set[str] | None, timeout: float) -> Result:
        """Return the result of building for the changes; raise BuildTimeout or BuilderGone."""
        try:
            self.requests.send(changes)
            if not self.replies.poll(timeout):
                raise BuildTimeout
            return self.replies.recv()
        except (EOFError, OSError) as error:
            raise BuilderGone(f"exit code {self.process.poll()}") from error

    def end(self) -> None:
        """End the builder and every process it started, and wait for it."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.kill()
        self.process.wait()
        self.requests.close()
        self.replies.close()
