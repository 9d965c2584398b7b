"""factbook serve: build, serve the output on loopback, watch the sources, rebuild and reload.

The livereload package gives the server its reload protocol (its WebSocket handler). Its own
watcher is not used: it polls every 800 ms on the server's event loop, runs rebuilds there (so
serving stalls), and drops a reload that comes within 3 s of the one before. Here watchdog
reports changes at once, a worker thread hands each burst to a builder process (rebuild.py) off
the event loop, and every finished rebuild reaches the browser. Only pages of the preview itself
(by Host and Origin) are answered, so a web page cannot read drafts through DNS rebinding.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import webbrowser
from collections.abc import Callable, Iterable
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from livereload.handlers import LiveReloadHandler
from tornado import httpserver, ioloop, netutil, web
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from .build import Options
from .rebuild import BuilderGone, BuilderProcess, BuildTimeout
from .search import SearchError, index_site

WATCHED = {"content", "templates", "static", "locales"}  # locales: a site's own interface words
CLIENT = "/__factbook__/live.js"
SCRIPT = f'<script src="{CLIENT}" defer></script>'.encode()
NOT_BUILT = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not built yet</title>'
    + SCRIPT
    + b"</head><body><h1>Not built yet</h1>"
    + b"<p>The site has not built yet; the problems show above.</p></body></html>"
)
REBUILD_TIMEOUT = 120.0  # seconds a build may take before it is ended and reported
INDEX_AFTER = 0.25  # seconds after a build before the search index is made again
DEBOUNCE = 0.04  # seconds of quiet after the last event of a burst (an editor's temp file and rename)


class PortInUse(OSError):
    """Raised when the port to serve on is taken."""


def _ignored(path: str) -> bool:
    name = os.path.basename(path)
    return name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp")) or "/." in path


class Preview:
    """The live preview of one site: its builder process, the current problems, the watchers."""

    def __init__(self, options: Options, output: Path, timeout: float = REBUILD_TIMEOUT) -> None:
        self.options = replace(options, base_url=options.base_url or "/")
        self.output = output
        self.timeout = timeout
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
        self.builder: Any = None  # a BuilderProcess, or what start_builder returns
        self.start_builder: Callable[[], Any] = lambda: BuilderProcess(self.options, self.output)
        self._indexing: subprocess.Popen[str] | None = None

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
            # The browsers reload as the build ends, and Pagefind starting then slowed their
            # first paint by a fifth: it waits for a moment without builds.
            if self._index_wanted.wait(INDEX_AFTER):
                continue  # another build came, or the end
            started = time.perf_counter()
            try:
                index_site(self.output, swap=True, started=self._indexer_started)
            except (SearchError, OSError) as error:
                if not self._stopping:
                    self.log(f"search index not updated: {error}")
                continue
            self.indexed += 1
            self.log(f"search index updated in {(time.perf_counter() - started) * 1000:.0f} ms")

    def _indexer_started(self, process: subprocess.Popen[bytes]) -> None:
        self._indexing = process
        idle(process.pid)
        if self._stopping:
            _end_group(process.pid)

    def first_build(self) -> None:
        """Build the whole site once into the served folder (errors go to the overlay)."""
        self._build(None)

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
        """Stop building and indexing: end the builder, Pagefind, and their children."""
        with self._wake:
            self._stopping = True
            builder, self.builder = self.builder, None
            self._wake.notify()
        self._index_wanted.set()
        if builder is not None:
            builder.end()
        if self._indexing is not None:
            _end_group(self._indexing.pid)

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
            self._build(changes)

    def _build(self, changes: set[str] | None) -> None:
        """Build for the changes in the builder process (a fresh one builds the whole site)."""
        with self._wake:
            if self._stopping:
                return
            if self.builder is None:
                self.builder = self.start_builder()
                changes = None
            builder = self.builder
        try:
            result = builder.build(changes, self.timeout)
        except (BuildTimeout, BuilderGone) as error:
            if self._stopping:
                return
            self._discard(builder)
            why = (
                f"the build took longer than {self.timeout:g} s and was stopped"
                if isinstance(error, BuildTimeout)
                else f"the build process ended unexpectedly ({error})"
            )
            self._report([f"factbook: {why}; the next save starts a fresh build"], True)
            return
        if result.crashed:
            self.log(result.crashed.rstrip())
            self._discard(builder)
        for line in result.log:
            self.log(line)
        if result.built:
            self.rebuilds += 1
        if result.problems is not None:
            self.problems = list(result.problems)
            self._send({"command": "factbook-problems", "problems": self.problems})
        if result.reload is not None:
            self._send(result.reload)
            if self.options.search and result.problems is not None:
                self._index_wanted.set()

    def _discard(self, builder: Any) -> None:
        with self._wake:
            if self.builder is builder:
                self.builder = None
        builder.end()

    def _report(self, problems: list[str], failed: bool) -> None:
        for line in problems:
            self.log(line)
        self.problems = problems if failed else []
        self._send({"command": "factbook-problems", "problems": self.problems})

    def _send(self, message: dict[str, Any]) -> None:
        if self.loop is not None:
            self.loop.add_callback(broadcast, message)


def idle(pid: int) -> None:
    """Have a process (and the processes it starts) run only when nothing else wants the CPU.

    Pagefind indexes the whole site after every save, on every core: at normal priority it took
    the CPU from the browser reloading the page, and from the next rebuild.
    """
    try:
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux: the lowest nice value instead
        try:
            os.setpriority(os.PRIO_PROCESS, pid, 19)
        except (AttributeError, OSError):
            pass


def _end_group(pid: int) -> None:
    """End a process started in a session of its own, with every process in it."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def broadcast(message: dict[str, Any]) -> None:
    """Send a message to every connected browser (on the event loop)."""
    for waiter in list(LiveReloadHandler.waiters):
        try:
            waiter.write_message(json.dumps(message))
        except Exception:  # a closed tab; the handler forgets it on close
            LiveReloadHandler.waiters.discard(waiter)


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def allowed_hosts(host: str, names: Iterable[str] = ()) -> frozenset[str]:
    """Return the host names the preview answers to: the loopback names, its address, the names given."""
    return LOOPBACK | {_host_name(n) for n in (host, *names)}


def _host_name(host: str) -> str:
    """Return a Host header's or netloc's name, without port, brackets or final dot, in lower case."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name[1:]
    elif name.count(":") == 1:
        name = name.split(":")[0]
    return name.rstrip(".")


def _origin_allowed(origin: str, hosts: frozenset[str]) -> bool:
    """Return whether a browser page at origin may use the live socket (an http page of the preview)."""
    try:
        parts = urlsplit(origin)
        return parts.scheme == "http" and parts.hostname is not None and _host_name(parts.netloc) in hosts
    except ValueError:
        return False


class _Guarded(web.RequestHandler):
    """Answers only requests made to the preview by name: another Host is a DNS-rebinding page's."""

    def prepare(self) -> None:
        hosts: frozenset[str] = self.application.settings["allowed_hosts"]
        name = _host_name(self.request.host)
        if name not in hosts:
            self.set_status(403)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(
                f"403: this preview answers to {', '.join(sorted(hosts))} only; to reach it as "
                f"{name or 'this host'}, start it with --allowed-host {name or 'NAME'}\n"
            )


class _LiveHandler(_Guarded, LiveReloadHandler):
    preview: Preview

    def check_origin(self, origin: str) -> bool:
        # A page of another site may open a socket to loopback: it must not read the overlay.
        return _origin_allowed(origin, self.application.settings["allowed_hosts"])

    def on_message(self, message: str | bytes) -> None:
        super().on_message(message)
        # A page opened while the build is broken shows the overlay at once.
        if json.loads(message).get("command") == "info":
            self.write_message(
                json.dumps({"command": "factbook-problems", "problems": self.preview.problems})
            )


class _ClientHandler(_Guarded):
    def get(self) -> None:
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.write(resources.files("factbook").joinpath("live.js").read_bytes())


class _SiteHandler(_Guarded, web.StaticFileHandler):
    """Serves files under the output folder only, with the live client in every page."""

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        if "\x00" in absolute_path:
            raise web.HTTPError(400, "a NUL in the path")
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


def make_app(preview: Preview, hosts: frozenset[str] = LOOPBACK) -> web.Application:
    """Return the web application for requests to the hosts: the live protocol, the client, the site."""
    live = type("LiveHandler", (_LiveHandler,), {"preview": preview})
    return web.Application(
        [
            (r"/livereload", live),
            (CLIENT, _ClientHandler),
            (r"/(.*)", _SiteHandler, {"path": str(preview.output), "default_filename": "index.html"}),
        ],
        allowed_hosts=hosts,
    )


# Changes only. Asked for every event, watchdog has inotify report each open and read too; adding
# the watches of a large tree (an old _site/ of 10,000 folders) then overflows inotify's queue, and
# every overflow walks the tree again: the watcher spun for good and missed saves.
CHANGES = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


class _Watcher(FileSystemEventHandler):
    """Watches a site's sources: content/, templates/, static/ and locales/, and the top of the
    site's folder for one of them made later (a vault: the whole folder, its notes' own)."""

    def __init__(self, preview: Preview, root: Path) -> None:
        self.preview = preview
        self.root = root.resolve()
        self.observer = Observer()
        self.watches: dict[str, Any] = {}
        self.vault = not (self.root / "content").is_dir()

    def start(self) -> None:
        """Start watching."""
        if self.vault:  # every note and attachment is a source
            self.observer.schedule(self, str(self.root), recursive=True, event_filter=CHANGES)
        else:
            # Not the rest of it: the output and the cache may sit there, with thousands of folders.
            self.observer.schedule(self, str(self.root), recursive=False, event_filter=CHANGES)
            for name in sorted(WATCHED):
                self._watch(name)
        self.observer.start()

    def _watch(self, name: str) -> bool:
        """Watch the folder of that name in the site's folder, if it is one; return whether it is."""
        folder = self.root / name
        if not folder.is_dir():
            return False
        old = self.watches.pop(name, None)
        if old is not None:  # a folder removed and made again: its old watch is gone with it
            try:
                self.observer.unschedule(old)
            except KeyError:
                pass
        self.watches[name] = self.observer.schedule(self, str(folder), recursive=True, event_filter=CHANGES)
        return True

    def on_any_event(self, event: FileSystemEvent) -> None:
        for path in (event.src_path, getattr(event, "dest_path", "")):
            path = os.fsdecode(path)
            if not path:
                continue
            if event.is_directory and not self.vault and os.path.dirname(path) == str(self.root):
                name = os.path.basename(path)
                if name in WATCHED and self._watch(name):
                    # Files may have landed in it before its watch began: each counts as changed.
                    for folder, _, files in os.walk(path):
                        for file in files:
                            self.preview.changed(os.path.join(folder, file))
            if event.is_directory and event.event_type in {"created", "modified"}:
                continue  # the files inside report themselves
            self.preview.changed(path)

    def stop(self) -> None:
        """Stop watching, and wait a moment for the watcher's threads to end."""
        if self.observer.is_alive():
            self.observer.stop()
            self.observer.join(timeout=5)


def serve(  # type: ignore[no-untyped-def]
    options: Options, host: str, port: int, open_browser: bool, log=print, hosts: Iterable[str] = ()
) -> None:
    """Build, serve and watch until interrupted; raise PortInUse if the port is taken.

    Port 0 takes a free port; the log line "serving ... at URL" names it. Ctrl-C, SIGTERM and
    SIGHUP end the builder, Pagefind and their children, and remove the served folder.
    """
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C too, explicitly: a process started with SIGINT ignored (as a shell's background
        # job is, or a child of a process that ignores it) would otherwise never stop on it.
        for ending in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(ending, signal.default_int_handler)  # stops as Ctrl-C does, cleaning up
    try:
        sockets = netutil.bind_sockets(port, address=host)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is in use; choose another with --port") from error
        raise
    port = sockets[0].getsockname()[1]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    output = Path(tempfile.mkdtemp(prefix="factbook-serve-")) / "site"
    # The preview is published at this server: its feeds and sitemap name it.
    preview = Preview(replace(options, base_url=options.base_url or url), output)
    preview.log = log
    loop = ioloop.IOLoop.current()
    preview.loop = loop
    logging.getLogger("tornado.access").setLevel(logging.ERROR)
    server = httpserver.HTTPServer(make_app(preview, allowed_hosts(host, hosts)))
    watcher = _Watcher(preview, options.root)
    threads = [
        threading.Thread(target=preview.run_worker, name="factbook-rebuild", daemon=True),
        threading.Thread(target=preview.run_indexer, name="factbook-search", daemon=True),
    ]
    try:
        server.add_sockets(sockets)
        preview.first_build()
        watcher.start()
        for thread in threads:
            thread.start()
        log(f"serving {options.root.resolve()} at {url} from {output} (Ctrl-C to stop)")
        if open_browser:
            webbrowser.open(url)
        loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        _stop(preview, watcher, server, threads, output.parent)
    log("stopped")


def _stop(
    preview: Preview, watcher: _Watcher, server: Any, threads: list[threading.Thread], folder: Path
) -> None:
    """End the children, the watcher and the server, then remove the served folder."""
    if threading.current_thread() is threading.main_thread():
        for ending in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(ending, signal.SIG_IGN)  # a second Ctrl-C must not leave the folder behind
    preview.stop()
    watcher.stop()
    server.stop()
    for thread in threads:
        if thread.is_alive():
            thread.join(timeout=5)
    shutil.rmtree(folder, ignore_errors=True)
