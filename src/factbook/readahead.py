"""Half of a site's content files read by a forked child while this process imports the rest of
factbook and reads the other half: a build with nothing in its cache reads every file."""

from __future__ import annotations

import gc
import os
import pickle
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from . import forking

if TYPE_CHECKING:  # the child imports the loader itself, while this process imports the rest
    from .load import FileRecord


class ReadAhead:
    """A forked child reading the content files that theirs() names, for load_sources to take."""

    def __init__(self, root: Path, exclude: frozenset[str] = frozenset()) -> None:
        self.root, self.exclude = root, exclude
        self._child = forking.fork(self._read)
        self.active = self._child is not None  # if not, load_sources reads every file itself

    @staticmethod
    def theirs(shown: str) -> bool:
        """Return whether the file at this path (as problems show it) is the child's to read."""
        return zlib.crc32(shown.encode("utf-8", "surrogatepass")) % 2 == 0

    def _read(self, end: int) -> bool:
        """Read the child's share of the files and write their records to the pipe (in the child)."""
        gc.disable()  # the child ends once it answers: passes over the heap it inherited free nothing
        from .load import load_sources

        files = load_sources(self.root, exclude=self.exclude, only=self.theirs).files
        forking.write_all(end, pickle.dumps(files, protocol=5))
        return True

    def take(self) -> dict[str, FileRecord]:
        """Return the records of the files the child read, by path ({} if it could not read them)."""
        child, self._child = self._child, None
        if child is None:
            return {}
        data, ended_well = forking.answer(child)
        if not ended_well:
            return {}
        found = pickle.loads(data)  # from this process's own fork, through a pipe
        return found if isinstance(found, dict) else {}

    def close(self) -> None:
        """End the child if its records were not taken (the build ended before it read anything)."""
        if self._child is not None:
            forking.end(self._child)
            self._child = None


def default_jobs() -> int:
    """Return the number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
