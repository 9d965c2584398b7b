"""Which pages a change touches: from the two link graphs in serve, or from a digest of the last
build's graph, kept between runs of the command line."""

from __future__ import annotations

import dataclasses
import hashlib
import marshal
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from operator import itemgetter
from pathlib import PurePath
from typing import Any, NamedTuple

from .frozen import pickled_as_tuple
from .link import LinkedSite, changed_keys
from .mdlinks import Rendered
from .model import Entity, Ref, text_print


def face(entity: Entity) -> tuple[object, ...]:
    """Return what other pages may show of an entity: title, URL, summary, date and its fields."""
    date = entity.date.iso() if entity.date else ""
    return (entity.title, entity.url, entity.summary, date, entity.fields)


def _own(linked: LinkedSite, key: str) -> tuple[object, ...]:
    entity = linked.site.entities[key]
    return (
        entity.doc,
        entity.refs,
        linked.bodies.get(key),
        linked.inverse.get(key, ()),
        linked.facts_about.get(key, ()),
        linked.site.facts.get(key, ()),
        linked.dead.get(key),
    )


def _same_own(old: LinkedSite, new: LinkedSite, key: str) -> bool:
    """Return whether a page shows the same of its own in two linked sites (as _own compares)."""
    # Mostly the very objects of the last build: compared by identity first, as a tuple would
    # be, without making the two tuples.
    if (
        old.site.entities[key] is new.site.entities[key]
        and old.bodies.get(key) is new.bodies.get(key)
        and old.inverse.get(key) is new.inverse.get(key)
        and old.facts_about.get(key) is new.facts_about.get(key)
        and old.site.facts.get(key) is new.site.facts.get(key)
        and old.dead.get(key) is new.dead.get(key)
    ):
        return True
    return _own(old, key) == _own(new, key)


@dataclasses.dataclass(frozen=True, slots=True)
class Digest:
    """A build's link graph in brief: per page, a hash of its face and of its own inputs."""

    faces: dict[str, str]
    owns: dict[str, str]
    fact_subjects: frozenset[str]
    orders: dict[str, tuple[str, ...]]  # each dated collection's pages in time order
    # Hashes of what the whole-site exports read: under "" all that the graph files read, and
    # under each collection's name what its data downloads read (_exports_prints).
    exports: dict[str, str] = dataclasses.field(default_factory=dict)
    # Per page: a hash of what it gives the inverse lists (its references and links), the pages
    # those lead to, and a hash of its own inverse list (when it has one). With them, the next
    # digest hashes again only the inverse lists of pages a changed page led to, or leads to.
    outs: dict[str, str] = dataclasses.field(default_factory=dict)
    leads: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    inverses: dict[str, str] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the digest as plain JSON values."""
        return {
            "faces": self.faces,
            "owns": self.owns,
            "fact_subjects": sorted(self.fact_subjects),
            "orders": {k: list(v) for k, v in self.orders.items()},
            "exports": self.exports,
            "outs": self.outs,
            "leads": {k: list(v) for k, v in self.leads.items()},
            "inverses": self.inverses,
        }

    @classmethod
    def from_json(cls, data: Any) -> Digest:
        """Return the digest read back from to_json's values; raise ValueError for anything else."""
        try:
            faces, owns = _strings(data["faces"]), _strings(data["owns"])
            orders = {k: tuple(_list(v)) for k, v in _mapping(data["orders"]).items()}
            subjects = frozenset(_list(data["fact_subjects"]))
            exports = _strings(data["exports"])
            outs, inverses = _strings(data["outs"]), _strings(data["inverses"])
            leads = {k: tuple(_list(v)) for k, v in _mapping(data["leads"]).items()}
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a digest: {error}") from error
        if not faces.keys() == owns.keys() == outs.keys() >= leads.keys() | inverses.keys():
            raise ValueError("not a digest: its tables name different pages")
        return cls(faces, owns, subjects, orders, exports, outs, leads, inverses)


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise TypeError("expected an object")
    return value


def _strings(value: Any) -> dict[str, str]:
    mapping = _mapping(value)
    if not all(isinstance(v, str) for v in mapping.values()):
        raise TypeError("expected strings")
    return mapping


def _list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a list of strings")
    return value


@pickled_as_tuple
class PagePrints(NamedTuple):
    """What the digest made of one page, kept with it for the next build (in the records).

    Each hash holds while the page is the very object it was made from (read back with it) and
    what else it was made from is the same: the body's prints, for what the page gives the
    inverse lists; those and its inverse list, with no facts and no dead links, for its own
    inputs; no facts, for what the exports read of it ('' where it did not hold). The seven
    hashes are kept as one string: 10,000 pages read back a third as quickly as seven fields.
    """

    entity: Entity
    hashes: str  # the body's two prints, the inverse list's, the face's, out, own and read

    @classmethod
    def of(cls, entity: Entity, body: tuple[str, str], *hashes: str) -> PagePrints:
        """Return the prints of entity: its body's, then inverse, face, out, own and read."""
        return cls(entity, "".join(h or _BLANK for h in (*body, *hashes)))


# Where each hash is in PagePrints.hashes: sliced there directly, 10,000 pages a build.
_BODY, _INVERSE, _FACE, _OUT, _OWN, _READ = (
    slice(a, b) for a, b in ((0, 64), (64, 96), (96, 128), (128, 160), (160, 192), (192, 224))
)
_BLANK = "-" * 32  # a hash not kept (every hash here is 32 hexadecimal digits)
PRINTS = "prints"  # LinkedSite.memo: the last build's PagePrints by file path; the new, once made
_NO_BODY = ("", "")


def digest(linked: LinkedSite, base: Digest | None = None) -> Digest:
    """Return the digest of a linked site (made once per site).

    With base, the digest of an earlier build of the same site, the inverse lists of pages that
    no changed page led to or leads to are taken from it unhashed: the result is the same. The
    hashes of a page whose PagePrints hold (linked.memo[PRINTS]) are taken from them, and the
    new PagePrints put there.
    """
    made = linked.memo.get("digest")
    if made is None:
        entities, bodies, facts = linked.site.entities, linked.bodies, linked.site.facts
        kept: dict[str, PagePrints] = linked.memo.get(PRINTS) or {}
        refs: dict[str, bytes] = {}

        def refs_of(key: str) -> bytes:
            found = refs.get(key)
            if found is None:
                found = refs[key] = _refs_bytes(entities[key].refs)
            return found

        faces: dict[str, str] = {}
        outs: dict[str, str] = {}
        alike: dict[str, str] = {}  # the kept hashes of each very page of the last build, same body
        for k, e in entities.items():
            p = kept.get(e.doc.path)
            body = bodies.get(k)
            if p is not None and p.entity is e:
                hashes = p.hashes
                faces[k] = hashes[_FACE]
                if hashes[_BODY] == _body_hashes(body):
                    outs[k], alike[k] = hashes[_OUT], hashes
                    continue
            else:
                faces[k] = _face_print(e)
            outs[k] = _out_print(refs_of(k), body)
        inverses, leads = _inverses(linked, outs, base)
        owns: dict[str, str] = {}
        reads: dict[str, str] = {}
        held: dict[str, PagePrints] = {}  # the kept prints that hold whole
        for k, e in entities.items():
            inverse = inverses.get(k, _NO_INVERSE)
            hashes = alike.get(k)
            if (
                hashes is not None
                and hashes[_INVERSE] == inverse
                and hashes[_OWN] != _BLANK
                and hashes[_READ] != _BLANK
                and not _facts_or_dead(linked, k)
            ):
                owns[k], reads[k] = hashes[_OWN], hashes[_READ]
                held[k] = kept[e.doc.path]
            else:
                owns[k] = _own_print(linked, k, refs_of(k), inverse)
        exports, reads = _exports_prints(linked, faces, refs_of, reads)
        made = Digest(
            faces,
            owns,
            frozenset(_fact_subjects(linked)),
            {
                name: tuple(date_order(linked, name))
                for name, c in linked.site.collections.items()
                if c.sort == "date"
            },
            exports,
            outs,
            leads,
            inverses,
        )
        linked.memo["digest"] = made
        fresh: dict[str, PagePrints] = {}
        for k, e in entities.items():
            p = held.get(k)
            if p is None:
                body = bodies.get(k)
                p = PagePrints.of(
                    e,
                    body.prints if body is not None else _NO_BODY,
                    inverses.get(k, _NO_INVERSE),
                    faces[k],
                    outs[k],
                    "" if _facts_or_dead(linked, k) else owns[k],
                    "" if facts.get(k) else reads[k],
                )
                old = kept.get(e.doc.path)
                p = old if old == p else p
            fresh[e.doc.path] = p  # the kept object when the same: its records shard stays
        linked.memo[PRINTS] = fresh
    return made


def _body_hashes(body: Rendered | None) -> str:
    """Return a body's prints as PagePrints keeps them."""
    return _BLANK + _BLANK if body is None else body.prints[0] + body.prints[1]


def _facts_or_dead(linked: LinkedSite, key: str) -> bool:
    """Return whether a page's own inputs include facts or dead links (not kept in PagePrints)."""
    return bool(linked.facts_about.get(key) or linked.site.facts.get(key) or linked.dead.get(key))


# A reference as a page shows it (its line only ever reaches messages): a plain tuple.
_REF = itemgetter(0, 1, 2, 3, 4, 6, 7, 8)


def _refs_bytes(refs: Iterable[Ref]) -> bytes:
    """Return references as pages show them, in their order, as bytes that follow their values.

    marshal's format 2 is four times quicker than a repr; unlike 3 and later, it writes a string
    the same whether or not another reference holds the very same string object.
    """
    return marshal.dumps(list(map(_REF, refs)), 2)


def _hash(parts: Iterable[bytes]) -> str:
    """Return a hash of several byte strings, each told apart from the next by its length."""
    made = hashlib.blake2b(digest_size=16)
    for part in parts:
        made.update(len(part).to_bytes(8, "little"))
        made.update(part)
    return made.hexdigest()


_NO_INVERSE = _hash([_refs_bytes(())])


def _face_print(entity: Entity) -> str:
    """Return a hash of what other pages may show of an entity (face), the same in every process."""
    return hashlib.blake2b(_bytes(face(entity)), digest_size=16).hexdigest()


def _bytes(value: object) -> bytes:
    """Return bytes that follow a value (with no set in it), the same in every process."""
    try:
        # Twice as quick as a repr (format 2: see _refs_bytes); what it cannot write (a date, a
        # fact) goes as a repr.
        return b"m" + marshal.dumps(value, 2)
    except ValueError:
        return b"r" + repr(value).encode("utf-8", "surrogatepass")


def _out_print(refs: bytes, body: Rendered | None) -> str:
    """Return a hash of what a page gives the inverse lists: its references and what it links to."""
    # A page's outgoing references are its own, and one for each page its body links to
    # (link.outgoing): both follow from these two.
    return _hash([refs, b"" if body is None else body.prints[1].encode()])


def _inverses(
    linked: LinkedSite, outs: dict[str, str], base: Digest | None
) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Return the hash of each page's inverse list (of those that have one), and where each page
    leads: from base, for every page that no changed page led to or leads to."""
    outgoing = linked.outgoing
    if base is None:
        changed = set(outs)
        leads: dict[str, tuple[str, ...]] = {}
        again = set(outs)
    else:
        changed = {k for k, made in outs.items() if base.outs.get(k) != made} | (
            base.outs.keys() - outs.keys()
        )
        leads = {k: v for k, v in base.leads.items() if k not in changed}
        # Pages new since base may be led to by pages that did not change (a link that was
        # lenient, say): their lists are hashed whatever base says.
        again = {t for k in changed for t in base.leads.get(k, ())} | (outs.keys() - base.outs.keys())
    for key in changed & outs.keys():
        targets = tuple(dict.fromkeys(r.target for r in outgoing.get(key, ())))
        if targets:
            leads[key] = targets
        again.update(targets)
    inverses = (
        {} if base is None else {k: v for k, v in base.inverses.items() if k in outs and k not in again}
    )
    for key in again:
        inverse = linked.inverse.get(key)
        if inverse and key in outs:
            inverses[key] = _hash([_refs_bytes(inverse)])
    return inverses, leads


def _exports_prints(
    linked: LinkedSite,
    faces: dict[str, str],
    refs_of: Callable[[str], bytes],
    reads: dict[str, str],
) -> tuple[dict[str, str], dict[str, str]]:
    """Return hashes of what the whole-site exports read: under "", each page's face, references
    and links, and the facts, for the graph files; under each collection's name, its pages' faces,
    references and facts, for its data downloads (which name other pages by key only). And the
    hash of what they read of each page (its face, references and facts): from reads, if there.

    The inputs build compares between two linked sites in serve; the inverse and outgoing links
    are made from the references and the links, so they are covered by them.
    """
    site = linked.site
    # Hashed as it is made, not joined first: the text of every page's references, whole, was a
    # tenth of a cold build's peak memory at 10,000 pages.
    made = hashlib.blake2b(digest_size=16)
    texts = _fact_texts(linked)
    sheets = "\x1e".join(f"{k}\x1f" + "\x1d".join(texts[id(f)] for f in fs) for k, fs in site.facts.items())
    parts = [repr(sorted(site.entities)), sheets, repr(site.files), repr(site.sizes)]
    made.update("\x1f".join(parts).encode("utf-8", "surrogatepass"))
    tables: dict[str, Any] = {}
    made_reads: dict[str, str] = {}
    for key in sorted(site.entities):
        entity = site.entities[key]
        body = linked.bodies.get(key)
        shown = None if body is None else body.prints[1]
        read = reads.get(key)
        if read is None:
            own = _bytes(
                (key, faces[key], entity.draft, tuple(texts[id(f)] for f in site.facts.get(key, ())))
            )
            read = _hash([refs_of(key), own])
        made_reads[key] = read
        table = tables.get(entity.collection)
        if table is None:
            table = tables[entity.collection] = hashlib.blake2b(digest_size=16)
        # The graph files read what the downloads read, and what the page's body links to.
        table.update(read.encode())
        made.update(read.encode() + repr(shown).encode())
    prints = {"": made.hexdigest(), **{name: table.hexdigest() for name, table in tables.items()}}
    return prints, made_reads


def _own_print(linked: LinkedSite, key: str, refs: bytes, inverse: str) -> str:
    """Return a hash of what a page shows of its own (as _own), quicker than fingerprint, given
    its references (_refs_bytes) and the hash of its inverse list.

    A repr is the same in every process but for sets, so the one set here goes in sorted; a set
    missed would only make a page look changed, never one that changed look the same.
    """
    entity = linked.site.entities[key]
    doc = entity.doc
    body = linked.bodies.get(key)
    # What a page shows of its file: the file itself, when it was read from one; line numbers
    # only ever reach messages.
    read = doc.checksum or repr((doc.body, doc.data))
    texts = _fact_texts(linked)
    rest = (
        tuple((sheet, texts.get(id(f)) or repr(f)) for sheet, f in linked.facts_about.get(key, ())),
        tuple(texts[id(f)] for f in linked.site.facts.get(key, ())),
        sorted(linked.dead.get(key, ())),
    )
    # The HTML is made from the body and where its links lead, as is all the rest.
    shown = "" if body is None else body.prints[0]
    return _hash(
        [_bytes((doc.path, doc.kind, doc.collection, doc.stem, doc.folder, read, rest, inverse, shown)), refs]
    )


def _fact_texts(linked: LinkedSite) -> dict[int, str]:
    """Return the repr of each fact of the site, by the fact's id (made once per site): a page's
    facts hashed as text, not as the dataclasses they are, which marshal cannot write."""
    texts = linked.memo.get("fact_texts")
    if texts is None:
        texts = linked.memo["fact_texts"] = {id(f): repr(f) for fs in linked.site.facts.values() for f in fs}
    return texts  # type: ignore[no-any-return]


def fingerprint(value: object) -> str:
    """Return a hash of a value that is the same in every process (sets and dicts in sorted order)."""
    parts: list[str] = []
    _canonical(value, parts)
    return text_print("\x1f".join(parts))


_FIELDS: dict[type, tuple[str, ...]] = {}


def _canonical(value: object, out: list[str]) -> None:
    if value is None or isinstance(value, (str, int, float)):
        out.append(repr(value))  # bool is an int, and its repr differs from 0 and 1
    elif isinstance(value, (tuple, list)):
        out.append("(")
        for item in value:
            _canonical(item, out)
        out.append(")")
    elif isinstance(value, (frozenset, set)):
        out.append("{" + "\x1e".join(sorted(fingerprint(item) for item in value)) + "}")
    elif isinstance(value, Mapping):
        items = sorted((fingerprint(k), v) for k, v in value.items())
        out.append("{")
        for key, item in items:
            out.append(key)
            _canonical(item, out)
        out.append("}")
    elif dataclasses.is_dataclass(value):
        kind = type(value)
        names = _FIELDS.get(kind)
        if names is None:
            names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind) if f.compare)
        out.append(kind.__name__ + "(")
        for name in names:
            _canonical(getattr(value, name), out)
        out.append(")")
    elif isinstance(value, (PurePath, date, datetime, Enum)):
        out.append(f"{type(value).__name__}:{value}")
    else:
        raise TypeError(f"no stable fingerprint for {type(value).__name__}")


def dependencies(linked: LinkedSite, key: str) -> set[str]:
    """Return the entities whose face the page of key shows."""
    entity = linked.site.entities[key]
    found = {r.target for r in entity.refs}
    found.update(r.source for r in linked.inverse.get(key, ()))
    body = linked.bodies.get(key)
    if body is not None:
        found.update(key for key in body.links.keys if key)
    for sheet, fact in (
        *linked.facts_about.get(key, ()),
        *((key, f) for f in linked.site.facts.get(key, ())),
    ):
        found.add(sheet)
        found.update(fact.about)
        found.add(fact.source)
    return found


def _showing(linked: LinkedSite, faces: set[str]) -> set[str]:
    """Return the pages whose dependencies name any of faces: each page that leads to one (its
    inverse list), each it leads to (whose inverse lists name it), and those the facts tie."""
    # The pages dependencies() would name, found from the few faces: not by asking every page.
    found = {k for k in faces if k in linked.site.entities}
    for key in faces:
        found.update(r.source for r in linked.inverse.get(key, ()))
        found.update(r.target for r in linked.outgoing.get(key, ()))
    facts = linked.site.facts
    for key in facts.keys() | linked.facts_about.keys():
        for sheet, fact in (*linked.facts_about.get(key, ()), *((key, f) for f in facts.get(key, ()))):
            if faces.intersection((sheet, fact.source, *fact.about)):
                found.add(key)
    return found & linked.site.entities.keys()


def changed_entities(old: LinkedSite | Digest, new: LinkedSite) -> tuple[set[str], set[str]]:
    """Return the keys whose own page changed, and the keys whose face changed (or that came or went)."""
    if isinstance(old, Digest):
        now = digest(new, old)
        faces = set(old.faces.keys() ^ now.faces.keys())
        faces.update(k for k in old.faces.keys() & now.faces.keys() if old.faces[k] != now.faces[k])
        own = {k for k in now.owns if old.owns.get(k) != now.owns[k]}
        return own, faces
    before, after = old.site.entities, new.site.entities
    faces = {k for k in before.keys() ^ after.keys()}
    moved = changed_keys(before, after)
    faces.update(k for k in moved if k in before and k in after and face(before[k]) != face(after[k]))
    # Only a page with an input that is not the very object of the last build can have changed
    # (as _same_own tells): one pass over each table, not six look-ups for every page.
    suspects = moved | changed_keys(old.bodies, new.bodies) | changed_keys(old.inverse, new.inverse)
    suspects |= changed_keys(old.site.facts, new.site.facts) | changed_keys(old.dead, new.dead)
    if old.facts_about is not new.facts_about:
        suspects |= changed_keys(old.facts_about, new.facts_about)
    own = {k for k in after if k not in before}
    own.update(k for k in suspects if k in after and k in before and not _same_own(old, new, k))
    return own, faces


def date_order(linked: LinkedSite, collection: str) -> list[str]:
    """Return the keys of a collection's pages in time order (undated last), as previous / next run."""
    members = [e for e in linked.site.entities.values() if e.collection == collection]
    return [e.key for e in sorted(members, key=lambda e: (e.date.sort_key() if e.date else (9999,), e.key))]


def _collection(key: str) -> str:
    return key.split("/", 1)[0]


def _fact_subjects(linked: LinkedSite) -> set[str]:
    return {
        k for sheet, facts in linked.site.facts.items() for f in facts for k in (sheet, f.source, *f.about)
    }


def _past_subjects(old: LinkedSite | Digest) -> set[str]:
    return set(old.fact_subjects) if isinstance(old, Digest) else _fact_subjects(old)


def _past_order(old: LinkedSite | Digest, collection: str) -> list[str]:
    return list(old.orders.get(collection, ())) if isinstance(old, Digest) else date_order(old, collection)


def affected_entities(old: LinkedSite | Digest, new: LinkedSite) -> tuple[set[str], set[str]]:
    """Return the entity pages to render again, and the collections whose index changes."""
    own, faces = changed_entities(old, new)
    pages = set(own)
    # A page shows the bodies it embeds: it changes with them, and with what they embed in turn.
    embedders: dict[str, set[str]] = {}
    for key, rendered in new.bodies.items():
        for embed in rendered.embeds:
            embedders.setdefault(embed.key, set()).add(key)
    todo = list(own)
    while todo:
        for key in embedders.get(todo.pop(), ()):
            if key not in pages:
                pages.add(key)
                todo.append(key)
    if faces:
        pages.update(_showing(new, faces))
    collections = {_collection(k) for k in faces}
    sheets = {n for n, c in new.site.collections.items() if c.fact_list}
    if any(_collection(k) in sheets for k in own) or faces & (_past_subjects(old) | _fact_subjects(new)):
        collections.update(sheets)  # their index lists every fact with its subjects and source
    dated = {n for n, c in new.site.collections.items() if c.sort == "date"}
    for name in dated & {_collection(k) for k in faces}:
        # Previous / next links around a page that moved or changed, in the old order and the new.
        for order in (_past_order(old, name), date_order(new, name)):
            for i, key in enumerate(order):
                if key in faces:
                    pages.update(order[max(i - 1, 0) : i + 2])
    return pages & set(new.site.entities), collections
