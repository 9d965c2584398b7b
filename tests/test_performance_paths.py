"""The fast paths give the same bytes as the plain one: cached, parallel and serial builds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from factbook.build import Options, build
from factbook.load import FileRecord
from factbook.stamp import cache_folder

from .conftest import SITES
from .test_golden import _files

ROOT = Path(__file__).parents[1]


def _site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(ROOT / "content", root / "content")
    for i in range(60):  # enough pages for the work to go to worker processes
        (root / "content" / "topics" / f"extra-{i}.md").write_text(
            f"---\ntitle: Extra topic {i}\n---\n## Part\n\nSee [[itu]] and [[upu|the UPU]].\n"
        )
    return root


def test_serial_parallel_and_cached_builds_are_byte_identical(tmp_path: Path) -> None:
    root = _site(tmp_path)
    serial, parallel, cached = tmp_path / "serial", tmp_path / "parallel", tmp_path / "cached"
    assert not build(Options(root, serial, jobs=1)).problems
    assert not build(Options(root, parallel, jobs=2)).problems
    first = build(Options(root, cached, jobs=2, cache=True))
    assert first.cache_hits == 0 and any((cache_folder(cached) / "markdown").iterdir())
    (root / "content" / "organizations" / "itu.md").touch()  # inputs changed: a real rebuild
    second = build(Options(root, cached, jobs=2, cache=True))
    assert not second.up_to_date and second.cache_hits > 200
    assert _files(serial) == _files(parallel) == _files(cached)
    assert not (cached / ".factbook-cache").exists() and cache_folder(cached).parent.name == ".factbook-cache"
    # The graph files of a whole build made by workers are patched where a new title shows.
    itu = root / "content" / "organizations" / "itu.md"
    itu.write_text(itu.read_text().replace("title: ", "title: Renamed ", 1))
    third = build(Options(root, cached, jobs=2, cache=True))
    assert third.incremental and not third.errors
    assert b"Renamed " in (cached / "graph.jsonld").read_bytes()
    assert _files(cached) == _files(_plain(root, tmp_path))


def test_no_change_rebuild_does_nothing_and_edits_are_never_missed(tmp_path: Path) -> None:
    root, out = _tiny(tmp_path)
    build(Options(root, out, cache=True))
    index = out / "organizations" / "itu" / "index.html"
    inode = index.stat().st_ino
    assert build(Options(root, out, cache=True)).up_to_date
    # A change elsewhere rebuilds, but a page whose bytes did not change is not rewritten.
    (root / "content" / "topics" / "ict.md").write_text("---\ntitle: ICT\nsummary: Changed.\n---\n")
    report = build(Options(root, out, cache=True))
    assert not report.up_to_date and report.cache_hits > 0
    assert index.stat().st_ino == inode
    # An edit to the output itself is noticed too, and repaired.
    index.write_text("tampered")
    assert not build(Options(root, out, cache=True)).up_to_date
    assert "International Telecommunication Union" in index.read_text()
    # So are a file put into it by hand, and a folder taken out: the next build is a whole one.
    stray = out / "organizations" / "notes.txt"
    stray.write_text("mine")
    assert not build(Options(root, out, cache=True)).up_to_date
    assert not stray.exists()
    shutil.rmtree(out / "topics")
    assert not build(Options(root, out, cache=True)).up_to_date
    assert (out / "topics" / "ict" / "index.html").is_file()
    assert build(Options(root, out, cache=True)).up_to_date
    # The cache is safe to delete.
    shutil.rmtree(cache_folder(out))
    assert not build(Options(root, out, cache=True)).up_to_date


def test_a_damaged_cache_is_ignored(tmp_path: Path) -> None:
    root, out = _tiny(tmp_path)
    build(Options(root, out, cache=True))
    shards = sorted((cache_folder(out) / "markdown").iterdir())
    shards[0].write_bytes(b"not a pickle")
    (root / "content" / "topics" / "ict.md").touch()
    report = build(Options(root, out, cache=True))
    assert not report.problems and report.cache_hits < len(shards)
    assert "1 cache file(s) not written by factbook on this machine, or damaged: discarded" in [
        n.message for n in report.notices
    ]
    assert _files(out) == _files(_plain(root, tmp_path))


@pytest.mark.parametrize("jobs", [1, 2])  # 2: the files checked in a child process
def test_a_cache_file_crafted_elsewhere_is_never_unpickled(tmp_path: Path, jobs: int) -> None:
    import pickle

    root, out = _tiny(tmp_path)
    build(Options(root, out, cache=True, jobs=jobs))
    proof = tmp_path / "ran"

    class Payload:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (open, (str(proof), "w"))

    for shard in (cache_folder(out) / "markdown").iterdir():
        # Signed with another machine's key, or with the right header and no valid signature.
        shard.write_bytes(b"factbook-cache-1\n" + b"\0" * 32 + pickle.dumps(Payload()))
    (cache_folder(out) / "manifest.json").write_text("[]")
    (cache_folder(out) / "state.marshal").write_bytes(b"factbook-cache-1\n" + b"\0" * 32 + b"{}")
    (root / "content" / "topics" / "ict.md").touch()
    report = build(Options(root, out, cache=True, jobs=jobs))
    assert not proof.exists()
    assert not report.problems and report.cache_hits == 0 and not report.incremental
    assert _files(out) == _files(_plain(root, tmp_path))


def _compiled(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Return the list that the name of each template Jinja compiles from now on is added to."""
    import jinja2

    compiled: list[str | None] = []
    real = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):  # type: ignore[no-untyped-def]
        compiled.append(name)
        return real(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return compiled


def test_compiled_templates_are_kept_and_never_loaded_from_a_file_signed_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import marshal
    import pickle

    import jinja2

    root, out = _tiny(tmp_path)
    build(Options(root, out, cache=True))
    from factbook.cache import user_cache

    kept = sorted((user_cache() / "templates").glob("*.code"))  # kept for every site, as .pyc files are
    assert not (cache_folder(out) / "templates").exists()
    assert len(kept) > 5
    compiled = _compiled(monkeypatch)
    (root / "content" / "topics" / "ict.md").write_text(
        (root / "content" / "topics" / "ict.md").read_text() + "\nMore.\n"
    )
    build(Options(root, out, cache=True))
    assert compiled == []  # the next build loads what the last one compiled

    # The same files, their code replaced and their signature not this machine's.
    proof = tmp_path / "ran"
    evil = marshal.dumps(compile(f"open({str(proof)!r}, 'w').close()", "evil", "exec"))
    for path in kept:
        data = path.read_bytes()
        head = len(b"factbook-cache-1\n") + 32
        end = data.index(b"\0", head)
        bucket = pickle.loads(data[end + 1 :])["code"]
        stream = io.BytesIO(bucket[len(jinja2.bccache.bc_magic) :])
        pickle.load(stream)  # the template's checksum, kept so Jinja takes the file for current
        forged = bucket[: len(jinja2.bccache.bc_magic) + stream.tell()] + evil
        path.write_bytes(
            data[: head - 32] + b"\0" * 32 + data[head : end + 1] + pickle.dumps({"code": forged})
        )
    (root / "content" / "topics" / "ict.md").touch()
    shutil.rmtree(out)  # a whole build: every template is needed
    build(Options(root, out, cache=True))
    assert not proof.exists()
    assert len(compiled) >= len(kept)  # compiled afresh instead
    assert _files(out) == _files(_plain(root, tmp_path))


def _tiny(tmp_path: Path) -> tuple[Path, Path]:
    """Return a copy of the tiny site, and where to build it."""
    root = tmp_path / "tiny"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    return root, tmp_path / "out"


def _plain(root: Path, tmp_path: Path) -> Path:
    out = tmp_path / "plain"
    build(Options(root, out))
    return out


def test_a_build_reads_again_only_the_content_files_changed_since_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factbook import load

    root, out = _tiny(tmp_path)
    read: list[str] = []
    real = load.read_document

    def counted(path: Path, *rest: object) -> object:
        read.append(path.name)
        return real(path, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(load, "read_document", counted)
    build(Options(root, out, cache=True))
    assert len(read) > 5
    read.clear()
    (folder,) = cache_folder(out).glob("records-*")
    shards = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    assert len(shards) > 3
    itu = root / "content" / "organizations" / "itu.md"
    itu.write_text(itu.read_text().replace("## History", "## History\n\nMore."))
    report = build(Options(root, out, cache=True))
    assert read == ["itu.md"] and report.incremental
    assert "More." in (out / "organizations" / "itu" / "index.html").read_text()
    # Only the shard that holds the file's record is written again.
    rewritten = [path.name for path in folder.iterdir() if path.stat().st_mtime_ns != shards[path.name]]
    assert len(rewritten) == 1
    # A record file written anywhere else (or damaged) is not trusted: its files are read again.
    for records in folder.iterdir():
        records.write_bytes(records.read_bytes()[:-1] + b"!")
    read.clear()
    itu.write_text(itu.read_text().replace("More.", "Less."))
    build(Options(root, out, cache=True))
    assert "itu.md" in read and len(read) > 5
    assert _files(out) == _files(_plain(root, tmp_path))


def test_a_file_touched_but_unchanged_keeps_its_document_and_the_records_stay_one_copy(
    tmp_path: Path,
) -> None:
    import os

    from factbook.cache import load_records
    from factbook.load import load_sources

    root, out = _tiny(tmp_path)
    before = load_sources(root)
    itu = root / "content" / "organizations" / "itu.md"
    stat = itu.stat()
    os.utime(itu, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a checkout, say: same bytes
    ilo = root / "content" / "organizations" / "asan-xidmet.md"
    ilo.write_text(ilo.read_text() + "\nMore.\n")
    after = load_sources(root, before.files)
    path = "content/organizations/itu.md"
    assert after.files[path].signature != before.files[path].signature
    assert after.files[path].doc is before.files[path].doc  # read again, found the same
    changed = "content/organizations/asan-xidmet.md"
    assert after.files[changed].doc != before.files[changed].doc
    # Across builds: the records hold one document per file, read and assembled alike.
    build(Options(root, out, cache=True))
    for file in (root / "content").rglob("*.md"):
        stat = file.stat()
        os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    build(Options(root, out, cache=True))
    records = load_records(out)
    assert records.entities and all(
        records.files[path].doc is assembled[0] for path, assembled in records.entities.items()
    )
    assert _files(out) == _files(_plain(root, tmp_path))


def test_a_cache_of_another_factbook_version_is_set_aside_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factbook import cache

    root, out = _tiny(tmp_path)
    with monkeypatch.context() as older:
        older.setattr(cache, "_versions", lambda: "factbook=0.0.1;markdown=3.0")
        build(Options(root, out, cache=True))
    (root / "content" / "organizations" / "itu.md").touch()
    report = build(Options(root, out, cache=True))
    assert report.cache_hits == 0 and not report.problems
    assert not [n for n in report.notices if "cache" in n.message]
    assert _files(out) == _files(_plain(root, tmp_path))
    # Written again by this version, the cache is used by the next build.
    (root / "content" / "organizations" / "itu.md").touch()
    assert build(Options(root, out, cache=True)).cache_hits > 0


def test_a_build_in_this_process_switches_the_garbage_collector_back_on(tmp_path: Path) -> None:
    # Builds run with it off (its full passes over a large site's heap found next to nothing).
    import gc

    from click.testing import CliRunner

    from factbook.cli import main

    root, out = _tiny(tmp_path)
    for args in (["build", "--no-search", "-s", str(root), "-o", str(out)], ["check", "-s", str(root)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert gc.isenabled()


def test_library_versions_are_read_as_importlib_metadata_reads_them(tmp_path: Path) -> None:
    import sys
    from importlib import metadata

    from factbook.stamp import installed_versions

    names = ["markdown", "jinja2", "pyyaml", "python-slugify", "pagefind", "click"]
    assert installed_versions(names, sys.path) == {name: metadata.version(name) for name in names}
    # An upgrade puts another folder first on the path; an egg's folder, and one without a version.
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "Markdown-9.1.dist-info").mkdir(parents=True)
    (first / "Jinja2-4.0-py3.11.egg-info").mkdir()
    (first / "python_slugify.egg-info").mkdir()
    (first / "python_slugify.egg-info" / "PKG-INFO").write_text("Name: python-slugify\nVersion: 2.5\n")
    (second / "markdown-3.0.dist-info").mkdir(parents=True)
    found = installed_versions([*names, "not-installed"], [str(first), str(second), str(tmp_path / "gone")])
    assert found == {
        "markdown": "9.1",
        "jinja2": "4.0",
        "pyyaml": "none",
        "python-slugify": "2.5",
        "pagefind": "none",
        "click": "none",
        "not-installed": "none",
    }


def test_an_output_surveyed_again_reads_as_a_whole_survey_does(tmp_path: Path) -> None:
    from factbook.stamp import Listing, output_untouched, record, survey

    out = tmp_path / "out"
    for name in ("a/index.html", "a/b/index.html", "a/b/c/x.txt", "d/index.html", "e/f/g.txt", "top.txt"):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(name)

    def again_as_whole(seen: Listing | None = None, touched: list[str] | None = None) -> None:
        whole = survey(out)
        assert survey(out, again=True) == whole
        if seen is not None:  # only what the build touched looked at again, the rest as it was seen
            assert survey(out, True, seen, touched) == whole
        record(out, "inputs", *whole)

    def seen_now() -> Listing:
        seen: Listing = {}
        assert output_untouched(out, survey(out)[0], seen) and seen
        return seen

    record(out, "inputs", *survey(out))
    again_as_whole(seen_now(), [])  # nothing changed
    seen = seen_now()
    (out / "a" / "index.html").write_text("longer text than before")  # edited in place
    (out / "d" / "new.html").write_text("new")  # added beside others
    (out / "d" / "e" / "f").mkdir(parents=True)  # in a new folder, in a new folder
    (out / "d" / "e" / "f" / "g.html").write_text("g")
    again_as_whole(seen, ["a/index.html", "d/new.html", "d/e/f/g.html"])
    seen = seen_now()
    (out / "d" / "e" / "f" / "g.html").unlink()  # removed, and its folders with it
    shutil.rmtree(out / "d" / "e")
    again_as_whole(seen, ["d/e/f/g.html"])
    shutil.rmtree(out / "a" / "b")  # a folder and all under it gone
    (out / "h" / "i" / "j").mkdir(parents=True)  # new folders, nested
    (out / "h" / "i" / "j" / "k.html").write_text("k")
    again_as_whole()
    (out / "top.txt").unlink()  # a file become a folder, and a folder a file
    (out / "top.txt").mkdir()
    (out / "top.txt" / "inner.html").write_text("inner")
    shutil.rmtree(out / "e")
    (out / "e").write_text("e")
    replaced = tmp_path / "replaced"  # a folder swapped for a new one, as the search index is
    (replaced / "fragment").mkdir(parents=True)
    (replaced / "fragment" / "one.pf").write_text("1")
    shutil.rmtree(out / "h")
    replaced.rename(out / "h")
    again_as_whole()
    # A manifest that says too little (an older factbook's) means a whole survey.
    (cache_folder(out) / "manifest.json").write_text('{"entries": ["./"]}')
    assert survey(out, again=True) == survey(out)


def test_records_pickle_as_a_call_of_their_class_and_read_back_equal(tmp_path: Path) -> None:
    import dataclasses
    import pickle

    from factbook.build import Builder
    from factbook.frozen import pickled_by_fields

    root, _ = _tiny(tmp_path)
    builder = Builder(Options(root))
    linked = builder.update().linked
    assert linked is not None
    held = (linked.site, linked.bodies, linked.inverse, builder.assembly_cache.entities)
    assert pickle.loads(pickle.dumps(held, protocol=5)) == held
    entity = linked.site.entities["organizations/itu"]
    assert entity.__reduce__()[0] is type(entity)

    @dataclasses.dataclass(frozen=True)
    class Counted:
        name: str
        count: int = dataclasses.field(default=0, init=False)

    with pytest.raises(TypeError, match="fields its constructor does not take"):
        pickled_by_fields(Counted)
    with pytest.raises(TypeError, match="has no field 'count'"):
        pickled_by_fields(packed=("count",))(type(entity))
    # A named tuple is made back by tuple.__new__, with no call of the __new__ its class defines.
    ref = next(r for e in linked.site.entities.values() for r in e.refs)
    assert ref.__reduce__()[0] is tuple.__new__ and pickle.loads(pickle.dumps(ref)) == ref


def test_a_bodys_links_and_headings_stay_packed_until_they_are_read(tmp_path: Path) -> None:
    import pickle

    from factbook.build import Builder
    from factbook.frozen import Packed, PackedMapping, PackedSet, unpacked

    root, _ = _tiny(tmp_path)
    linked = Builder(Options(root)).update().linked
    assert linked is not None
    body = next(b for b in linked.bodies.values() if b.resolutions and b.toc)
    again = pickle.loads(pickle.dumps(body, protocol=5))
    assert isinstance(again.resolutions, Packed) and isinstance(again.toc, Packed)
    led = next(b for b in linked.bodies.values() if b.slug_targets)
    targets = pickle.loads(pickle.dumps(led, protocol=5)).slug_targets
    assert isinstance(targets, PackedSet) and targets == led.slug_targets
    assert targets.isdisjoint(set()) and not targets.isdisjoint(led.slug_targets)
    assert targets | {"x"} == led.slug_targets | {"x"} and hash(targets) == hash(led.slug_targets)
    packed = again.resolutions.data
    # Pickled again unread, each is the same bytes: never unpickled and pickled anew.
    twice = pickle.loads(pickle.dumps(again, protocol=5))
    assert twice.resolutions.data == packed and twice.toc.data == again.toc.data
    assert twice == body and body == twice
    assert list(twice.resolutions) == list(body.resolutions) and len(twice.toc) == len(body.toc)
    assert unpacked(twice.toc) == tuple(body.toc) and repr(twice.toc) == repr(tuple(body.toc))
    assert twice.still_valid(linked.table) and twice.resolutions[0] == body.resolutions[0]
    # Nothing to pack in an empty one; one packed already is kept as it is, never unpacked.
    assert Packed.of(()) == () and not isinstance(Packed.of(()), Packed)
    kept = pickle.loads(pickle.dumps(again, protocol=5)).resolutions
    assert Packed.of(kept) is kept and kept._value is None
    # A document's lines: a mapping, packed alike.
    doc = next(e.doc for e in linked.site.entities.values() if e.doc.lines)
    lines = pickle.loads(pickle.dumps(doc, protocol=5)).lines
    assert isinstance(lines, PackedMapping) and lines == doc.lines and doc.lines == lines
    assert dict(lines) == dict(doc.lines) and all(lines[k] == v for k, v in doc.lines.items())
    assert next(iter(doc.lines)) in lines and len(lines) == len(doc.lines)


def test_a_bodys_links_are_kept_as_columns_and_read_as_link_uses() -> None:
    import pickle

    from factbook.link import mentions_of
    from factbook.mdlinks import Links, LinkUse, Rendered

    uses = (LinkUse("events/a", "", 3), LinkUse("", "top", 4), LinkUse("events/b", "h", 9))
    body = Rendered("<p>x</p>", (), frozenset(), uses, ())
    assert isinstance(body.links, Links) and body.links.keys == ("events/a", "", "events/b")
    assert body.links.anchors == ("", "top", "h") and body.links.lines == (3, 4, 9)
    assert body.links == uses and tuple(body.links) == uses and body.links[1] == uses[1]
    assert repr(body.links) == repr(uses) and len(body.links) == 3 and body.links.anchored
    again = pickle.loads(pickle.dumps(body, protocol=5))
    assert again == body and again.links._uses is None and again.prints == body.prints
    assert [(r.target, r.line) for r in mentions_of("events/b", again)] == [("events/a", 3)]
    assert not Rendered("", (), frozenset(), uses[:1], ()).links.anchored


def test_a_records_shard_that_holds_anything_else_is_set_aside_whole(tmp_path: Path) -> None:
    from factbook.cache import _record_shard, _write_signed, load_records

    root, out = _tiny(tmp_path)
    build(Options(root, out, cache=True))
    kept = load_records(out)
    assert kept.files and kept.entities and kept.refs
    (folder,) = cache_folder(out).glob("records-*")
    name, record = next(iter(kept.files.items()))
    shard = folder / f"{_record_shard(name)}.pickle"  # the one shard that holds it
    for part, value in (
        ("files", ("not", "a", "record")),
        ("entities", (1, 2)),
        ("refs", ("x", None, None, [])),
    ):
        # Signed on this machine, beside a good record, one value of the wrong shape: none of it is used.
        parts: dict[str, object] = {"files": {name: record}, "entities": {}, "refs": {}}
        parts[part] = {**parts[part], "content/x.md": value}  # type: ignore[dict-item]
        _write_signed(shard, parts)
        loaded = load_records(out)
        assert "content/x.md" not in {*loaded.files, *loaded.entities, *loaded.refs}
        assert name not in loaded.files
    # The build after it reads and assembles those files again, and gives the same site.
    (root / "content" / "topics" / "ict.md").touch()
    assert not build(Options(root, out, cache=True)).problems
    assert _files(out) == _files(_plain(root, tmp_path))


def test_inverse_lists_are_made_when_first_read_and_equal_those_made_at_once(tmp_path: Path) -> None:
    from factbook.build import Builder
    from factbook.link import Inverse, _inverse_of

    root, _ = _tiny(tmp_path)
    linked = Builder(Options(root)).update().linked
    assert linked is not None and isinstance(linked.inverse, Inverse)
    groups: dict[str, list] = {}  # type: ignore[type-arg]
    for refs in linked.outgoing.values():
        for ref in refs:
            groups.setdefault(ref.target, []).append(ref)
    assert set(linked.inverse) == set(groups) and len(linked.inverse) == len(groups)
    target = next(iter(groups))
    first = linked.inverse.get(target)
    assert first == _inverse_of(groups[target]) and linked.inverse[target] is first  # one object
    assert dict(linked.inverse) == {k: _inverse_of(v) for k, v in groups.items()}
    assert linked.inverse.get("no/such-page", ()) == () and "no/such-page" not in linked.inverse
    with pytest.raises(KeyError):
        linked.inverse["no/such-page"]


def test_the_stat_results_taken_with_the_inputs_signature_serve_the_first_load(tmp_path: Path) -> None:
    import os

    from factbook.load import load_sources
    from factbook.stamp import site_inputs

    root, out = _tiny(tmp_path)
    seen: dict[str, os.stat_result] = {}
    site_inputs(root, out, {}, seen)
    itu = root / "content" / "organizations" / "itu.md"
    assert os.fspath(itu) in seen and all(os.path.isfile(path) for path in seen)
    fresh = load_sources(root)
    # Given the stat results, the files' signatures are theirs: no file is stat'ed twice.
    shown = "content/organizations/itu.md"
    faked = os.stat(root / "content" / "site.yaml")  # another file's
    loaded = load_sources(root, None, frozenset(), {**seen, os.fspath(itu): faked})
    assert loaded.files[shown].signature == (faked.st_ino, faked.st_size, faked.st_mtime_ns)
    assert loaded.files[shown].doc == fresh.files[shown].doc
    assert load_sources(root, None, frozenset(), seen).files == fresh.files


def test_the_manifest_read_again_once_it_is_written_again(tmp_path: Path) -> None:
    from factbook.stamp import output_untouched, record, survey

    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "a" / "index.html").write_text("a")
    record(out, "inputs", *survey(out))
    first = survey(out)[0]
    assert output_untouched(out, first)  # read, and kept
    (out / "b.html").write_text("b")
    record(out, "inputs", *survey(out))
    assert not output_untouched(out, first) and output_untouched(out, survey(out)[0])


def test_a_look_at_the_output_in_a_child_process_finds_what_one_here_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from factbook import stamp
    from factbook.stamp import Listing, OutputLook, output_untouched, record, survey

    out = tmp_path / "out"
    for name in ("a/index.html", "b/c/index.html", "top.txt"):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(name)
    signature, *listing = survey(out)
    record(out, "inputs", signature, *listing)

    def both(fork: bool) -> tuple[bool, Listing]:
        seen: Listing = {}
        return OutputLook(out, fork).untouched(signature, seen), seen

    here: Listing = {}
    assert output_untouched(out, signature, here)
    assert both(True) == both(False) == (True, here) and len(here) == len(listing[0])
    parent, numbers = os.getpid(), stamp._numbers
    # A child that dies without an answer: the look is taken here instead.
    monkeypatch.setattr(stamp, "_numbers", lambda *a: os._exit(3) if os.getpid() != parent else numbers(*a))
    assert both(True) == (True, here)
    monkeypatch.undo()
    OutputLook(out).stop()  # a look not waited for ends with its child
    (out / "a" / "index.html").write_text("changed")
    assert both(True)[0] is both(False)[0] is False
    (out / "top.txt").unlink()
    assert both(True) == both(False) == (False, {})


def test_a_body_labelled_with_its_job_keeps_every_other_field(tmp_path: Path) -> None:
    import dataclasses

    from factbook.build import Builder
    from factbook.link import BodyJob

    root, _ = _tiny(tmp_path)
    linked = Builder(Options(root)).update().linked
    assert linked is not None
    for body in linked.bodies.values():
        job = BodyJob("text", 3, "folder", "checksum")
        assert body.with_job(job) == dataclasses.replace(body, job=job) and body.with_job(job).job is job


def test_the_name_table_is_made_only_for_a_link_by_name(tmp_path: Path) -> None:
    import pickle

    from factbook.build import Builder
    from factbook.names import LazyNameTable, NameTable

    from .conftest import write_files

    def names(notes: dict[str, str | bytes]) -> LazyNameTable:
        linked = Builder(Options(write_files(tmp_path / str(len(notes)), notes))).update().linked
        assert linked is not None and isinstance(linked.table.names, LazyNameTable)
        assert linked.table.names._make is None or linked.table.names._table is None  # one or other
        return linked.table.names

    by_slug = names({"a.md": "See [[b]].\n", "b.md": "B.\n"})
    assert by_slug._table is None  # never asked for a name
    by_name = names(
        {"a.md": "See [[Bee Title]].\n", "b.md": "---\ntitle: Bee Title\n---\nB.\n", "c.md": "C.\n"}
    )
    assert by_name._table is not None and by_name.page("bee title", "")[0].key == "notes/b"  # type: ignore[union-attr]
    again = pickle.loads(pickle.dumps(by_name))
    assert isinstance(again, NameTable) and again == by_name and by_name == again
    # Made on first use, from what it was last told to make it from.
    made = LazyNameTable(lambda: NameTable(titles={"x": "X"}))
    made.made_from(lambda: NameTable(titles={"y": "Y"}))
    assert made.titles == {"y": "Y"} and made._make is None
    made.made_from(lambda: NameTable(titles={"z": "Z"}))  # made already: kept
    assert made.titles == {"y": "Y"}


def test_graph_files_copy_the_parts_of_the_pages_named_and_make_the_rest(tmp_path: Path) -> None:
    import json

    from factbook.build import Builder
    from factbook.semantic import GraphReuse, graph_files

    root, _ = _tiny(tmp_path)
    linked = Builder(Options(root)).update().linked
    assert linked is not None
    whole_json, whole_ld, spans = graph_files(linked)
    graph, ld = json.loads(whole_json), json.loads(whole_ld)
    assert [n["id"] for n in graph["nodes"]] == sorted(linked.site.entities) and graph["edges"]
    assert len(ld["@graph"]) == 1 + 2 * len(linked.site.entities)
    keys = frozenset(spans)
    for json_keys, ld_keys in (
        (keys, keys),
        (frozenset(), frozenset()),
        (keys, frozenset(sorted(keys)[::2])),
    ):
        again = graph_files(linked, GraphReuse(whole_json, whole_ld, spans, json_keys, ld_keys))
        assert again == (whole_json, whole_ld, spans)
    # What is copied is what the last files held there: a page named is not made again.
    key = "organizations/itu"
    start, length = spans[key][0], spans[key][1]
    renamed = (
        whole_json[:start]
        + whole_json[start : start + length].replace(b"International", b"Intermational")
        + whole_json[start + length :]
    )
    copied = graph_files(linked, GraphReuse(renamed, whole_ld, spans, frozenset({key}), frozenset()))[0]
    assert copied == renamed != whole_json
    assert (
        graph_files(linked, GraphReuse(renamed, whole_ld, spans, keys - {key}, frozenset()))[0] == whole_json
    )


def test_a_title_changed_copies_the_other_pages_parts_of_the_graph_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factbook import exports

    root, out = _tiny(tmp_path)
    assert not build(Options(root, out, cache=True)).errors
    seen = []
    made = exports.graph_files
    monkeypatch.setattr(
        exports, "graph_files", lambda linked, reuse=None: seen.append(reuse) or made(linked, reuse)
    )
    itu = root / "content" / "organizations" / "itu.md"
    itu.write_text(itu.read_text().replace("title: International", "title: The International"))
    report = build(Options(root, out, cache=True))
    (reuse,) = seen
    assert report.incremental and _files(out) == _files(_plain(root, tmp_path))
    assert reuse is not None and "organizations/itu" not in reuse.json_keys | reuse.jsonld_keys
    assert "topics/ict" in reuse.json_keys  # a page that does not show the title
    # A page whose references lead to it keeps its graph.json parts, not its JSON-LD ones.
    assert "events/telecom-2009" in reuse.json_keys - reuse.jsonld_keys


def test_records_shards_written_again_are_those_changed_or_gone(tmp_path: Path) -> None:
    from factbook.build import _LEFT
    from factbook.cache import _record_shard, load_records

    root, out = _tiny(tmp_path)
    assert not build(Options(root, out, cache=True, ending=True)).errors
    assert _LEFT  # a process that ends once the build returns leaves its heap to the exit
    _LEFT.clear()
    (folder,) = cache_folder(out).glob("records-*")
    shards = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.pickle")}
    itu, ict = "content/organizations/itu.md", "content/topics/ict.md"
    assert _record_shard(itu) != _record_shard(ict)
    (folder / f"{_record_shard(ict)}.pickle").unlink()  # removed by hand
    (root / itu).write_text((root / itu).read_text() + "\nOne more line.\n")
    assert build(Options(root, out, cache=True)).incremental
    now = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.pickle")}
    assert now.keys() == shards.keys()
    written = {name for name in now if now[name] != shards[name]}
    assert written == {f"{_record_shard(itu)}.pickle", f"{_record_shard(ict)}.pickle"}
    kept = load_records(out)
    assert kept.files.keys() == kept.entities.keys() and {itu, ict} <= kept.files.keys()


def test_signed_files_checked_in_a_child_read_back_as_those_checked_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factbook import cache
    from factbook.cache import SignedFiles, _read_signed, _write_signed

    good, other, gone, changed = (tmp_path / f"{n}.pickle" for n in ("good", "other", "gone", "changed"))
    for path in (good, other, changed):
        _write_signed(path, {"name": path.stem, "data": list(range(1000))})
    damaged = bytearray(other.read_bytes())
    damaged[-20] ^= 1
    other.write_bytes(bytes(damaged))  # one bit changed: its signature fails
    paths = [good, other, gone, changed]
    files = SignedFiles(paths, fork=True)
    assert files.child is not None
    assert (
        _read_signed(good, files=files) == _read_signed(good) == {"name": "good", "data": list(range(1000))}
    )
    assert _read_signed(other, files=files) is None and _read_signed(gone, files=files) is None
    files._verdict(3)  # the child has checked the last file, as it then was
    _write_signed(changed, {"name": "written again"})  # since: a new file, checked here
    assert _read_signed(changed, files=files) == {"name": "written again"}
    files.close()
    # A file the child found signed, as it still is, is taken on the child's word; one written
    # since it looked is checked here.
    files = SignedFiles(paths, fork=True)
    files._verdict(3)
    monkeypatch.setattr(cache, "_trusted", lambda data: False)
    _write_signed(changed, {"name": "and again"})
    assert _read_signed(good, files=files) == {"name": "good", "data": list(range(1000))}
    assert _read_signed(changed, files=files) is None
    files.close()
    # Without a child, each file is checked here.
    assert _read_signed(good, files=SignedFiles(paths, fork=False)) is None


def test_a_new_site_loads_the_theme_compiled_for_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil as copying

    root, out = _tiny(tmp_path)
    assert not build(Options(root, out, cache=True)).errors
    other = tmp_path / "other"
    copying.copytree(root / "content", other / "content")
    compiled = _compiled(monkeypatch)
    assert not build(Options(other, tmp_path / "other-out", cache=True)).errors
    assert compiled == []  # from the user's cache, though this site's own cache was empty
    assert not build(Options(other, tmp_path / "plain")).errors
    assert compiled  # without the cache, compiled again


def test_after_a_title_change_only_bodies_that_lead_to_it_or_by_name_are_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factbook.mdlinks import Rendered

    from .conftest import write_files
    from .test_golden import _files

    notes: dict[str, str | bytes] = {
        "alpha.md": "---\ntitle: Alpha\n---\nA.\n",
        "beta.md": "---\ntitle: Beta\n---\nB.\n",
        "to-alpha.md": "See [[alpha]].\n",
        "to-beta.md": "See [[beta]].\n",
        "by-title.md": "See [[Beta]].\n",
    }
    root, out = write_files(tmp_path / "vault", notes), tmp_path / "out"
    assert not build(Options(root, out, cache=True)).problems
    checked: list[tuple[tuple[str, ...], bool]] = []  # each body checked: where it leads, and whether by slug
    real = Rendered.still_valid

    def counting(self, table, same_slugs=False):  # type: ignore[no-untyped-def]
        checked.append((tuple(sorted({use.key for use in self.links})), self.slug_targets is not None))
        return real(self, table, same_slugs)

    monkeypatch.setattr(Rendered, "still_valid", counting)
    (root / "alpha.md").write_text("---\ntitle: Alpha Renamed\n---\nA.\n")
    report = build(Options(root, out, cache=True))
    assert report.incremental and "Alpha Renamed" in (out / "to-alpha" / "index.html").read_text()
    # The body that leads to alpha by its slug, and the one that leads to beta by its title; not
    # the one that leads to beta by its slug, nor those that lead nowhere.
    assert sorted(checked) == [(("notes/alpha",), True), (("notes/beta",), False)]
    plain = tmp_path / "plain"
    assert not build(Options(root, plain)).problems and _files(out) == _files(plain)


def test_a_body_without_fences_is_rendered_without_loading_the_fenced_code_extension() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from factbook.assemble import SlugIndex\n"
        "from factbook.mdlinks import LinkTable, MarkdownRenderer\n"
        "renderer, table = MarkdownRenderer(), LinkTable(SlugIndex({}), {}, {})\n"
        "renderer.render('Plain *words* | and a {brace}.', 1, '', table)\n"
        "print('markdown.extensions.fenced_code' in sys.modules)\n"
        "print(renderer.render('~~~\\nx < y\\n~~~', 1, '', table).html)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n", 1) == ["False", "<pre><code>x &lt; y\n</code></pre>\n"]


def test_the_digest_made_with_the_kept_page_prints_equals_one_made_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factbook import depend
    from factbook.build import Builder
    from factbook.cache import load_records

    root, out = _tiny(tmp_path)
    build(Options(root, out, cache=True))
    records = load_records(out)
    assert records.prints.keys() == records.refs.keys()
    assert all(p.entity is records.refs[path][2] for path, p in records.prints.items())
    # A link added to one page's body: another page's inverse list ("Mentioned in") changes,
    # though that page is the very object read back; and a fact sheet's page has facts.
    itu = root / "content" / "organizations" / "itu.md"
    itu.write_text(itu.read_text() + "\nAlso [[asan-xidmet]].\n")
    builder = Builder(Options(root, out, cache=True))
    builder.files = dict(records.files)
    builder.assembly_cache.entities = dict(records.entities)
    builder.assembly_cache.refs = {hit[2].key: hit for hit in records.refs.values()}
    builder.prints = dict(records.prints)
    made: list[str] = []
    real = depend._face_print
    monkeypatch.setattr(depend, "_face_print", lambda entity: made.append(entity.key) or real(entity))
    linked = builder.update().linked
    assert linked is not None
    kept = depend.digest(linked)
    assert made == ["organizations/itu"]  # the other pages' faces were taken from their prints
    fresh = linked.memo.pop(depend.PRINTS)
    linked.memo.pop("digest")
    assert depend.digest(linked) == kept  # made afresh: the same digest
    assert linked.memo[depend.PRINTS] == fresh
    path = "content/organizations/asan-xidmet.md"
    assert fresh[path].entity is records.prints[path].entity and fresh[path] != records.prints[path]
    assert fresh["content/events/telecom-2009.md"] is records.prints["content/events/telecom-2009.md"]


@pytest.mark.parametrize("name", ["tiny", "vault", "broken-not-utf8", "broken-yaml-front-matter", "species"])
def test_content_read_partly_by_a_child_loads_as_read_here(name: str, tmp_path: Path) -> None:
    import struct
    import time

    from factbook.load import load_sources
    from factbook.readahead import ReadAhead

    root = tmp_path / name
    shutil.copytree(SITES / name, root, ignore=shutil.ignore_patterns("expected*"))
    folder = root if name == "vault" else root / "content" / "topics"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(40):  # enough files that the child reads some
        (folder / f"extra-{i:02d}.md").write_text(f"---\ntitle: Extra {i}\n---\nText {i}.\n")
    given: list[int] = []

    class Patient(ReadAhead):
        """Begins only once the child has claimed ten files, so that it surely reads some."""

        def ours(self, index: int) -> bool:
            deadline = time.monotonic() + 60
            while struct.unpack_from("<q", self._marks, 0)[0] < 10 and time.monotonic() < deadline:
                time.sleep(0.001)  # a condition waited on, not a fixed wait
            return super().ours(index)

        def take(self) -> dict[str, FileRecord]:
            found = super().take()
            given.append(len(found))
            return found

    alone = load_sources(root)
    ahead = Patient(root)
    together = load_sources(root, ahead=ahead)
    ahead.close()
    assert together.documents == alone.documents
    assert sorted(together.problems) == sorted(alone.problems)
    assert together.files.keys() == alone.files.keys()
    assert {p: r.doc for p, r in together.files.items()} == {p: r.doc for p, r in alone.files.items()}
    assert len(together.files) > 40 and given[0] >= 9  # the child's records were taken


def test_content_is_read_here_when_the_reading_child_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factbook.load import load_sources
    from factbook.readahead import ReadAhead

    root, _ = _tiny(tmp_path)
    monkeypatch.setattr(ReadAhead, "_read", lambda self, end: False)  # the child answers nothing
    ahead = ReadAhead(root)
    assert load_sources(root, ahead=ahead).documents == load_sources(root).documents
    ahead.close()
    # Nor is anything lost if neither process claims a file: this one reads what it was not given.
    monkeypatch.setattr(ReadAhead, "ours", lambda self, index: False)
    assert load_sources(root, ahead=ReadAhead(root)).documents == load_sources(root).documents


def test_a_file_the_reading_child_cannot_read_is_reported_by_this_process_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from factbook import load
    from factbook.readahead import ReadAhead

    root, _ = _tiny(tmp_path)
    real = load.read_document

    def failing(path: Path, *rest: object) -> object:
        if path.name == "ict.md":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(load, "read_document", failing)  # in the child too: it is forked after
    ahead = ReadAhead(root)
    with pytest.raises(PermissionError):  # the command line reports it as path: reason
        load.load_sources(root, ahead=ahead)
    ahead.close()
    assert "Traceback" not in capfd.readouterr().err  # the child said nothing of its own


def test_the_reading_child_and_this_process_each_stop_where_the_other_began() -> None:
    import mmap

    from factbook import readahead

    ahead = readahead.ReadAhead.__new__(readahead.ReadAhead)
    ahead._marks = mmap.mmap(-1, readahead._MARKS.size)
    readahead._MARKS.pack_into(ahead._marks, 0, 0, readahead._NONE_YET)
    ahead._child = (-1, -1)  # as if a child were reading; never ended: set back below
    ahead._batch, ahead._packed = [], []
    try:
        assert ahead._claim(0, None) and ahead._claim(1, None)  # the child reads the first two
        assert ahead.ours(5) and ahead.ours(4) and ahead.ours(3) and ahead.ours(2)
        assert not ahead.ours(1)  # the child's
        assert not ahead._claim(2, None)  # this process's: the child stops
    finally:
        ahead._child = None


def test_pages_shared_among_workers_are_each_rendered_once_as_in_one_process(tmp_path: Path) -> None:
    from factbook.build import _shown, builder_for
    from factbook.parallel import SOME_SERIAL_BELOW, page_renderer, render_serially_into
    from factbook.render import page_specs

    root = _site(tmp_path)
    for i in range(120):
        (root / "content" / "people" / f"extra-{i}.md").write_text(
            f"---\ntitle: Person {i}\n---\nOf [[itu]].\n"
        )
    builder = builder_for(Options(root, tmp_path / "out", jobs=1))
    linked = builder.update().linked
    assert linked is not None
    specs = page_specs(linked)
    skipped = {spec.url for spec in specs[1::7]}  # a rebuild of many pages, not all

    def only(spec) -> bool:  # type: ignore[no-untyped-def]
        return spec.url not in skipped

    assert len(specs) - len(skipped) >= SOME_SERIAL_BELOW  # enough for the workers
    done: list[str] = []
    shared = page_renderer(2)(linked, builder.env, _shown(root), only, None, lambda: done.append("meanwhile"))
    alone = render_serially_into(linked, builder.env, _shown(root), only)
    assert done == ["meanwhile"]
    assert [o.path for o in shared[0]] == sorted(o.path for o in alone[0])
    assert shared[0] == sorted(alone[0], key=lambda o: o.path) and shared[2] == len(specs) - len(skipped)


def test_compiled_validators_are_kept_and_never_run_from_a_file_signed_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import marshal

    import fastjsonschema

    from factbook import schema
    from factbook.cache import ValidatorCache

    written: list[dict[str, object]] = []
    real = fastjsonschema.compile_to_code

    def writing(definition, *args, **kwargs):  # type: ignore[no-untyped-def]
        written.append(definition)
        return real(definition, *args, **kwargs)

    monkeypatch.setattr(fastjsonschema, "compile_to_code", writing)
    shape = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
    schema.keep_compiled(ValidatorCache(tmp_path))
    try:
        assert schema.Checker(shape).errors({"title": "UNESCO"}) == []
        kept = sorted((tmp_path / "validators").glob("*.code"))
        assert len(written) == 1 and len(kept) == 1
        # The next build's check loads it: nothing written or compiled, and it checks alike.
        assert schema.Checker(shape).errors({"title": "UNESCO"}) == []
        assert [e.message for e in schema.Checker(shape).errors({})] == ["'title' is a required property"]
        assert len(written) == 1

        # The same file, its code replaced and its signature not this machine's.
        proof = tmp_path / "ran"
        evil = marshal.dumps(compile(f"open({str(proof)!r}, 'w').close()", "evil", "exec"))
        data = kept[0].read_bytes()
        head = len(b"factbook-cache-1\n") + 32
        end = data.index(b"\0", head)
        kept[0].write_bytes(
            data[: head - 32] + b"\0" * 32 + data[head : end + 1] + marshal.dumps({"code": evil})
        )
        assert schema.Checker(shape).errors({"title": "UNESCO"}) == []
        assert not proof.exists() and len(written) == 2  # compiled afresh instead
    finally:
        schema.keep_compiled(None)
