"""Work done by a forked child process that answers this one on a pipe, while this one goes on:
the caches read and checked, the output looked at, the caches written."""

from __future__ import annotations

import os
import signal
import traceback
from collections.abc import Callable

Child = tuple[int, int]  # the child's process id, and the end of the pipe it answers on


class WorkerFailed(RuntimeError):
    """Raised when a child sharing the work ended without an answer: killed (out of memory, say),
    or stopped by a bug of ours, whose traceback it printed."""


def fork(work: Callable[[int], bool]) -> Child | None:
    """Return a child process doing work, or None if no process can be made.

    work is given the end of the pipe to write its answer to; the child ends when it returns,
    in success if it returned True.
    """
    if not hasattr(os, "fork"):
        return None
    reading, writing = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no process to spare: the caller does the work itself
        os.close(reading)
        os.close(writing)
        return None
    if pid == 0:  # pragma: no cover - the child; what it does is checked by what it answers
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's, which ends it
            os.close(reading)
            code = 0 if work(writing) else 1
        except BaseException:  # a bug of ours: its traceback, and no answer
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(writing)
    return pid, reading


def write_all(end: int, data: bytes) -> None:
    """Write all of data to a pipe's end."""
    view = memoryview(data)
    while view:
        view = view[os.write(end, view) :]


def answer(child: Child) -> tuple[bytes, bool]:
    """Return all that the child wrote, once it has ended, and whether it ended in success."""
    pid, reading = child
    with os.fdopen(reading, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    return data, status == 0


def end(child: Child) -> None:
    """End the child if it is still at work (this process ended its part first), and wait for it."""
    pid, reading = child
    os.close(reading)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
