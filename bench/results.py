"""One row of a benchmark's results, as every script writes them (--json) and
bench/run_all.py turns them into BENCHMARKS.md."""
from __future__ import annotations

import math


def row(benchmark: str, store: str, measure: str, value: float, unit: str, target: str, ok: bool) -> dict:
    value = float(value)
    if not math.isfinite(value):   # (nothing measured: JSON has no NaN)
        value, ok = 0.0, False
    return {"benchmark": benchmark, "store": store, "measure": measure, "value": round(value, 3),
            "unit": unit, "target": target, "ok": bool(ok)}
