"""Problems found in a site's sources, reported as ``path:line: message``."""

from __future__ import annotations

import difflib
import errno
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .frozen import pickled_by_fields

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@pickled_by_fields
@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with the input, located at a file and line."""

    path: str
    line: int
    message: str
    hint: str = ""
    warning: bool = False

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}: {'warning: ' if self.warning else ''}{self.message}"
        return printable(f"{text}; {self.hint}" if self.hint else text)


def printable(text: str) -> str:
    """Return text with its control characters escaped, so it stays on one line of a report."""
    # A file name with a newline in it would otherwise forge a second 'path:line:' line.
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class ContentError(Exception):
    """Raised when the sources hold problems that stop a build."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


def did_you_mean(word: str, candidates: Iterable[str], n: int = 3) -> str:
    """Return a "did you mean" hint naming the closest candidates, or an empty string."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=n, cutoff=0.6)
    if not close:
        return ""
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def line_of(text: str, offset: int) -> int:
    """Return the 1-based line number of a character offset in text."""
    return text.count("\n", 0, offset) + 1


_PERMISSIONS = "check the owner and permissions of the folder, or use --output"
_WHAT_TO_DO = {
    errno.ENOSPC: ("no space left on device", "free some space, or build with --output elsewhere"),
    errno.EDQUOT: ("disk quota exceeded", "free some space, or build with --output elsewhere"),
    errno.EROFS: ("read-only file system", "build with --output into a writable folder"),
    errno.EACCES: ("permission denied", _PERMISSIONS),
    errno.EPERM: ("operation not permitted", _PERMISSIONS),
    errno.ELOOP: ("symbolic links form a loop", "remove the link or point it at a file"),
    errno.ENAMETOOLONG: ("name too long", "shorten the name of the file or folder"),
    errno.EMFILE: ("too many open files", "raise the limit (ulimit -n) or build with fewer --jobs"),
    errno.ENFILE: ("too many open files", "raise the limit (ulimit -n) or build with fewer --jobs"),
    errno.EIO: ("input/output error", "check the disk, then build again"),
}


def os_problem(error: OSError, where: str) -> str:
    """Return an operating-system error as 'path: what happened; what to do'."""
    path = error.filename if error.filename is not None else where
    known = _WHAT_TO_DO.get(error.errno or 0)
    if known is not None:
        return f"{path}: {known[0]}; {known[1]}"
    what = error.strerror or str(error) or type(error).__name__
    if "; " in what:  # it says what to do already
        return f"{path}: {what}"
    return f"{path}: {what[:1].lower()}{what[1:]}; check the path, then build again"
