"""Frozen records that pickle as a call of their class with their fields.

A frozen dataclass with slots is otherwise read back field by field through __setstate__, which
looks up the class's fields again for every object: twice as slow, and the caches between
builds hold hundreds of thousands of them.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def pickled_by_fields(cls: T) -> T:
    """Return the dataclass cls, made to pickle as cls(*fields)."""
    fields = dataclasses.fields(cls)
    if not all(f.init for f in fields):
        raise TypeError(f"{cls.__name__} has fields its constructor does not take")
    names = tuple(f.name for f in fields)
    values = attrgetter(*names) if len(names) > 1 else (lambda obj: (getattr(obj, names[0]),))

    def __reduce__(self: Any) -> tuple[type, tuple[Any, ...]]:  # noqa: N807
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment]
    return cls
