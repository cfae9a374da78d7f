"""Reading dates the way a UK council officer writes them.

Everything takes ``today`` as an argument and never reads the clock, so the
rules can be tested against any day. Our own regexes run first because they
are fast and predictable; dateparser is only a fallback for wordier phrasings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

DATE_EXAMPLES = ("Try a date like 30/9/2026, 30 September, end of June, "
                 "next Friday, in 3 weeks or Q3.")

_MONTH_FULL = ("January February March April May June July August September "
               "October November December").split()
_MONTH_ABBR = [m[:3] for m in _MONTH_FULL]
_MONTHS = {k.lower(): i for i, m in enumerate(_MONTH_FULL, 1) for k in (m, m[:3])}
_MONTHS["sept"] = 9
_WEEKDAYS = {k.lower(): i for i, d in enumerate(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()) for k in (d, d[:3])}
_WEEKDAYS.update(tues=1, weds=2, thur=3, thurs=3)
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
            "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
            "twelve": 12}


def _alt(words) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_MON = rf"(?P<mon>{_alt(_MONTHS)})\.?"
_WD = rf"(?:{_alt(_WEEKDAYS)})\.?"
_NUM = rf"(?P<n>\d{{1,3}}|{_alt(_NUMBERS)})"
_UNIT = r"(?P<unit>day|week|fortnight|month|year)s?"
_FY = r"(?:fy\s*)?(?P<y1>\d{4}|\d{2})(?:\s*[/-]\s*(?:fy\s*)?(?P<y2>\d{4}|\d{2}))?"

_ISO = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})")
_DMY = re.compile(r"(?P<d>\d{1,2})(?P<s>[/.-])(?P<m>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})")
_DM = re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})")
_DAY_MON = re.compile(rf"(?:{_WD},?\s+)?(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?"
                      rf"(?:\s+of)?[\s-]+{_MON}(?:,?[\s-]+(?P<y>\d{{4}}|\d{{2}}))?")
# "Sep 26" is 26 September, so only a four-digit number after the day is a year.
_MON_DAY = re.compile(rf"(?:{_WD},?\s+)?{_MON}\s+(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?"
                      rf"(?:,?\s+(?P<y>\d{{4}}))?")
_ORDINAL = re.compile(r"(?:the\s+)?(?P<d>\d{1,3})(?:st|nd|rd|th)")
_RELATIVE = re.compile(rf"(?:in\s+)?{_NUM}\s+{_UNIT}(?P<ago>\s+ago)?"
                       r"(?:(?:'s|')?\s+time|\s+from\s+(?:today|now))?")
_WEEK_TODAY = re.compile(rf"{_NUM}\s+{_UNIT}\s+(?P<base>today|tomorrow)")
_WEEKDAY = re.compile(rf"(?P<which>next|this|last|coming)?\s*(?P<wd>{_WD})"
                      r"(?P<nw>\s+next\s+week)?")
_END_OF = re.compile(r"(?:the\s+)?end[\s-]+(?:of\s+)?(?:the\s+)?(?P<rest>.+)")
_MONTH_ONLY = re.compile(rf"(?:(?:in|during)\s+)?{_MON}(?:\s+(?P<y>\d{{4}}))?")
_QUARTER = re.compile(rf"(?:(?:in|during)\s+)?(?:q|quarter\s*)(?P<q>[1-4])(?:\s+{_FY})?")
_NAMED = re.compile(r"(?:(?:in|during)\s+)?(?:the\s+)?(?P<which>this|next|last)\s+"
                    r"(?P<what>week|month|year|financial year)")
_YEAR_ONLY = re.compile(r"(?:(?:in|during)\s+)?(?P<y>(?:19|20)\d\d)")
# dateparser is only trusted when the text has a word that names a date.
_DATEISH = re.compile(rf"\b(?:{_alt(_MONTHS)}|{_alt(_WEEKDAYS)}|today|tomorrow|"
                      r"yesterday|days?|weeks?|fortnight|months?|years?|ago)\b")
# Shapes our rules own: if they could not read it, dateparser would only guess.
_OURS = re.compile(r"(?:the\s+)?end\b|q\s*\d|quarter\b")


def _safe(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _year(s: str) -> int:
    return 2000 + int(s) if len(s) <= 2 else int(s)


def _month_end(y: int, m: int) -> date:
    return date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)


def add_months(d: date, n: int) -> date:
    """The same day n months on, clamped to the month's end: 31 Jan + 1 month is 28/29 Feb."""
    y, m = divmod(d.month - 1 + n, 12)
    end = _month_end(d.year + y, m + 1)
    return end.replace(day=min(d.day, end.day))


def _fy(d: date) -> int:
    """The year a UK financial year (1 April – 31 March) containing d starts in."""
    return d.year if d.month >= 4 else d.year - 1


def _quarter(q: int, fy: int) -> tuple[date, date]:
    # Local government quarters follow the financial year: Q1 is Apr–Jun.
    y, m = (fy, 3 * q + 1) if q < 4 else (fy + 1, 1)
    return date(y, m, 1), _month_end(y, m + 2)


def _nearest(make, today: date, prefer: str):
    """Pick the year for a date or period given without one.

    make(year) -> (start, end) or None. Future: the first whose end is not
    before today. Past: the latest that has started by today.
    """
    if prefer == "past":
        years = range(today.year + 1, today.year - 9, -1)
        return next((s for y in years if (s := make(y)) and s[0] <= today), None)
    years = range(today.year - 1, today.year + 9)
    return next((s for y in years if (s := make(y)) and s[1] >= today), None)


def _clean(text: str, prefixes: str = r"by|on|due") -> str:
    t = re.sub(r"\s+", " ", str(text).lower().replace("\u2019", "'").replace("\u2018", "'"))
    t = t.strip(" .,;:!?()[]{}\"'")
    while m := re.match(rf"(?:{prefixes})\b[\s:]*", t):
        t = t[m.end():]
    return t


def _shift(base: date, n: int, unit: str) -> date:
    if unit == "month":
        return add_months(base, n)
    if unit == "year":
        return add_months(base, 12 * n)
    return base + timedelta(days=n * {"day": 1, "week": 7, "fortnight": 14}[unit])


def _num(s: str) -> int:
    return int(s) if s.isdigit() else _NUMBERS[s]


def _single(t: str, today: date, prefer: str) -> date | None:
    """Our own rules for one day; None if none of them apply.

    A shape we own that names an impossible day ("31/2/2026", "99 June")
    raises ValueError, so dateparser never gets to guess at it.
    """
    if t in ("today", "tomorrow", "yesterday"):
        return today + timedelta(days={"today": 0, "tomorrow": 1, "yesterday": -1}[t])
    if t == "next week":  # a due date of "next week" means its first working day
        return today + timedelta(days=7 - today.weekday())
    if m := _ISO.fullmatch(t):
        return date(int(m["y"]), int(m["m"]), int(m["d"]))
    if m := _DMY.fullmatch(t):
        return date(_year(m["y"]), int(m["m"]), int(m["d"]))
    if (m := _DAY_MON.fullmatch(t) or _MON_DAY.fullmatch(t) or _DM.fullmatch(t)):
        mon = _MONTHS[m["mon"]] if "mon" in m.groupdict() else int(m["m"])
        day = int(m["d"])
        if m.groupdict().get("y"):
            return date(_year(m["y"]), mon, day)
        span = _nearest(lambda y: (d, d) if (d := _safe(y, mon, day)) else None, today, prefer)
        if not span:
            raise ValueError(t)
        return span[0]
    if m := _ORDINAL.fullmatch(t):  # "the 15th": that day of this month or a coming one
        sign = -1 if prefer == "past" else 1
        for i in range(13):
            first = add_months(today.replace(day=1), sign * i)
            d = _safe(first.year, first.month, int(m["d"]))
            if d and sign * (d - today).days >= 0:
                return d
        raise ValueError(t)
    if m := _WEEK_TODAY.fullmatch(t):  # "a week today", "a fortnight tomorrow"
        base = today + timedelta(days=1 if m["base"] == "tomorrow" else 0)
        return _shift(base, _num(m["n"]), m["unit"])
    if m := _RELATIVE.fullmatch(t):
        return _shift(today, -_num(m["n"]) if m["ago"] else _num(m["n"]), m["unit"])
    if m := _WEEKDAY.fullmatch(t):
        return _weekday(m, today, prefer)
    if m := _END_OF.fullmatch(t):
        if m["rest"] in ("week", "this week", "next week"):  # a working week ends on Friday
            monday = today - timedelta(days=today.weekday())
            return monday + timedelta(days=4 + 7 * m["rest"].startswith("next"))
        rest = {"month": "this month", "year": "this year", "financial year":
                "this financial year", "fy": "this financial year"}.get(m["rest"], m["rest"])
        span = _period(rest, today, prefer)
        return span[1] if span else None
    return None


def _weekday(m: re.Match, today: date, prefer: str) -> date:
    wd = _WEEKDAYS[m["wd"].rstrip(".")]
    if m["nw"]:  # "Friday next week": that day in next Monday-to-Sunday week
        return today + timedelta(days=7 - today.weekday() + wd)
    ahead = (wd - today.weekday()) % 7
    which = m["which"] or ("last" if prefer == "past" else "next")
    if which in ("this", "coming"):  # on or after today
        return today + timedelta(days=ahead)
    if which == "last":  # strictly before today
        return today - timedelta(days=(today.weekday() - wd) % 7 or 7)
    # "next Friday" and plain "Friday" mean the first Friday strictly after
    # today, so on a Monday "next Friday" is four days away, not eleven.
    return today + timedelta(days=ahead or 7)


def _period(t: str, today: date, prefer: str) -> tuple | None:
    """Named stretches of time: a month, a quarter, this week, next year..."""
    if m := _MONTH_ONLY.fullmatch(t):
        mon = _MONTHS[m["mon"]]
        make = lambda y: (date(y, mon, 1), _month_end(y, mon))  # noqa: E731
        span = make(int(m["y"])) if m["y"] else _nearest(make, today, prefer)
        return span and (*span, f"{_MONTH_FULL[mon - 1]} {span[0].year}")
    if m := _QUARTER.fullmatch(t):
        q = int(m["q"])
        if m["y1"] and m["y2"]:  # "Q3 2026/27": a financial year
            fy, y2 = _year(m["y1"]), _year(m["y2"])
            if y2 != fy + 1:
                return None
            span = _quarter(q, fy)
        elif m["y1"]:  # "Q4 2027": the quarter falling in that calendar year
            span = _quarter(q, _year(m["y1"]) - (q == 4))
        else:
            span = _nearest(lambda y: _quarter(q, y), today, prefer)
        fy = _fy(span[0])
        return (*span, f"Q{q} {fy}/{(fy + 1) % 100:02d}")
    if m := _NAMED.fullmatch(t):
        which, what = m["which"], m["what"]
        step = {"this": 0, "next": 1, "last": -1}[which]
        if what == "week":
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
            start = today if which == "this" else monday  # the rest of this week
            return start, monday + timedelta(days=6), f"{which} week"
        if what == "month":
            first = add_months(today.replace(day=1), step)
            return first, _month_end(first.year, first.month), f"{which} month"
        if what == "year":
            y = today.year + step
            return date(y, 1, 1), date(y, 12, 31), f"{which} year"
        fy = _fy(today) + step
        return date(fy, 4, 1), date(fy + 1, 3, 31), f"{which} financial year"
    if m := _YEAR_ONLY.fullmatch(t):
        y = int(m["y"])
        return date(y, 1, 1), date(y, 12, 31), str(y)
    return None


def _fallback(t: str, today: date, prefer: str) -> date | None:
    if not _DATEISH.search(t) or _OURS.match(t):
        return None
    try:
        import dateparser
        got = dateparser.parse(t, languages=["en"], settings={
            "DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "last",
            "RELATIVE_BASE": datetime(today.year, today.month, today.day),
            "PREFER_DATES_FROM": prefer if prefer in ("future", "past") else "future",
            "REQUIRE_PARTS": []})
    except Exception:  # a fallback must never take the bot down
        return None
    return got.date() if got and abs(got.year - today.year) <= 100 else None


def _span(t: str, today: date, prefer: str = "future") -> tuple | None:
    t = _clean(t)
    if span := _period(t, today, prefer):
        return span
    d = _single(t, today, prefer) or _fallback(t, today, prefer)
    return (d, d, None) if d else None


def parse_date(text: str, today: date, prefer: str = "future") -> date | None:
    """One calendar date from free text, or None if unreadable."""
    try:
        if not text or len(text) > 100:
            return None
        t = _clean(text)
        span = _period(t, today, prefer)  # a stretch of time means its last day
        return _single(t, today, prefer) or (span and span[1]) or _fallback(t, today, prefer)
    except Exception:  # unreadable input is a None, never a crash
        return None


@dataclass(frozen=True)
class DateRange:
    start: date | None  # inclusive; None = open
    end: date | None    # inclusive; None = open
    label: str


def format_date(d: date) -> str:
    return f"{d.day} {_MONTH_ABBR[d.month - 1]} {d.year}"


def long_date(d: date) -> str:
    """1 June 2010: the way a committee paper or a letter writes a date."""
    return f"{d.day} {_MONTH_FULL[d.month - 1]} {d.year}"


def _format_span(a: date, b: date) -> str:
    if a == b:
        return format_date(a)
    first = f"{a.day} {_MONTH_ABBR[a.month - 1]}" if a.year == b.year else format_date(a)
    return f"{first} – {format_date(b)}"


def _label(span: tuple) -> str:
    start, end, name = span
    return f"{name} ({_format_span(start, end)})" if name else _format_span(start, end)


_OPEN_ENDED = re.compile(r"(?P<kw>before|by|on or before|until|till|up to|no later than|"
                         r"after|from|since|on or after)\s+(?P<rest>.+)")
_BETWEEN = re.compile(r"(?:between|from)\s+(?P<a>.+?)\s+(?:and|to|until|till|-|–)\s+(?P<b>.+)")
_TO = re.compile(r"(?P<a>.+?)(?:\s+(?:to|until|till)\s+|\s+-\s+|\s*–\s*)(?P<b>.+)")
_WITHIN = re.compile(rf"(?:within(?:\s+the\s+next)?|(?:(?:in|over)\s+)?the\s+next|next)"
                     rf"\s+{_NUM}\s+{_UNIT}")


def parse_range(text: str, today: date) -> DateRange | None:
    """For filters like `/actions due next week`."""
    try:
        if not text or len(text) > 100:
            return None
        return _parse_range(_clean(text, r"due"), today)
    except Exception:
        return None


def _parse_range(t: str, today: date) -> DateRange | None:
    if not t or t == "overdue":
        return None
    if m := _WITHIN.fullmatch(t):
        end = _shift(today, _num(m["n"]), m["unit"])
        return DateRange(today, end, f"{t} ({_format_span(today, end)})")
    if m := _BETWEEN.fullmatch(t) or (not _OPEN_ENDED.fullmatch(t) and _TO.fullmatch(t)):
        a, b = _span(m["a"], today), _span(m["b"], today)
        if a and b and b[1] < a[0]:
            # "1 June to 30 June" said on 3 June means this June, if the past
            # reading of the start fits; otherwise read the end after the start.
            if (past := _span(m["a"], today, "past")) and past[0] <= b[1]:
                a = past
            else:
                b = _span(m["b"], a[0])
        if not a or not b or b[1] < a[0]:
            return None
        return DateRange(a[0], b[1], _format_span(a[0], b[1]))
    if m := _OPEN_ENDED.fullmatch(t):
        kw = m["kw"]
        span = _span(m["rest"], today, "past" if kw == "since" else "future")
        if not span:
            return None
        if kw == "before":
            return DateRange(None, span[0] - timedelta(days=1), f"before {format_date(span[0])}")
        if kw == "after":
            return DateRange(span[1] + timedelta(days=1), None, f"after {format_date(span[1])}")
        if kw in ("from", "since", "on or after"):
            return DateRange(span[0], None, f"{kw} {format_date(span[0])}")
        return DateRange(None, span[1], f"{kw} {format_date(span[1])}")
    if span := _span(t, today):
        return DateRange(span[0], span[1], _label(span))
    return None


def _months_between(a: date, b: date) -> int:
    """Whole calendar months from a to b (a <= b)."""
    return (b.year - a.year) * 12 + b.month - a.month - (b.day < a.day)


def _amount(a: date, b: date) -> str:
    days = (b - a).days
    if days < 14:
        n, unit = days, "day"
    elif days < 61:  # up to about eight weeks
        n, unit = days // 7, "week"
    elif (months := max(2, _months_between(a, b))) < 24:
        n, unit = months, "month"
    else:
        n, unit = months // 12, "year"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def describe_due(due: date | None, today: date, is_open: bool = True) -> str:
    if due is None:
        return "no due date"
    if not is_open:
        return f"due {format_date(due)}"
    days = (due - today).days
    if days == 0:
        wording = "due today"
    elif days == 1:
        wording = "due tomorrow"
    elif days < 0:
        wording = f"{_amount(due, today)} overdue"
    else:
        wording = f"due in {_amount(today, due)}"
    return f"{format_date(due)} · {wording}"


def warm() -> None:
    """Import dateparser and parse once, so the first user command is not slow."""
    parse_date("30 Sep at 5pm", date(2026, 1, 1))  # only dateparser reads this
