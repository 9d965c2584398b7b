"""What a build keeps between runs, beside the output and never in it: safe to delete, never stale.

- Rendered Markdown, keyed by a hash of the body, its place and the settings. A hit is used only
  if every link in it still resolves today as it did then (Rendered.still_valid).
- A manifest of every input's signature and of the output's files: when neither changed, the
  build has nothing to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from . import __version__
from .link import BodyJob, RenderMany
from .mdlinks import EXTENSIONS, LinkTable, Rendered

FOLDER = ".factbook-cache"
MARKDOWN = "markdown.pickle"
MANIFEST = "manifest.json"


def cache_folder(output: Path) -> Path:
    """Return the cache folder of an output folder: a sibling, so it is never published."""
    output = output.absolute()
    return output.parent / FOLDER / output.name


@lru_cache(maxsize=1)
def _versions() -> str:
    names = ("markdown", "jinja2", "pyyaml", "python-slugify", "pagefind")
    found = []
    for name in names:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=none")
    return f"factbook={__version__};" + ";".join(found) + ";" + ",".join(EXTENSIONS)


def body_key(job: BodyJob, extensions: tuple[tuple[str, str], ...] = (), unsafe_html: bool = False) -> str:
    """Return the cache key of a body: a hash of its source, place and the Markdown settings.

    Where its links lead (and the base URL in them) is checked on every hit instead.
    """
    source, line, folder = job
    text = f"{_versions()}\0{extensions}\0{unsafe_html}\0{folder}\0{line}\0{source}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class MarkdownCache:
    """Rendered Markdown by key, read from and written to the cache folder."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.entries: dict[str, Rendered] = {}
        self.used: dict[str, Rendered] = {}
        self.hits = 0
        if folder is not None:
            try:
                with open(folder / MARKDOWN, "rb") as handle:
                    loaded = pickle.load(handle)
                if isinstance(loaded, dict) and loaded.get("versions") == _versions():
                    self.entries = loaded["entries"]
            except (
                OSError,
                pickle.UnpicklingError,
                EOFError,
                AttributeError,
                TypeError,
                KeyError,
                ValueError,
            ):
                self.entries = {}  # a damaged or old cache is as good as none

    def wrap(self, render_many: RenderMany) -> RenderMany:
        """Return a RenderMany that takes valid hits from the cache and renders only the rest."""

        def cached(batch: list[BodyJob], table: LinkTable) -> list[Rendered]:
            keys = [body_key(job, table.extensions, table.unsafe_html) for job in batch]
            found: list[Rendered | None] = []
            for key in keys:
                hit = self.entries.get(key)
                found.append(hit if hit is not None and hit.still_valid(table) else None)
            missing = [i for i, hit in enumerate(found) if hit is None]
            self.hits += len(batch) - len(missing)
            fresh = render_many([batch[i] for i in missing], table) if missing else []
            for i, rendered in zip(missing, fresh, strict=True):
                found[i] = rendered
            result = [r for r in found if r is not None]
            self.used.update(zip(keys, result, strict=True))
            return result

        return cached

    def save(self) -> None:
        """Write the entries this build used (so the cache never grows past one site)."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        entries = {k: r.with_job(("", 0, "")) for k, r in self.used.items()}
        _atomic_write(
            self.folder / MARKDOWN, pickle.dumps({"versions": _versions(), "entries": entries}, protocol=5)
        )


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _signatures(folders: Iterable[Path], skip: frozenset[str] = frozenset()) -> list[tuple[str, int, int]]:
    found = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(
                d for d in dirnames if os.path.realpath(os.path.join(dirpath, d)) not in skip
            )
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                found.append((path, stat.st_size, stat.st_mtime_ns))
    return found


def inputs_signature(
    folders: Iterable[Path], options: dict[str, object], skip: frozenset[str] = frozenset()
) -> str:
    """Return a hash of every input file's path, size and time, the settings and the versions."""
    code = Path(__file__).parent  # an edited factbook makes another site
    data = json.dumps(
        [_versions(), options, _signatures([*folders, code], skip)], sort_keys=True, default=str
    )
    return hashlib.sha256(data.encode()).hexdigest()


def output_signature(output: Path) -> str:
    """Return a hash of the output folder's file paths, sizes and times."""
    data = json.dumps(_signatures([output]))
    return hashlib.sha256(data.encode()).hexdigest()


def up_to_date(output: Path, inputs: str) -> bool:
    """Return whether the output was built from exactly these inputs and not touched since."""
    try:
        manifest = json.loads((cache_folder(output) / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return (
        manifest.get("inputs") == inputs
        and output.is_dir()
        and manifest.get("output") == output_signature(output)
    )


def record(output: Path, inputs: str) -> None:
    """Remember that the output now holds the site built from these inputs."""
    folder = cache_folder(output)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"inputs": inputs, "output": output_signature(output)}
    _atomic_write(folder / MANIFEST, json.dumps(manifest).encode())
