"""The decision letter as an email to a partner contact known only by email: plain text and a
simple HTML part (everything in it escaped), with the contact's personal acknowledgement link."""
from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.core.dates import long_date
from bot.delivery.mail import link_key, seal
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

    def __init__(self, public_url: str, links_key: bytes | None = None):
        self.public_url = public_url.rstrip("/")
        self.links_key = links_key

    def ack_link(self, token: str) -> str:
        """The link as queued: with links_key, its token sealed (bot.delivery.mail.seal), so the
        outbox never holds it in clear; the mail sender opens it as it sends."""
        return f"{self.public_url}/ack/{seal(token, self.links_key) if self.links_key is not None else token}"

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
        return _prefixed(original, note, "Reminder: ")


class UpdateMail:
    """The UpdateMailRenderer bot.services.updates takes: asking an owner outside Slack for their
    updates before a meeting, with a personal link (sealed in the outbox, as the letters' are) to a
    page where they write them."""

    def __init__(self, public_url: str, links_key: bytes | None = None):
        self.public_url = public_url.rstrip("/")
        self.links_key = links_key

    def update_link(self, token: str) -> str:
        return f"{self.public_url}/update/{seal(token, self.links_key) if self.links_key is not None else token}"

    def request_email(self, meeting: Meeting, items: list, link: str, tz: ZoneInfo, today, *, name: str | None) -> dict:
        committee = meeting.committee.name if meeting.committee is not None else "The committee"
        when = long_date(meeting.starts_at.astimezone(tz).date())
        hello = f"Dear {name}," if name else "Hello,"
        intro = (f"{committee} meets on {when}. Before then, please give an update on the "
                 f"{'item' if len(items) == 1 else f'{len(items)} items'} you are responsible for:")
        lines = [f"- {i.full_ref}: {' '.join(i.text.split())[:300]}"
                 + (f" (due {long_date(i.due)})" if i.due else "") for i in items]
        ask = ("Open your personal link to write each update; the committee's officer reviews it before it "
               "becomes the item's position:")
        text = (f"{hello}\n\n{intro}\n\n" + "\n".join(lines) + f"\n\n{ask}\n{link}\n\n"
                "The link is yours alone; please don't forward it.\n")
        html = ("<!doctype html><html><body style=\"font-family: Arial, sans-serif; color: #0b0c0c\">"
                f"<p>{escape(hello)}</p><p>{escape(intro)}</p><ul>"
                + "".join(f"<li>{escape(line[2:])}</li>" for line in lines) + "</ul>"
                f"<p>{escape(ask)}</p><p><a href=\"{escape(link, quote=True)}\">Give your updates</a></p>"
                "<p style=\"color: #383f43\">The link is yours alone; please don't forward it.</p></body></html>")
        subject = " ".join(f"Update requested before {committee} meets on {when}".split())[:250]
        return {"subject": subject, "text": text, "html": html}

    def chase_email(self, original: dict, meeting: Meeting, tz: ZoneInfo) -> dict:
        """A reminder: the first email again (with its link), a line before it."""
        note = ("A reminder: the committee has not yet had your update. Please use the link below before the "
                f"meeting on {long_date(meeting.starts_at.astimezone(tz).date())}.")
        return _prefixed(original, note, "Reminder: ")

    def returned_email(self, original: dict, item, reason: str) -> dict:
        """An update sent back by the officer: why, and the first email again (with its link)."""
        note = (f"Your update on {item.full_ref} was returned by the committee's officer: "
                f"{' '.join(reason.split())} — please send it again using your link below.")
        return _prefixed(original, note, "Update returned: ")


def _prefixed(original: dict, note: str, subject_prefix: str) -> dict:
    """An earlier email again, with a note before it (its sealed link left as it is)."""
    html = original.get("html") or ""
    opening = html.find("<body")
    opening = html.find(">", opening) + 1 if opening >= 0 else 0
    return {"subject": " ".join(f"{subject_prefix}{original.get('subject') or ''}".split())[:250],
            "text": f"{note}\n\n{original.get('text') or ''}",
            "html": html[:opening] + f"<p><strong>{escape(note)}</strong></p>" + html[opening:] if html else ""}


def update_mail(settings: Settings) -> UpdateMail | None:
    """How owners outside Slack are asked for updates: None when no mail server is configured."""
    if not settings.smtp_url:
        return None
    return UpdateMail(settings.public_url or f"http://{settings.host}:{settings.port}", link_key(settings))


def letter_mail(settings: Settings) -> LetterMail | None:
    """How letters are emailed (bot.services.letters.send_letter's `mail`): None when no mail
    server is configured (SCRUTINEER_SMTP_URL), so those contacts stay "send by email"."""
    if not settings.smtp_url:
        return None
    return LetterMail(settings.public_url or f"http://{settings.host}:{settings.port}", link_key(settings))
