from __future__ import annotations

import pytest

from factbook.slugs import heading_id, slugify


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("ASAN Xidmət", "asan-xidmet"),
        ("Azərbaycan", "azerbaycan"),
        ("Əliyev İlham", "eliyev-ilham"),
        ("Şəki, Gəncə və Quba", "seki-gence-ve-quba"),
        ("ITU Telecom World-2011", "itu-telecom-world-2011"),
        ("Erasmus+", "erasmus"),
    ],
)
def test_slugs_transliterate_azerbaijani_letters(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_heading_ids_use_the_same_transliteration() -> None:
    assert heading_id("Xidmət mərkəzləri", "-") == "xidmet-merkezleri"


@pytest.mark.parametrize(
    "text", ["Delegation support 1", "ITU", "a b c 2013", "Work today", "X1 y2", "UPPER lower 9"]
)
def test_the_plain_ascii_fast_path_agrees_with_python_slugify(text: str) -> None:
    from slugify import slugify as reference

    assert slugify(text) == reference(text)
    assert heading_id(text) == reference(text)
