"""Partners outside Slack (issue 14): a contact known only by email gets the decision letter by
email, through the outbox and a real SMTP client, with a personal acknowledgement link served
by `scrutineer serve` (GET shows the letter, only the button's POST acknowledges).

A real SMTP server (aiosmtpd) on loopback records what arrives, and can refuse (550) or defer
(451) an address; the app runs as in the other tests, its Slack a local stand-in."""
from __future__ import annotations

import dataclasses
import re
import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.scheduled import build_worker
from models.delivery import OutboxMessage
from models.meetings import LetterRecipient
from models.tables import AuditEvent
from tests.harness import Harness
from tests.test_letters import hold_meeting, ok, send, set_up

JANE = "jane.smith@nhs.uk"
PUBLIC = "https://scrutiny.example.org"


class Mailbox:
    """aiosmtpd's handler: records each message; answers RCPT for an address as told."""

    def __init__(self):
        self.messages: list = []
        self.answers: dict[str, str] = {}   # address -> an SMTP reply to RCPT TO (e.g. "550 …")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.answers.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest_asyncio.fixture
async def h(slack, database_url, clock, mailbox):
    harness = Harness(slack, database_url, clock, admins={"UENV"})
    harness.settings = dataclasses.replace(harness.settings, smtp_url=f"smtp://127.0.0.1:{mailbox.port}",
                                           mail_from="Scrutineer <scrutiny@essex.gov.uk>", public_url=PUBLIC)
    await harness.start()
    yield harness
    await harness.stop()


def dispatcher(h):
    """The dispatcher as `scrutineer serve` wires it (mail sender, delivery and refusal hooks)."""
    d = build_worker(h.settings, h.db, h.clock).dispatcher
    d.per_channel = 0.0
    return d


async def send_letter_by_email(h) -> None:
    await set_up(h)
    await hold_meeting(h, h.clock.now - timedelta(days=3))
    await send(h)


async def jane(h) -> LetterRecipient:
    async with h.db.session() as s:
        return await s.scalar(select(LetterRecipient).where(LetterRecipient.email == JANE))


def ack_path(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    [link] = re.findall(re.escape(PUBLIC) + r"/ack/[A-Za-z0-9_-]+", text)
    return link[len(PUBLIC):]


async def get(h, path: str) -> tuple[int, str]:
    async with h.http.get(h.url + path) as resp:
        return resp.status, await resp.text()


async def post(h, path: str) -> tuple[int, str]:
    async with h.http.post(h.url + path) as resp:
        return resp.status, await resp.text()


async def test_emailed_once_with_a_link_that_only_a_post_acknowledges(h, mailbox):
    await send_letter_by_email(h)
    d = dispatcher(h)
    await d.run_once()
    await d.run_once()   # a second round sends nothing again
    to_jane = [m for m in mailbox.messages if m["To"] == JANE]
    assert len(to_jane) == 1
    [message] = to_jane
    assert message["From"] == "Scrutineer <scrutiny@essex.gov.uk>"
    assert message["Subject"].startswith("Decision letter — Children and Young People Scrutiny Committee")
    html = message.get_body(preferencelist=("html",)).get_content()
    path = ack_path(message)
    assert f'href="{PUBLIC}{path}"' in html
    recipient = await jane(h)
    assert recipient.delivered_at is not None and recipient.acknowledged_at is None
    # Only the hash of the token is stored.
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 40 and token not in (recipient.ack_token_hash or "")
    assert recipient.ack_token_expires_at > h.clock.now + timedelta(days=59)

    # Opening the link (as a mail scanner would) shows the letter and a button, and acknowledges nothing.
    status, page = await get(h, path)
    assert status == 200 and "Acknowledge receipt" in page and 'method="post"' in page
    assert "the Cabinet Member report back on foster carer training" in page
    assert (await jane(h)).acknowledged_at is None

    status, page = await post(h, path)
    assert status == 200 and "Thank you — you acknowledged receipt" in page
    acknowledged = (await jane(h)).acknowledged_at
    assert acknowledged is not None
    status, page = await post(h, path)   # again: harmless
    assert status == 200 and "already acknowledged" in page
    assert (await jane(h)).acknowledged_at == acknowledged
    async with h.db.session() as s:
        acks = list(await s.scalars(select(AuditEvent).where(AuditEvent.action == "acknowledge")))
    assert [(a.actor, a.after["recipient_id"]) for a in acks] == [(f"email:{JANE}", recipient.id)]

    r = await ok(h, "/letter", "status", "UALICE")
    assert "Jane Smith &lt;jane.smith@nhs.uk&gt; · emailed" in r.visible
    assert "· acknowledged" in r.visible.split("jane.smith@nhs.uk")[-1].split("\n")[0]

    # Unknown and expired links: the same polite 404.
    status, page = await get(h, "/ack/not-a-real-token")
    assert status == 404 and "doesn't work any more" in page
    async with h.db.session() as s, s.begin():
        row = await s.get(LetterRecipient, recipient.id)
        row.ack_token_expires_at = h.clock.now - timedelta(seconds=1)
    assert (await get(h, path))[0] == 404
    assert (await post(h, path))[0] == 404


async def test_a_refused_address_is_recorded_and_shown(h, mailbox):
    mailbox.answers[JANE] = "550 5.1.1 No such user here"
    await send_letter_by_email(h)
    await dispatcher(h).run_once()
    assert [m for m in mailbox.messages if m["To"] == JANE] == []
    recipient = await jane(h)
    assert recipient.delivered_at is None and "550" in recipient.delivery_error
    async with h.db.session() as s:
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.key == recipient.outbox_key))
    assert row.dead_at is not None and "No such user" in row.last_error
    r = await ok(h, "/letter", "status", "UALICE")
    assert "*email refused*: 550" in r.visible and "1 refused" in r.visible


async def test_a_deferred_address_is_tried_again_later(h, mailbox):
    mailbox.answers[JANE] = "451 4.7.1 Try again later"
    await send_letter_by_email(h)
    d = dispatcher(h)
    await d.run_once()
    recipient = await jane(h)
    async with h.db.session() as s:
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.key == recipient.outbox_key))
    assert row.sent_at is None and row.dead_at is None and "451" in row.last_error
    assert row.not_before > h.clock.now   # backed off, not hammered
    await d.run_once()   # not due yet: nothing tried
    assert [m for m in mailbox.messages if m["To"] == JANE] == []

    del mailbox.answers[JANE]
    h.clock.now += timedelta(minutes=10)
    await d.run_once()
    assert len([m for m in mailbox.messages if m["To"] == JANE]) == 1
    recipient = await jane(h)
    assert recipient.delivered_at is not None and recipient.delivery_error is None


async def test_an_unacknowledged_email_is_chased_once_with_the_same_link(h, mailbox):
    from bot.scheduled import run_scheduled

    await send_letter_by_email(h)
    d = dispatcher(h)
    await d.run_once()
    [first] = [m for m in mailbox.messages if m["To"] == JANE]
    h.clock.now += timedelta(days=7)   # the next Monday: three working days and more
    await run_scheduled(h.db, h.settings, h.clock.now, reminders_too=False)
    await run_scheduled(h.db, h.settings, h.clock.now, reminders_too=False)   # twice: chased once
    await d.run_once()
    reminders = [m for m in mailbox.messages if m["To"] == JANE and m["Subject"].startswith("Reminder: ")]
    assert len(reminders) == 1
    assert ack_path(reminders[0]) == ack_path(first)
    chair = [c for c in h.slack.calls_to("chat.postMessage") if c.args.get("channel") == "UALICE"]
    assert any("Jane Smith" in str(c.args) and "by email (reminded)" in str(c.args) for c in chair)
    # Acknowledged through the link: no reminder for the next letter's chase either way.
    assert (await post(h, ack_path(first)))[0] == 200


def test_smtp_urls_are_read():
    from bot.delivery.mail import SmtpConfig

    assert SmtpConfig.from_url("smtp://user%40x:p%3Ass@mail.example.org:587") == SmtpConfig(
        "mail.example.org", 587, "user@x", "p:ss", use_tls=False, start_tls=None)
    assert SmtpConfig.from_url("smtp+starttls://mail.example.org") == SmtpConfig(
        "mail.example.org", 587, use_tls=False, start_tls=True)
    assert SmtpConfig.from_url("smtps://u:p@mail.example.org") == SmtpConfig(
        "mail.example.org", 465, "u", "p", use_tls=True, start_tls=False)
    with pytest.raises(ValueError):
        SmtpConfig.from_url("http://mail.example.org")
