"""factbook serve: HTTP safety, serving during rebuilds, and what a reader sees in a real browser."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import SITES


def _wait(condition: Callable[[], object], timeout: float = 30, what: str = "a condition") -> None:
    """Return once condition() is true, polling briefly; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Served:
    """A `factbook serve` subprocess on the free loopback port it binds and reports."""

    def __init__(self, root: Path, *arguments: str, deaf_to_ctrl_c: bool = False) -> None:
        self.root = root

        def ignore_ctrl_c() -> None:  # as a shell's background job, or a child of such a process
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        self.process = subprocess.Popen(
            [sys.executable, "-m", "factbook", "serve", "--port", "0", *arguments],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=ignore_ctrl_c if deaf_to_ctrl_c else None,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            self.wait_for("serving ")
        except BaseException:
            self.stop()  # a server that did not start in time must not outlive the test
            raise
        log = next(line for line in self.lines if "serving " in line)
        self.port = int(log.split(" at http://127.0.0.1:")[1].split("/")[0])
        self.output = Path(log.split(" from ")[1].split(" (Ctrl-C")[0])

    def count(self, text: str) -> int:
        """Return how many log lines hold text."""
        return sum(text in line for line in self.lines)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while sum(text in line for line in self.lines) < count:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"no {text!r} in the log:\n" + "\n".join(self.lines))
            time.sleep(0.02)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        code = self.process.wait()
        self.reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A server of the tiny site for one test alone: it may edit the site or stop the server."""
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    server = Served(root)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def _serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("serving") / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    server = Served(root)
    yield server
    server.stop()


@pytest.fixture
def serving(_serving: Served) -> Served:
    """A server of the tiny site shared by the tests that only ask it things (one start, not one
    a test): they change neither the site nor the server, which is still running for each."""
    assert _serving.process.poll() is None
    return _serving


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_serves_the_site_with_the_live_client(serving: Served) -> None:
    status, body = serving.get("/organizations/itu/")
    assert status == 200
    assert b'<script src="/__factbook__/live.js" defer></script></head>' in body
    status, body = serving.get("/no/such/page/")
    assert status == 404 and b"Page not found" in body


@pytest.mark.parametrize(
    "path",
    [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
        "/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    ],
)
def test_paths_out_of_the_output_folder_are_refused(serving: Served, path: str) -> None:
    status, body = serving.get(path)
    assert status in {403, 404}
    assert b"root:" not in body


def test_symlinks_out_of_the_output_folder_are_refused(serving: Served) -> None:
    status, body = serving.get("/index.html")
    assert status == 200
    assert (serving.output / "index.html").is_file()
    link = serving.output / "escape.txt"
    os.symlink("/etc/hostname", link)
    try:
        status, body = serving.get("/escape.txt")
        assert status == 403
    finally:
        link.unlink()


def test_only_loopback_by_default_and_a_taken_port_says_so(serving: Served) -> None:
    assert f"at http://127.0.0.1:{serving.port}/" in "\n".join(serving.lines)
    second = subprocess.run(
        [sys.executable, "-m", "factbook", "serve", "--port", str(serving.port)],
        cwd=serving.root,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 2
    assert f"port {serving.port} on 127.0.0.1 is in use; choose another with --port" in second.stderr


def test_ctrl_c_stops_cleanly(served: Served) -> None:
    assert served.stop() == 0
    served.wait_for("stopped")


def _websocket(port: int, host: str, origin: str | None) -> int:
    """Return the status of a WebSocket handshake on the live socket (101: accepted)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {
        "Host": host,
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    if origin is not None:
        headers["Origin"] = origin
    try:
        connection.request("GET", "/livereload", headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_only_pages_of_the_preview_reach_it_dns_rebinding_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    server = Served(root, "--allowed-host", "Preview.Test", "--no-search")
    port = server.port
    try:
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost", "preview.test"):
            assert server.get("/", {"Host": host})[0] == 200, host
        for path in ("/", "/organizations/itu/", "/__factbook__/live.js", "/no/such/page/"):
            status, body = server.get(path, {"Host": f"evil.example:{port}"})
            assert status == 403 and b"--allowed-host evil.example" in body
            assert b"International" not in body
        assert server.get("/", {"Host": "127.0.0.1.evil.example"})[0] == 403
        assert _websocket(port, f"evil.example:{port}", None) == 403
        assert _websocket(port, f"127.0.0.1:{port}", "http://evil.example") == 403
        assert _websocket(port, f"127.0.0.1:{port}", f"http://evil.example:{port}") == 403
        assert _websocket(port, f"127.0.0.1:{port}", "null") == 403
        assert _websocket(port, f"127.0.0.1:{port}", f"http://localhost:{port}") == 101
        assert _websocket(port, f"127.0.0.1:{port}", None) == 101  # not a browser
    finally:
        server.stop()


def test_a_nul_in_the_path_is_a_bad_request_not_a_traceback(serving: Served) -> None:
    for path in ("/%00", "/organizations/%00/", "/a%00b.html"):
        status, body = serving.get(path)
        assert status in {400, 404}
        assert b"Traceback" not in body
    assert serving.get("/")[0] == 200
    assert not any("Traceback" in line or "500" in line for line in serving.lines)


def _descendants(pid: int) -> set[int]:
    """Return the ids of every process below pid now."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found |= {child, *_descendants(child)}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize(
    ("ending", "deaf"), [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGINT, True)]
)
def test_a_signal_ends_every_child_and_removes_the_served_folder(
    tmp_path: Path, ending: int, deaf: bool
) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    # Started with Ctrl-C ignored (inherited across exec), serve still stops on it.
    server = Served(root, deaf_to_ctrl_c=deaf)
    children = _descendants(server.process.pid)
    assert children, "serve builds in a process of its own"
    itu = root / "content" / "organizations" / "itu.md"
    _edit(itu, "The Union met in", "The Union first met in")  # a rebuild and an index, maybe under way
    children |= _descendants(server.process.pid)
    server.process.send_signal(ending)
    assert server.process.wait(timeout=20) == 0
    _wait(lambda: not any(_alive(pid) for pid in children), timeout=10, what="the children to end")
    assert not server.output.parent.exists()
    server.stop()
    assert server.count("stopped") == 1 and server.count("Traceback") == 0


def test_a_hundred_saves_in_a_row_never_hang_serve(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    server = Served(root, "--no-search")
    settings = root / "content" / "site.yaml"
    original = settings.read_text(encoding="utf-8")
    topics, aside = root / "content" / "topics", tmp_path / "topics"
    started = time.monotonic()
    try:
        for i in range(100):
            done = server.count("rebuilt ") + server.count("build failed")
            if i % 10 == 3:
                shutil.move(topics, aside)  # a folder deleted...
            elif i % 10 == 4:
                shutil.move(aside, topics)  # ...and put back
            settings.write_text(original.replace("title: ", f"title: Save {i} of ", 1), encoding="utf-8")
            _wait(
                lambda done=done: server.count("rebuilt ") + server.count("build failed") > done,
                timeout=20,
                what=f"rebuild {i + 1}",
            )
        _wait(lambda: b"Save 99 of " in server.get("/")[1], timeout=20, what="the last save in the page")
        assert server.process.poll() is None
    finally:
        assert server.stop() == 0
    assert time.monotonic() - started < 60


def test_pages_keep_being_served_during_a_rebuild(tmp_path: Path) -> None:
    root = tmp_path / "big"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    for i in range(400):
        (root / "content" / "topics" / f"t{i}.md").write_text(
            f"---\ntitle: Topic {i}\n---\n" + "Words and [[itu]] links. " * 200 + "\n", encoding="utf-8"
        )
    server = Served(root, "--no-search")  # the rebuild is what is timed, not Pagefind beside it
    try:
        itu = root / "content" / "organizations" / "itu.md"
        _edit(itu, "title: International", "title: The International")  # every topic page shows it
        statuses = []
        deadline = time.monotonic() + 20
        while sum("rebuilt" in line for line in server.lines) < 1 and time.monotonic() < deadline:
            started = time.monotonic()
            status, body = server.get("/topics/t1/")
            statuses.append((status, time.monotonic() - started, body.rstrip().endswith(b"</html>")))
        server.wait_for("rebuilt")
        assert len(statuses) > 3, "the rebuild was too quick to test serving during it"
        assert all(s == 200 and whole for s, _, whole in statuses)
        assert max(t for _, t, _ in statuses) < 1.0
    finally:
        server.stop()


def test_browser_sees_edits_styles_and_errors(served: Served, chromium: Any) -> None:
    content = served.root / "content"
    page = chromium.new_page()
    page.goto(served.url + "/organizations/itu/")
    page.wait_for_function("document.querySelector('h1').textContent.includes('International')")
    page.wait_for_function("window.factbookLive === true")  # the live socket is up

    itu = content / "organizations" / "itu.md"
    _edit(itu, "The Union met in", "The Union first met in")
    page.wait_for_selector("text=The Union first met in", timeout=10000)

    # Saves one right after another: each reaches the page (livereload alone drops a reload
    # that comes within 3 s of the one before).
    _edit(itu, "first met", "once met")
    page.wait_for_selector("text=The Union once met in", timeout=10000)
    _edit(itu, "once met", "twice met")
    page.wait_for_selector("text=The Union twice met in", timeout=10000)

    # A CSS change restyles the page without navigating away.
    page.evaluate("window.factbookMarker = 42")
    css = served.root / "static" / "assets" / "factbook.css"
    css.parent.mkdir(parents=True)
    css.write_text(
        (Path(__file__).parents[1] / "static/assets/factbook.css").read_text()
        + "\nh1 { color: rgb(1, 2, 3); }\n"
    )
    page.wait_for_function(
        "getComputedStyle(document.querySelector('h1')).color === 'rgb(1, 2, 3)'", timeout=10000
    )
    assert page.evaluate("window.factbookMarker") == 42

    # Broken front matter shows an overlay with file and line over the last good page.
    good = itu.read_text()
    itu.write_text(good.replace("acronym: ITU", "acronym: [ITU"))
    overlay = page.wait_for_selector("#factbook-overlay", timeout=10000)
    assert "content/organizations/itu.md:4: invalid YAML" in overlay.inner_text()
    assert "twice met" in page.inner_text("main")

    # A new tab opened while broken shows it too; the next good save clears it.
    other = chromium.new_page()
    other.goto(served.url + "/")
    other.wait_for_selector("#factbook-overlay", timeout=10000)
    itu.write_text(good)
    page.wait_for_selector("#factbook-overlay", state="detached", timeout=10000)
    other.wait_for_selector("#factbook-overlay", state="detached", timeout=10000)


def test_a_site_broken_from_the_start_still_shows_its_problems(tmp_path: Path, chromium: Any) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    itu = root / "content" / "organizations" / "itu.md"
    good = itu.read_text()
    itu.write_text(good.replace("acronym: ITU", "acronym: [ITU"))
    server = Served(root)
    try:
        status, body = server.get("/organizations/itu/")
        assert status == 404 and b"/__factbook__/live.js" in body
        page = chromium.new_page()
        page.goto(server.url + "/organizations/itu/")
        overlay = page.wait_for_selector("#factbook-overlay", timeout=10000)
        assert "content/organizations/itu.md:4: invalid YAML" in overlay.inner_text()
        itu.write_text(good)
        page.wait_for_selector("text=The Union met in", timeout=10000)
    finally:
        server.stop()


def test_serves_a_vault_and_rebuilds_on_a_save(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(SITES / "vault", vault)
    server = Served(vault)
    try:
        status, body = server.get("/compost/")
        assert status == 200 and b"<h1" in body
        status, _ = server.get("/attachments/pic.png")
        assert status == 200
        _edit(vault / "Compost.md", "Compost", "Compost (edited while served)")
        server.wait_for("rebuilt ")
        status, body = server.get("/compost/")
        assert b"(edited while served)" in body
        (vault / "attachments" / "new.txt").write_text("a new attachment", encoding="utf-8")
        server.wait_for("rebuilt ", count=2)
        assert server.get("/attachments/new.txt") == (200, b"a new attachment")
    finally:
        server.stop()


def _indexed_text(output: Path) -> str:
    """Return the text of every page in the served folder's search index."""
    texts = []
    for fragment in (output / "pagefind" / "fragment").iterdir():
        texts.append(gzip.decompress(fragment.read_bytes()).decode("utf-8", "replace"))
    return "\n".join(texts)


def test_search_works_in_the_preview_and_follows_each_save(served: Served) -> None:
    served.wait_for("search index updated")
    status, _ = served.get("/pagefind/pagefind.js")
    assert status == 200
    output = served.output
    assert "International Telecommunication Union" in _indexed_text(output)
    _edit(served.root / "content" / "organizations" / "itu.md", "## History", "## History\n\nZanzibarword.")
    served.wait_for("rebuilt ")
    served.wait_for("search index updated", count=2)
    assert "Zanzibarword" in _indexed_text(output)
    assert not list(output.parent.glob(".*pagefind*"))  # no half-made index left beside it


def test_a_page_replaced_between_its_size_and_its_bytes_is_served_whole(tmp_path: Path) -> None:
    from factbook.serve import _SiteHandler

    page = tmp_path / "index.html"
    page.write_text("<html><head></head><body>old</body></html>")
    handler = _SiteHandler.__new__(_SiteHandler)  # only the two reads Tornado makes are tried
    handler.absolute_path = str(page)
    size = handler.get_content_size()
    page.write_text("<html><head></head><body>a longer new page</body></html>")  # a rebuild
    body = handler.get_content(str(page))
    assert len(body) == size and b"old" in body  # the bytes the Content-Length was taken from
    assert b"a longer new page" in handler.get_content(str(page))  # the next request: the new page


def test_a_build_that_overruns_or_dies_is_reported_and_the_next_save_starts_afresh(tmp_path: Path) -> None:
    from factbook.build import Options
    from factbook.serve import Preview

    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    preview = Preview(Options(root), tmp_path / "served")
    sent: list[dict[str, object]] = []
    preview._send = sent.append  # type: ignore[method-assign]  # what the browsers would get
    preview.log = lambda line: None
    preview.first_build()
    worker = threading.Thread(target=preview.run_worker, daemon=True)
    worker.start()
    page = tmp_path / "served" / "organizations" / "itu" / "index.html"
    itu = root / "content" / "organizations" / "itu.md"

    def overlay() -> list[str]:
        return [p for m in sent if m["command"] == "factbook-problems" for p in m["problems"]]  # type: ignore[attr-defined]

    def reloaded(text: str) -> bool:
        return text in page.read_text() and sent[-1]["command"] == "reload" and sent[-2]["problems"] == []

    try:
        first = preview.builder.pid
        preview.timeout = 1.0
        base = Path(__file__).parents[1] / "templates" / "base.html"
        (root / "templates").mkdir()
        (root / "templates" / "base.html").write_text(
            "{% for i in range(10**12) %}{% endfor %}" + base.read_text()
        )
        preview.changed(str(root / "templates" / "base.html"))
        _wait(lambda: any("took longer than 1 s" in p for p in overlay()), what="the overrun reported")
        assert not _alive(first) and preview.builder is None

        preview.timeout = 60
        shutil.rmtree(root / "templates")
        _edit(itu, "The Union met in", "The Union first met in")
        preview.changed(str(itu))
        _wait(lambda: reloaded("first met"), what="a fresh build")
        second = preview.builder.pid
        assert second != first

        os.kill(second, signal.SIGKILL)  # as if it crashed
        _edit(itu, "first met", "second met")
        preview.changed(str(itu))
        _wait(lambda: any("ended unexpectedly" in p for p in overlay()), what="the crash reported")
        _edit(itu, "second met", "third met")
        preview.changed(str(itu))
        _wait(lambda: reloaded("third met"), what="a build after the crash")
    finally:
        preview.stop()
        worker.join(5)
    assert not worker.is_alive()


def test_a_large_old_output_in_the_site_folder_neither_busies_nor_deafens_the_watcher(tmp_path: Path) -> None:
    # An earlier `factbook build` leaves _site/ in the site's folder: one folder a page. Watched
    # with the sources, its folders overflowed inotify's queue again and again.
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    for i in range(7000):
        (root / "_site" / "pages" / f"page-{i}").mkdir(parents=True)
    server = Served(root, "--no-search")
    try:
        started = _cpu_seconds(server.process.pid)
        _edit(root / "content" / "organizations" / "itu.md", "The Union", "The Union (saved)")
        server.wait_for("rebuilt ")
        assert b"(saved)" in server.get("/organizations/itu/")[1]
        # A later save too, and the watcher is not busy in between (it spun a core for good).
        _edit(root / "content" / "organizations" / "itu.md", "(saved)", "(saved twice)")
        server.wait_for("rebuilt ", count=2)
        assert b"(saved twice)" in server.get("/organizations/itu/")[1]
        assert _cpu_seconds(server.process.pid) - started < 5
        # A folder of sources made after serve started is watched too.
        (root / "templates").mkdir()
        (root / "templates" / "base.html").write_text(
            (Path(__file__).parents[1] / "templates" / "base.html")
            .read_text()
            .replace("<main", "<main data-own")
        )
        server.wait_for("rebuilt ", count=3)
        assert b"data-own" in server.get("/organizations/itu/")[1]
    finally:
        server.stop()


def _cpu_seconds(pid: int) -> float:
    """Return the CPU time a process has used so far (user and system), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Run in a process of its own: other tests' threads and caches would make objects of their own.
KEEPS_NOTHING = """
import gc, json, sys
from pathlib import Path
from factbook.build import Options
from factbook.link import LinkedSite
from factbook.rebuild import Rebuilder

root, out = Path(sys.argv[1]), Path(sys.argv[2])
page = root / "content" / "organizations" / "itu.md"
original = page.read_text(encoding="utf-8")
rebuilder = Rebuilder(Options(root), out)
rebuilder.build(None)
frozen = []
for i in range(8):
    page.write_text(original + f"\\nSave {i}.\\n", encoding="utf-8")
    assert rebuilder.build({str(page)}).built
    rebuilder.settle()
    frozen.append(gc.get_freeze_count())
gc.unfreeze()
graphs = sum(1 for o in gc.get_objects() if isinstance(o, LinkedSite))
print(json.dumps({"frozen": frozen, "graphs": graphs}))
"""


def test_the_builder_keeps_nothing_of_a_save_once_the_next_has_been_built(tmp_path: Path) -> None:
    # serve's builder freezes what each build leaves, out of the collector's way: anything of a
    # save that is garbage but in a cycle (an old link graph, the contexts templates make) would
    # then be kept for as long as the preview runs, growing with every save.
    root = tmp_path / "site"
    shutil.copytree(SITES / "bilingual", root)
    done = subprocess.run(
        [sys.executable, "-c", KEEPS_NOTHING, str(root), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    frozen = found["frozen"]
    assert frozen[2:] == [frozen[2]] * 6, frozen
    assert found["graphs"] <= 4, found  # the last build's, in each of the two languages, and no others


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
def test_the_preview_indexes_for_search_only_with_cpu_nobody_else_wants() -> None:
    # Pagefind runs after every save, on every core, as the browsers reload the page.
    from factbook.serve import idle

    code = (
        "import os, subprocess, sys; sys.stdin.readline(); "
        "child = [sys.executable, '-c', 'import os; print(os.sched_getscheduler(0))']; "
        "print(os.sched_getscheduler(0), subprocess.run(child, capture_output=True, text=True).stdout)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    idle(process.pid)
    said, _ = process.communicate("go\n", timeout=60)
    assert said.split() == [str(os.SCHED_IDLE)] * 2  # and what it starts, as Pagefind's wrapper does
