"""Work shared among this process and forked children: every piece done once, in order, this
process taking its share, and a child's failure raised here."""

from __future__ import annotations

import os
import select
from collections.abc import Callable

import pytest

from factbook.parallel import WorkerFailed, share


def _signal() -> tuple[Callable[[], None], Callable[[], None]]:
    """Return a pair (give, wait): wait returns once any process has called give (or after 10 s)."""
    reading, writing = os.pipe()

    def give() -> None:
        os.write(writing, b"x")

    def wait() -> None:
        assert select.select([reading], [], [], 10)[0], "no signal in 10 s"

    return give, wait


def test_every_piece_is_done_once_and_the_results_come_in_order() -> None:
    told: list[int] = []
    first: list[int] = []
    results = share(3, 200, lambda i: i * i, first=lambda: first.append(1), progress=told.append)
    assert results == [i * i for i in range(200)]
    assert first == [1]  # this process's own work, before its share
    assert told == sorted(told) and all(0 < n <= 200 for n in told)


def test_this_process_takes_its_share_of_the_pieces_beside_the_children() -> None:
    here = os.getpid()
    give_here, wait_here = _signal()
    give_there, wait_there = _signal()

    def do(i: int) -> int:  # each side goes on once the other has taken a piece
        if os.getpid() == here:
            give_here()
            wait_there()
        else:
            give_there()
            wait_here()
        return os.getpid()

    done_by = share(2, 100, do)
    assert here in done_by and any(pid != here for pid in done_by)


@pytest.mark.parametrize("failure", ["error", "exit"])
def test_a_childs_failure_is_raised_here(failure: str) -> None:
    here = os.getpid()
    give, wait = _signal()

    def do(i: int) -> int:
        if os.getpid() == here:
            wait()  # until a child has taken a piece, and failed at it
            return i
        give()
        if failure == "exit":
            os._exit(3)  # killed, say: no answer at all
        raise OSError(28, "No space left on device")

    # A child's error is raised as it was raised there; a child with no answer is a failure,
    # never a short list of results.
    expected = (OSError, "No space left") if failure == "error" else (WorkerFailed, "without its part")
    with pytest.raises(expected[0], match=expected[1]):
        share(2, 100, do)


def test_with_one_job_this_process_does_it_all() -> None:
    here = os.getpid()
    assert share(1, 5, lambda i: (i, os.getpid())) == [(i, here) for i in range(5)]


def test_no_more_children_are_forked_than_there_are_pieces_beside_this_processs_own() -> None:
    here = os.getpid()
    assert share(8, 1, lambda i: (i, os.getpid())) == [(0, here)]  # one piece: no child at all
    done_by = share(8, 2, lambda i: os.getpid())
    assert len(done_by) == 2 and len(set(done_by)) <= 2
