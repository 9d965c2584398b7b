from __future__ import annotations

import pytest

from factbook.dates import DateError, parse_date


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2013", "2013"),
        (2013, "2013"),
        ("2005-05", "May 2005"),
        ("2009-10-05", "5 October 2009"),
        ("2009-10-05/2009-10-09", "5–9 October 2009"),
        ("2009-09-30/2009-10-02", "30 September – 2 October 2009"),
        ("2004-05/2004-07", "May–July 2004"),
        ("2017/2020", "2017–2020"),
        ("2012-12/2013-01", "December 2012–January 2013"),
        ("1993/", "since 1993"),
        ("/2010", "until 2010"),
        ("~2010", "about 2010"),
        ("undated", "undated"),
    ],
)
def test_dates_print_in_words_and_round_trip(text: str | int, words: str) -> None:
    date = parse_date(text)
    assert date.words() == words
    assert parse_date(date.iso()) == date


def test_dates_sort_by_start_then_end_with_undated_last() -> None:
    texts = ["undated", "2009-10-05/2009-10-09", "2009", "1993/", "2009-10", "~2010", "2009-10-05"]
    ordered = sorted(texts, key=lambda t: parse_date(t).sort_key())
    assert ordered == ["1993/", "2009", "2009-10", "2009-10-05", "2009-10-05/2009-10-09", "~2010", "undated"]


def test_dates_group_by_year() -> None:
    assert parse_date("2009-10-05/2010-01").year == 2009
    assert parse_date("/2010").year == 2010
    assert parse_date("undated").year is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2009-13", "'2009-13' has no month 13"),
        ("2009-02-30", "'2009-02-30' has no day 30 in February 2009"),
        ("2010/2009", "'2010/2009' ends before it starts"),
        ("May 2005", "'May 2005' is not a date"),
        ("/", "'/' has neither a start nor an end"),
        ("0000", "'0000' has no year 0"),
        ("0000-05/2001", "'0000-05/2001' has no year 0"),
    ],
)
def test_bad_dates_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DateError, match=message):
        parse_date(text)
