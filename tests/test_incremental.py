"""A rebuild after edits, renames and deletions equals a full build, byte for byte."""

from __future__ import annotations

import shutil
from pathlib import Path

from factbook.build import Builder, Options, Report, build
from factbook.load import Sources, load_sources, refresh_sources
from factbook.theme import theme_dirs
from factbook.translate import version
from factbook.write import static_files, write_changes

from .conftest import SITES, run_cli, write_files
from .test_golden import _files


def _apply(builder: Builder, output: Path) -> set[str]:
    update = builder.update()
    assert not update.report.errors, update.report.problems
    assert update.linked is not None
    assets = {**static_files(theme_dirs(builder.options.root, "static")), **update.attachments}
    write_changes(output, update.pages, update.removed, assets)
    return {p.path for p in update.pages}


def _full(root: Path, tmp: Path) -> dict[str, bytes]:
    out = tmp / "full"
    shutil.rmtree(out, ignore_errors=True)
    assert not build(Options(root, out)).errors
    return _files(out)


def _tiny_served(tmp_path: Path) -> tuple[Path, Path, Builder]:
    """Return a copy of the tiny site, where a builder kept for the next update built it, and that builder."""
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    served = tmp_path / "served"
    builder = Builder(Options(root))
    _apply(builder, served)
    return root, served, builder


def test_rebuilds_after_edits_renames_and_deletions_equal_full_builds(tmp_path: Path) -> None:
    root, served, builder = _tiny_served(tmp_path)
    assert _files(served) == _full(root, tmp_path)
    content = root / "content"

    def step(change) -> set[str]:  # type: ignore[no-untyped-def]
        change()
        written = _apply(builder, served)
        assert _files(served) == _full(root, tmp_path)
        return written

    itu = content / "organizations" / "itu.md"
    # An edit of one body re-renders that page, the indexes and home, not the unrelated ones.
    written = step(lambda: itu.write_text(itu.read_text().replace("## History", "## History\n\nMore.")))
    assert "organizations/itu/index.html" in written
    assert "topics/ict/index.html" not in written
    assert "index.html" not in written  # home shows no body but its own page's
    # A title change reaches every page that shows it.
    written = step(
        lambda: itu.write_text(itu.read_text().replace("title: International", "title: The International"))
    )
    assert {
        "events/telecom-2009/index.html",
        "people/ali-abbasov/index.html",
        "topics/ict/index.html",
        "index.html",
    } <= written
    home = content / "pages" / "index.md"
    written = step(lambda: home.write_text(home.read_text() + "\nA new line on the home page.\n"))
    assert "index.html" in written
    # A reference taken out, the page's last: the page it named no longer lists this one.
    event = content / "events" / "telecom-2009.md"
    cited = event.read_text()
    written = step(lambda: event.write_text(cited.replace("sources: [press-release]", "# no source yet")))
    assert "sources/press-release/index.html" in written
    step(lambda: event.write_text(cited))
    # A new page, a rename and a deletion.
    step(lambda: (content / "topics" / "health.md").write_text("---\ntitle: Health\n---\nSee [[itu]].\n"))
    step(lambda: (content / "topics" / "health.md").rename(content / "topics" / "medicine.md"))
    step(lambda: (content / "topics" / "medicine.md").unlink())
    # A fact sheet edit, a date change that reorders lists, and a template change.
    figures = content / "facts" / "figures.yaml"
    step(lambda: figures.write_text(figures.read_text().replace("150000", "150001")))
    event = content / "events" / "telecom-2009.md"
    step(lambda: event.write_text(event.read_text().replace("2009-10-05/2009-10-09", "2008")))
    # Among pages in time order, a date that moves one past another changes their previous / next.
    for name, when in (("summit-2005", "2005-11-16"), ("forum-2012", "2012-05-14")):
        text = f"---\ntitle: {name}\ndate: {when}\nsources: [press-release]\n---\nMet.\n"
        step(lambda name=name, text=text: (content / "events" / f"{name}.md").write_text(text))
    written = step(lambda: event.write_text(event.read_text().replace("date: 2008", "date: 2013")))
    assert {"events/summit-2005/index.html", "events/forum-2012/index.html"} <= written
    (root / "templates").mkdir()
    builder = Builder(Options(root))  # a site's own templates folder is found at start
    _apply(builder, served)
    written = step(
        lambda: (root / "templates" / "topics.html").write_text(
            '{% extends "entity.html" %}{% block lead %}<p>T</p>{% endblock %}'
        )
    )
    assert "topics/ict/index.html" in written and "organizations/itu/index.html" in written


def test_a_vault_rebuilt_after_edits_equals_a_full_build(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "vault",
        {
            "Home.md": "# Home\n\n![[Notes/Source#Part]]\n\nSee [[Other]] and ![[pic.png]].\n",
            "Notes/Source.md": "## Part\n\nFirst words.\n\n## Rest\n\nNot shown.\n",
            "Notes/Other.md": "---\ntags: [one]\n---\nOther ![[Source]]\n",
            "pic.png": b"\x89PNG\r\n\x1a\n",
        },
    )
    served = tmp_path / "served"
    builder = Builder(Options(root))
    _apply(builder, served)
    assert _files(served) == _full(root, tmp_path / "x")

    def step(change) -> set[str]:  # type: ignore[no-untyped-def]
        change()
        written = _apply(builder, served)
        assert _files(served) == _full(root, tmp_path / "x")
        return written

    source = root / "Notes" / "Source.md"
    # The embedded section changes: so do the pages that show it, and the page that embeds those.
    written = step(lambda: source.write_text(source.read_text().replace("First words", "New words")))
    assert {"home/index.html", "notes/other/index.html", "notes/source/index.html"} <= written
    assert "New words" in (served / "home" / "index.html").read_text()
    step(lambda: (root / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\nmore"))
    step(lambda: (root / "Notes" / "Other.md").write_text("---\ntags: [two]\n---\nOther.\n"))
    # A name that leads nowhere, then an alias that gives it a page: the names are made again.
    home = root / "Home.md"
    step(lambda: home.write_text(home.read_text() + "\nAnd [[Elsewhere]].\n"))
    step(lambda: (root / "Notes" / "Other.md").write_text("---\naliases: [Elsewhere]\n---\nOther.\n"))
    assert 'href="/notes/other/"' in (served / "home" / "index.html").read_text().split("And ")[-1]
    step(lambda: (root / "pic.png").unlink())
    # A link to a heading that another page renames, then names back: broken, then mended.
    step(lambda: home.write_text(home.read_text() + "\nRead [[Notes/Source#Rest|the rest]].\n"))
    assert 'href="/notes/source/#rest"' in (served / "home" / "index.html").read_text()
    written = step(lambda: source.write_text(source.read_text().replace("## Rest", "## Remainder")))
    assert (
        "home/index.html" in written
        and 'href="/notes/source/#rest"' not in (served / "home" / "index.html").read_text()
    )
    step(lambda: source.write_text(source.read_text().replace("## Remainder", "## Rest")))
    assert 'href="/notes/source/#rest"' in (served / "home" / "index.html").read_text()


def _vault_built(tmp_path: Path, notes: dict[str, str | bytes]) -> tuple[Path, Path]:
    """Return a vault of these notes and its output, built once with the cache."""
    root, out = write_files(tmp_path / "vault", notes), tmp_path / "out"
    assert not build(Options(root, out, cache=True)).problems
    return root, out


def _rebuilt(root: Path, out: Path, tmp_path: Path) -> Report:
    """Return the report of a build from the cache, once its output is found equal to a full build's."""
    report = build(Options(root, out, cache=True))
    assert _files(out) == _full(root, tmp_path / "x")
    return report


def test_a_body_from_the_cache_follows_a_name_that_moved_to_another_note(tmp_path: Path) -> None:
    notes: dict[str, str | bytes] = {
        "Alpha.md": "---\naliases: [Shared name]\n---\nA.\n",
        "Gamma.md": "G.\n",
        "Beta.md": "See [[Shared name]].\n",
        "Delta.md": "D, from the cache.\n",
    }
    root, out = _vault_built(tmp_path, notes)
    beta = out / "beta" / "index.html"
    assert 'href="/alpha/">Shared name' in beta.read_text()
    # Only the aliases change: no page's title, file or URL.
    (root / "Alpha.md").write_text("A.\n")
    (root / "Gamma.md").write_text("---\naliases: [Shared name]\n---\nG.\n")
    report = _rebuilt(root, out, tmp_path)
    assert report.incremental and report.cache_hits
    assert 'href="/gamma/">Shared name' in beta.read_text()
    # The next build, with nothing moved, still shows it there.
    (root / "Alpha.md").write_text("A, again.\n")
    assert _rebuilt(root, out, tmp_path).cache_hits
    assert 'href="/gamma/">Shared name' in beta.read_text()
    # A link to a heading that its note renames, then names back: it leads to the note's top,
    # then to the heading again. Only the two notes are made again; no list shows a heading.
    (root / "Delta.md").write_text("## Part\n\nD.\n")
    (root / "Beta.md").write_text("See [[Shared name]] and [[Delta#Part]].\n")
    build(Options(root, out, cache=True))
    assert 'href="/delta/#part"' in beta.read_text()
    for heading, href in (("Whole", 'href="/delta/"'), ("Part", 'href="/delta/#part"')):
        (root / "Delta.md").write_text(f"## {heading}\n\nD.\n")
        report = _rebuilt(root, out, tmp_path)
        assert report.incremental and report.pages == 2 and href in beta.read_text()


def test_a_body_from_the_cache_follows_a_title_or_a_name_that_changed_while_the_pages_stayed(
    tmp_path: Path,
) -> None:
    # With the same pages, a [[slug]] leads to the same page: the build compares only its title
    # and URL; a link by a name or title is looked up again.
    notes: dict[str, str | bytes] = {
        "alpha.md": "---\ntitle: Alpha Org\n---\nA.\n",
        "beta.md": "---\naliases: [Shared]\n---\nB.\n",
        "delta.md": "D.\n",
        "eve.md": "See [[alpha]] and [[Shared]].\n",
    }
    root, out = _vault_built(tmp_path, notes)
    eve = out / "eve" / "index.html"
    assert 'href="/alpha/">Alpha Org<' in eve.read_text() and 'href="/beta/">Shared<' in eve.read_text()
    (root / "alpha.md").write_text("---\ntitle: Alpha Renamed\n---\nA.\n")
    report = _rebuilt(root, out, tmp_path)
    # Beta's and delta's: alpha's file changed (a body is known by its file's hash), and eve's
    # link leads to a new title.
    assert report.incremental and report.cache_hits == 2
    assert 'href="/alpha/">Alpha Renamed<' in eve.read_text()
    (root / "beta.md").write_text("B.\n")
    (root / "delta.md").write_text("---\naliases: [Shared]\n---\nD.\n")
    report = _rebuilt(root, out, tmp_path)
    assert report.incremental and report.cache_hits == 1  # alpha's: the other three changed
    assert 'href="/delta/">Shared<' in eve.read_text()


def test_a_failed_rebuild_keeps_the_last_good_state(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    builder = Builder(Options(root))
    assert builder.update().pages
    itu = root / "content" / "organizations" / "itu.md"
    good = itu.read_text()
    itu.write_text("---\ntitle: [broken\n---\n")
    failed = builder.update()
    assert [str(p) for p in failed.report.errors][0].startswith(
        "content/organizations/itu.md:2: invalid YAML"
    )
    assert failed.pages == []
    itu.write_text(good.replace("The Union met", "The Union gathered"))
    healed = builder.update()
    assert not healed.report.errors
    assert "organizations/itu/index.html" in {p.path for p in healed.pages}


def test_a_save_during_a_rebuild_is_built_too(tmp_path: Path) -> None:
    import threading
    import time

    from factbook.rebuild import Rebuilder
    from factbook.serve import Preview

    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    preview = Preview(Options(root), tmp_path / "served")
    preview.log = lambda message: None
    started, saved_again = threading.Event(), threading.Event()

    class SlowBuilder:  # in this process, each rebuild lasting until the writer has saved again
        site = Rebuilder(preview.options, preview.output)

        def build(self, changes, timeout):  # type: ignore[no-untyped-def]
            if changes is not None:
                started.set()
                assert saved_again.wait(10)
            return self.site.build(changes)

        def end(self) -> None:
            pass

    preview.start_builder = SlowBuilder
    preview.first_build()
    worker = threading.Thread(target=preview.run_worker, daemon=True)
    worker.start()
    itu = root / "content" / "organizations" / "itu.md"
    itu.write_text(itu.read_text().replace("The Union met", "First save:"))
    preview.changed(str(itu))
    assert started.wait(5)
    itu.write_text(itu.read_text().replace("First save:", "Second save:"))
    preview.changed(str(itu))
    saved_again.set()
    page = tmp_path / "served" / "organizations" / "itu" / "index.html"
    deadline = time.monotonic() + 10
    while (preview.rebuilds < 2 or "Second save:" not in page.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    preview.stop()
    worker.join(5)
    assert "Second save:" in page.read_text()
    assert preview.rebuilds == 2


def _cli_build(root: Path, output: Path, *extra: str) -> str:
    """Return what one `factbook build` in its own process printed (it must succeed)."""
    done = run_cli("build", "--source", str(root), "--output", str(output), "--no-search", *extra, cwd=root)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _inode(path: Path) -> int:
    return path.stat().st_ino


def test_command_line_builds_redo_only_what_changed_and_equal_full_builds(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    out = tmp_path / "out"
    content = root / "content"
    assert _cli_build(root, out).startswith("built ")

    def step(change, *extra: str) -> str:  # type: ignore[no-untyped-def]
        change()
        said = _cli_build(root, out, *extra)
        reference = tmp_path / "reference"
        shutil.rmtree(reference, ignore_errors=True)
        assert not build(Options(root, reference, base_url=extra[1] if extra else None)).errors
        assert _files(out) == _files(reference)
        return said

    itu = content / "organizations" / "itu.md"
    topic = out / "topics" / "ict" / "index.html"
    untouched = _inode(topic)
    # One body edited: that page is made again, an unrelated page is the old file, linked.
    said = step(lambda: itu.write_text(itu.read_text().replace("## History", "## History\n\nMore.")))
    assert said.startswith(f"updated {out} in ")
    # Nor are the whole-site data files and graphs: nothing they read changed.
    exports = len(list((out / "data").iterdir())) + len(list(out.glob("graph.*")))
    assert int(said.split(" pages made again")[0].split()[-1]) < exports
    assert _inode(topic) == untouched
    assert "More." in (out / "organizations" / "itu" / "index.html").read_text()
    # A title every related page shows. The events' data downloads name it by key only: they
    # stay as they were.
    events = out / "data" / "events.csv"
    kept = _inode(events)
    said = step(
        lambda: itu.write_text(itu.read_text().replace("title: International", "title: The International"))
    )
    assert said.startswith("updated ") and _inode(topic) != untouched
    assert _inode(events) == kept and "The International" in (out / "data" / "organizations.csv").read_text()
    # A new page, a rename, a deletion, a fact, a date that reorders lists, an attachment.
    step(lambda: (content / "topics" / "health.md").write_text("---\ntitle: Health\n---\nSee [[itu]].\n"))
    step(lambda: (content / "topics" / "health.md").rename(content / "topics" / "medicine.md"))
    step(lambda: (content / "topics" / "medicine.md").unlink())
    figures = content / "facts" / "figures.yaml"
    # An asset of the site's own, added then deleted.
    (root / "static").mkdir()
    said = step(lambda: (root / "static" / "extra.css").write_text("p { margin: 0 }"))
    assert (out / "extra.css").is_file()
    said = step(lambda: (root / "static" / "extra.css").unlink())
    assert said.startswith("updated ") and not (out / "extra.css").exists()
    step(lambda: figures.write_text(figures.read_text().replace("150000", "150001")))
    event = content / "events" / "telecom-2009.md"
    step(lambda: event.write_text(event.read_text().replace("2009-10-05/2009-10-09", "2008")))
    # Among pages in time order, a date that moves one past another changes their previous / next.
    for name, when in (("summit-2005", "2005-11-16"), ("forum-2012", "2012-05-14")):
        text = f"---\ntitle: {name}\ndate: {when}\nsources: [press-release]\n---\nMet.\n"
        step(lambda name=name, text=text: (content / "events" / f"{name}.md").write_text(text))
    said = step(lambda: event.write_text(event.read_text().replace("date: 2008", "date: 2013")))
    assert said.startswith("updated ")
    # A template of the site's own, and another setting: every page again.
    said = step(
        lambda: (
            (root / "templates").mkdir()
            or (root / "templates" / "topics.html").write_text(
                '{% extends "entity.html" %}{% block lead %}<p>T</p>{% endblock %}'
            )
        )
    )
    assert said.startswith("built ")
    said = step(lambda: None, "--base-url", "/sub/")
    assert said.startswith("built ")
    # A file of the output removed by hand: the output is not what the last build left, so all again.
    said = step(
        lambda: (out / "topics" / "ict" / "index.html").unlink() or itu.touch(), "--base-url", "/sub/"
    )
    assert said.startswith("built ")


def test_a_damaged_or_foreign_build_state_means_a_whole_build(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from factbook import cache

    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    out = tmp_path / "out"
    options = Options(root, out, cache=True)
    assert not build(options).errors
    state = cache.cache_folder(out) / cache.STATE
    itu = root / "content" / "organizations" / "itu.md"
    good = state.read_bytes()
    kept = cache._read_signed(state, marshalled=True)
    assert kept and isinstance(kept["state"], dict)

    def signed(change) -> bytes:  # type: ignore[no-untyped-def]
        data = {**kept, "state": {**kept["state"], "digest": {**kept["state"]["digest"]}}}  # type: ignore[dict-item]
        change(data)
        cache._write_signed(state, data, marshalled=True)
        return state.read_bytes()

    flipped = bytearray(good)
    flipped[-3] ^= 1
    damages = [
        b"\x80\x04junk",  # not a cache file
        good[:-7],  # cut short
        bytes(flipped),  # one bit changed: the signature no longer holds
        signed(lambda data: data["state"].update(digest=1)),  # signed here, but not a state
        signed(lambda data: data["state"]["digest"].update(f=data["state"]["digest"].pop("faces"))),
    ]
    for damage in damages:
        state.write_bytes(damage)
        itu.write_text(itu.read_text() + "\nOne more line.\n")
        report = build(options)
        assert not report.errors and not report.incremental
    itu.write_text(itu.read_text() + "\nAnd another.\n")
    assert build(options).incremental
    # Another version of factbook or of a library it uses: nothing of the old state is trusted.
    monkeypatch.setattr(cache, "_versions", lambda: "factbook=999")
    itu.write_text(itu.read_text() + "\nA last one.\n")
    assert not build(options).incremental


def _bilingual_steps(root: Path, build_once) -> None:  # type: ignore[no-untyped-def]
    """Make edits to a copy of the bilingual site, each followed by build_once, which compares."""
    content = root / "content"
    iot, itu_az = content / "organizations" / "iot.md", content / "organizations" / "itu.az.md"
    # An original with no translation: its fallback page in the other language changes too.
    written = build_once(lambda: iot.write_text(iot.read_text() + "\nOne more line.\n"))
    assert {"organizations/iot/index.html", "az/organizations/iot/index.html"} <= written
    assert "az/organizations/azercell/index.html" not in written
    # Nor the pages that list every page or every event: no address, title or date changed.
    assert not {"sitemap.xml", "events/feed.xml", "az/events/feed.xml", "data/index.html"} & written
    # A translation's body: its own page, in its own language only.
    written = build_once(lambda: itu_az.write_text(itu_az.read_text() + "\nDaha bir cümlə.\n"))
    assert "az/organizations/itu/index.html" in written
    assert "organizations/itu/index.html" not in written
    # A translation's title: the pages of its language that show it.
    written = build_once(
        lambda: itu_az.write_text(itu_az.read_text().replace("title: Beynəlxalq", "title: Böyük Beynəlxalq"))
    )
    assert "az/events/telecom-2009/index.html" in written
    assert "events/telecom-2009/index.html" not in written
    # The language's catalogue: the pages of that language that show its words, of no other.
    catalogue = root / "locales" / "az" / "LC_MESSAGES" / "messages.po"
    written = build_once(
        lambda: catalogue.write_text(catalogue.read_text().replace("Fəaliyyət sahəsi", "Səlahiyyət"))
    )
    assert "az/organizations/itu/index.html" in written  # its remit's label
    assert "organizations/itu/index.html" not in written
    # A new page, then its removal: the sitemap, which lists every address, changes with them.
    agency = content / "organizations" / "new-agency.md"
    text = "---\ntitle: New Agency\nkind: agency\nsources: [itu-report]\n---\nText.\n"
    assert "sitemap.xml" in build_once(lambda: agency.write_text(text))
    assert "sitemap.xml" in build_once(agency.unlink)
    # A new translation, then its removal.
    translation = content / "organizations" / "iot.az.md"
    made_from = version(iot.read_bytes())
    # Which pages each language has shows on every page (its switcher): the whole site again.
    text = f"---\ntitle: Əşyalar\ntranslated_from: {made_from}\n---\nMətn.\n"
    build_once(lambda: translation.write_text(text), whole=True)
    build_once(translation.unlink, whole=True)


def test_a_bilingual_site_rebuilt_in_serve_redoes_only_what_each_language_shows(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITES / "bilingual", root)
    served = tmp_path / "served"
    builder = Builder(Options(root))
    _apply(builder, served)

    def build_once(change, whole: bool = False) -> set[str]:  # type: ignore[no-untyped-def]
        change()
        written = _apply(builder, served)
        assert _files(served) == _full(root, tmp_path)
        return written

    _bilingual_steps(root, build_once)


def test_a_bilingual_site_rebuilt_from_the_command_line_redoes_only_what_each_language_shows(
    tmp_path: Path,
) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITES / "bilingual", root)
    out = tmp_path / "out"
    assert _cli_build(root, out).startswith("built ")

    def build_once(change, whole: bool = False) -> set[str]:  # type: ignore[no-untyped-def]
        before = {name: _inode(out / name) for name in _files(out)}
        change()
        said = _cli_build(root, out)
        assert said.startswith("built " if whole else "updated "), said
        assert _files(out) == _full(root, tmp_path)
        # What the build wrote: a file replaced has a new inode.
        return {name for name in _files(out) if before.get(name) != _inode(out / name)}

    _bilingual_steps(root, build_once)


def test_the_files_a_watcher_names_are_read_again_as_a_whole_survey_would(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITES / "tiny" / "content", root / "content")
    content = root / "content"
    itu, topic = content / "organizations" / "itu.md", content / "topics" / "ict.md"
    sources = load_sources(root)

    def same_as_survey(changed: list[Path]) -> Sources:
        refreshed = refresh_sources(root, sources, [str(p) for p in changed])
        assert refreshed is not None
        surveyed = load_sources(root, sources.files)
        assert refreshed.documents == surveyed.documents
        assert sorted(map(str, refreshed.problems)) == sorted(map(str, surveyed.problems))
        assert refreshed.files.keys() == surveyed.files.keys()
        return refreshed

    # An edit, then one that breaks the file, then its mending: read again, its problem with it.
    itu.write_text(itu.read_text(encoding="utf-8").replace("## History", "## Past"), encoding="utf-8")
    sources = same_as_survey([itu])
    good = itu.read_text(encoding="utf-8")
    itu.write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    sources = same_as_survey([itu])
    assert any("invalid YAML" in str(p) for p in sources.problems)
    itu.write_text(good, encoding="utf-8")
    sources = same_as_survey([itu, root / "templates" / "base.html"])
    assert not any("invalid YAML" in str(p) for p in sources.problems)
    # An editor's temporary file that came and went changes nothing.
    assert same_as_survey([content / "topics" / "4913"]).documents == sources.documents
    # A file that came or went, a setting, or a folder that went: only a whole survey will do.
    (content / "topics" / "health.md").write_text("---\ntitle: Health\n---\n", encoding="utf-8")
    assert refresh_sources(root, sources, [str(content / "topics" / "health.md")]) is None
    topic.unlink()
    assert refresh_sources(root, sources, [str(topic)]) is None
    assert refresh_sources(root, sources, [str(content / "site.yaml")]) is None
    assert refresh_sources(root, sources, [str(content / "topics")]) is None


def test_a_title_the_home_page_does_not_show_leaves_it_as_it_was(tmp_path: Path) -> None:
    # The home page lists topics and events, counts every collection's pages and the facts, and
    # links to ITU from its text: a title of another organization changed is not on it.
    root, out, builder = _tiny_served(tmp_path)
    content = root / "content"
    asan, ict = content / "organizations" / "asan-xidmet.md", content / "topics" / "ict.md"
    figures = content / "facts" / "figures.yaml"

    def made(change) -> set[str]:  # type: ignore[no-untyped-def]
        change()
        found = _apply(builder, out)
        assert _files(out) == _full(root, tmp_path)
        return found

    renamed = made(lambda: asan.write_text(asan.read_text().replace("title: ", "title: The ", 1)))
    assert "organizations/asan-xidmet/index.html" in renamed and "index.html" not in renamed
    # A fact more: it counts them.
    more = "  - label: People\n    value: 12\n    about: [asan-xidmet]\n    source: press-release\n"
    assert "index.html" in made(lambda: figures.write_text(figures.read_text() + more))
    # A fact's subject renamed: the facts' index shows it, the home page only their number.
    renamed = made(lambda: asan.write_text(asan.read_text().replace("title: The ", "title: A ", 1)))
    assert "facts/index.html" in renamed and "index.html" not in renamed
    # A page that comes counts on it; and a topic is listed on it.
    agency = "---\ntitle: New Agency\nsources: [press-release]\n---\nText.\n"
    assert "index.html" in made(lambda: (content / "organizations" / "new-agency.md").write_text(agency))
    assert "index.html" in made(lambda: ict.write_text(ict.read_text().replace("title: ", "title: The ", 1)))
