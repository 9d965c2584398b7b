"""Which URLs a page may link to: http, https, mailto, tel and relative ones, as a browser reads them."""

from __future__ import annotations

import html
import re

# The schemes a link or image may have; any other (javascript:, data:, vbscript:, file:) is refused.
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
REFUSED = "refused: only http, https, mailto, tel and relative links are published"
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
# What browsers ignore in a URL (and what they take for spaces): "java\tscript:" is javascript:.
_IGNORED = re.compile(r"[\x00-\x20\x7f-\x9f]+")


def url_scheme(url: str) -> str:
    """Return the scheme a browser would read in url (HTML entities decoded), lowercased, or ''."""
    found = _SCHEME.match(_IGNORED.sub("", html.unescape(url)).lower())
    return found.group(1) if found else ""


def refused(url: str, attribute: str = "href") -> bool:
    """Return whether a link to url is refused: it has a scheme, and not a safe one."""
    # srcset lists "url 2x, url 3x"; every other attribute holds one URL.
    urls = [part.split()[0] for part in url.split(",") if part.split()] if attribute == "srcset" else [url]
    return any(url_scheme(one) not in SAFE_SCHEMES | {""} for one in urls)


def shown(url: str) -> str:
    """Return url as a message quotes it: at most 40 characters."""
    return url if len(url) <= 40 else url[:39] + "…"
