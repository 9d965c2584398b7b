"""Full-text search: a Pagefind index of the built pages, made before the new site is swapped in.

Pagefind's command line reads the written pages; it runs in a process of its own, so a build
starts it as soon as every page is on disk and goes on with its other work (the whole-site
exports, the cache) while it indexes. Pagefind's Python API is not used: it polls its service's
answers every 100 ms, one answer a poll, so adding pages one by one costs 0.1 s a page.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

BUNDLE = "pagefind"
TIMEOUT = 600  # seconds: far beyond what the largest site takes, short of a hung build


def pagefind_command() -> list[str]:
    """Return the command that runs Pagefind: its binary itself, found as Pagefind's Python package
    finds it (PAGEFIND_BINARY_PATH, then the extended or the plain binary package), else that
    package's own command, which finds it on the PATH. Starting Python only to find the binary
    cost a twentieth of a second of every build with search."""
    chosen = os.environ.get("PAGEFIND_BINARY_PATH")
    if chosen:
        return [chosen]
    for package in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            return [str(importlib.import_module(package).get_executable())]
        except (ImportError, FileNotFoundError):
            continue
    return [sys.executable, "-m", "pagefind"]


class SearchError(RuntimeError):
    """Raised when Pagefind cannot index the site."""


Started = Callable[["subprocess.Popen[bytes]"], None] | None


class Indexing:
    """A Pagefind run over a site's folder, under way."""

    def __init__(self, folder: Path, swap: bool, started: Started) -> None:
        self.folder, self.swap = folder, swap
        self.fresh = folder.parent / f".{folder.name}.pagefind-new"
        if swap:
            shutil.rmtree(self.fresh, ignore_errors=True)
            target = ["--output-path", str(self.fresh)]
        else:
            target = ["--output-subdir", BUNDLE]
        command = [*pagefind_command(), "--site", str(folder), *target, "--silent"]
        # Its messages go to a file, not a pipe: nobody reads a pipe while the build goes on.
        self.messages = tempfile.TemporaryFile()
        try:
            self.process = subprocess.Popen(
                command,
                stdout=self.messages,
                stderr=subprocess.STDOUT,
                start_new_session=started is not None,
            )
        except OSError as error:
            self.messages.close()
            raise SearchError(f"pagefind could not run: {error}") from error
        if started is not None:
            started(self.process)

    def wait(self) -> None:
        """Wait for the index and put it in place; raise SearchError if Pagefind failed."""
        try:
            try:
                code = self.process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired as error:
                shutil.rmtree(self.fresh, ignore_errors=True)
                raise SearchError(f"pagefind could not run: {error}") from error
            finally:
                self._end()
            if code != 0:
                shutil.rmtree(self.fresh, ignore_errors=True)
                self.messages.seek(0)
                detail = self.messages.read().decode("utf-8", "replace").strip().splitlines()
                raise SearchError("pagefind failed: " + (detail[-1] if detail else f"exit code {code}"))
        finally:
            self.messages.close()
        if self.swap:
            old = self.folder.parent / f".{self.folder.name}.pagefind-old"
            shutil.rmtree(old, ignore_errors=True)
            if (self.folder / BUNDLE).exists():
                os.replace(self.folder / BUNDLE, old)
            os.replace(self.fresh, self.folder / BUNDLE)
            shutil.rmtree(old, ignore_errors=True)

    def stop(self) -> None:
        """End Pagefind if it still runs (the build failed, or was interrupted)."""
        self._end()
        self.messages.close()

    def _end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            if self.swap:
                shutil.rmtree(self.fresh, ignore_errors=True)


def start_index(folder: Path, swap: bool = False, started: Started = None) -> Indexing:
    """Start writing the Pagefind index of the site in folder into folder/pagefind/.

    With swap, the index is made beside the folder and put in place of the old one by wait(),
    so a site being served keeps a whole index and no file of an older one is left behind.
    With started, Pagefind runs in a session of its own, which started is given to end.
    """
    return Indexing(folder, swap, started)


def index_site(folder: Path, swap: bool = False, started: Started = None) -> None:
    """Write the Pagefind index of the site in folder into folder/pagefind/ (see start_index)."""
    start_index(folder, swap, started).wait()
