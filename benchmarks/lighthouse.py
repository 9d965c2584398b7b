"""Lighthouse scores of the built flagship site, page by page: python benchmarks/lighthouse.py

    python benchmarks/lighthouse.py [--site BUILT_SITE] [--form-factor mobile|desktop|both]
                                    [--min 98] [--page /events/x/ ...] [--json-dir DIR]
                                    [--local-base-url]

Builds the flagship (`content/` of this repository) into a temporary folder, or takes an
already built `--site`, serves it on 127.0.0.1 and runs npm `lighthouse` (installed once into
~/.cache/factbook-test-tools/lighthouse-<version>) in Debian's headless Chromium
(/usr/bin/chromium, or CHROME_PATH) on the home page, an organization, an event and the search
page. Prints the four category scores of each page and form factor, then every failing audit
that carries weight, with a few of the elements or files it names. Exits 0 if every score is
at least --min, 1 if one is below it, 2 if the build or Lighthouse failed.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VERSION = "12.8.2"  # 13.x needs node >= 22.19
CACHE = Path(os.environ.get("FACTBOOK_TOOLS", Path.home() / ".cache" / "factbook-test-tools"))
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = ("/", "/organizations/itu/", "/events/upu-accession-1993/", "/search/?q=UNICEF")
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
ITEMS_SHOWN = 3


class LighthouseFailed(Exception):
    """Lighthouse did not produce a report."""


def lighthouse() -> Path:
    """Return the lighthouse command, installing the pinned npm package into the cache the first time."""
    prefix = CACHE / f"lighthouse-{VERSION}"
    command = prefix / "node_modules" / ".bin" / "lighthouse"
    if not command.exists():
        if shutil.which("npm") is None:
            raise LighthouseFailed("needs npm to install lighthouse")
        print(f"installing npm lighthouse@{VERSION} into {prefix} (~185 MB) ...", file=sys.stderr)
        prefix.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(prefix)]
            + [f"lighthouse@{VERSION}"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not command.exists():
            raise LighthouseFailed(f"npm install lighthouse@{VERSION} failed: {done.stderr.strip()[-500:]}")
    return command


def build_flagship(output: Path, base_url: str | None = None) -> None:
    """Build this repository's flagship content, with search, into output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "factbook", "build", "--output", str(output)]
        + (["--base-url", base_url] if base_url else []),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise LighthouseFailed(f"factbook build failed:\n{done.stdout}{done.stderr}")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


@contextmanager
def serve_folder(folder: Path, port: int = 0) -> Iterator[str]:
    """Serve a folder on a loopback port, by default a free one; yield its base URL (as tests/tools.py does)."""
    server = _Server(("127.0.0.1", port), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run(command: Path, url: str, form_factor: str, report: Path) -> dict[str, Any]:
    """Run Lighthouse once on url in a fresh Chromium profile; return its JSON report."""
    with tempfile.TemporaryDirectory(prefix="lighthouse-profile-") as profile:
        flags = " ".join([*CHROME_FLAGS, f"--user-data-dir={profile}"])
        arguments = [
            str(command),
            url,
            "--quiet",
            f"--only-categories={','.join(CATEGORIES)}",
            "--output=json",
            f"--output-path={report}",
            "--max-wait-for-load=30000",
            f"--chrome-flags={flags}",
        ]
        if form_factor == "desktop":
            arguments.append("--preset=desktop")
        env = dict(os.environ)
        env.setdefault("CHROME_PATH", "/usr/bin/chromium")
        try:
            done = subprocess.run(arguments, env=env, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired as error:
            raise LighthouseFailed(f"{url} ({form_factor}): timed out") from error
    if done.returncode != 0 or not report.is_file() or report.stat().st_size == 0:
        log = (done.stdout + done.stderr).strip()[-1500:]
        raise LighthouseFailed(f"{url} ({form_factor}): lighthouse exited {done.returncode}\n{log}")
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    if result.get("runtimeError"):
        raise LighthouseFailed(f"{url} ({form_factor}): {result['runtimeError']}")
    return result


def scores(result: dict[str, Any]) -> dict[str, int | None]:
    """The four category scores, 0 to 100 (None when Lighthouse could not score one)."""
    found: dict[str, int | None] = {}
    for category in CATEGORIES:
        score = result["categories"].get(category, {}).get("score")
        found[category] = None if score is None else round(score * 100)
    return found


# A metric audit names no element; these audits say what made the metric what it is.
METRIC_CAUSES = {
    "first-contentful-paint": "render-blocking-insight",
    "largest-contentful-paint": "largest-contentful-paint-element",
    "cumulative-layout-shift": "layout-shifts",
    "total-blocking-time": "long-tasks",
    "speed-index": "render-blocking-insight",
}


def _tables(details: dict[str, Any]) -> list[tuple[list[dict[str, Any]], list[Any]]]:
    """The (headings, items) tables of an audit's details, nested lists flattened."""
    kind = details.get("type")
    if kind in ("table", "opportunity"):
        return [(details.get("headings") or [], details.get("items") or [])]
    if kind == "list":
        found = []
        for part in details.get("items") or []:
            if isinstance(part, dict):
                found.extend(_tables(part))
        return found
    if kind == "checklist" and isinstance(details.get("items"), dict):
        failed = [check["label"] for check in details["items"].values() if check.get("value") is False]
        return [([{"key": "label"}], [{"label": label} for label in failed])]
    return []


def _cell(value: Any, label: str = "") -> str:
    if isinstance(value, dict):
        if value.get("type") == "node":
            label = " ".join(str(value.get("nodeLabel") or "").split())[:60]
            where = f"{value.get('selector', '')} {value.get('snippet', '')}".strip()
            return f"{where} [{label}]" if label and label not in where else where
        if value.get("url"):
            return f"{value['url']}:{value.get('line', '')}".rstrip(":")
        return str(value.get("value", "")) if value.get("type") == "text" else ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = f"{value:.3g}" if isinstance(value, float) and abs(value) < 100 else str(round(value))
        return f"{label} {number}".strip()
    return "" if value is None else str(value)


def _items(details: dict[str, Any]) -> list[str]:
    """One line for each item of the details: its element, file, line or message, and numbers."""
    lines = []
    for headings, items in _tables(details):
        keys = [(h["key"], str(h.get("label") or "")) for h in headings if h.get("key")]
        for item in items:
            if isinstance(item, dict):
                cells = [
                    _cell(item.get(key), label) for key, label in keys or [("url", ""), ("description", "")]
                ]
                lines.append(" · ".join(cell for cell in cells if cell))
    return [" ".join(line.split())[:240] for line in lines if line]


def failing(result: dict[str, Any]) -> list[str]:
    """Lines for every audit with weight and a score under 1, with a few of the items it names."""
    audits = result["audits"]
    lines: list[str] = []
    for category in CATEGORIES:
        for ref in result["categories"].get(category, {}).get("auditRefs", []):
            audit = audits[ref["id"]]
            score = audit.get("score")
            if not ref.get("weight") or score is None or score >= 1:
                continue
            shown = f" ({audit['displayValue']})" if audit.get("displayValue") else ""
            lines.append(
                f"  {category}: {ref['id']} score={score:g} weight={ref['weight']:g}: {audit['title']}{shown}"
            )
            if audit.get("explanation"):
                lines.append(f"      {' '.join(str(audit['explanation']).split())[:240]}")
            source = audit
            if ref["id"] in METRIC_CAUSES and METRIC_CAUSES[ref["id"]] in audits:
                source = audits[METRIC_CAUSES[ref["id"]]]
                lines.append(
                    f"      from {METRIC_CAUSES[ref['id']]}: {source.get('displayValue') or ''}".rstrip()
                )
            items = _items(source.get("details") or {})
            lines.extend(f"      {item}" for item in items[:ITEMS_SHOWN])
            if len(items) > ITEMS_SHOWN:
                lines.append(f"      ... and {len(items) - ITEMS_SHOWN} more")
    return lines


def table(rows: list[tuple[str, str, dict[str, int | None]]], minimum: int) -> str:
    """The scores as a Markdown table; a score under the minimum is starred."""
    head = "| page | form factor | " + " | ".join(CATEGORIES) + " |"
    lines = [head, "|---|---|" + "---:|" * len(CATEGORIES)]
    for page, form_factor, found in rows:
        cells = []
        for category in CATEGORIES:
            score = found[category]
            text = "n/a" if score is None else str(score)
            cells.append(text + (" *" if score is None or score < minimum else ""))
        lines.append(f"| {page} | {form_factor} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check(
    site: Path, pages: list[str], form_factors: list[str], minimum: int, json_dir: Path | None, port: int = 0
) -> int:
    """Run Lighthouse on every page and form factor; print the table and failures; return the exit code."""
    command = lighthouse()
    rows: list[tuple[str, str, dict[str, int | None]]] = []
    failures: list[str] = []
    version = VERSION
    with serve_folder(site, port) as base, tempfile.TemporaryDirectory(prefix="lighthouse-") as work:
        for form_factor in form_factors:
            for page in pages:
                name = page.strip("/").replace("/", "_").replace("?", "_").replace("=", "-") or "home"
                report = (json_dir or Path(work)) / f"{name}.{form_factor}.json"
                print(f"lighthouse {form_factor} {page} ...", file=sys.stderr, flush=True)
                result = run(command, base + "/" + page.lstrip("/"), form_factor, report)
                version = result.get("lighthouseVersion", version)
                rows.append((page, form_factor, scores(result)))
                lines = failing(result)
                if lines:
                    failures.append(f"{page} ({form_factor}):")
                    failures.extend(lines)
                    metrics = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time")
                    metrics += ("cumulative-layout-shift", "speed-index")
                    shown = ", ".join(
                        f"{key}={result['audits'][key].get('displayValue', '')}"
                        for key in metrics
                        if key in result["audits"]
                    )
                    failures.append(f"  metrics: {shown}")
    print(
        f"Lighthouse {version}, Chromium {os.environ.get('CHROME_PATH', '/usr/bin/chromium')}, min {minimum}"
    )
    print(table(rows, minimum))
    if failures:
        print("\nfailing audits (weight > 0, score < 1):")
        print("\n".join(failures))
    low = [(page, ff) for page, ff, found in rows if any(s is None or s < minimum for s in found.values())]
    if low:
        print(f"\nbelow {minimum}: " + ", ".join(f"{page} ({ff})" for page, ff in low))
        return 1
    print(f"\nevery score is at least {minimum}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--site", type=Path, help="an already built site (default: build the flagship)")
    parser.add_argument("--form-factor", choices=("mobile", "desktop", "both"), default="both")
    parser.add_argument("--min", type=int, default=98, help="lowest accepted score, 0-100 (default 98)")
    parser.add_argument("--page", action="append", help="a page to check, as a URL path (repeatable)")
    parser.add_argument(
        "--local-base-url",
        action="store_true",
        help="build with --base-url http://127.0.0.1:PORT/ and serve on that port, so canonical, sitemap and "
        "robots.txt URLs are absolute as on a deployed site",
    )
    parser.add_argument("--json-dir", type=Path, help="keep each Lighthouse JSON report in this folder")
    options = parser.parse_args(argv)
    form_factors = ["mobile", "desktop"] if options.form_factor == "both" else [options.form_factor]
    pages = options.page or list(PAGES)
    if options.json_dir:
        options.json_dir.mkdir(parents=True, exist_ok=True)
    try:
        if options.site:
            if options.local_base_url:
                parser.error("--local-base-url builds the site; it cannot be used with --site")
            if not (options.site / "index.html").is_file():
                print(f"{options.site}: no index.html, not a built site", file=sys.stderr)
                return 2
            return check(options.site, pages, form_factors, options.min, options.json_dir)
        with tempfile.TemporaryDirectory(prefix="factbook-lighthouse-") as folder:
            site = Path(folder) / "site"
            port = free_port() if options.local_base_url else 0
            base_url = f"http://127.0.0.1:{port}/" if port else None
            print(
                f"building the flagship{' for ' + base_url if base_url else ''} ...",
                file=sys.stderr,
                flush=True,
            )
            build_flagship(site, base_url)
            return check(site, pages, form_factors, options.min, options.json_dir, port)
    except LighthouseFailed as error:
        print(f"lighthouse: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
