"""The page an emailed acknowledgement link opens (GET /ack/<token>): the letter and a button
that acknowledges it by POST — so a mail scanner that fetches the link acknowledges nothing —
then a thank-you page; and a polite page for a link that is unknown or has expired.
Every piece of text is HTML-escaped; no script, styles inline."""
from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from bot.core.dates import long_date

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"

CSS = """
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #0b0c0c; background: #fff; }
main { max-width: 45rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; line-height: 1.2; }
.meta { color: #383f43; }
.letter { border-left: 4px solid #6f777b; padding-left: 1rem; margin: 1rem 0; }
button { font: inherit; font-weight: 700; color: #fff; background: #00703c; border: 0; padding: .6rem 1rem;
  cursor: pointer; }
button:focus { outline: 3px solid #ffdd00; }
"""


def _page(title: str, body: str) -> str:
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta name=\"robots\" content=\"noindex\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def _when(at: datetime | None, tz: ZoneInfo) -> str:
    if at is None:
        return ""
    local = at.astimezone(tz)
    return f"{long_date(local.date())} at {local:%H:%M}"


def _letter(found, tz: ZoneInfo) -> str:
    meeting = (f"after the meeting of {long_date(found.meeting.starts_at.astimezone(tz).date())}"
               if found.meeting else "")
    paragraphs = "\n".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>"
                           for p in found.letter.text.split("\n\n") if p.strip())
    return (f"<h1>Decision letter — {escape(found.committee.name)}</h1>"
            f"<p class=\"meta\">Sent {escape(_when(found.letter.sent_at, tz))} {escape(meeting)}"
            f"{' to ' + escape(found.recipient.agency) if found.recipient.agency else ''}</p>"
            f"<div class=\"letter\">{paragraphs}</div>")


def render_letter(found, tz: ZoneInfo) -> str:
    """The letter, and the button (or, once acknowledged, when)."""
    if found.recipient.acknowledged_at is not None:
        action = (f"<p><strong>You acknowledged receipt on {escape(_when(found.recipient.acknowledged_at, tz))}."
                  "</strong> Nothing more is needed. Thank you.</p>")
    else:
        action = ("<form method=\"post\"><p>Please confirm you have received this letter.</p>"
                  "<button type=\"submit\">Acknowledge receipt</button></form>")
    return _page(f"Decision letter — {found.committee.name}", _letter(found, tz) + action)


def render_thanks(done, tz: ZoneInfo) -> str:
    when = escape(_when(done.recipient.acknowledged_at, tz))
    words = (f"Thank you — you acknowledged receipt on {when}. The committee's chair can see it."
             if done.newly else f"You had already acknowledged this letter on {when}, so nothing more is needed. "
             "Thank you.")
    return _page("Thank you", f"<h1>Thank you</h1><p>{words}</p>"
                 f"<p class=\"meta\">Decision letter — {escape(done.committee.name)}</p>")


NOT_FOUND_HTML = _page("Link not found", "<h1>This link doesn't work any more</h1>"
                       "<p>The acknowledgement link is unknown or has expired. If you still need to confirm "
                       "receipt of a decision letter, please reply to the email it came in, or contact the "
                       "committee's officers.</p>")


# ---- the page a personal update link opens (GET/POST /update/<token>) ------------------------------

UPDATE_CSS = """
section { border-top: 1px solid #b1b4b6; padding-top: .5rem; margin-top: 1.5rem; }
h2 { font-size: 1.2rem; }
label { display: block; font-weight: 700; margin-top: .75rem; }
textarea, select, input { font: inherit; width: 100%; box-sizing: border-box; padding: .4rem; border: 2px solid #0b0c0c; }
.sent { background: #f3f2f1; padding: .5rem 1rem; }
.done { border-left: 6px solid #00703c; padding: .5rem 1rem; }
.error { border-left: 6px solid #d4351c; padding: .5rem 1rem; color: #d4351c; }
"""

_STATE_WORDS = {"submitted": "awaiting the officer's review", "accepted": "accepted", "returned": "returned"}


def _sent(p, tz: ZoneInfo) -> str:
    when = escape(_when(p.created_at, tz))
    state = _STATE_WORDS.get(p.review_state, p.review_state)
    why = (f" — why: {escape(p.review_note)}" if p.review_state == "returned" and p.review_note else "")
    return (f"<div class=\"sent\"><p><strong>You sent on {when} ({escape(state)}{why}):</strong></p>"
            f"<p>{escape(p.text).replace(chr(10), '<br>')}</p></div>")


def render_update_form(found, tz: ZoneInfo, statuses, *, done: str | None = None, error: str | None = None) -> str:
    """Every item the person is asked about, with what they sent so far and a form for each."""
    when = long_date(found.meeting.starts_at.astimezone(tz).date())
    hello = f"Hello {escape(found.name)}. " if found.name else ""
    parts = [f"<h1>Updates for {escape(found.committee.name)}</h1>",
             f"<p class=\"meta\">{hello}The committee meets on {escape(when)}. Your update goes to its officer, "
             "who reviews it before it becomes the item's position.</p>"]
    if done:
        parts.append(f"<p class=\"done\" role=\"status\">{escape(done)}</p>")
    if error:
        parts.append(f"<p class=\"error\" role=\"alert\">{escape(error)}</p>")
    if not found.items:
        parts.append("<p>There is nothing to update any more: every item you were asked about is closed or "
                     "off this meeting's agenda. Thank you.</p>")
    options = "".join(f"<option value=\"{escape(s, quote=True)}\">{escape(s.capitalize())}</option>" for s in statuses)
    for item in found.items:
        ident = f"i{item.id}"
        due = f"Due {long_date(item.due)} · " if item.due else ""
        sent = "".join(_sent(p, tz) for p in found.sent.get(item.id, [])[:3])
        parts.append(
            f"<section><h2>{escape(item.full_ref)}</h2><p>{escape(item.text)}</p>"
            f"<p class=\"meta\">{escape(due)}Status: {escape(item.status)}</p>{sent}"
            "<form method=\"post\">"
            f"<input type=\"hidden\" name=\"item\" value=\"{item.id}\">"
            f"<label for=\"{ident}-position\">Your update</label>"
            f"<textarea id=\"{ident}-position\" name=\"position\" rows=\"5\" maxlength=\"3000\" required></textarea>"
            f"<label for=\"{ident}-status\">Status (optional)</label>"
            f"<select id=\"{ident}-status\" name=\"status\"><option value=\"\">No change</option>{options}</select>"
            f"<label for=\"{ident}-due\">Revised date (optional)</label>"
            f"<input id=\"{ident}-due\" name=\"due\" type=\"date\">"
            "<p><button type=\"submit\">Send update</button></p></form></section>")
    page = _page(f"Updates — {found.committee.name}", "".join(parts))
    return page.replace("</style>", UPDATE_CSS + "</style>", 1)


UPDATE_NOT_FOUND_HTML = _page("Link not found", "<h1>This link doesn't work any more</h1>"
                              "<p>The update link is unknown or has expired (it works until shortly after the "
                              "meeting). Please reply to the email it came in, or contact the committee's "
                              "officers.</p>")
