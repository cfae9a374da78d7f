"""`/scrutiny report` as a Slack message, and the sentences the report paper shares with it."""
from __future__ import annotations

from bot.core import dates
from bot.services.reports import FIGURES, Line, Report, Tally
from bot.slack_ui.blocks import Context, Header, Message, Section, escape, people_text

RAG_WORDS = {"red": ":red_circle: Red (overdue or at risk)", "amber": ":large_orange_circle: Amber (due soon)",
             "green": ":large_green_circle: Green (on track)"}
MAX_LINES = 15    # owners or agencies listed in the message; the paper has them all


def days_text(n: float | None) -> str:
    if n is None:
        return "—"
    n = round(n)
    return f"{n} day" if n == 1 else f"{n} days"


def signed(n: int) -> str:
    return f"+{n}" if n > 0 else ("−" + str(-n) if n < 0 else "0")


def since_phrase(report: Report) -> str:
    if report.since is None:
        return ""
    why = " (the last report)" if report.since_reason == "last report" else ""
    return f"since {dates.long_date(report.since)}{why}"


def response_sentence(t: Tally) -> str:
    return (f"{t.made} recommendation{'' if t.made == 1 else 's'} made: {t.accepted} accepted, "
            f"{t.partially} partially accepted, {t.not_accepted} not accepted, {t.awaiting} awaiting "
            "the executive response.")


def progress_sentence(t: Tally) -> str:
    return f"{t.implemented} implemented ({t.signed_off} of them signed off); {t.overdue} overdue."


def time_sentence(report: Report) -> str:
    t = report.total.now
    if not t.days:
        text = "Time to implement: no implementation date is recorded yet."
    else:
        text = (f"Time to implement, from the date the recommendation was agreed: average "
                f"{days_text(t.average_days)}, longest {days_text(t.longest_days)} "
                f"({len(t.days)} with a recorded date).")
    if report.undated_implemented:
        text += (f" {report.undated_implemented} were already implemented when recorded here, "
                 "so their date isn't known.")
    return text


def change_sentence(line: Line) -> str | None:
    """"made +2, implemented +3, overdue −1"; "no change"; None when there is no comparison."""
    if line.then is None:
        return None
    parts = [f"{label.split(' (')[0].lower()} {signed(line.change(name))}" for name, label in FIGURES
             if line.change(name)]
    return ", ".join(parts) if parts else "no change"


def line_summary(line: Line) -> str:
    t = line.now
    text = (f"{t.made} made, {t.accepted + t.partially} accepted in whole or part, {t.implemented} implemented, "
            f"{t.overdue} overdue")
    if t.days:
        text += f", average {days_text(t.average_days)} to implement"
    change = change_sentence(line)
    if change and change != "no change":
        text += f" ({change})"
    return text


def _lines(title: str, lines: list[Line]) -> Section:
    shown = lines[:MAX_LINES]
    text = f"*{title}*\n" + "\n".join(f"• *{people_text(x.label)}*: {line_summary(x)}" for x in shown)
    if len(lines) > MAX_LINES:
        text += f"\n_…and {len(lines) - MAX_LINES} more in the paper (`scrutineer report`)._"
    return Section(text)


def report_message(report: Report, *, uploaded: bool = True) -> Message:
    t = report.total.now
    summary = f"Report on {report.committees[0] if len(report.committees) == 1 else 'the committees'}: " + \
        response_sentence(t)
    msg = Message(summary).add(Header(f"Recommendations report – {dates.long_date(report.today)}"))
    msg.add(Section(f"*{escape(', '.join(report.committees))}*\n{response_sentence(t)}\n{progress_sentence(t)}"))
    rag = "  ·  ".join(f"{RAG_WORDS[k]}: {report.rag[k]}" for k in ("red", "amber", "green"))
    msg.add(Section(f"*Open recommendations by RAG*\n{rag}"))
    msg.add(Section(time_sentence(report)))
    change = change_sentence(report.total)
    if change is None:
        msg.add(Context("This is the first report: the next one shows the change since today."))
    else:
        msg.add(Section(f"*Change {since_phrase(report)}*: {change}."))
    if len(report.by_committee) > 1:
        msg.add(_lines("By committee", report.by_committee))
    if report.by_owner:
        msg.add(_lines("By owner", report.by_owner))
    if report.by_agency:
        msg.add(_lines("By partner agency", report.by_agency))
    if uploaded:
        msg.add(Context("The chart is in the channel. For the agenda pack: "
                        f"`scrutineer report --committee {report.codes[0]} --format docx`."))
    return msg


__all__ = ["change_sentence", "days_text", "line_summary", "progress_sentence", "report_message",
           "response_sentence", "signed", "since_phrase", "time_sentence"]
