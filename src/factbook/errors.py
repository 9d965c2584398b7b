"""Problems found in a site's sources, reported as ``path:line: message``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


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
        return f"{text}; {self.hint}" if self.hint else text


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
