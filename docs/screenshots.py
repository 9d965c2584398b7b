"""Build the flagship site and take the README's two screenshots (desktop and phone).

    python docs/screenshots.py        # writes docs/screenshot-desktop.png and docs/screenshot-phone.png

Needs Debian's Chromium at /usr/bin/chromium and the playwright package (never `playwright install`).
"""

from __future__ import annotations

import functools
import http.server
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from factbook.build import Options, build

ROOT = Path(__file__).resolve().parents[1]
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
SHOTS = [
    ("screenshot-desktop.png", "/organizations/upu/", {"width": 1280, "height": 900}, False),
    ("screenshot-phone.png", "/events/itu-telecom-world-2011/", {"width": 390, "height": 844}, True),
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "site"
        build(Options(ROOT, site, search=True))
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site))
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            for name, path, viewport, mobile in SHOTS:
                page = browser.new_page(
                    viewport=viewport, is_mobile=mobile, has_touch=mobile, device_scale_factor=1
                )
                page.goto(base + path)
                page.screenshot(path=str(ROOT / "docs" / name))
                print(f"wrote docs/{name}")
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
