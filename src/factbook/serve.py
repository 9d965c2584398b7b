"""factbook serve: build, serve the output on loopback, watch the sources, rebuild and reload.

The livereload package gives the server its reload protocol (its WebSocket handler). Its own
watcher is not used: it polls every 800 ms on the server's event loop, runs rebuilds there (so
serving stalls), and drops a reload that comes within 3 s of the one before. Here watchdog
reports changes at once, a worker thread rebuilds off the event loop, and every finished
rebuild reaches the browser.
"""

from __future__ import annotations

import errno
import gc
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
import webbrowser
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from livereload.handlers import LiveReloadHandler
from tornado import ioloop, web
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from .build import Options, builder_for, publish
from .link import render_serially
from .parallel import render_serially_into
from .search import SearchError, index_site
from .theme import theme_dirs
from .write import static_files, write_changes

WATCHED = {"content", "templates", "static"}
CLIENT = "/__factbook__/live.js"
SCRIPT = f'<script src="{CLIENT}" defer></script>'.encode()
NOT_BUILT = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not built yet</title>'
    + SCRIPT
    + b"</head><body><h1>Not built yet</h1>"
    + b"<p>The site has not built yet; the problems show above.</p></body></html>"
)
DEBOUNCE = 0.04  # seconds of quiet after the last event of a burst (an editor's temp file and rename)


class PortInUse(OSError):
    """Raised when the port to serve on is taken."""


def _ignored(path: str) -> bool:
    name = os.path.basename(path)
    return name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp")) or "/." in path


class Preview:
    """The live preview of one site: the last good build, the current problems, the watchers."""

    def __init__(self, options: Options, output: Path) -> None:
        self.options = replace(options, base_url=options.base_url or "/")
        self.output = output
        self.builder = builder_for(self.options)
        self.problems: list[str] = []
        self.loop: ioloop.IOLoop | None = None
        self.rebuilds = 0
        self._changes: set[str] = set()
        self._last_event = 0.0
        self._wake = threading.Condition()
        self._stopping = False
        self.log = print
        self._index_wanted = threading.Event()
        self.indexed = 0  # search indexes made, for the tests' sake

    def run_indexer(self) -> None:
        """Index the served site for search after each good build, off the rebuild's path.

        Pagefind reads the whole folder in a process of its own; saves made while it runs are
        indexed once it is done, in one more run.
        """
        while True:
            self._index_wanted.wait()
            if self._stopping:
                return
            self._index_wanted.clear()
            started = time.perf_counter()
            try:
                index_site(self.output, swap=True)
            except SearchError as error:
                self.log(f"search index not updated: {error}")
                continue
            self.indexed += 1
            self.log(f"search index updated in {(time.perf_counter() - started) * 1000:.0f} ms")

    def first_build(self) -> None:
        """Build the whole site once into the served folder (errors go to the overlay)."""
        update = self.builder.update()
        publish(replace(update, full=True), self.output, self.options.root)
        self._report(update.report.problems, update.report.failed(self.options.strict))
        if self.options.search:
            self._index_wanted.set()
        # Rebuilds run on a thread beside the server's and the watcher's: a process forked from
        # there may inherit a lock held by another thread, so they render in this process.
        self.builder.render_many = render_serially
        self.builder.render_pages = render_serially_into
        gc.freeze()

    def changed(self, path: str) -> None:
        """Note that a watched file changed; the worker rebuilds once the burst is over."""
        relative = os.path.relpath(path, self.options.root.resolve())
        top = relative.split(os.sep)[0]
        # In a vault (no content/ folder) every note and attachment is a source.
        vault = not (self.options.root / "content").is_dir()
        if _ignored(path) or top.startswith("..") or (top not in WATCHED and not vault):
            return
        with self._wake:
            self._changes.add(path)
            self._last_event = time.monotonic()
            self._wake.notify()

    def stop(self) -> None:
        """Ask the worker to finish."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._index_wanted.set()

    def run_worker(self) -> None:
        """Rebuild after each burst of changes until stopped (runs in its own thread)."""
        while True:
            with self._wake:
                while not self._changes and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                while time.monotonic() - self._last_event < DEBOUNCE:
                    self._wake.wait(DEBOUNCE)
                changes, self._changes = self._changes, set()
            try:
                self.rebuild(changes)
            except Exception as error:  # a bug of ours must not kill the preview
                self._report([f"factbook: internal error while rebuilding: {error!r}"], True)

    def rebuild(self, changes: set[str]) -> None:
        """Rebuild for the changed paths, update the served folder, and tell the browsers."""
        started = time.perf_counter()
        root = str(self.options.root.resolve())
        static = [str(d.resolve()) for d in theme_dirs(self.options.root, "static")]
        in_static = {c for c in changes if any(c.startswith(s + os.sep) for s in static)}
        assets = static_files(theme_dirs(self.options.root, "static"))
        if in_static == changes:
            write_changes(self.output, [], [], assets)
            css = sorted(c for c in changes if c.endswith(".css"))
            path = "/" + Path(css[0]).name if css and len(css) == len(changes) else "*"
            self._send({"command": "reload", "path": path, "liveCSS": path != "*"})
            self.log(f"assets changed: {', '.join(os.path.relpath(c, root) for c in sorted(changes))}")
            return
        update = self.builder.update()
        failed = update.report.failed(self.options.strict)
        if not failed:
            publish(update, self.output, self.options.root, assets_changed=bool(in_static))
        self.rebuilds += 1
        seconds = time.perf_counter() - started
        self.log(
            f"rebuilt {len(update.pages)} pages in {seconds * 1000:.0f} ms" if not failed else "build failed"
        )
        self._report(update.report.problems, failed)
        if not failed:
            self._send({"command": "reload", "path": "*", "liveCSS": False})
            if self.options.search:
                self._index_wanted.set()
        # After the browsers are told: a full collection of a big site's objects takes longer
        # than a rebuild, so keep the cyclic collector off what has been built so far.
        gc.freeze()

    def _report(self, problems: Any, failed: bool) -> None:
        shown = [str(p) for p in problems] if failed else []
        for line in (str(p) for p in problems):
            self.log(line)
        self.problems = shown
        self._send({"command": "factbook-problems", "problems": shown})

    def _send(self, message: dict[str, Any]) -> None:
        if self.loop is not None:
            self.loop.add_callback(broadcast, message)


def broadcast(message: dict[str, Any]) -> None:
    """Send a message to every connected browser (on the event loop)."""
    for waiter in list(LiveReloadHandler.waiters):
        try:
            waiter.write_message(json.dumps(message))
        except Exception:  # a closed tab; the handler forgets it on close
            LiveReloadHandler.waiters.discard(waiter)


class _LiveHandler(LiveReloadHandler):
    preview: Preview

    def on_message(self, message: str | bytes) -> None:
        super().on_message(message)
        # A page opened while the build is broken shows the overlay at once.
        if json.loads(message).get("command") == "info":
            self.write_message(
                json.dumps({"command": "factbook-problems", "problems": self.preview.problems})
            )


class _ClientHandler(web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.write(resources.files("factbook").joinpath("live.js").read_bytes())


class _SiteHandler(web.StaticFileHandler):
    """Serves files under the output folder only, with the live client in every page."""

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        real_root = os.path.realpath(root)
        real = os.path.realpath(absolute_path)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise web.HTTPError(403, "outside the site")
        return super().validate_absolute_path(root, absolute_path)

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-store")

    # The bytes a request's Content-Length was taken from. A rebuild may replace the file between
    # Tornado asking its size and reading it; the one read serves both. The event loop runs one
    # request's size and content with nothing between them, so one slot is enough.
    _read_for: tuple[str, bytes] = ("", b"")

    @classmethod
    def _read(cls, abspath: str) -> bytes:
        data = Path(abspath).read_bytes()
        if abspath.endswith(".html"):
            data = data.replace(b"</head>", SCRIPT + b"</head>", 1)
        return data

    @classmethod
    def get_content(cls, abspath: str, start: int | None = None, end: int | None = None):  # type: ignore[override]
        path, data = cls._read_for
        cls._read_for = ("", b"")
        return (data if path == abspath else cls._read(abspath))[start:end]

    def get_content_size(self) -> int:
        data = self._read(self.absolute_path)
        type(self)._read_for = (self.absolute_path, data)
        return len(data)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        missing = Path(self.root) / "404.html"
        if status_code == 404 and missing.is_file():
            self.write(self.get_content(str(missing)))
        elif status_code == 404:
            # Nothing built yet (the first build failed): a page that still carries the live
            # client, so the overlay shows the problems and the page reloads once they are fixed.
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.write(NOT_BUILT)
        else:
            self.write(f"{status_code}: {self._reason}")


def make_app(preview: Preview) -> web.Application:
    """Return the web application: the live protocol, the client script, the site."""
    live = type("LiveHandler", (_LiveHandler,), {"preview": preview})
    return web.Application(
        [
            (r"/livereload", live),
            (CLIENT, _ClientHandler),
            (r"/(.*)", _SiteHandler, {"path": str(preview.output), "default_filename": "index.html"}),
        ]
    )


class _Events(FileSystemEventHandler):
    def __init__(self, preview: Preview) -> None:
        self.preview = preview

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in {"opened", "closed_no_write"}:
            return
        if event.is_directory and event.event_type in {"created", "modified"}:
            return  # the files inside report themselves
        for path in (event.src_path, getattr(event, "dest_path", "")):
            if path:
                self.preview.changed(os.fsdecode(path))


def serve(options: Options, host: str, port: int, open_browser: bool, log=print) -> None:  # type: ignore[no-untyped-def]
    """Build, serve and watch until interrupted; raise PortInUse if the port is taken."""
    output = Path(tempfile.mkdtemp(prefix="factbook-serve-")) / "site"
    # The preview is published at this server: its feeds and sitemap name it.
    preview = Preview(replace(options, base_url=options.base_url or f"http://{host}:{port}/"), output)
    preview.log = log
    loop = ioloop.IOLoop.current()
    preview.loop = loop
    logging.getLogger("tornado.access").setLevel(logging.ERROR)
    server = None
    observer = Observer()
    try:
        try:
            server = make_app(preview).listen(port, address=host)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(f"port {port} on {host} is in use; choose another with --port") from error
            raise
        preview.first_build()
        # The whole site folder, so that a templates/ or static/ made later is seen too.
        observer.schedule(_Events(preview), str(options.root.resolve()), recursive=True)
        observer.start()
        worker = threading.Thread(target=preview.run_worker, name="factbook-rebuild", daemon=True)
        worker.start()
        indexer = threading.Thread(target=preview.run_indexer, name="factbook-search", daemon=True)
        indexer.start()
        url = f"http://{host}:{port}/"
        log(f"serving {options.root.resolve()} at {url} from {output} (Ctrl-C to stop)")
        signal.signal(signal.SIGTERM, lambda *_: loop.add_callback_from_signal(loop.stop))
        if open_browser:
            webbrowser.open(url)
        loop.start()
    except KeyboardInterrupt:
        log("stopped")
    finally:
        preview.stop()
        if observer.is_alive():
            observer.stop()
            observer.join(timeout=5)
        if server is not None:
            server.stop()
        shutil.rmtree(output.parent, ignore_errors=True)
