"""Builds under faults: killed, out of space, read-only, looping links, racing; and always the same bytes."""

from __future__ import annotations

import errno
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from factbook import write
from factbook.cli import main
from factbook.stamp import cache_folder
from tests.conftest import SITES

TIES = SITES / "ties"
SRC = str(Path(__file__).parents[1] / "src")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _build(site: Path, output: Path, *extra: str, seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": SRC, "NO_COLOR": "1"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "factbook",
            "build",
            "-s",
            str(site),
            "-o",
            str(output),
            "--no-search",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_builds_under_two_hash_seeds_are_byte_identical(tmp_path: Path) -> None:
    # Six events share a title and a date, three organizations a name, three people too.
    one, two = tmp_path / "one", tmp_path / "two"
    first = _build(TIES, one, "--no-cache", "-j", "2", seed="1")
    second = _build(TIES, two, "--no-cache", "-j", "1", seed="2")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    built, again = _files(one), _files(two)
    assert sorted(built) == sorted(again)
    assert [name for name in built if built[name] != again[name]] == []


def _tiny(root: Path, generation: int) -> Path:
    """Return a copy of the tiny site whose every page names the generation in its title."""
    if not root.exists():
        shutil.copytree(SITES / "tiny" / "content", root / "content")
    (root / "content" / "site.yaml").write_text(f"title: Tiny gen{generation}x\ndescription: Tiny.\n")
    return root


def _generations(output: Path) -> set[str]:
    """Return the generations the output's pages name: one, for a whole build."""
    pages = [p.read_text("utf-8") for p in output.rglob("*.html")]
    return {found for page in pages for found in re.findall(r"Tiny gen(\d+)x", page)}


def _leftovers(output: Path) -> list[str]:
    return sorted(p.name for p in output.parent.iterdir() if p.name.startswith(f".{output.name}-"))


def test_a_build_killed_anywhere_leaves_a_whole_site_and_the_next_clears_its_leftovers(
    tmp_path: Path,
) -> None:
    root, output = tmp_path / "site", tmp_path / "out"
    seed = random.randrange(1 << 30)
    chance = random.Random(seed)
    started = time.monotonic()
    assert _build(_tiny(root, 0), output, "-j", "1").returncode == 0
    names = sorted(p.relative_to(output).as_posix() for p in output.rglob("*"))
    took = time.monotonic() - started
    current = 0
    env = {**os.environ, "PYTHONPATH": SRC}
    for generation in range(1, 21):  # 20 builds, each maybe killed
        _tiny(root, generation)
        command = [sys.executable, "-m", "factbook", "build", "-s", str(root), "-o", str(output)]
        process = subprocess.Popen(
            [*command, "--no-search", "-j", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            process.wait(timeout=chance.uniform(0.3, 1.1) * took)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        else:
            assert process.returncode == 0
        shown = _generations(output)
        assert len(shown) == 1 and int(min(shown)) in {current, generation}, f"seed {seed}"
        assert sorted(p.relative_to(output).as_posix() for p in output.rglob("*")) == names, f"seed {seed}"
        current = int(min(shown))
        assert process.returncode != 0 or current == generation
        assert len(_leftovers(output)) <= 2, f"seed {seed}: leftovers pile up"
    assert _build(_tiny(root, 99), output, "-j", "1").returncode == 0
    assert _generations(output) == {"99"}
    assert _leftovers(output) == []


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _exits_with_a_message(result: Result) -> None:
    """Assert the command exited 1 on purpose, not through an exception it let out."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception


def _built(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """Return a tiny site, its output built once, and the output's files; the site then changed."""
    root, output = _tiny(tmp_path / "site", 1), tmp_path / "out"
    assert _cli("build", "-s", str(root), "-o", str(output), "--no-search").exit_code == 0
    _tiny(root, 2)  # so the next build writes every page, none linked from the old output
    return root, output, _files(output)


def _refuse(code: int, inside: str) -> Callable[..., Any]:
    """Return a Path.open that fails with the error code when writing a file whose path holds inside
    (write_bytes and write_text open through it too)."""
    open_path = Path.open

    def failing(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if inside in str(self) and any(c in mode for c in "wax+"):
            raise OSError(code, os.strerror(code), str(self))
        return open_path(self, mode, *args, **kwargs)

    return failing


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "no space left on device; free some space"),
        (errno.EROFS, "read-only file system; build with --output"),
        (errno.EPERM, "operation not permitted; check the owner and permissions"),
        (errno.EACCES, "permission denied; check the owner and permissions"),
    ],
)
def test_a_disk_error_while_writing_is_a_message_and_the_old_site_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str
) -> None:
    root, output, before = _built(tmp_path)
    monkeypatch.setattr(Path, "open", _refuse(code, ".out-new-"))
    result = _cli("build", "-s", str(root), "-o", str(output), "--no-search")
    _exits_with_a_message(result)
    assert re.search(rf"\.out-new-[^:]*: {re.escape(words)}", result.output), result.output
    assert f"nothing written; {output} is as it was" in result.output
    assert _files(output) == before
    assert _leftovers(output) == []


@pytest.mark.parametrize("code", [errno.EROFS, errno.EPERM])
def test_an_output_folder_that_cannot_be_replaced_is_a_message_and_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    root, output, before = _built(tmp_path)

    def refuse(first: Path, second: Path) -> bool:
        raise OSError(code, os.strerror(code), str(second))

    monkeypatch.setattr(write, "_exchange", refuse)
    result = _cli("build", "-s", str(root), "-o", str(output), "--no-search")
    _exits_with_a_message(result)
    assert f"{output}: " in result.output and "use --output" in result.output.replace(
        "with --output", "use --output"
    )
    assert _files(output) == before
    assert _leftovers(output) == []


# With two workers, a whole build writes its cache in a child process: its failure is told the same.
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_when_saving_the_cache_does_not_fail_a_build_already_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    root, output, before = _built(tmp_path)
    shutil.rmtree(cache_folder(output))  # no state kept: a whole build, which may fork the writing
    monkeypatch.setattr(Path, "open", _refuse(errno.ENOSPC, ".factbook-cache"))
    result = _cli("build", "-s", str(root), "-o", str(output), "--no-search", "--jobs", jobs)
    assert result.exit_code == 0, result.output
    assert "cache not saved" in result.output and "no space left on device" in result.output
    assert _generations(output) == {"2"}


def test_a_build_that_cannot_fork_a_cache_writer_writes_the_cache_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, output = _tiny(tmp_path / "site", 1), tmp_path / "out"  # too small for worker pools

    def refuse() -> int:
        raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))

    monkeypatch.setattr(os, "fork", refuse)
    result = _cli("build", "-s", str(root), "-o", str(output), "--no-search", "--jobs", "2")
    assert result.exit_code == 0 and "cache not saved" not in result.output, result.output
    monkeypatch.undo()
    _tiny(root, 2)
    again = _cli("build", "-s", str(root), "-o", str(output), "--no-search", "--jobs", "2")
    assert again.exit_code == 0, again.output
    assert re.search(r"[1-9]\d* Markdown bodies from the cache", again.output), again.output


@contextmanager
def _tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """Mount a small tmpfs at folder for the block, or skip where mounting is not allowed."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0, reason="mounts need Linux and root"
)
def test_a_real_full_disk_and_a_real_read_only_one(tmp_path: Path) -> None:
    root = _tiny(tmp_path / "site", 1)
    with _tmpfs(tmp_path / "small", "size=64k") as small:
        result = _build(root, small / "out", "--no-cache")
        assert result.returncode == 1
        assert "no space left on device; free some space" in result.stderr
        assert "Traceback" not in result.stderr
        assert sorted(os.listdir(small)) in ([], [".factbook-cache"])
    with _tmpfs(tmp_path / "frozen", "ro,size=1m") as frozen:
        result = _build(root, frozen / "out", "--no-cache")
        assert result.returncode == 1
        assert "read-only file system; build with --output into a writable folder" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_symbolic_link_loop_in_the_content_is_a_warning_naming_it(tmp_path: Path) -> None:
    root = _tiny(tmp_path / "site", 1)
    events = root / "content" / "events"
    (events / "a.md").symlink_to("b.md")
    (events / "b.md").symlink_to("a.md")
    (events / "here").symlink_to("..")
    result = _cli("build", "-s", str(root), "-o", str(tmp_path / "out"), "--no-search")
    assert result.exit_code == 0, result.output
    assert "content/events/a.md:1: warning: symbolic links form a loop" in result.output
    assert "content/events/here:1: warning: symbolic link to a folder holding it (a loop)" in result.output
    strict = _cli(
        "build", "-s", str(root), "-o", str(tmp_path / "out"), "--no-search", "--strict", "--no-cache"
    )
    _exits_with_a_message(strict)


def test_a_second_build_into_one_output_waits_for_the_first(tmp_path: Path) -> None:
    root, output = _tiny(tmp_path / "site", 1), tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": SRC}
    command = [sys.executable, "-m", "factbook", "build", "-s", str(root), "-o", str(output), "--no-search"]
    with write.output_lock(output, cache_folder(output) / write.LOCK):
        second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert second.stderr is not None
        line = second.stderr.readline()  # the builder says so before it waits
        assert line.strip() == f"waiting for another build into out (pid {os.getpid()})"
        assert second.poll() is None
        assert not output.exists()
    _, errors = second.communicate(timeout=60)
    assert second.returncode == 0, errors
    assert _generations(output) == {"1"}


def test_two_builds_at_once_both_succeed_one_after_the_other(tmp_path: Path) -> None:
    root, output = _tiny(tmp_path / "site", 1), tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": SRC}
    command = [sys.executable, "-m", "factbook", "build", "-s", str(root), "-o", str(output), "--no-search"]
    both = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    for process in both:
        _, errors = process.communicate(timeout=60)
        assert process.returncode == 0, errors
    assert _generations(output) == {"1"}
    assert _leftovers(output) == []


def test_a_build_waiting_too_long_for_another_gives_up_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, output = _tiny(tmp_path / "site", 1), tmp_path / "out"
    monkeypatch.setattr(write, "LOCK_TIMEOUT", 0.2)
    with write.output_lock(output, cache_folder(output) / write.LOCK):
        result = _cli("build", "-s", str(root), "-o", str(output), "--no-search")
    _exits_with_a_message(result)
    assert f"another build into out (pid {os.getpid()}) still runs after 0 s" in result.output
    assert not output.exists()


def test_clean_removes_what_dead_builders_left_and_keeps_a_live_one(tmp_path: Path) -> None:
    root, output = _tiny(tmp_path / "site", 1), tmp_path / "out"
    assert _cli("build", "-s", str(root), "-o", str(output), "--no-search").exit_code == 0
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (tmp_path / f".out-new-{dead.stdout.strip()}-1-abc").mkdir()
    (tmp_path / ".out-old-xyz").mkdir()  # as builds before the PID was in the name left them
    live = write.Staging(output)
    result = _cli("clean", "-s", str(root), "-o", str(output))
    assert result.exit_code == 0, result.output
    assert not output.exists()
    assert _leftovers(output) == [live.folder.name]
    live.discard()


def test_the_swap_falls_back_to_two_renames_without_renameat2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(write, "_renameat2", lambda: None)
    root, output, _ = _built(tmp_path)
    assert _cli("build", "-s", str(root), "-o", str(output), "--no-search").exit_code == 0
    assert _generations(output) == {"2"}
    assert _leftovers(output) == []


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_content_file_that_cannot_be_read_is_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    root = _tiny(tmp_path / "site", 1)
    read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self.name == "itu.md":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    output = ["-o", str(tmp_path / "out"), "--no-search"] if command == "build" else []
    result = _cli(command, "-s", str(root), *output)
    _exits_with_a_message(result)
    assert "organizations/itu.md: permission denied; check the owner and permissions" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_process_sharing_the_build_killed_midway_is_a_message_and_the_old_site_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    import select

    from factbook import parallel

    root, output, before = _built(tmp_path)
    for i in range(60):  # enough bodies to share with a child
        (root / "content" / "topics" / f"extra-{i}.md").write_text(f"---\ntitle: Extra {i}\n---\nText {i}.\n")
    here, real = os.getpid(), parallel.render_serially
    reading, writing = os.pipe()

    def killed_in_the_child(batch, table):  # type: ignore[no-untyped-def]
        if os.getpid() != here:
            os.write(writing, b"x")
            os._exit(9)  # as the kernel's out-of-memory killer would end it: no answer, no traceback
        assert select.select([reading], [], [], 10)[0], "the child took no bodies in 10 s"
        return real(batch, table)

    monkeypatch.setattr(parallel, "render_serially", killed_in_the_child)
    if command == "check":  # on a machine of two cores or more, check shares its work too
        monkeypatch.setattr("factbook.cli.default_jobs", lambda: 2)
        result = _cli("check", "-s", str(root))
    else:
        result = _cli("build", "-s", str(root), "-o", str(output), "--no-search", "--no-cache", "-j", "2")
    _exits_with_a_message(result)
    assert "a process sharing the build ended without its part (killed?)" in result.output
    ending = "check again" if command == "check" else f"nothing written; {output} is as it was"
    assert ending in result.output
    assert _files(output) == before
    assert _leftovers(output) == []
