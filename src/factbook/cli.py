"""The factbook command: build, check, new, clean (and serve, in its own module)."""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__
from .errors import os_problem
from .forking import WorkerFailed
from .readahead import ReadAhead, default_jobs
from .stamp import build_settings, cache_folder, site_inputs, up_to_date
from .write import LOCK, UnsafeOutput, check_output, output_lock, remove_leftovers

if TYPE_CHECKING:
    from .build import Report

# The build itself (Markdown, Jinja, Babel and the rest) is imported where it runs: a build that
# finds nothing changed, and --help, should not wait on it.

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


def _root(source: str) -> Path:
    root = Path(source)
    if not root.is_dir():
        raise click.UsageError(f"{root} is not a folder; pass --source with your site's folder")
    # A folder with content/ is a factbook site; a folder of Markdown notes (a vault) is one too.
    if not (root / "content").is_dir() and next(root.rglob("*.md"), None) is None:
        raise click.UsageError(
            f"no content/ folder and no Markdown notes in {root.resolve()};"
            " run factbook where your site is, or pass --source"
        )
    return root


def _print_problems(report: Report) -> None:
    for problem in report.problems:
        click.echo(str(problem), err=True)


def _summary(report: Report, strict: bool) -> str:
    errors = len(report.errors)
    warnings = len(report.problems) - errors
    parts = ", ".join(
        f"{n} {report.labels.get(c, (c, c))[n != 1]}" for c, n in sorted(report.entities.items())
    )
    counted = f"{parts}, {report.facts} fact{'s' * (report.facts != 1)}" if parts else "no pages"
    verdict = "failed" if report.failed(strict) else "ok"
    counts = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    return f"{verdict}: {counts}; {counted}"


source_option = click.option(
    "--source", "-s", default=".", show_default=True, help="The site's folder (holding content/)."
)


def run() -> None:
    """Run the factbook command as a program, and end the process as soon as it is done.

    A build of many pages leaves a large heap: freeing it object by object as the interpreter
    shuts down takes seconds, for nothing. Every file is written and closed by then, and worker
    pools and serve's children are ended by the commands themselves.
    """
    global _ending
    _ending = True
    try:
        main()
        code: object = 0
    except SystemExit as done:
        code = done.code
    if isinstance(code, str):
        click.echo(code, err=True)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a reader that went away (`factbook build | head -1`) has all it wanted
            pass
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


_ending = False  # set by run(): the process ends as soon as its command is done


@contextmanager
def _uncollected() -> Iterator[None]:
    """Switch the cyclic garbage collector off while one build or check runs.

    Its full passes walk the whole heap of a large site again and again and find next to
    nothing: of an 18 s one-page rebuild at 10,000 pages, 4.8 s went on ten full passes that freed
    62 objects. The cycles a build does leave (a few MB a thousand pages) go with the process.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Switched on again, its first pass would walk the whole heap once more (2 s at 10k
        # pages): only for a caller that goes on in this process.
        if was and not _ending:
            gc.enable()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="factbook")
def main() -> None:
    """factbook: build a documentary site from Markdown pages and YAML fact sheets."""


@main.command("build")
@source_option
@click.option("--output", "-o", default=None, help="Where to write the site.  [default: SOURCE/_site]")
@click.option("--base-url", default=None, help="URL or path the site is served under, such as /factbook/.")
@click.option("--drafts", is_flag=True, help="Include pages marked draft: true.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Worker processes.  [default: all cores]"
)
@click.option("--profile", is_flag=True, help="Print where the time went, stage by stage.")
@click.option("--no-search", is_flag=True, help="Skip the Pagefind search index.")
@click.option("--no-cache", is_flag=True, help="Neither use nor update the cache beside the output.")
def build_command(
    source: str,
    output: str | None,
    base_url: str | None,
    drafts: bool,
    strict: bool,
    jobs: int | None,
    profile: bool,
    no_search: bool,
    no_cache: bool,
) -> None:
    """Build the site into a folder, replacing it only if the build succeeds."""
    root = _root(source)
    out = Path(output) if output else root / "_site"
    started = time.perf_counter()
    ahead = None
    try:
        seen: dict[str, os.stat_result] = {}
        settings = build_settings(base_url, drafts, not no_search)
        inputs = None if no_cache else _inputs(root, out, settings, seen)
        if inputs == "":
            click.echo(f"{out} is up to date: no source, template or setting changed since it was built")
            return
        if inputs is None and (jobs or default_jobs()) > 1:
            # Nothing kept to start from: a child reads half the content while this process
            # imports the builder (a tenth of a cold build of 1,000 pages) and reads the rest.
            ahead = ReadAhead(root, frozenset({os.path.realpath(out)}))
        with _uncollected():  # its passes over the import's new objects find nothing to free
            from .build import Options, build

        bar = _Bar() if sys.stderr.isatty() else None
        options = Options(
            root=root,
            output=out,
            base_url=base_url,
            drafts=drafts,
            strict=strict,
            jobs=jobs or default_jobs(),
            search=not no_search,
            cache=not no_cache,
            progress=bar,
            inputs=inputs,
            seen=seen if inputs else None,
            ending=_ending,
            ahead=ahead,
        )
        with _uncollected():
            report = build(options)
        if bar is not None:
            bar.close()
    except UnsafeOutput as error:
        raise click.UsageError(str(error)) from error
    except WorkerFailed as error:  # the machine, not the content: the old site kept
        click.echo(f"{error}; nothing written; {out} is as it was", err=True)
        sys.exit(EXIT_CONTENT)
    except OSError as error:  # the disk, not the content: the staging folder is gone, the old site kept
        click.echo(os_problem(error, str(out)), err=True)
        click.echo(f"nothing written; {out} is as it was", err=True)
        sys.exit(EXIT_CONTENT)
    finally:
        if ahead is not None:
            ahead.close()  # taken by the build, unless it ended before it read the content
    if report.up_to_date:  # found by the build itself when another build finished first
        click.echo(f"{out} is up to date: no source, template or setting changed since it was built")
        return
    _print_problems(report)
    if profile:
        _print_profile(report, time.perf_counter() - started)
    click.echo(_summary(report, strict), err=True)
    if report.failed(strict):
        click.echo(f"nothing written; {out} is as it was", err=True)
        sys.exit(EXIT_CONTENT)
    for notice in report.notices:
        click.echo(str(notice), err=True)
    seconds = time.perf_counter() - started
    cached = f"; {report.cache_hits} Markdown bodies from the cache" if report.cache_hits else ""
    if report.incremental:
        click.echo(
            f"updated {out} in {seconds:.2f} s: {report.pages} pages made again,"
            f" {report.files} files written, the rest kept from the last build{cached}"
        )
    else:
        click.echo(f"built {report.pages} pages ({report.files} files) into {out} in {seconds:.2f} s{cached}")
    click.echo(
        f"to browse it: python -m http.server -d {out} 8000, then open http://127.0.0.1:8000/"
        " (links are root-relative; or preview with: factbook serve)"
    )


def _inputs(
    root: Path, out: Path, settings: dict[str, object], seen: dict[str, os.stat_result]
) -> str | None:
    """Return the signature of the site's inputs now, "" if the output already holds their site,
    or None if there is no cache to tell (and put what stat gave for each input file in seen)."""
    check_output(out, root)
    if not (cache_folder(out)).is_dir():
        return None
    with output_lock(out, cache_folder(out) / LOCK):
        inputs = site_inputs(root, out, settings, seen)
        return "" if up_to_date(out, inputs) else inputs


class _Bar:
    """A progress bar on a terminal, shown only once a build has run for two seconds."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if time.perf_counter() - self.started < 2 or not total:
            return
        filled = 30 * done // total
        click.echo(f"\r{stage:<9} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", nl=False, err=True)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("\r" + " " * 60 + "\r", nl=False, err=True)


def _print_profile(report: Report, total: float) -> None:
    click.echo("stage      seconds  share", err=True)
    for stage, seconds in report.seconds.items():
        click.echo(f"{stage:<9} {seconds:8.3f}  {seconds / total:5.0%}", err=True)
    other = total - sum(report.seconds.values())
    click.echo(f"{'other':<9} {other:8.3f}  {other / total:5.0%}", err=True)
    click.echo(f"{'total':<9} {total:8.3f}  {report.pages / total:,.0f} pages/s", err=True)


@main.command("check")
@source_option
@click.option("--drafts", is_flag=True, help="Include pages marked draft: true.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check_command(source: str, drafts: bool, strict: bool, fmt: str) -> None:
    """Run every validation of a build and write nothing."""
    from .build import Options, check

    try:
        with _uncollected():
            report = check(Options(root=_root(source), drafts=drafts, strict=strict, jobs=default_jobs()))
    except WorkerFailed as error:  # the machine, not the content
        click.echo(f"{error}; check again", err=True)
        sys.exit(EXIT_CONTENT)
    except OSError as error:
        click.echo(os_problem(error, source).replace("build again", "check again"), err=True)
        sys.exit(EXIT_CONTENT)
    if fmt == "json":
        problems = [
            {
                "path": p.path,
                "line": p.line,
                "message": p.message,
                "hint": p.hint,
                "severity": "warning" if p.warning else "error",
            }
            for p in report.problems
        ]
        click.echo(
            json.dumps(
                {
                    "ok": not report.failed(strict),
                    "problems": problems,
                    "counts": report.entities,
                    "facts": report.facts,
                },
                indent=2,
                sort_keys=True,
            )
        )
    else:
        _print_problems(report)
        click.echo(_summary(report, strict), err=True)
    sys.exit(EXIT_CONTENT if report.failed(strict) else EXIT_OK)


@main.command("new")
@source_option
@click.option(
    "--translate",
    nargs=2,
    default=None,
    metavar="SLUG LANG",
    help="Start the translation of page SLUG into language LANG (a code of site.yaml's languages).",
)
@click.argument("collection", required=False)
@click.argument("title", required=False)
def new_command(
    source: str, translate: tuple[str, str] | None, collection: str | None, title: str | None
) -> None:
    """Create a content file for TITLE in COLLECTION, with its fields ready to fill in."""
    from .scaffold import new_file, translation_file

    try:
        if translate:
            path = translation_file(_root(source), *translate)
        elif collection is None or title is None:
            raise click.UsageError("name a COLLECTION and a TITLE, or --translate SLUG LANG")
        else:
            path = new_file(_root(source), collection, title)
    except (ValueError, FileExistsError) as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"created {path}")


@main.command("clean")
@source_option
@click.option("--output", "-o", default=None, help="The built site to remove.  [default: SOURCE/_site]")
def clean_command(source: str, output: str | None) -> None:
    """Remove the built site, and what stopped builds left beside it."""
    root = Path(source)
    out = Path(output) if output else root / "_site"
    try:
        check_output(out, root)
    except UnsafeOutput as error:
        raise click.UsageError(str(error).replace("build into", "remove")) from error
    if not out.absolute().parent.is_dir():
        click.echo(f"nothing to remove: {out} does not exist")
        return
    try:
        with output_lock(out, cache_folder(out) / LOCK):
            leftovers = remove_leftovers(out)
            if out.exists():
                shutil.rmtree(out)
                click.echo(f"removed {out}")
            elif not leftovers:
                click.echo(f"nothing to remove: {out} does not exist")
    except OSError as error:
        click.echo(os_problem(error, str(out)).replace("build again", "clean again"), err=True)
        sys.exit(EXIT_CONTENT)
    for folder in leftovers:
        click.echo(f"removed {folder}, left by a build that was stopped")


@main.command("serve")
@source_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default)."
)
@click.option(
    "--port",
    "-p",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free one).",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer requests made to this host name (repeatable); loopback names always work.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a browser.")
@click.option("--drafts", is_flag=True, help="Include pages marked draft: true.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors in the overlay.")
@click.option("--no-search", is_flag=True, help="Do not index the preview for search.")
def serve_command(
    source: str,
    host: str,
    port: int,
    allowed_hosts: tuple[str, ...],
    open_browser: bool,
    drafts: bool,
    strict: bool,
    no_search: bool,
) -> None:
    """Build, serve and watch the site, reloading the browser on every save."""
    from .build import Options
    from .serve import PortInUse, serve

    root = _root(source)
    try:
        options = Options(root=root, drafts=drafts, strict=strict, jobs=default_jobs(), search=not no_search)
        serve(options, host, port, open_browser, log=_log, hosts=allowed_hosts)
    except PortInUse as error:
        raise click.UsageError(str(error)) from error


def _log(message: str) -> None:
    click.echo(f"{time.strftime('%H:%M:%S')} {message}", err=True)


@main.command("schema")
@source_option
@click.option("--output", "-o", default="schemas", show_default=True, help="Folder for the schema files.")
def schema_command(source: str, output: str) -> None:
    """Write each collection's JSON Schema, for editors to check front matter while typing."""
    from .assemble import assemble_site
    from .config import SETTINGS_SCHEMA
    from .declare import META_SCHEMA
    from .load import load_sources
    from .schema import editor_schema

    root = _root(source)
    sources = load_sources(root)
    site, _ = assemble_site(sources.config, sources.collections, sources.documents)
    slugs: dict[str, list[str]] = {}
    for entity in site.entities.values():
        slugs.setdefault(entity.collection, []).append(entity.slug)
    folder = root / output
    folder.mkdir(parents=True, exist_ok=True)
    schemas = {f"{name}.schema.json": editor_schema(c, slugs) for name, c in sources.collections.items()}
    # The settings files are checked against these same schemas on every build.
    schemas["site.schema.json"] = SETTINGS_SCHEMA
    schemas["collections.schema.json"] = META_SCHEMA
    for name, schema in sorted(schemas.items()):
        path = folder / name
        text = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {path}")


@main.command("init")
@click.argument("directory", metavar="[DIR]", default=".", type=click.Path(file_okay=False, path_type=Path))
def init_command(directory: Path) -> None:
    """Start a new site in DIR (here by default): an example that builds, to adapt to your subject."""
    import shlex

    from .starter import init_site

    try:
        files = init_site(directory)
    except FileExistsError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"created a factbook site in {directory} ({len(files)} files):")
    for path in files:
        click.echo(f"  {path}")
    here = directory == Path(".")
    steps = [
        ('factbook new organizations "Some Body"', "a first page of your own")
        if here
        else (f"cd {shlex.quote(str(directory))}", ""),
        ("factbook serve", "preview at http://127.0.0.1:8000/ while you write"),
        ("factbook build", f"the site in {directory / '_site'}, ready to publish"),
    ]
    width = max(len(command) for command, why in steps if why) + 2
    click.echo("next:")
    for command, why in steps:
        click.echo(f"  {command:<{width}}# {why}" if why else f"  {command}")
