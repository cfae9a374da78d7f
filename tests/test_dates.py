"""Tests for bot.core.dates: every rule is pinned to a fixed "today"."""
import time
from datetime import date

import pytest

from bot.core.dates import DATE_EXAMPLES, DateRange, describe_due, format_date, parse_date, parse_range, warm

WED = date(2026, 6, 3)   # a Wednesday in the first quarter of FY 2026/27
MON = date(2026, 6, 1)   # Monday
FRI = date(2026, 6, 5)   # Friday
SUN = date(2026, 6, 7)   # Sunday
NOV = date(2026, 11, 20)  # late in the year, for roll-overs
FEB = date(2027, 2, 10)   # Q4 of FY 2026/27


# --- parse_date: numeric, day first -----------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("3/6/2010", date(2010, 6, 3)),
    ("3.6.2010", date(2010, 6, 3)),
    ("17.7.12", date(2012, 7, 17)),
    ("10.05.2023", date(2023, 5, 10)),
    ("3-6-2010", date(2010, 6, 3)),
    ("2010-06-03", date(2010, 6, 3)),
    ("30/09/2026", date(2026, 9, 30)),
    ("3/6/26", date(2026, 6, 3)),
    ("13/1/2027", date(2027, 1, 13)),
])
def test_numeric_dates_are_day_first(text, expected):
    assert parse_date(text, WED) == expected


def test_day_and_month_only_is_next_occurrence():
    assert parse_date("30/6", WED) == date(2026, 6, 30)
    assert parse_date("1/6", WED) == date(2027, 6, 1)
    assert parse_date("1/6", WED, prefer="past") == date(2026, 6, 1)


@pytest.mark.parametrize("text", ["31/2/2026", "0/1/2026", "12/13/2026", "2026-02-30",
                                  "31/4/2026", "29/2/2027"])
def test_impossible_numeric_dates(text):
    assert parse_date(text, WED) is None


# --- parse_date: day and month names ----------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("30 September 2010", date(2010, 9, 30)),
    ("30 Sept", date(2026, 9, 30)),
    ("30th Sep", date(2026, 9, 30)),
    ("30th of September", date(2026, 9, 30)),
    ("14 Aug", date(2026, 8, 14)),
    ("September 30", date(2026, 9, 30)),
    ("Sept 30th, 2027", date(2027, 9, 30)),
    ("Sep 26", date(2026, 9, 26)),          # a US-style day, not 2026
    ("30 Sep 26", date(2026, 9, 30)),       # two-digit year after the month
    ("30-Sep-2026", date(2026, 9, 30)),
    ("Fri 5 June 2026", date(2026, 6, 5)),
    ("Friday, 5 June", date(2026, 6, 5)),
    ("3 June", date(2026, 6, 3)),           # today counts as the next occurrence
    ("1 June", date(2027, 6, 1)),           # already gone this year
    ("1st Jan", date(2027, 1, 1)),
])
def test_day_month_names(text, expected):
    assert parse_date(text, WED) == expected


def test_day_month_prefer_past():
    assert parse_date("1 June", WED, prefer="past") == date(2026, 6, 1)
    assert parse_date("3 June", WED, prefer="past") == date(2026, 6, 3)
    assert parse_date("30 Sept", WED, prefer="past") == date(2025, 9, 30)


def test_case_whitespace_punctuation_and_prefixes():
    assert parse_date("  BY 30 SEPT.  ", WED) == date(2026, 9, 30)
    assert parse_date("on 14 Aug!", WED) == date(2026, 8, 14)
    assert parse_date("due 3/6/2010", WED) == date(2010, 6, 3)
    assert parse_date("Due: 30/06/2026", WED) == date(2026, 6, 30)
    assert parse_date("(by the end of June)", WED) == date(2026, 6, 30)
    assert parse_date("\u201cnext Friday\u201d".replace("\u201c", '"').replace("\u201d", '"'),
                      WED) == date(2026, 6, 5)


# --- parse_date: months alone are their last day -----------------------------

@pytest.mark.parametrize("text, today, expected", [
    ("September 2010", WED, date(2010, 9, 30)),
    ("Sept 2010", WED, date(2010, 9, 30)),
    ("June", WED, date(2026, 6, 30)),        # this June has not ended yet
    ("May", WED, date(2027, 5, 31)),         # this May has ended
    ("June", NOV, date(2027, 6, 30)),
    ("in June", WED, date(2026, 6, 30)),
    ("February", date(2027, 6, 1), date(2028, 2, 29)),  # leap year
    ("Feb 2100", WED, date(2100, 2, 28)),    # not a leap year
    ("December", NOV, date(2026, 12, 31)),
])
def test_month_alone_is_last_day(text, today, expected):
    assert parse_date(text, today) == expected


def test_month_alone_prefer_past():
    assert parse_date("May", WED, prefer="past") == date(2026, 5, 31)
    assert parse_date("July", WED, prefer="past") == date(2025, 7, 31)


# --- parse_date: end of ------------------------------------------------------

@pytest.mark.parametrize("text, today, expected", [
    ("end of June", WED, date(2026, 6, 30)),
    ("end of June", NOV, date(2027, 6, 30)),   # said in November: next year's June
    ("end of June 2027", WED, date(2027, 6, 30)),
    ("end-June", WED, date(2026, 6, 30)),
    ("end of month", WED, date(2026, 6, 30)),
    ("end of the month", WED, date(2026, 6, 30)),
    ("end of this month", NOV, date(2026, 11, 30)),
    ("end of next month", WED, date(2026, 7, 31)),
    ("end of next month", NOV, date(2026, 12, 31)),
    ("end of next month", date(2027, 12, 5), date(2028, 1, 31)),
    ("end of year", WED, date(2026, 12, 31)),
    ("end of the year", NOV, date(2026, 12, 31)),
    ("end of the financial year", WED, date(2027, 3, 31)),
    ("end of financial year", FEB, date(2027, 3, 31)),
    ("end of next financial year", WED, date(2028, 3, 31)),
    ("end of February", date(2028, 1, 10), date(2028, 2, 29)),  # leap year
    ("end of Feb", date(2027, 1, 10), date(2027, 2, 28)),
    ("end of Q3", WED, date(2026, 12, 31)),
    ("end of the week", WED, date(2026, 6, 5)),    # a working week ends on Friday
    ("end of next week", WED, date(2026, 6, 12)),
])
def test_end_of(text, today, expected):
    assert parse_date(text, today) == expected


# --- parse_date: relative words ---------------------------------------------

@pytest.mark.parametrize("text, today, expected", [
    ("today", WED, WED),
    ("tomorrow", WED, date(2026, 6, 4)),
    ("yesterday", WED, date(2026, 6, 2)),
    ("tomorrow", date(2026, 12, 31), date(2027, 1, 1)),
    ("next week", WED, date(2026, 6, 8)),          # Monday of next week
    ("next week", SUN, date(2026, 6, 8)),
    ("next week", MON, date(2026, 6, 8)),
    ("next month", WED, date(2026, 7, 31)),        # last day of next month
    ("next month", date(2028, 1, 15), date(2028, 2, 29)),
    ("this month", WED, date(2026, 6, 30)),
    ("in 3 weeks", WED, date(2026, 6, 24)),
    ("in 10 days", WED, date(2026, 6, 13)),
    ("in 2 months", WED, date(2026, 8, 3)),
    ("in 1 month", date(2026, 1, 31), date(2026, 2, 28)),   # clamped to month end
    ("in a month", date(2028, 1, 31), date(2028, 2, 29)),   # leap year
    ("in a year", date(2028, 2, 29), date(2029, 2, 28)),
    ("3 weeks", WED, date(2026, 6, 24)),
    ("in three weeks", WED, date(2026, 6, 24)),
    ("in 3 weeks' time", WED, date(2026, 6, 24)),
    ("3 weeks from today", WED, date(2026, 6, 24)),
    ("in a fortnight", WED, date(2026, 6, 17)),
    ("a week today", WED, date(2026, 6, 10)),
    ("a fortnight today", WED, date(2026, 6, 17)),
    ("a week tomorrow", WED, date(2026, 6, 11)),
    ("5 days ago", WED, date(2026, 5, 29)),
])
def test_relative(text, today, expected):
    assert parse_date(text, today) == expected


# Chosen rule: "next Friday" is the first Friday strictly after today, so on a
# Monday it is four days away and on a Friday it is a week away.
@pytest.mark.parametrize("text, today, expected", [
    ("next Friday", MON, date(2026, 6, 5)),
    ("next Friday", WED, date(2026, 6, 5)),
    ("next Friday", FRI, date(2026, 6, 12)),
    ("next Friday", SUN, date(2026, 6, 12)),
    ("Friday", MON, date(2026, 6, 5)),
    ("Friday", FRI, date(2026, 6, 12)),            # strictly after today
    ("fri", WED, date(2026, 6, 5)),
    ("this Friday", FRI, FRI),                     # on or after today
    ("this Friday", MON, date(2026, 6, 5)),
    ("this Friday", date(2026, 6, 6), date(2026, 6, 12)),
    ("next Monday", MON, date(2026, 6, 8)),
    ("next Monday", SUN, date(2026, 6, 8)),
    ("Friday next week", MON, date(2026, 6, 12)),
    ("last Friday", FRI, date(2026, 5, 29)),
    ("last Friday", SUN, date(2026, 6, 5)),
    ("next Thursday", date(2026, 12, 30), date(2026, 12, 31)),
    ("next Friday", date(2026, 12, 30), date(2027, 1, 1)),
])
def test_weekdays(text, today, expected):
    assert parse_date(text, today) == expected


def test_plain_weekday_prefer_past():
    assert parse_date("Friday", WED, prefer="past") == date(2026, 5, 29)


def test_ordinal_day_of_month():
    assert parse_date("the 15th", WED) == date(2026, 6, 15)
    assert parse_date("the 2nd", WED) == date(2026, 7, 2)
    assert parse_date("31st", WED) == date(2026, 7, 31)      # June has no 31st
    assert parse_date("the 2nd", WED, prefer="past") == date(2026, 6, 2)


# --- parse_date: financial-year quarters --------------------------------------

@pytest.mark.parametrize("text, today, expected", [
    ("Q1", WED, date(2026, 6, 30)),
    ("Q2", WED, date(2026, 9, 30)),
    ("Q3", WED, date(2026, 12, 31)),
    ("Q4", WED, date(2027, 3, 31)),
    ("quarter 3", WED, date(2026, 12, 31)),
    ("q3", date(2026, 12, 31), date(2026, 12, 31)),   # ends today: still this one
    ("Q3", FEB, date(2027, 12, 31)),                  # this year's Q3 has ended
    ("Q4", FEB, date(2027, 3, 31)),
    ("Q1", FEB, date(2027, 6, 30)),
    ("Q3 2026/27", WED, date(2026, 12, 31)),
    ("Q3 2026-27", WED, date(2026, 12, 31)),
    ("Q3 2026/2027", WED, date(2026, 12, 31)),
    ("Q4 2026/27", WED, date(2027, 3, 31)),
    ("Q1 2027/28", WED, date(2027, 6, 30)),
    ("q4 24/25", WED, date(2025, 3, 31)),
    ("Quarter 2 2026/27", WED, date(2026, 9, 30)),
    ("Q4 2027", WED, date(2027, 3, 31)),    # the Q4 that falls in calendar 2027
    ("Q2 2027", WED, date(2027, 9, 30)),
    ("by Q2", WED, date(2026, 9, 30)),
])
def test_quarters(text, today, expected):
    assert parse_date(text, today) == expected


@pytest.mark.parametrize("text", ["Q5", "Q0", "Q3 2026/28", "quarter 9"])
def test_bad_quarters(text):
    assert parse_date(text, WED) is None


# --- parse_date: garbage ------------------------------------------------------

@pytest.mark.parametrize("text", [
    "banana", "", "   ", "soon", "the 45th", "asap", "tbc", "n/a", "ongoing", "???",
    "15", "99 June", "32/1/2026", "next", "end of banana", "June 31", "in banana weeks",
])
def test_garbage_is_none(text):
    assert parse_date(text, WED) is None


def test_long_input_is_rejected_quickly():
    started = time.perf_counter()
    assert parse_date("30 June " * 500, WED) is None
    assert parse_date("x" * 101, WED) is None
    assert parse_range("next week " * 500, WED) is None
    assert time.perf_counter() - started < 0.5


def test_dateparser_fallback_reads_wordier_text():
    assert parse_date("30 Sep at 5pm", WED) == date(2026, 9, 30)


def test_examples_in_help_text_all_parse():
    for example in ["30/9/2026", "30 September", "end of June", "next Friday",
                    "in 3 weeks", "Q3"]:
        assert example in DATE_EXAMPLES
        assert parse_date(example, WED) is not None


def test_warm_runs():
    warm()


# --- format_date -------------------------------------------------------------

def test_format_date():
    assert format_date(date(2010, 9, 30)) == "30 Sep 2010"
    assert format_date(date(2010, 6, 3)) == "3 Jun 2010"
    assert format_date(date(2028, 2, 29)) == "29 Feb 2028"


# --- parse_range ---------------------------------------------------------------

def test_range_next_week():
    assert parse_range("next week", date(2026, 11, 25)) == DateRange(
        date(2026, 11, 30), date(2026, 12, 6), "next week (30 Nov – 6 Dec 2026)")
    assert parse_range("due next week", WED) == DateRange(
        date(2026, 6, 8), date(2026, 6, 14), "next week (8 Jun – 14 Jun 2026)")
    # across the new year the label gives both years
    assert parse_range("next week", date(2026, 12, 24)).label == \
        "next week (28 Dec 2026 – 3 Jan 2027)"


@pytest.mark.parametrize("text, today, start, end", [
    ("this week", WED, WED, date(2026, 6, 7)),
    ("this week", SUN, SUN, SUN),
    ("this month", WED, date(2026, 6, 1), date(2026, 6, 30)),
    ("next month", WED, date(2026, 7, 1), date(2026, 7, 31)),
    ("next month", NOV, date(2026, 12, 1), date(2026, 12, 31)),
    ("next month", date(2028, 1, 9), date(2028, 2, 1), date(2028, 2, 29)),
    ("June", WED, date(2026, 6, 1), date(2026, 6, 30)),
    ("in June", NOV, date(2027, 6, 1), date(2027, 6, 30)),
    ("June 2027", WED, date(2027, 6, 1), date(2027, 6, 30)),
    ("Q3", WED, date(2026, 10, 1), date(2026, 12, 31)),
    ("Q4", WED, date(2027, 1, 1), date(2027, 3, 31)),
    ("in Q1 2027/28", WED, date(2027, 4, 1), date(2027, 6, 30)),
    ("next financial year", WED, date(2027, 4, 1), date(2028, 3, 31)),
    ("30 June", WED, date(2026, 6, 30), date(2026, 6, 30)),
    ("tomorrow", WED, date(2026, 6, 4), date(2026, 6, 4)),
])
def test_range_periods(text, today, start, end):
    got = parse_range(text, today)
    assert (got.start, got.end) == (start, end)


def test_range_labels():
    assert parse_range("June 2027", WED).label == "June 2027 (1 Jun – 30 Jun 2027)"
    assert parse_range("Q3", WED).label == "Q3 2026/27 (1 Oct – 31 Dec 2026)"
    assert parse_range("this month", WED).label == "this month (1 Jun – 30 Jun 2026)"
    assert parse_range("30 June", WED).label == "30 Jun 2026"


@pytest.mark.parametrize("text, start, end, label", [
    ("before 30 June 2027", None, date(2027, 6, 29), "before 30 Jun 2027"),
    ("before June", None, date(2026, 5, 31), "before 1 Jun 2026"),
    ("by 30 June", None, date(2026, 6, 30), "by 30 Jun 2026"),
    ("by end of June", None, date(2026, 6, 30), "by 30 Jun 2026"),
    ("by June", None, date(2026, 6, 30), "by 30 Jun 2026"),
    ("on or before 30 June", None, date(2026, 6, 30), "on or before 30 Jun 2026"),
    ("until 30 June", None, date(2026, 6, 30), "until 30 Jun 2026"),
    ("due by Q2", None, date(2026, 9, 30), "by 30 Sep 2026"),
    ("after 30 June", date(2026, 7, 1), None, "after 30 Jun 2026"),
    ("after June", date(2026, 7, 1), None, "after 30 Jun 2026"),
    ("from 1 July", date(2026, 7, 1), None, "from 1 Jul 2026"),
    ("since 1 May", date(2026, 5, 1), None, "since 1 May 2026"),   # since looks back
    ("since 1 July", date(2025, 7, 1), None, "since 1 Jul 2025"),
    ("between 1 July and 31 July", date(2026, 7, 1), date(2026, 7, 31),
     "1 Jul – 31 Jul 2026"),
    ("1 July to 31 August", date(2026, 7, 1), date(2026, 8, 31), "1 Jul – 31 Aug 2026"),
    ("from 1/7/2026 to 31/8/2026", date(2026, 7, 1), date(2026, 8, 31),
     "1 Jul – 31 Aug 2026"),
    ("1 Dec to 31 Jan", date(2026, 12, 1), date(2027, 1, 31), "1 Dec 2026 – 31 Jan 2027"),
    ("between 1 June and 30 June", date(2026, 6, 1), date(2026, 6, 30),
     "1 Jun – 30 Jun 2026"),                                       # the June in progress
    ("July - September", date(2026, 7, 1), date(2026, 9, 30), "1 Jul – 30 Sep 2026"),
    ("1 Dec 2027 to 31 Jan", date(2027, 12, 1), date(2028, 1, 31),
     "1 Dec 2027 – 31 Jan 2028"),
    ("within 2 weeks", WED, date(2026, 6, 17), "within 2 weeks (3 Jun – 17 Jun 2026)"),
    ("next 14 days", WED, date(2026, 6, 17), "next 14 days (3 Jun – 17 Jun 2026)"),
    ("in the next 2 weeks", WED, date(2026, 6, 17),
     "in the next 2 weeks (3 Jun – 17 Jun 2026)"),
    ("within a fortnight", WED, date(2026, 6, 17),
     "within a fortnight (3 Jun – 17 Jun 2026)"),
    ("next 3 months", WED, date(2026, 9, 3), "next 3 months (3 Jun – 3 Sep 2026)"),
])
def test_range_bounds(text, start, end, label):
    assert parse_range(text, WED) == DateRange(start, end, label)


@pytest.mark.parametrize("text", ["overdue", "due overdue", "banana", "", "soon",
                                  "before banana", "between June and banana",
                                  "31 Dec 2026 to 1 Jan 2026", "after", "within weeks"])
def test_range_unreadable_is_none(text):
    assert parse_range(text, WED) is None


# --- describe_due --------------------------------------------------------------

@pytest.mark.parametrize("due, expected", [
    (None, "no due date"),
    (date(2026, 6, 3), "3 Jun 2026 · due today"),
    (date(2026, 6, 4), "4 Jun 2026 · due tomorrow"),
    (date(2026, 6, 2), "2 Jun 2026 · 1 day overdue"),
    (date(2026, 5, 29), "29 May 2026 · 5 days overdue"),
    (date(2026, 5, 21), "21 May 2026 · 13 days overdue"),
    (date(2026, 5, 20), "20 May 2026 · 2 weeks overdue"),
    (date(2026, 5, 13), "13 May 2026 · 3 weeks overdue"),
    (date(2026, 4, 8), "8 Apr 2026 · 8 weeks overdue"),
    (date(2026, 4, 1), "1 Apr 2026 · 2 months overdue"),
    (date(2026, 2, 1), "1 Feb 2026 · 4 months overdue"),
    (date(2024, 6, 4), "4 Jun 2024 · 23 months overdue"),
    (date(2024, 6, 3), "3 Jun 2024 · 2 years overdue"),
    (date(2010, 6, 3), "3 Jun 2010 · 16 years overdue"),
    (date(2010, 9, 30), "30 Sep 2010 · 15 years overdue"),   # whole years only
    (date(2026, 6, 5), "5 Jun 2026 · due in 2 days"),
    (date(2026, 6, 8), "8 Jun 2026 · due in 5 days"),
    (date(2026, 6, 24), "24 Jun 2026 · due in 3 weeks"),
    (date(2026, 10, 3), "3 Oct 2026 · due in 4 months"),
    (date(2029, 7, 1), "1 Jul 2029 · due in 3 years"),
])
def test_describe_due_open(due, expected):
    assert describe_due(due, WED) == expected


def test_describe_due_closed_has_no_overdue_wording():
    assert describe_due(date(2010, 9, 30), WED, is_open=False) == "due 30 Sep 2010"
    assert describe_due(date(2026, 6, 24), WED, is_open=False) == "due 24 Jun 2026"
    assert describe_due(None, WED, is_open=False) == "no due date"


def test_describe_due_leap_day():
    assert describe_due(date(2028, 2, 29), date(2028, 2, 28)) == "29 Feb 2028 · due tomorrow"
    assert describe_due(date(2028, 2, 28), date(2028, 3, 1)) == "28 Feb 2028 · 2 days overdue"
