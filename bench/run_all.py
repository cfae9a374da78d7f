"""Run every benchmark and write BENCHMARKS.md: `make bench`.

    .venv/bin/python bench/run_all.py [--quick]

--from-json A.json B.json writes BENCHMARKS.md from the scripts' own --json output.
--quick uses a small data set (2 workspaces) and fewer requests, to check the
benchmarks themselves run; the published numbers come from the full run.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    try:
        pg = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-tAc", "SHOW server_version"],
                            capture_output=True, text=True, timeout=5).stdout.strip() or "not reachable"
    except (OSError, subprocess.TimeoutExpired):
        pg = "not reachable"
    import sqlite3
    return (f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, PostgreSQL {pg}")


def run(script: str, extra: list[str]) -> tuple[list[dict], float]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    started = time.perf_counter()
    print(f"== {script} {' '.join(extra)}", flush=True)
    proc = subprocess.run([PY, f"bench/{script}", "--json", out, *extra], cwd=ROOT)
    elapsed = time.perf_counter() - started
    try:
        rows = json.loads(Path(out).read_text() or "[]")
    except (OSError, ValueError):
        rows = []
    if not rows:
        rows = [{"benchmark": script, "store": "-", "measure": f"did not finish (exit {proc.returncode})",
                 "value": 0, "unit": "", "target": "", "ok": False}]
    Path(out).unlink(missing_ok=True)
    return rows, elapsed


def table(rows: list[dict]) -> str:
    lines = ["| benchmark | store | measure | value | target | |", "|---|---|---|---:|---|---|"]
    for r in rows:
        value = f"{r['value']:,.1f} {r['unit']}".strip() if isinstance(r["value"], (int, float)) else r["value"]
        lines.append(f"| {r['benchmark']} | {r['store']} | {r['measure']} | {value} | {r['target']} | "
                     f"{'ok' if r['ok'] else '**missed**'} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    started = datetime.now(timezone.utc)
    latency_args = ["--scale", "2x10x100", "--requests", "20", "--settle", "1"] if quick else []
    results = []
    if "--from-json" in argv:   # write BENCHMARKS.md from result files of runs made one by one
        for path in argv[argv.index("--from-json") + 1:]:
            results.append((Path(path).stem, json.loads(Path(path).read_text()), 0.0))
    else:
        for script, extra in (("latency.py", latency_args), ("delivery_bench.py", ["--quick"] if quick else []),
                              ("reminders_bench.py", ["--scale", "2x10x100"] if quick else [])):
            if not (ROOT / "bench" / script).exists():
                continue
            rows, seconds = run(script, extra)
            results.append((script, rows, seconds))
    all_rows = [r for _, rows, _ in results for r in rows]
    missed = [r for r in all_rows if not r["ok"]]
    doc = [
        "# Benchmarks",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC{' (quick: small data set, not the published numbers)' if quick else ''}"
        f" on {machine()}.",
        "",
        "Rerun: `make bench` (about 30 minutes the first time, while the 100,000-item data set is loaded "
        "through the import service and cached under `bench/.cache` and as a PostgreSQL template database; "
        "later runs copy it). Each script also runs alone: `.venv/bin/python bench/latency.py --help`, "
        "`.venv/bin/python bench/delivery_bench.py --help`, `.venv/bin/python bench/reminders_bench.py --help`, "
        "`.venv/bin/python bench/import_accuracy.py`.",
        "",
        "How each number is taken is in the docstring at the top of its script. Query plans are checked by "
        "the test suite (`tests/test_query_plans.py`), not here.",
        "",
        table(all_rows),
        "",
        f"{len(all_rows) - len(missed)} of {len(all_rows)} targets met."
        + ("" if not missed else " Missed: " + "; ".join(f"{r['store']} {r['measure']}" for r in missed) + "."),
        "",
        ("Time taken: " + ", ".join(f"{s} {sec / 60:.1f} min" for s, _, sec in results if sec) + "."
         if any(sec for _, _, sec in results) else ""),
        "",
    ]
    (ROOT / ("BENCHMARKS.quick.md" if quick else "BENCHMARKS.md")).write_text("\n".join(doc))
    print("\n".join(doc))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
