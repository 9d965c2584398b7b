"""Frozen records that pickle as a call of their class with their fields, or as a tuple.

A frozen dataclass with slots is otherwise read back field by field through __setstate__, which
looks up the class's fields again for every object: twice as slow, and the caches between
builds hold hundreds of thousands of them. A named tuple is otherwise read back through the
__new__ its class defines in Python, one call a tuple: tuple.__new__ makes it without one.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from operator import attrgetter
from typing import Any, TypeVar, overload

T = TypeVar("T", bound=type)
N = TypeVar("N", bound=type[tuple[Any, ...]])
K = TypeVar("K")
V = TypeVar("V")


class _Packed:
    """A value kept pickled until it is first read (Packed, PackedMapping, PackedSet).

    Most are never read: loading back a cache's hundreds of thousands of small tuples that no
    build looks at was a third of the time its bodies took to load. Pickled again, it stays packed.
    """

    __slots__ = ("data", "_value")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._value: Any = None

    def value(self) -> Any:
        """Return the value, unpickled on the first call."""
        if self._value is None:
            self._value = pickle.loads(self.data)  # written by this process or a signed cache file
        return self._value

    def __eq__(self, other: object) -> bool:
        return self.value() == (other.value() if isinstance(other, _Packed) else other)

    def __repr__(self) -> str:
        return repr(self.value())

    def __reduce__(self) -> tuple[type, tuple[bytes]]:
        return type(self), (self.data,)

    def __contains__(self, item: object) -> bool:
        return item in self.value()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.value())

    def __len__(self) -> int:
        return len(self.value())


class Packed(_Packed, Sequence[V]):
    """A tuple kept pickled until it is first read."""

    __slots__ = ()

    @classmethod
    def of(cls, value: Any) -> Any:
        """Return a tuple (or list) packed as a Packed, a dict as a PackedMapping; an empty one
        or one packed already as it is."""
        if isinstance(value, _Packed) or not value:  # its length would unpack it
            return value
        if isinstance(value, dict):
            return PackedMapping(pickle.dumps(value, protocol=5))
        if isinstance(value, frozenset):
            return PackedSet(pickle.dumps(value, protocol=5))
        return cls(pickle.dumps(tuple(value), protocol=5))

    @overload
    def __getitem__(self, index: int) -> V: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[V, ...]: ...
    def __getitem__(self, index: int | slice) -> V | tuple[V, ...]:
        return self.value()[index]  # type: ignore[no-any-return]

    def __hash__(self) -> int:
        return hash(self.value())


class PackedMapping(_Packed, Mapping[K, V]):
    """A dict kept pickled until it is first read."""

    __slots__ = ()

    def __getitem__(self, key: K) -> V:
        return self.value()[key]  # type: ignore[no-any-return]

    __hash__ = None  # type: ignore[assignment]  # as a dict's


class PackedSet(_Packed, AbstractSet[V]):
    """A frozenset kept pickled until it is first read."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(self.value())

    def isdisjoint(self, other: Iterable[Any]) -> bool:
        """Return whether the set has no item in common with other."""
        return self.value().isdisjoint(other)  # type: ignore[no-any-return]

    @classmethod
    def _from_iterable(cls, items: Iterable[V]) -> frozenset[V]:
        return frozenset(items)  # what | and & with it make: a set, not a packed one


def unpacked(value: Sequence[V]) -> tuple[V, ...]:
    """Return a field that may be Packed as the tuple it holds."""
    return value.value() if isinstance(value, Packed) else tuple(value)


@overload
def pickled_by_fields(cls: T) -> T: ...
@overload
def pickled_by_fields(*, packed: tuple[str, ...]) -> Callable[[T], T]: ...
def pickled_by_fields(cls: T | None = None, *, packed: tuple[str, ...] = ()) -> T | Callable[[T], T]:
    """Return the dataclass cls, made to pickle as cls(*fields), with the fields named in packed
    pickled as Packed tuples (or, with no cls, a decorator that does so)."""
    if cls is None:
        return lambda cls: _by_fields(cls, packed)
    return _by_fields(cls, packed)


def _by_fields(cls: T, packed: tuple[str, ...]) -> T:
    fields = dataclasses.fields(cls)
    if not all(f.init for f in fields):
        raise TypeError(f"{cls.__name__} has fields its constructor does not take")
    names = tuple(f.name for f in fields)
    if not set(packed) <= set(names):
        raise TypeError(f"{cls.__name__} has no field {sorted(set(packed) - set(names))[0]!r}")
    values = attrgetter(*names) if len(names) > 1 else (lambda obj: (getattr(obj, names[0]),))
    wrapped = [i for i, name in enumerate(names) if name in packed]

    def __reduce__(self: Any) -> tuple[type, tuple[Any, ...]]:  # noqa: N807
        if not wrapped:
            return cls, values(self)
        made = list(values(self))
        for i in wrapped:
            made[i] = Packed.of(made[i])
        return cls, tuple(made)

    cls.__reduce__ = __reduce__  # type: ignore[assignment]
    return cls


_new_tuple = tuple.__new__


def pickled_as_tuple(cls: N) -> N:
    """Return the named tuple class cls, made to pickle as tuple.__new__(cls, its values)."""

    def __reduce__(self: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:  # noqa: N807
        return _new_tuple, (cls, tuple(self))

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls
