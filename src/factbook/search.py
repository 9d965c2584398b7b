"""Full-text search: a Pagefind index of the built pages, made before the new site is swapped in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

BUNDLE = "pagefind"


class SearchError(RuntimeError):
    """Raised when Pagefind cannot index the site."""


Started = Callable[["subprocess.Popen[str]"], None] | None


def index_site(folder: Path, swap: bool = False, started: Started = None) -> None:
    """Write the Pagefind index of the site in folder into folder/pagefind/.

    With swap, the index is made beside the folder and then put in place of the old one, so a
    site being served keeps a whole index and no file of an older one is left behind.
    With started, Pagefind runs in a session of its own, which started is given to end.
    """
    if swap:
        fresh = folder.parent / f".{folder.name}.pagefind-new"
        shutil.rmtree(fresh, ignore_errors=True)
        _run(["--site", str(folder), "--output-path", str(fresh)], started)
        old = folder.parent / f".{folder.name}.pagefind-old"
        shutil.rmtree(old, ignore_errors=True)
        if (folder / BUNDLE).exists():
            os.replace(folder / BUNDLE, old)
        os.replace(fresh, folder / BUNDLE)
        shutil.rmtree(old, ignore_errors=True)
        return
    _run(["--site", str(folder), "--output-subdir", BUNDLE], started)


def _run(arguments: list[str], started: Started = None) -> None:
    command = [sys.executable, "-m", "pagefind", *arguments, "--silent"]
    pipe = subprocess.PIPE
    try:
        with subprocess.Popen(
            command, stdout=pipe, stderr=pipe, text=True, start_new_session=started is not None
        ) as process:
            if started is not None:
                started(process)
            try:
                stdout, stderr = process.communicate(timeout=600)
            except subprocess.TimeoutExpired as error:
                process.kill()
                raise SearchError(f"pagefind could not run: {error}") from error
            except BaseException:
                process.kill()
                raise
    except OSError as error:
        raise SearchError(f"pagefind could not run: {error}") from error
    if process.returncode != 0:
        detail = (stderr or stdout).strip().splitlines()
        raise SearchError("pagefind failed: " + (detail[-1] if detail else f"exit code {process.returncode}"))
