"""factbook serve: HTTP safety, serving during rebuilds, and what a reader sees in a real browser."""

from __future__ import annotations

import gzip
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .browser import chromium
from .conftest import SITES


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A `factbook serve` subprocess on a free loopback port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "factbook", "serve", "--port", str(self.port)],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_for("serving ")

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

    def get(self, path: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path)
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
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    server = Served(root)
    yield server
    server.stop()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_serves_the_site_with_the_live_client(served: Served) -> None:
    status, body = served.get("/organizations/itu/")
    assert status == 200
    assert b'<script src="/__factbook__/live.js" defer></script></head>' in body
    status, body = served.get("/no/such/page/")
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
def test_paths_out_of_the_output_folder_are_refused(served: Served, path: str) -> None:
    status, body = served.get(path)
    assert status in {403, 404}
    assert b"root:" not in body


def test_symlinks_out_of_the_output_folder_are_refused(served: Served) -> None:
    status, body = served.get("/index.html")
    assert status == 200
    log = next(line for line in served.lines if "serving " in line)
    output = Path(log.split(" from ")[1].split(" (Ctrl-C")[0])
    assert (output / "index.html").is_file()
    link = output / "escape.txt"
    os.symlink("/etc/hostname", link)
    try:
        status, body = served.get("/escape.txt")
        assert status == 403
    finally:
        link.unlink()


def test_only_loopback_by_default_and_a_taken_port_says_so(served: Served) -> None:
    assert f"at http://127.0.0.1:{served.port}/" in "\n".join(served.lines)
    second = subprocess.run(
        [sys.executable, "-m", "factbook", "serve", "--port", str(served.port)],
        cwd=served.root,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 2
    assert f"port {served.port} on 127.0.0.1 is in use; choose another with --port" in second.stderr


def test_ctrl_c_stops_cleanly(served: Served) -> None:
    assert served.stop() == 0
    served.wait_for("stopped")


def test_pages_keep_being_served_during_a_rebuild(tmp_path: Path) -> None:
    root = tmp_path / "big"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    for i in range(400):
        (root / "content" / "topics" / f"t{i}.md").write_text(
            f"---\ntitle: Topic {i}\n---\n" + "Words and [[itu]] links. " * 200 + "\n", encoding="utf-8"
        )
    server = Served(root)
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


def test_browser_sees_edits_styles_and_errors(served: Served) -> None:
    content = served.root / "content"
    with chromium() as browser:
        page = browser.new_page()
        page.goto(served.url + "/organizations/itu/")
        page.wait_for_function("document.querySelector('h1').textContent.includes('International')")
        page.wait_for_timeout(300)  # the live socket connects

        itu = content / "organizations" / "itu.md"
        _edit(itu, "The Union met in", "The Union first met in")
        page.wait_for_selector("text=The Union first met in", timeout=10000)

        # Two saves a second apart: both reach the page (livereload alone drops the second).
        _edit(itu, "first met", "once met")
        page.wait_for_selector("text=The Union once met in", timeout=10000)
        time.sleep(1)
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
        other = browser.new_page()
        other.goto(served.url + "/")
        other.wait_for_selector("#factbook-overlay", timeout=10000)
        itu.write_text(good)
        page.wait_for_selector("#factbook-overlay", state="detached", timeout=10000)
        other.wait_for_selector("#factbook-overlay", state="detached", timeout=10000)


def test_a_site_broken_from_the_start_still_shows_its_problems(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    itu = root / "content" / "organizations" / "itu.md"
    good = itu.read_text()
    itu.write_text(good.replace("acronym: ITU", "acronym: [ITU"))
    server = Served(root)
    try:
        status, body = server.get("/organizations/itu/")
        assert status == 404 and b"/__factbook__/live.js" in body
        with chromium() as browser:
            page = browser.new_page()
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
    log = next(line for line in served.lines if "serving " in line)
    output = Path(log.split(" from ")[1].split(" (Ctrl-C")[0])
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
