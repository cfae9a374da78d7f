"""The decision letter as an email to a partner contact known only by email: plain text and a
simple HTML part (everything in it escaped), with the contact's personal acknowledgement link."""
from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.core.dates import long_date
from models.meetings import Letter, LetterRecipient, Meeting
from models.tables import Committee


def _meeting(meeting: Meeting | None, tz: ZoneInfo) -> str:
    return f"the meeting of {long_date(meeting.starts_at.astimezone(tz).date())}" if meeting else "the meeting"


def _subject(committee: Committee, meeting: Meeting | None, tz: ZoneInfo) -> str:
    words = f"Decision letter — {committee.name}"
    if meeting is not None:
        words += f", {long_date(meeting.starts_at.astimezone(tz).date())}"
    return " ".join(words.split())[:250]   # (no line breaks in a header)


def _html_paragraphs(text: str) -> str:
    return "\n".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n") if p.strip())


class LetterMail:
    """The MailRenderer that bot.services.letters.send_letter takes: links under `public_url`."""

    def __init__(self, public_url: str):
        self.public_url = public_url.rstrip("/")

    def ack_link(self, token: str) -> str:
        return f"{self.public_url}/ack/{token}"

    def letter_email(self, letter: Letter, committee: Committee, meeting: Meeting | None,
                     recipient: LetterRecipient, link: str, tz: ZoneInfo) -> dict:
        agency = recipient.agency or ("the committee's officers" if recipient.kind == "officer" else "your agency")
        intro = (f"The {committee.name} sends you its decision letter after {_meeting(meeting, tz)}, "
                 f"as the contact for {agency}.")
        ask = ("Please confirm you have received it by opening your personal link and pressing "
               "“Acknowledge receipt”:")
        text = f"{intro}\n\n{letter.text}\n\n---\n{ask}\n{link}\n\nThe link is yours alone; please don't forward it.\n"
        html = ("<!doctype html><html><body style=\"font-family: Arial, sans-serif; color: #0b0c0c\">"
                f"<p>{escape(intro)}</p><hr>{_html_paragraphs(letter.text)}<hr>"
                f"<p>{escape(ask)}</p>"
                f"<p><a href=\"{escape(link, quote=True)}\">Acknowledge receipt</a></p>"
                "<p style=\"color: #383f43\">The link is yours alone; please don't forward it.</p>"
                "</body></html>")
        return {"subject": _subject(committee, meeting, tz), "text": text, "html": html}

    def chase_email(self, original: dict, letter: Letter, committee: Committee, tz: ZoneInfo) -> dict:
        """A reminder: the first email again (with its link), a line before it."""
        sent = long_date(letter.sent_at.astimezone(tz).date())
        note = (f"A reminder: the {committee.name} sent you this decision letter on {sent} and has not yet "
                "had your acknowledgement. Please use the link at the end to confirm you received it.")
        html = original.get("html") or ""
        opening = html.find("<body")
        opening = html.find(">", opening) + 1 if opening >= 0 else 0
        return {"subject": " ".join(f"Reminder: {original.get('subject') or ''}".split())[:250],
                "text": f"{note}\n\n{original.get('text') or ''}",
                "html": html[:opening] + f"<p><strong>{escape(note)}</strong></p>" + html[opening:] if html else ""}


def letter_mail(settings: Settings) -> LetterMail | None:
    """How letters are emailed (bot.services.letters.send_letter's `mail`): None when no mail
    server is configured (SCRUTINEER_SMTP_URL), so those contacts stay "send by email"."""
    if not settings.smtp_url:
        return None
    return LetterMail(settings.public_url or f"http://{settings.host}:{settings.port}")
