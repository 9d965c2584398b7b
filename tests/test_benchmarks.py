"""The benchmark runner runs end to end: the figures the README quotes come from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_runner_prints_a_row_of_figures_for_a_small_site(tmp_path: Path) -> None:
    command = [sys.executable, "benchmarks/run.py", "--sizes", "60", "--no-browser", "--work", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if re.match(r"\| \d", line)]
    assert len(rows) == 1, done.stdout
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert len(cells) == 9 and int(cells[0]) > 60
    # Every time and size is a figure: cold, with search, no change, edit, title, serve, memory.
    assert all(re.fullmatch(r"[\d.,]+ (s|ms|MB)( \(\d+ pages\))?", cell) for cell in cells[1:8]), cells
