"""Build an Obsidian vault as it is and check what a reader would meet: python benchmarks/check_vault.py VAULT

Prints the build's summary, then what the output holds that it should not: internal links and
images that lead nowhere, and Obsidian syntax left as text (callout markers, embeds, comments)
outside code. Exits 1 if the build failed or the output holds any of them. The vault is only read.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from factbook.build import Options, build

LEFTOVERS = {
    "callout marker": re.compile(r"\[![a-zA-Z-]+\]"),
    "embed": re.compile(r"!\[\["),
    "comment": re.compile("%%"),
}


class _Page(HTMLParser):
    """The links, ids and text (code left out) of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag in {"code", "pre", "script"}:
            self._code += 1
        for name in ("href", "src", "data"):
            value = found.get(name)
            if value and not (tag == "link" and found.get("rel") == "canonical"):
                self.links.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"code", "pre", "script"}:
            self._code = max(0, self._code - 1)

    def handle_data(self, data: str) -> None:
        if not self._code:
            self.text.append(data)


def _target(site: Path, path: str) -> Path | None:
    found = site / unquote(path).lstrip("/")
    if found.is_dir():
        found = found / "index.html"
    return found if found.is_file() else None


def main(vault: Path) -> int:
    """Build the vault into a temporary folder and print what is wrong with the output."""
    with tempfile.TemporaryDirectory() as temporary:
        site = Path(temporary) / "site"
        started = time.perf_counter()
        report = build(Options(vault, site, search=True, cache=False))
        seconds = time.perf_counter() - started
        kinds = Counter(re.sub(r"'[^']*'|\[\[.*?\]\]|#\S+", "…", p.message) for p in report.problems)
        print(
            f"{sum(report.entities.values())} notes, {len(report.errors)} errors, "
            f"{len(report.problems) - len(report.errors)} warnings, built in {seconds:.1f} s"
        )
        for kind, count in kinds.most_common(8):
            print(f"  {count:5d}  {kind}")
        if report.failed(strict=False):
            for problem in report.errors[:20]:
                print(problem)
            return 1
        pages = sorted(p for p in site.rglob("*.html") if "pagefind" not in p.parts)
        parsed = {p: _Page() for p in pages}
        for path, page in parsed.items():
            page.feed(path.read_text(encoding="utf-8"))
        broken, leftovers = [], []
        for path, page in parsed.items():
            for link in page.links:
                parts = urlsplit(link)
                if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                    continue
                target = _target(site, parts.path)
                if target is None:
                    broken.append(f"{path.relative_to(site)}: {link}")
                elif (
                    parts.fragment and target in parsed and unquote(parts.fragment) not in parsed[target].ids
                ):
                    broken.append(f"{path.relative_to(site)}: {link} (no such id)")
            text = "".join(page.text)
            for name, pattern in LEFTOVERS.items():
                if pattern.search(text):
                    leftovers.append(f"{path.relative_to(site)}: {name} left as text")
        print(
            f"{len(pages)} pages; {len(broken)} internal links that lead nowhere; {len(leftovers)} pages with Obsidian syntax left as text"
        )
        for line in (broken + leftovers)[:30]:
            print("  " + line)
        return 1 if broken or leftovers else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
