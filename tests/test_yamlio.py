from __future__ import annotations

import pytest

from factbook.yamlio import YamlError, load_yaml


def test_values_keep_their_lines_and_dates_stay_text() -> None:
    marked = load_yaml("title: x\ndate: 2009-10-05\nitems:\n  - {a: 1}\n  - b\n")
    assert marked.data == {"title": "x", "date": "2009-10-05", "items": [{"a": 1}, "b"]}
    assert marked.line(("date",)) == 1
    assert marked.line(("items", 1)) == 4
    assert marked.line(("items", 0, "a")) == 3


def test_malformed_yaml_gives_its_line() -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml("a: 1\nb: [1, 2\nc: 3\n")
    assert caught.value.line in {1, 2}
    assert caught.value.message.startswith("invalid YAML:")


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(YamlError, match="duplicate key 'a'"):
        load_yaml("a: 1\na: 2\n")
