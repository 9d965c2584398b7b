"""Shared fixtures: tiny sites written inline, and the CLI run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SITES = Path(__file__).parent / "sites"

SOURCE = """\
---
title: A press release
publisher: Example Office
---
"""


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write files (text is dedented) under root and return root."""
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(textwrap.dedent(data), encoding="utf-8")
    return root


@pytest.fixture
def make_site(tmp_path: Path):
    """Return a function that writes a site (with one source, 'press') and returns its folder."""

    def make(files: dict[str, str | bytes], with_source: bool = True) -> Path:
        root = tmp_path / "site"
        base: dict[str, str | bytes] = {"content/sources/press.md": SOURCE} if with_source else {}
        return write_files(root, {**base, **files})

    return make


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the factbook command in a subprocess and return what it printed and its exit code."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "factbook", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
