"""Working days: Monday to Friday except bank holidays (the `holidays` package keeps the
lists, including one-off days such as coronations). England and Wales share their bank
holidays; Scotland (2 January, St Andrew's Day, its own August holiday) and Northern Ireland
(St Patrick's Day, the Battle of the Boyne) have their own. A council picks its region in
`/scrutiny settings`; England and Wales unless it says otherwise."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, time, timedelta
from functools import lru_cache

import holidays

WORKING_HOUR = time(9, 0)  # reminders go out at a civilised hour

ENGLAND_AND_WALES, SCOTLAND, NORTHERN_IRELAND = "england-and-wales", "scotland", "northern-ireland"
# Region -> the `holidays` package's UK subdivision (England's list is England and Wales's).
REGIONS = {ENGLAND_AND_WALES: "ENG", SCOTLAND: "SCT", NORTHERN_IRELAND: "NIR"}
REGION_NAMES = {ENGLAND_AND_WALES: "England and Wales", SCOTLAND: "Scotland", NORTHERN_IRELAND: "Northern Ireland"}
DEFAULT_REGION = ENGLAND_AND_WALES

# The region a scheduled round works in when a function isn't given one: a round for councils in
# Scotland runs `with holidays_of(SCOTLAND):`, so every working-day sum inside it (reminders,
# escalations, update requests) counts Scotland's bank holidays without each passing it on.
_REGION: ContextVar[str] = ContextVar("scrutineer_holiday_region", default=DEFAULT_REGION)


@contextmanager
def holidays_of(region: str):
    token = _REGION.set(region if region in REGIONS else DEFAULT_REGION)
    try:
        yield
    finally:
        _REGION.reset(token)


def current_region() -> str:
    return _REGION.get()


@lru_cache(maxsize=64)
def _bank_holidays(year: int, region: str = DEFAULT_REGION) -> frozenset[date]:
    return frozenset(holidays.UK(subdiv=REGIONS.get(region, "ENG"), years=year).keys())


def is_working_day(d: date, region: str | None = None) -> bool:
    """region: ENGLAND_AND_WALES, SCOTLAND or NORTHERN_IRELAND; None: the round's (holidays_of),
    England and Wales outside one."""
    return d.weekday() < 5 and d not in _bank_holidays(d.year, region or _REGION.get())


def next_working_day(d: date, *, include_today: bool = False, region: str | None = None) -> date:
    d = d if include_today else d + timedelta(days=1)
    while not is_working_day(d, region):
        d += timedelta(days=1)
    return d


def working_days_between(start: date, end: date, region: str | None = None) -> int:
    """Working days after `start` up to and including `end`."""
    count, d = 0, start
    while d < end:
        d += timedelta(days=1)
        count += is_working_day(d, region)
    return count
