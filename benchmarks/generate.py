"""A deterministic generator of synthetic factbook sites of any size.

    python benchmarks/generate.py 1000 /tmp/bench-1000

Every collection, fact sheets, dense cross-links, partial dates, lists, tables and footnotes;
bodies of about 500 words. The same size gives the same bytes.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

WORDS = (
    "cooperation agency programme development council delegation exhibition forum national regional "
    "international support project strategy education health migration culture dialogue labour "
    "protection children gender postal services governance electronic citizens data access report "
    "meeting signed adopted launched elected member committee resolution assistance training visit"
).split()
TOPICS = [
    "ict",
    "e-governance",
    "postal",
    "humanitarian",
    "migration",
    "education",
    "culture",
    "health",
    "labour",
    "gender",
    "children",
    "security",
]
SHARES = {"organizations": 0.14, "events": 0.48, "people": 0.15, "programmes": 0.18, "sources": 0.02}
DATES = [
    "{y}",
    "{y}-{m:02d}",
    "{y}-{m:02d}-{d:02d}",
    "{y}-{m:02d}-{d:02d}/{y}-{m:02d}-{e:02d}",
    "{y}/",
    "~{y}",
    "{y}/{z}",
]


def _sentence(rng: random.Random, links: list[str]) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    if links and rng.random() < 0.5:
        words.insert(rng.randrange(len(words)), f"[[{rng.choice(links)}]]")
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _body(rng: random.Random, links: list[str], footnote: bool) -> str:
    parts = []
    for section in range(3):
        parts.append(f"## {rng.choice(WORDS).title()} {rng.choice(WORDS)} {section + 1}\n")
        parts.append(" ".join(_sentence(rng, links) for _ in range(rng.randint(7, 9))) + "\n")
        if section == 1:
            parts.append("\n".join(f"- {_sentence(rng, links)}" for _ in range(4)) + "\n")
        if section == 2:
            rows = "\n".join(
                f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {rng.choice(WORDS)} |" for _ in range(4)
            )
            parts.append(f"| item | figure | note |\n|---|---:|---|\n{rows}\n")
    if footnote:
        parts.append("A figure with a note.[^1]\n\n[^1]: " + _sentence(rng, []) + "\n")
    return "\n".join(parts)


def _date(rng: random.Random) -> str:
    y = rng.randint(1991, 2023)
    m = rng.randint(1, 12)
    d = rng.randint(1, 20)
    return rng.choice(DATES).format(y=y, m=m, d=d, e=d + rng.randint(1, 7), z=y + rng.randint(1, 5))


def generate(pages: int, out: Path, seed: int = 1) -> Path:
    """Write a site of about `pages` entity pages into out (replaced) and return out."""
    rng = random.Random(seed)
    shutil.rmtree(out, ignore_errors=True)
    content = out / "content"
    counts = {name: max(2, int(pages * share)) for name, share in SHARES.items()}
    slugs = {name: [f"{name[:3]}-{i:05d}" for i in range(n)] for name, n in counts.items()}
    every = [s for names in slugs.values() for s in names]
    files: dict[str, str] = {
        "site.yaml": f"title: Synthetic factbook of {pages} pages\ndescription: A benchmark corpus.\n"
    }
    for topic in TOPICS:
        files[f"topics/{topic}.md"] = (
            f"---\ntitle: {topic.title()}\nsummary: The {topic} sphere.\n---\nAbout {topic}.\n"
        )
    for i, slug in enumerate(slugs["sources"]):
        files[f"sources/{slug}.md"] = (
            f'---\ntitle: Source document {i}\npublisher: Publisher {i}\nkind: report\ndate: "{_date(rng)}"\nfile: {i:03d}.txt\n---\nA source.\n'
        )
    orgs, people, progs = slugs["organizations"], slugs["people"], slugs["programmes"]
    for name in ("organizations", "events", "people", "programmes"):
        for i, slug in enumerate(slugs[name]):
            front = [f"title: {name[:-1].title()} {rng.choice(WORDS)} {i}", f"summary: {_sentence(rng, [])}"]
            front.append(f"topics: [{', '.join(rng.sample(TOPICS, 2))}]")
            front.append(f"sources: [{', '.join(rng.sample(slugs['sources'], 2))}]")
            if name == "organizations":
                front += [
                    f"acronym: O{i}",
                    f"kind: {rng.choice(['agency', 'council', 'ministry', 'committee'])}",
                ]
                if i > 5:
                    front.append(f"parent: {orgs[rng.randrange(min(i, 20))]}")
                front.append(f'founded: "{rng.randint(1991, 2015)}"')
            elif name == "events":
                front += [f'date: "{_date(rng)}"', f"place: City {rng.randint(1, 30)}"]
                front.append("organizations:")
                for org in rng.sample(orgs, 2):
                    front.append(
                        f"  - {{organization: {org}, role: {rng.choice(['host', 'organizer', 'participant'])}}}"
                    )
                front.append(f"people: [{', '.join(rng.sample(people, 2))}]")
                front.append(f"programmes: [{rng.choice(progs)}]")
            elif name == "people":
                front.append("roles:")
                front.append(
                    f'  - {{title: Director, organization: {rng.choice(orgs)}, period: "{rng.randint(1995, 2010)}/{rng.randint(2011, 2020)}"}}'
                )
            else:
                front += [
                    f"acronym: P{i}",
                    "kind: project",
                    f'period: "{rng.randint(1995, 2010)}/{rng.randint(2011, 2030)}"',
                ]
                front.append(f"organizations:\n  - {{organization: {rng.choice(orgs)}, role: funder}}")
            links = rng.sample(every, 8)
            files[f"{name}/{slug}.md"] = (
                "---\n" + "\n".join(front) + "\n---\n" + _body(rng, links, i % 3 == 0)
            )
    for sheet in range(max(1, pages // 100)):
        facts = []
        for j in range(10):
            facts.append(
                f"  - label: Figure {sheet}-{j}\n    value: {rng.randint(1, 10**7)}\n    unit: USD\n"
                f'    period: "{rng.randint(1995, 2022)}"\n    about: [{rng.choice(orgs)}, {rng.choice(progs)}]\n'
                f"    source: {rng.choice(slugs['sources'])}\n"
            )
        files[f"facts/sheet-{sheet:04d}.yaml"] = f"title: Fact sheet {sheet}\nfacts:\n" + "".join(facts)
    files["pages/index.md"] = (
        "---\ntitle: Synthetic factbook\n---\n# Synthetic factbook\n\nA benchmark corpus.\n"
    )
    for name, text in files.items():
        path = content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.pages, args.out, args.seed)
    print(f"wrote a site of about {args.pages} pages into {args.out}")


if __name__ == "__main__":
    main()
