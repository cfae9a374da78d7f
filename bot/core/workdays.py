"""Working days: Monday to Friday except bank holidays in England (the `holidays`
package keeps the list, including one-off days such as coronations)."""
from __future__ import annotations

from datetime import date, time, timedelta
from functools import lru_cache

import holidays

WORKING_HOUR = time(9, 0)  # reminders go out at a civilised hour


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.UK(subdiv="ENG", years=year).keys())


def is_working_day(d: date) -> bool:
    return d.weekday() < 5 and d not in _bank_holidays(d.year)


def next_working_day(d: date, *, include_today: bool = False) -> date:
    d = d if include_today else d + timedelta(days=1)
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    count, d = 0, start
    while d < end:
        d += timedelta(days=1)
        count += is_working_day(d)
    return count
