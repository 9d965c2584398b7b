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


def _jinjas_own(folder: Path) -> jinja2.Environment:
    """Return Jinja's own environment with the settings of factbook's."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def test_pages_print_what_jinjas_own_environment_prints(tmp_path: Path) -> None:
    for name, text in TEMPLATES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    ours = make_environment([tmp_path]).get_template("page.html").render(VALUES)
    theirs = _jinjas_own(tmp_path).get_template("page.html").render(VALUES)
    assert ours == theirs
    assert "A &amp; B &lt;c&gt; &#39;d&#39; &#34;e&#34;" in ours and "<strong>x & y</strong>" in ours


def test_the_code_prints_through_the_plain_escaper_and_an_undefined_value_still_fails(tmp_path: Path) -> None:
    env = make_environment([tmp_path])
    assert "environment.escaped(" in env.compile("{{ x }}", raw=True)  # a Jinja that renamed the hook
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


class _Counter:
    """A callable object that asks for the context, and a method that asks for the environment."""

    @jinja2.pass_context
    def __call__(self, context: jinja2.runtime.Context, name: str) -> str:
        return f"{name}={context.get(name)}"

    @jinja2.pass_environment
    def where(self, environment: jinja2.Environment) -> str:
        return type(environment).__name__.strip("_")

    def plain(self, a: int, *, b: int = 0) -> int:
        return a + b


@jinja2.pass_context
def _seen(context: jinja2.runtime.Context, name: str) -> str:
    return f"{name}={context.get(name)}"


@jinja2.pass_eval_context
def _escaping(eval_ctx: jinja2.nodes.EvalContext) -> str:
    return "on" if eval_ctx.autoescape else "off"


def _stops() -> str:
    raise StopIteration


CALLS = """{% set outer = 1 %}{{ seen("outer") }} {{ counter("outer") }} {{ counter.where() }}
{% for i in [1, 2] %}{% set k = i * 2 %}{{ seen("k") }},{{ counter("k") }},{{ plain(i, b=10) }},{{ counter.plain(i) }};{% endfor %}
{% block b %}{% set inner = 5 %}{{ seen("inner") }} {{ escaping() }}{% endblock %}
{% for i in [3] %}{% set m = 3 %}{% for j in [4] %}{% set n = 4 %}{{ seen("m") }}/{{ seen("n") }}{% endfor %}{% endfor %}
[{{ stops() is undefined }}] {{ dict(a=1).get("a") }} {{ range(3) | list }} {{ lipsum(1, false, 2, 3) | length > 0 }}
{% autoescape false %}{{ escaping() }}{% endautoescape %}"""


def test_calls_from_a_template_pass_what_jinja_passes(tmp_path: Path) -> None:
    """factbook's context calls functions and methods more quickly than Jinja's: the same
    arguments reach them (the context with the loop's and block's variables, the eval context,
    the environment), and a StopIteration is an undefined value as in Jinja."""
    values = {
        "seen": _seen,
        "counter": _Counter(),
        "escaping": _escaping,
        "plain": lambda a, b=0: a * b,
        "stops": _stops,
    }
    (tmp_path / "calls.html").write_text(CALLS, encoding="utf-8")
    ours = make_environment([tmp_path]).get_template("calls.html").render(values)
    theirs = _jinjas_own(tmp_path).get_template("calls.html").render(values)
    assert ours == theirs
    assert "k=2,k=2,10,1;k=4,k=4,20,2;" in ours and "inner=5 on" in ours and "n=4" in ours
    assert "[True]" in ours and ours.rstrip().endswith("off")
