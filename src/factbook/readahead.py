"""Content files read by a forked child while this process imports the rest of factbook, then
reads them too, from the other end: a build with nothing in its cache reads every file."""

from __future__ import annotations

import gc
import io
import mmap
import os
import pickle
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from . import forking

if TYPE_CHECKING:  # the child imports the loader itself, while this process imports the rest
    from .load import FileRecord

_MARKS = struct.Struct("<qq")  # the files the child claimed (0 up), the first this process claimed
_NONE_YET = 1 << 62
_BATCH = 64  # records pickled together


class ReadAhead:
    """A forked child reading the files to read from the first on, while this process reads
    them from the last back (load_sources): each claims a file in memory they share before it
    reads it, and each stops where the other began. Should both claim one, both read it; should
    neither, this process reads it once it has taken the child's records."""

    def __init__(self, root: Path, exclude: frozenset[str] = frozenset()) -> None:
        self.root, self.exclude = root, exclude
        self._marks = mmap.mmap(-1, _MARKS.size)
        _MARKS.pack_into(self._marks, 0, 0, _NONE_YET)
        self._child = forking.fork(self._read)

    def _read(self, end: int) -> bool:
        """Read the files from the first on and write their records to the pipe (in the child)."""
        gc.disable()  # the child ends once it answers: passes over the heap it inherited free nothing
        from .load import load_sources

        self._batch: list[FileRecord] = []
        self._packed: list[bytes] = []
        try:
            load_sources(self.root, exclude=self.exclude, claim=self._claim)
        except Exception:  # noqa: BLE001 - a file it cannot read: this process reads it, and says why
            return False
        self._pack()
        forking.write_all(end, b"".join(self._packed))
        return True

    def _claim(self, index: int, record: FileRecord | None) -> bool:
        """Claim the index-th file to read for the child; return whether it is still to be read.

        The record of the file before is pickled here, in batches, while this process still
        reads: pickled all at once they were a fifth of the wait for them at 10,000 pages.
        """
        if record is not None:
            self._batch.append(record)
            if len(self._batch) == _BATCH:
                self._pack()
        struct.pack_into("<q", self._marks, 0, index + 1)
        return index < struct.unpack_from("<q", self._marks, 8)[0]

    def _pack(self) -> None:
        if self._batch:
            self._packed.append(pickle.dumps(self._batch, protocol=5))
            self._batch = []

    def ours(self, index: int) -> bool:
        """Claim the index-th file to read for this process; return whether the child has not."""
        if self._child is None:
            return True
        struct.pack_into("<q", self._marks, 8, index)
        return index >= struct.unpack_from("<q", self._marks, 0)[0]

    def take(self) -> dict[str, FileRecord]:
        """Return the records of the files the child read, by path ({} if it could not read them)."""
        child, self._child = self._child, None
        if child is None:
            return {}
        data, ended_well = forking.answer(child)
        if not ended_well:
            return {}
        found: dict[str, FileRecord] = {}
        stream = io.BytesIO(data)
        while stream.tell() < len(data):
            # From this process's own fork, through a pipe: batches of records, one after another.
            for record in pickle.load(stream):
                if record.doc is not None:  # a file that did not read is read again here, for its message
                    found[record.doc.path] = record
        return found

    def close(self) -> None:
        """End the child if its records were not taken (the build ended before it read the content)."""
        if self._child is not None:
            forking.end(self._child)
            self._child = None


def default_jobs() -> int:
    """Return the number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
