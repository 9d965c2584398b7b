"""factbook's templates compile to code of their own (each printed value escaped to a plain
string): what they print is what Jinja's own environment prints, to the byte."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from markupsafe import Markup

from factbook.render import make_environment

TEMPLATES = {
    "macros.html": "{% macro bold(v) %}<b>{{ v }}</b>{% endmacro %}"
    "{% macro box() %}<div>{{ caller() }}</div>{% endmacro %}",
    "page.html": """{% import "macros.html" as m %}{% extends "base.html" %}
{% block main %}
{{ text }}|{{ safe }}|{{ own }}|{{ number }}|{{ ratio }}|{{ nothing }}|{{ items }}
{{ m.bold(text) }}|{{ m.bold(safe) }}
{% set kept %}<i>{{ text }}</i>{% endset %}{{ kept }}|{{ kept | length }}
{{ text ~ safe }}|{{ text | upper }}|{{ text | e }}|{{ safe | safe }}|{{ "<b>" ~ text }}
{% call m.box() %}{{ text }}{% endcall %}
{% for i in items %}[{{ i }}{{ loop.index }}]{% endfor %}
{% autoescape false %}{{ text }}{% endautoescape %}|{% include "part.html" %}
{% endblock %}""",
    "base.html": "<title>{{ text }}</title><main>{% block main %}{% endblock %}</main>",
    "part.html": '<p title="{{ text }}">{{ own }}</p>',
}


class Own:
    def __html__(self) -> str:
        return "<em>own & safe</em>"


VALUES = {
    "text": "A & B <c> 'd' \"e\"",
    "safe": Markup("<strong>x & y</strong>"),
    "own": Own(),
    "number": 42,
    "ratio": 0.5,
    "nothing": None,
    "items": ["<1>", Markup("<2>")],
}


def test_pages_print_what_jinjas_own_environment_prints(tmp_path: Path) -> None:
    for name, text in TEMPLATES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    ours = make_environment([tmp_path]).get_template("page.html").render(VALUES)
    theirs = (
        jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(tmp_path)),
            autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        .get_template("page.html")
        .render(VALUES)
    )
    assert ours == theirs
    assert "A &amp; B &lt;c&gt; &#39;d&#39; &#34;e&#34;" in ours and "<strong>x & y</strong>" in ours


def test_the_code_prints_through_the_plain_escaper_and_an_undefined_value_still_fails(tmp_path: Path) -> None:
    env = make_environment([tmp_path])
    assert "environment.escaped(" in env.compile("{{ x }}", raw=True)  # a Jinja that renamed the hook
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
