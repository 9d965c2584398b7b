"""Partial and uncertain dates: ``2013``, ``2005-05``, ``2009-10-05/2009-10-09``, ``1993/``, ``~2010``."""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from .frozen import pickled_by_fields

_POINT = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
MONTHS = tuple(calendar.month_name)
UNDATED = "undated"
FORMS = "2013, 2005-05, 2009-10-05, 2009-10-05/2009-10-09, 1993/, ~2010 or undated"


@pickled_by_fields
@dataclass(frozen=True, slots=True, order=True)
class Point:
    """A calendar point known to the year, the month or the day."""

    year: int
    month: int = 0
    day: int = 0

    def __str__(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month:
            parts.append(f"{self.month:02d}")
        if self.day:
            parts.append(f"{self.day:02d}")
        return "-".join(parts)

    def words(self, with_year: bool = True, with_month: bool = True) -> str:
        """Return the point in words: '5 October 2009', 'May 2005', '1993'."""
        speech = SPEECH.get()
        if speech is not None:
            return speech.point(self, with_year, with_month)
        parts = []
        if self.day:
            parts.append(str(self.day))
        if self.month and with_month:
            parts.append(MONTHS[self.month])
        if with_year:
            parts.append(str(self.year))
        return " ".join(parts)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date as precise as its source: a point, a range, an open start, or none at all."""

    start: Point | None
    end: Point | None = None
    is_range: bool = False
    approximate: bool = False

    @property
    def undated(self) -> bool:
        """Return whether the source gives no date at all."""
        return self.start is None and self.end is None

    @property
    def year(self) -> int | None:
        """Return the year the date is grouped under (its start, else its end)."""
        point = self.start or self.end
        return point.year if point else None

    def sort_key(self) -> tuple[int, int, int, int, int, int]:
        """Return a key that orders dates by start, then end; undated last."""
        start = self.start or self.end
        if start is None:
            return (9999, 99, 99, 9999, 99, 99)
        end = self.end or start
        return (start.year, start.month, start.day, end.year, end.month, end.day)

    def iso(self) -> str:
        """Return the date in the notation it was written in."""
        if self.undated:
            return UNDATED
        text = str(self.start) if self.start else ""
        if self.is_range:
            text += "/" + (str(self.end) if self.end else "")
        return ("~" if self.approximate else "") + text

    def words(self) -> str:
        """Return the date in words: '5–9 October 2009', 'since 1993', 'about 2010'."""
        speech = SPEECH.get()
        if speech is not None:
            return speech.date(self)
        if self.undated:
            return "undated"
        prefix = "about " if self.approximate else ""
        if not self.is_range:
            assert self.start is not None
            return prefix + self.start.words()
        if self.start is None:
            assert self.end is not None
            return f"{prefix}until {self.end.words()}"
        if self.end is None:
            return f"{prefix}since {self.start.words()}"
        return prefix + _range_words(self.start, self.end)

    def __str__(self) -> str:
        return self.words()


def _range_words(start: Point, end: Point) -> str:
    same_year = start.year == end.year
    same_month = same_year and start.month == end.month and start.month != 0
    if same_month and start.day and end.day:
        return f"{start.day}–{end.words()}"
    if same_year and start.month and end.month:
        dash = " – " if start.day else "–"
        return f"{start.words(with_year=False)}{dash}{end.words()}"
    return f"{start.words()}–{end.words()}"


@dataclass(frozen=True, slots=True)
class Speech:
    """Dates and factbook's own words in a language other than the default: its locale and catalogue."""

    locale: str
    gettext: Callable[[str], str]
    ngettext: Callable[[str, str, int], str] | None = None

    def point(self, point: Point, with_year: bool = True, with_month: bool = True) -> str:
        """Return the point in words in this language, from Babel's CLDR data."""
        from babel.dates import format_date, format_skeleton  # here: a site in one language never needs it

        day = datetime.date(point.year, point.month or 1, point.day or 1)
        if point.day and with_month:
            return format_skeleton("yMMMMd" if with_year else "MMMMd", day, locale=self.locale)
        if point.day:
            return str(point.day)
        if point.month and with_month:
            if with_year:
                return format_skeleton("yMMMM", day, locale=self.locale)
            return format_date(day, "LLLL", locale=self.locale)
        return str(point.year) if with_year else ""

    def date(self, date: PartialDate) -> str:
        """Return the date in words in this language: '5–9 oktyabr 2009'."""
        _ = self.gettext
        if date.undated:
            return _("undated")
        if not date.is_range:
            assert date.start is not None
            text = self.point(date.start)
        elif date.start is None:
            assert date.end is not None
            text = _("until %(date)s") % {"date": self.point(date.end)}
        elif date.end is None:
            text = _("since %(date)s") % {"date": self.point(date.start)}
        else:
            text = self._range(date.start, date.end)
        return _("about %(date)s") % {"date": text} if date.approximate else text

    def _range(self, start: Point, end: Point) -> str:
        # Languages that write the day first ("5 oktyabr 2009") share the ranges of the default path.
        from babel.dates import format_skeleton

        day_first = format_skeleton("yMMMMd", datetime.date(2009, 10, 5), locale=self.locale).startswith("5")
        same_year = start.year == end.year
        if day_first and same_year and start.month == end.month and start.month and start.day and end.day:
            return f"{start.day}–{self.point(end)}"
        if day_first and same_year and start.month and end.month:
            dash = " – " if start.day else "–"
            return f"{self.point(start, with_year=False)}{dash}{self.point(end)}"
        return f"{self.point(start)} – {self.point(end)}"


# The language dates are put in words in while an edition of a site renders; None: the default.
SPEECH: ContextVar[Speech | None] = ContextVar("speech", default=None)


class DateError(ValueError):
    """Raised for a value that is not a date in one of the accepted forms."""


def _point(text: str, original: str) -> Point:
    match = _POINT.match(text)
    if not match:
        raise DateError(f"'{original}' is not a date; write it as {FORMS}")
    year, month, day = (int(g) if g else 0 for g in match.groups())
    if not year:
        raise DateError(f"'{original}' has no year 0: years start at 0001")
    if month and not 1 <= month <= 12:
        raise DateError(f"'{original}' has no month {month}")
    if day and not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise DateError(f"'{original}' has no day {day} in {MONTHS[month]} {year}")
    return Point(year, month, day)


def parse_date(value: object) -> PartialDate:
    """Return the PartialDate written as value, or raise DateError saying what is wrong."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DateError(f"{value!r} is not a date; write it as {FORMS}")
    text = str(value).strip()
    if text == UNDATED:
        return PartialDate(None)
    approximate = text.startswith("~")
    body = text[1:].strip() if approximate else text
    if "/" not in body:
        return PartialDate(_point(body, text), approximate=approximate)
    left, _, right = body.partition("/")
    if not left and not right:
        raise DateError(f"'{text}' has neither a start nor an end")
    start = _point(left, text) if left else None
    end = _point(right, text) if right else None
    if start and end and end < start:
        raise DateError(f"'{text}' ends before it starts")
    return PartialDate(start, end, is_range=True, approximate=approximate)
