"""How well parse_paper reads the test papers: per paper and overall, the share of
expected items found with the right number, text, owners, due date and status.

    python bench/import_accuracy.py [-v] [--dev-only]

Papers: tests/data/papers/*.expected.json (each names its paper; "generated"
ones are built by tests/data/make_import_papers.py into a temporary folder) and,
when ../shared is present, tests/data/papers/expected_shared/*.expected.json for
the published excerpts in ../shared/seeds and ../shared/papers.

Each expectation says its "set": "tuning" (the parser was adjusted while looking
at it) or "held_out" (written after tuning stopped and never tuned on).

And, when ../shared/papers/gold.json is present, the hand-labelled real papers
it describes (format 2: number, text, owners, due, status, status_words and
accepted alternatives in number_alt / owners_alt / due_alt / status_alt).
Which of them were used while building the importer and which were kept aside
(decided before any of them was looked at) is fixed in GOLD_SETS below and
printed with the scores.

Matching: an expected item is matched to the parsed item with the same number
(or an accepted alternative), or failing that to one with the same text; it is
then scored field by field: found (matched at all), number, text, owners, due,
status. Scoring is strict: text counts as right only when it equals the expected
text after lower-casing and dropping whitespace and punctuation differences, so
an owner, date, status or committee cell glued onto it makes it wrong; a field
the paper leaves empty must come back empty (an invented owner or date is wrong).
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "data"))

from bot.importing import PaperFormatError, parse_paper  # noqa: E402

PAPERS = ROOT / "tests" / "data" / "papers"
SHARED = ROOT.parent / "shared"
FIELDS = ("found", "number", "text", "owners", "due", "status")
GOLD = SHARED / "papers" / "gold.json"
# Chosen before any labelled paper was read: the first four were used while building
# the table-first importer, the other four were kept aside and scored only at the end of
# session 4 (found 72%, text 67%, owners 61%, due 72%, status 72%). Session 5 then tuned on
# all eight, so "real_held" is no longer unseen: the unseen measure since is the x* papers
# (tests/data/papers), written and labelled by hand before the importer first read them.
GOLD_SETS = {
    "paper10.txt": "real_dev", "paper12.txt": "real_dev", "paper13.txt": "real_dev",
    "paper15.txt": "real_dev",
    "paper11.txt": "real_held", "paper14.txt": "real_held", "paper16.txt": "real_held",
    "paper17.txt": "real_held",
}


def norm_text(text: str | None) -> str:
    return " ".join(re.sub(r"[^\w£%]+", " ", (text or "").lower()).split())


def norm_owners(owners) -> list[str]:
    return sorted(norm_text(o) for o in owners or [])


def text_ok(text: str | None, exp: dict) -> bool:
    """Expected text is given as written, or (for published papers whose words we
    don't copy) as the SHA-1 of its normalised form."""
    if "text_sha1" in exp:
        return hashlib.sha1(norm_text(text).encode()).hexdigest() == exp["text_sha1"]
    return norm_text(text) == norm_text(exp["text"])


def expectations() -> list[tuple[Path, dict]]:
    found = [(p, json.loads(p.read_text(encoding="utf-8")))
             for p in sorted(PAPERS.glob("*.expected.json"))]
    for p in sorted((PAPERS / "expected_shared").glob("*.expected.json")):
        found.append((p, json.loads(p.read_text(encoding="utf-8"))))
    return found + gold_expectations()


def gold_expectations() -> list[tuple[Path, dict]]:
    """The labelled real papers of ../shared/papers/gold.json, as expectations."""
    if not GOLD.exists():
        return []
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    specs = []
    for name, entry in sorted(gold.items()):
        if name.startswith("_"):
            continue
        base = entry.get("base")
        specs.append((GOLD, {
            "paper": name, "shared": f"papers/{name}", "set": GOLD_SETS.get(name, "real_dev"),
            # a paper without a printed date is read as of a day well after it
            "today": base or "2024-01-01",
            "items": entry["items"],
        }))
    return specs


def _alternatives(exp: dict, field: str) -> list:
    return [exp[field], *exp.get(f"{field}_alt", [])]


def locate(spec: dict, generated: Path) -> Path | None:
    if spec.get("generated"):
        return generated / spec["paper"]
    if spec.get("shared"):
        path = SHARED / spec["shared"]
        return path if path.exists() else None
    return PAPERS / spec["paper"]


def score(spec: dict, path: Path) -> tuple[dict[str, int], int, list[str]]:
    """(right answers per field, expected items, notes)."""
    today = date.fromisoformat(spec["today"])
    expected = spec["items"]
    right = dict.fromkeys(FIELDS, 0)
    notes: list[str] = []
    try:
        paper = parse_paper(path.read_bytes(), filename=path.name, today=today)
    except PaperFormatError as e:
        return right, len(expected), [f"not read: {e}"]
    got = [i.as_json() for i in paper.items]
    if spec.get("kind") and paper.kind != spec["kind"]:
        notes.append(f"kind {paper.kind!r}, expected {spec['kind']!r}")
    used: set[int] = set()
    for exp in expected:
        numbers = _alternatives(exp, "number")
        k = next((k for k, g in enumerate(got) if k not in used and g["number"] == exp["number"]),
                 None)
        if k is None:
            k = next((k for k, g in enumerate(got) if k not in used and g["number"] in numbers),
                     None)
        if k is None:
            k = next((k for k, g in enumerate(got)
                      if k not in used and text_ok(g["text"], exp)), None)
        if k is None:
            notes.append(f"{exp['number']}: not found")
            continue
        used.add(k)
        g = got[k]
        checks = {
            "found": True,
            "number": g["number"] in numbers,
            "text": text_ok(g["text"], exp),
            "owners": norm_owners(g["owners"]) in [norm_owners(o)
                                                  for o in _alternatives(exp, "owners")],
            "due": g["due"] in _alternatives(exp, "due"),
            "status": g["status"] in _alternatives(exp, "status"),
        }
        for field, ok in checks.items():
            right[field] += ok
            if not ok and field != "found":
                shown = g[field] if field != "text" else (g["text"] or "")[:70]
                notes.append(f"{exp['number']}: {field} {shown!r}, expected "
                             f"{exp[field] if field != 'text' else exp.get('text', '(sha1)')[:70]!r}")
    extra = len(got) - len(used)
    if extra:
        notes.append(f"{extra} extra item(s) found")
    return right, len(expected), notes


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    dev_only = "--dev-only" in argv   # while building: the kept-aside papers are not read
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            from make_import_papers import build
            build(Path(tmp))
        except ImportError as e:  # python-docx/openpyxl missing: those papers are skipped
            print(f"(generated papers skipped: {e})")
        if GOLD.exists():
            dev = ", ".join(n for n, s in GOLD_SETS.items() if s == "real_dev")
            held = ", ".join(n for n, s in GOLD_SETS.items() if s == "real_held")
            print(f"labelled real papers: development {dev}; kept aside until session 5, tuned on "
                  f"since {held}")
        print(f"{'paper':42} {'set':9} {'items':>5} " + " ".join(f"{f:>7}" for f in FIELDS))
        for spec_path, spec in expectations():
            if dev_only and spec.get("set") == "real_held":
                continue
            path = locate(spec, Path(tmp))
            if path is None or not path.exists():
                print(f"{spec['paper']:42} (absent, skipped)")
                continue
            right, n, notes = score(spec, path)
            group = spec.get("set", "tuning")
            for bucket in (group, "overall"):
                totals[bucket]["items"] += n
                for f in FIELDS:
                    totals[bucket][f] += right[f]
            cells = " ".join(f"{(100 * right[f] / n if n else 100):6.0f}%" for f in FIELDS)
            print(f"{spec['paper'][:42]:42} {group:9} {n:5} {cells}")
            if verbose:
                for note in notes:
                    print(f"    - {note}")
    print()
    for bucket in ("tuning", "held_out", "real_dev", "real_held", "overall"):
        t = totals.get(bucket)
        if not t or not t["items"]:
            continue
        cells = " ".join(f"{100 * t[f] / t['items']:6.1f}%" for f in FIELDS)
        print(f"{bucket.upper():42} {'':9} {t['items']:5} {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
