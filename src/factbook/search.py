"""Full-text search: a Pagefind index of the built pages, made before the new site is swapped in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BUNDLE = "pagefind"


class SearchError(RuntimeError):
    """Raised when Pagefind cannot index the site."""


def index_site(folder: Path) -> None:
    """Write the Pagefind index of the site in folder into folder/pagefind/."""
    command = [sys.executable, "-m", "pagefind", "--site", str(folder), "--output-subdir", BUNDLE, "--silent"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SearchError(f"pagefind could not run: {error}") from error
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise SearchError("pagefind failed: " + (detail[-1] if detail else f"exit code {done.returncode}"))
