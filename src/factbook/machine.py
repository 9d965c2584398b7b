"""Files for machines: sitemap.xml, robots.txt, an Atom feed of events, the knowledge graph."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from .link import LinkedSite
from .render import FEED, Output, page_specs
from .semantic import absolute, graph_json, graph_jsonld


def machine_outputs(linked: LinkedSite) -> list[Output]:
    """Return the sitemap, robots.txt, the events feed and the graph exports."""
    return [
        Output("sitemap.xml", sitemap(linked).encode()),
        Output("robots.txt", robots(linked).encode()),
        Output(FEED.lstrip("/"), atom(linked).encode()),
        Output("graph.json", _json(graph_json(linked))),
        Output("graph.jsonld", _json(graph_jsonld(linked))),
    ]


def _json(data: object) -> bytes:
    # Compact: with indent, json falls back from its C encoder to a far slower Python one.
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()


def sitemap(linked: LinkedSite) -> str:
    """Return sitemap.xml listing every page (absolute URLs when base_url names a host)."""
    urls = sorted(spec.url for spec in page_specs(linked) if spec.url != "/404.html")
    entries = "".join(f"  <url><loc>{escape(absolute(linked, url))}</loc></url>\n" for url in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</urlset>\n'


def robots(linked: LinkedSite) -> str:
    """Return robots.txt: everything may be crawled, and where the sitemap is."""
    return f"User-agent: *\nAllow: /\nSitemap: {absolute(linked, '/sitemap.xml')}\n"


def atom(linked: LinkedSite) -> str:
    """Return an Atom feed of the dated events, newest first (dated by the events, not the build)."""
    site = linked.site
    events = [e for e in site.entities.values() if e.collection == "events" and e.date and not e.date.undated]
    events.sort(key=lambda e: (e.date.sort_key(), e.key), reverse=True)  # type: ignore[union-attr]
    updated = _stamp(events[0]) if events else "1970-01-01T00:00:00Z"
    entries = []
    for event in events:
        url = escape(absolute(linked, event.url))
        summary = escape(f"{event.date.words()}. {event.summary}".strip())  # type: ignore[union-attr]
        entries.append(
            f'  <entry>\n    <title>{escape(event.title)}</title>\n    <link href="{url}"/>\n'
            f"    <id>{url}</id>\n    <updated>{_stamp(event)}</updated>\n"
            f"    <summary>{summary}</summary>\n  </entry>\n"
        )
    home = escape(absolute(linked, "/"))
    feed = escape(absolute(linked, FEED))
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f'  <title>{escape(site.config.title)}: events</title>\n  <link href="{home}"/>\n'
        f'  <link rel="self" href="{feed}"/>\n  <id>{home}events/</id>\n  <updated>{updated}</updated>\n'
        f"  <author><name>{escape(site.config.title)}</name></author>\n{''.join(entries)}</feed>\n"
    )


def _stamp(event) -> str:  # type: ignore[no-untyped-def]
    point = event.date.start or event.date.end
    return f"{point.year:04d}-{point.month or 1:02d}-{point.day or 1:02d}T00:00:00Z"
