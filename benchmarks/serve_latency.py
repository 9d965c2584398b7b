"""Time from a save to the rebuilt page on disk, and to the browser showing it, in `factbook serve`.

"Shown" is the first contentful paint of the reloaded page that holds the save, as the browser
times it (performance.timeOrigin and the paint entry share the system's wall clock).

    python benchmarks/serve_latency.py content-root [--page events/x.md] [--repeat 7]

Needs Debian's Chromium at /usr/bin/chromium and the playwright package (never `playwright
install`). Prints the median and the worst of each figure, and of the time until the preview's
search index holds the save.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The wall-clock time (ms) of the page's first contentful paint, or null if it has none yet.
PAINTED = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return paint ? performance.timeOrigin + paint.startTime : null;
}"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pick_page(root: Path) -> Path:
    return sorted((root / "content" / "events").glob("*.md"))[
        len(list((root / "content" / "events").glob("*.md"))) // 2
    ]


def measure(root: Path, page: Path | None, repeat: int) -> dict[str, list[float]]:
    """Return lists of seconds: save to page on disk, and save to page shown in the browser."""
    from playwright.sync_api import sync_playwright

    page = page or _pick_page(root)
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-m", "factbook", "serve", "--port", str(port)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: [lines.append(line) for line in server.stdout], daemon=True).start()  # type: ignore[union-attr]
    deadline = time.monotonic() + 600
    while not any("serving " in line for line in lines):
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("serve did not start:\n" + "".join(lines))
        time.sleep(0.05)
    log = next(line for line in lines if "serving " in line)
    output = Path(re.search(r" from (\S+) \(Ctrl-C", log).group(1))  # type: ignore[union-attr]
    relative = page.relative_to(root / "content").with_suffix("")
    served_file = output / relative / "index.html"
    url = f"http://127.0.0.1:{port}/{relative.as_posix()}/"
    disk: list[float] = []
    browser_times: list[float] = []
    searchable: list[float] = []

    def indexed() -> int:
        return sum("search index updated" in line for line in lines)

    def wait_indexed(count: int) -> None:
        # The preview indexes for search after each build, off the rebuild's path: each save is
        # timed with the last index done, and how soon search holds the save is timed too.
        deadline = time.monotonic() + 600
        while indexed() < count and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.005)

    wait_indexed(1)
    original = page.read_text(encoding="utf-8")
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
            browser = p.chromium.launch_persistent_context(
                profile, executable_path="/usr/bin/chromium", args=FLAGS
            )
            tab = browser.new_page()
            tab.goto(url)
            tab.wait_for_timeout(500)
            for i in range(repeat):
                done = indexed()
                marker = f"Latency marker {i} {time.time_ns()}"
                page.write_text(original + f"\n\n{marker}\n", encoding="utf-8")
                saved, wall = time.perf_counter(), time.time()
                while marker.encode() not in _read(served_file):
                    time.sleep(0.002)
                disk.append(time.perf_counter() - saved)
                tab.wait_for_function(
                    f"document.body.innerText.includes({marker!r})", polling="raf", timeout=60000
                )
                # When the page that holds the save was first painted, by the browser's own
                # clock: Playwright's polling finds it 50-150 ms later.
                painted = tab.evaluate(PAINTED)
                browser_times.append(painted / 1000 - wall if painted else time.perf_counter() - saved)
                wait_indexed(done + 1)
                searchable.append(time.perf_counter() - saved)
                time.sleep(0.3)
            browser.close()
    finally:
        page.write_text(original, encoding="utf-8")
        server.terminate()
        server.wait(timeout=30)
    return {"disk": disk, "browser": browser_times, "search": searchable}


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def summary(name: str, seconds: list[float]) -> str:
    """Return a line with the median and worst of a list of seconds, in milliseconds."""
    return f"{name}: median {statistics.median(seconds) * 1000:.0f} ms, worst {max(seconds) * 1000:.0f} ms ({len(seconds)} saves)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--page", type=Path)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    found = measure(args.root.resolve(), args.page.resolve() if args.page else None, args.repeat)
    print(summary("save → page on disk", found["disk"]))
    print(summary("save → shown in browser", found["browser"]))
    print(summary("save → found by search", found["search"]))


if __name__ == "__main__":
    main()
