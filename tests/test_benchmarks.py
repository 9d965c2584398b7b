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
    # The machine's speed that hour, to compare runs of different days by.
    assert re.search(r"^yardstick: a pure-Python loop .* took \d+\.\d{3} s", done.stdout, re.M), done.stdout


def test_the_runner_says_which_of_issue_12s_targets_a_run_met() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from run import verdicts
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    row = {"cold": 1.1, "searched": 1.87, "unchanged": 0.06, "edit": 0.22, "title": 0.28, "memory": 85}
    big = {"cold": 12.5, "searched": 14.0, "unchanged": 0.13, "edit": 0.83, "title": 1.2, "memory": 460}
    lines = verdicts({1000: row, 10000: big}, {"disk": 73, "browser": 450})
    assert "| cold build, 1k | ≤ 1.2 s | 1.10 s | met |" in lines
    assert "| cold build, 10k | ≤ 12 s | 12.50 s | missed |" in lines
    assert "| search's share of a cold build, 1k | ≤ 25 % | 70 % | missed |" in lines
    assert "| search's share of a cold build, 10k | ≤ 25 % | 12 % | met |" in lines
    assert "| peak memory, 10k | ≤ 450 MB | 460 MB | missed |" in lines
    assert "| `serve`: save → shown in the browser, 10k | ≤ 400 ms | 450 ms | missed |" in lines
    assert len(lines) == 11
    assert verdicts({60: row}, {}) == []  # a small site has no targets
