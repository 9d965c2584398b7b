from __future__ import annotations

import time

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


def _bomb(levels: int) -> str:
    """Return nested aliases that expand to 9**levels values (a "billion laughs" at 9)."""
    rows = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    names = "abcdefghij"
    for i in range(1, levels):
        rows.append(f"{names[i]}: &{names[i]} [" + ", ".join([f"*{names[i - 1]}"] * 9) + "]")
    return "\n".join(rows) + "\n"


def test_an_alias_bomb_is_refused_at_its_line_at_once() -> None:
    start = time.perf_counter()
    with pytest.raises(YamlError) as caught:
        load_yaml(_bomb(9))
    assert time.perf_counter() - start < 1
    assert caught.value == YamlError(4, "YAML aliases expand to more than 10000 values; write them out")


def test_aliases_within_the_budget_are_independent_copies() -> None:
    marked = load_yaml("x: &a {k: [1, 2]}\ny: *a\nz:\n  - *a\n")
    assert marked.data == {"x": {"k": [1, 2]}, "y": {"k": [1, 2]}, "z": [{"k": [1, 2]}]}
    marked.data["y"]["k"].append(3)
    assert marked.data["x"] == {"k": [1, 2]}
    assert marked.line(("y",)) == 1
    assert marked.line(("z", 0, "k")) == 3
    assert load_yaml(_bomb(4)).data["d"][8][8][8] == ["lol"] * 9  # 9**4 values: allowed


def test_an_alias_inside_its_own_anchor_is_an_error() -> None:
    with pytest.raises(YamlError, match="YAML alias refers to a value that holds it"):
        load_yaml("a: &a [1, *a]\n")


@pytest.mark.parametrize("flow", [True, False])
def test_deep_nesting_is_an_error_not_a_recursion_error(flow: bool) -> None:
    depth = 500
    text = "x: " + "[" * depth + "]" * depth if flow else "".join(f"{' ' * i}k{i}:\n" for i in range(depth))
    with pytest.raises(YamlError, match="YAML nested more than 100 levels deep"):
        load_yaml(text)
    assert load_yaml("x: " + "[" * 99 + "]" * 99).data is not None
