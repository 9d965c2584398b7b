"""Full-text search: a Pagefind index of the built pages, made before the new site is swapped in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

BUNDLE = "pagefind"


class SearchError(RuntimeError):
    """Raised when Pagefind cannot index the site."""


def index_site(folder: Path, swap: bool = False) -> None:
    """Write the Pagefind index of the site in folder into folder/pagefind/.

    With swap, the index is made beside the folder and then put in place of the old one, so a
    site being served keeps a whole index and no file of an older one is left behind.
    """
    if swap:
        fresh = folder.parent / f".{folder.name}.pagefind-new"
        shutil.rmtree(fresh, ignore_errors=True)
        _run(["--site", str(folder), "--output-path", str(fresh)])
        old = folder.parent / f".{folder.name}.pagefind-old"
        shutil.rmtree(old, ignore_errors=True)
        if (folder / BUNDLE).exists():
            os.replace(folder / BUNDLE, old)
        os.replace(fresh, folder / BUNDLE)
        shutil.rmtree(old, ignore_errors=True)
        return
    _run(["--site", str(folder), "--output-subdir", BUNDLE])


def _run(arguments: list[str]) -> None:
    command = [sys.executable, "-m", "pagefind", *arguments, "--silent"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SearchError(f"pagefind could not run: {error}") from error
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise SearchError("pagefind failed: " + (detail[-1] if detail else f"exit code {done.returncode}"))
