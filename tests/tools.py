"""Real validators for the built site: found or installed once into a cache, never downloaded at run time by the site."""

from __future__ import annotations

import fcntl
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("FACTBOOK_TOOLS", Path.home() / ".cache" / "factbook-test-tools"))
NPM = {"vnu-jar": "26.9.27", "axe-core": "4.14.1"}


def need(what: str, found: bool) -> None:
    """Skip without a tool on a laptop; in CI (CI=true) a missing tool is a failure."""
    if found:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"needs {what}, which CI must install (.ci/run)")
    pytest.skip(f"needs {what}")


def npm_package(name: str) -> Path:
    """Return the folder of a pinned npm package, installing it into the cache the first time."""
    version = NPM[name]
    prefix = CACHE / f"{name}-{version}"
    folder = prefix / "node_modules" / name
    if folder.is_dir():
        return folder
    CACHE.mkdir(parents=True, exist_ok=True)
    # xdist workers may all ask at once: one installs, the others wait and find it installed.
    with open(CACHE / f"{name}-{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if folder.is_dir():
            return folder
        need("npm", shutil.which("npm") is not None)
        prefix.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
                str(prefix),
                f"{name}@{version}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        need(f"npm package {name}@{version} ({done.stderr.strip()[-300:]})", done.returncode == 0)
    return folder


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve a folder on a free loopback port; yield its base URL."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def nu_errors(*folders: Path) -> tuple[list[str], set[str]]:
    """Return the W3C Nu HTML checker's errors on every page under the folders, and the pages read."""
    need("java", shutil.which("java") is not None)
    jar = npm_package("vnu-jar") / "build" / "dist" / "vnu.jar"
    # A short run: the JIT's client compiler alone halves the CPU the checker takes (its server
    # compiler never pays back here); its frames are larger, hence the larger stack.
    java = ["java", "-Xss4m", "-XX:TieredStopAtLevel=1"]
    command = [*java, "-jar", str(jar), "--skip-non-html", "--format", "json"]
    done = subprocess.run(
        [*command, "--exit-zero-always", *map(str, folders)], capture_output=True, text=True, timeout=600
    )
    messages = json.loads(done.stderr)["messages"]
    errors = [
        f"{m.get('url', '')}:{m.get('lastLine', '')}: {m['message']}"
        for m in messages
        if m["type"] == "error"
    ]
    return errors, {str(m.get("url")) for m in messages}
