"""Builds under faults: killed, out of space, read-only, looping links, racing; and always the same bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SITES

TIES = SITES / "ties"
SRC = str(Path(__file__).parents[1] / "src")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _build(site: Path, output: Path, *extra: str, seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": SRC, "NO_COLOR": "1"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "factbook",
            "build",
            "-s",
            str(site),
            "-o",
            str(output),
            "--no-search",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_builds_under_two_hash_seeds_are_byte_identical(tmp_path: Path) -> None:
    # Six events share a title and a date, three organizations a name, three people too.
    one, two = tmp_path / "one", tmp_path / "two"
    first = _build(TIES, one, "--no-cache", "-j", "2", seed="1")
    second = _build(TIES, two, "--no-cache", "-j", "1", seed="2")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    built, again = _files(one), _files(two)
    assert sorted(built) == sorted(again)
    assert [name for name in built if built[name] != again[name]] == []
