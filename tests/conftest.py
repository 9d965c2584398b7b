"""Shared fixtures: tiny sites written inline, sites built once a session, the CLI run as a subprocess."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import textwrap
import traceback
from dataclasses import replace
from pathlib import Path

import pytest

from factbook.build import Options, build

from .browser import browser, chromium  # noqa: F401 (fixtures for every test module)

ROOT = Path(__file__).parents[1]
SITES = Path(__file__).parent / "sites"

SOURCE = """\
---
title: A press release
publisher: Example Office
---
"""


@pytest.fixture(autouse=True)
def _own_user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Give each test a user cache of its own: its signing key and compiled templates."""
    from factbook import cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
    cache._machine_key.cache_clear()
    yield
    cache._machine_key.cache_clear()


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


def invoke_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the factbook command in this process from cwd (no interpreter start); as run_cli returns."""
    from click.testing import CliRunner

    from factbook.cli import main

    with contextlib.chdir(cwd):
        result = CliRunner(env={"NO_COLOR": "1"}).invoke(main, list(args), prog_name="python -m factbook")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))  # as a process would print it
    return subprocess.CompletedProcess(["factbook", *args], result.exit_code, result.stdout, stderr)


def shared_build(factory: pytest.TempPathFactory, name: str, options: Options, strict: bool = False) -> Path:
    """Return the output of options' site, built once for the whole run and shared by xdist workers.

    Tests only read it. The first worker to ask builds it under a lock; every one checks that
    the build did not fail (warnings fail a strict one).
    """
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the folder every worker's own temporary folder is in
    shared = base / "shared"
    shared.mkdir(exist_ok=True)
    out, outcome = shared / name, shared / f"{name}.json"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not outcome.exists():
            report = build(replace(options, output=out))
            failed = [str(p) for p in report.problems] if report.failed(strict) else []
            outcome.write_text(json.dumps(failed), encoding="utf-8")
    assert json.loads(outcome.read_text(encoding="utf-8")) == []
    return out


@pytest.fixture(scope="session")
def flagship_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flagship (content/) built with search, strictly clean."""
    return shared_build(tmp_path_factory, "flagship", Options(ROOT, jobs=2, search=True), strict=True)
