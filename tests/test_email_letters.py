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


async def test_the_outbox_never_holds_the_acknowledgement_link_in_clear(h, mailbox):
    """Someone who can read the database (the outbox) can't acknowledge on the contact's behalf:
    the token is sealed in the queued payload and opened only as the email is sent."""
    await send_letter_by_email(h)
    async with h.db.session() as s:
        queued = await s.scalar(select(OutboxMessage.payload).where(OutboxMessage.channel.like("mail:%")))
    await dispatcher(h).run_once()
    [message] = [m for m in mailbox.messages if m["To"] == JANE]
    token = ack_path(message).rsplit("/", 1)[1]
    assert token not in str(queued) and "~ack~" in queued["text"] and "~ack~" in queued["html"]
    assert "~ack~" not in message.get_body(preferencelist=("plain",)).get_content()
    assert (await post(h, ack_path(message)))[0] == 200
    assert (await jane(h)).acknowledged_at is not None


def test_sealed_links_open_only_with_their_key_and_old_rows_go_as_they_are():
    from bot.delivery.mail import MailDeferred, build_message, seal, unseal

    key, other = b"k" * 32, b"o" * 32
    sealed = seal("secret-token-123", key)
    assert "secret-token-123" not in sealed and unseal(sealed[5:-1], key) == "secret-token-123"
    assert unseal(sealed[5:-1], other) is None and unseal(sealed[5:-2] + "A", key) is None
    payload = {"to": JANE, "subject": "Letter", "text": f"Open {PUBLIC}/ack/{sealed}\n",
               "html": f'<a href="{PUBLIC}/ack/{sealed}">Acknowledge</a>'}
    built = build_message(payload, "letter:1:2", "scrutiny@essex.gov.uk", key)
    assert f"{PUBLIC}/ack/secret-token-123" in built.get_body(preferencelist=("plain",)).get_content()
    with pytest.raises(MailDeferred):
        build_message(payload, "letter:1:2", "scrutiny@essex.gov.uk", other)
    # A row queued before links were sealed keeps working: its link goes as it was.
    old = {"to": JANE, "subject": "Letter", "text": f"Open {PUBLIC}/ack/plainOldToken\n"}
    assert f"{PUBLIC}/ack/plainOldToken" in build_message(old, "k", "a@b.c", key).get_content()


async def test_the_automatic_letter_chase_is_audited(h, mailbox):
    from bot.scheduled import run_scheduled
    from bot.services.audit import SYSTEM

    await send_letter_by_email(h)
    await dispatcher(h).run_once()
    h.clock.now += timedelta(days=7)
    await run_scheduled(h.db, h.settings, h.clock.now, reminders_too=False)
    await run_scheduled(h.db, h.settings, h.clock.now, reminders_too=False)
    async with h.db.session() as s:
        chases = list(await s.scalars(select(AuditEvent).where(AuditEvent.entity == "letter",
                                                               AuditEvent.action == "chase")))
    assert len(chases) == 1 and chases[0].actor == SYSTEM and chases[0].after["automatic"] is True
    assert any(JANE in m for m in chases[0].after["missing"])


async def test_an_owner_outside_slack_is_asked_by_email_and_answers_on_a_page(h, mailbox):
    """A role held by someone known only by email: the request for updates goes by email with a
    personal link; its page takes an update, which goes through the same review as one from Slack."""
    from datetime import date, timezone

    from bot.scheduled import run_scheduled
    from models.updates import UpdateRequest
    from tests.test_reminders import action, at, dms
    from tests.test_reminders import set_up as roles_set_up

    nurse = "Chief Nurse, NHS Mid Essex"
    h.clock.now = at(date(2026, 5, 1), 10)
    await roles_set_up(h)
    await h.command("/scrutiny", f'role "{nurse}" Jane Smith <mailto:{JANE}|{JANE}>', user="UADMIN", channel="CCYP")
    await h.command("/meeting", "new 4 June 2026 10:00", user="UBOB", channel="CCYP")
    await action(h, "Audit hospital <discharge> planning", date(2026, 7, 31), owner=nurse)
    await run_scheduled(h.db, h.settings, at(date(2026, 5, 20), 9).astimezone(timezone.utc))
    await run_scheduled(h.db, h.settings, at(date(2026, 5, 20), 9, 5).astimezone(timezone.utc))   # once
    h.clock.now = at(date(2026, 5, 20), 9, 10)
    d = dispatcher(h)
    await d.run_once()
    [request] = [m for m in mailbox.messages if m["To"] == JANE]
    assert request["Subject"].startswith("Update requested before Children and Young People Scrutiny Committee")
    text = request.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Jane Smith" in text and "Audit hospital <discharge> planning" in text
    [link] = re.findall(re.escape(PUBLIC) + r"/update/[A-Za-z0-9_-]+", text)
    path = link[len(PUBLIC):]
    async with h.db.session() as s:
        queued = await s.scalar(select(OutboxMessage.payload).where(OutboxMessage.key.like("updates:request:%")))
        [row] = list(await s.scalars(select(UpdateRequest)))
    assert path.rsplit("/", 1)[1] not in str(queued) and row.email == JANE and row.token_hash

    # The page: the item (escaped) and a form; nothing is sent by opening it.
    status, page = await get(h, path)
    assert status == 200 and "Audit hospital &lt;discharge&gt; planning" in page and 'method="post"' in page
    assert (await get(h, "/update/not-a-real-token"))[0] == 404
    async with h.http.post(h.url + path, data={"item": str(row.id + 10_000), "position": "x"}) as resp:
        assert resp.status == 400 and "one you are asked about" in await resp.text()
    async with h.http.post(h.url + path, data={"item": "", "position": "x"}) as resp:
        assert resp.status == 400
    async with h.db.session() as s:
        from models.tables import Item
        item_id = await s.scalar(select(Item.id).where(Item.text.like("Audit hospital%")))
    async with h.http.post(h.url + path, data={"item": str(item_id), "position": "  "}) as resp:
        assert resp.status == 400 and "Write the update" in await resp.text()
    async with h.http.post(h.url + path, data={"item": str(item_id), "position": "Audit <b>booked</b> for June",
                                               "status": "in progress", "due": "2026-06-30"}) as resp:
        answer = await resp.text()
        assert resp.status == 200 and "went to the committee" in answer and "Audit &lt;b&gt;booked" in answer

    # The officer reviews it as any other update.
    await d.run_once()
    bob = next(r for r in dms(h, "UBOB") if "by email" in r.visible)
    assert "Jane Smith (by email) sent an update on cyp/act-1 for review" in bob.visible
    status_card = await h.command("/meeting", "updates", user="UBOB", channel="CCYP")
    assert f"{JANE} (by email)" in status_card.visible.split("Outstanding")[0]
    await h.press(bob.button("Accept"), user="UBOB", channel="DUBOB", message=bob)
    await h.settle()
    card = await h.command("/position", "act-1", user="UBOB", channel="CCYP")
    assert "Audit &lt;b&gt;booked&lt;/b&gt; for June" in card.visible and "30 Jun 2026" in card.visible
    async with h.db.session() as s:
        actors = set(await s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "update_submitted")))
    assert actors == {f"email:{JANE}"}
    # A second update that says nothing, returned with a reason: the reason comes by email with the
    # same link, and the page shows it.
    async with h.http.post(h.url + path, data={"item": str(item_id), "position": "No change"}) as resp:
        assert resp.status == 200
    await d.run_once()
    bob2 = next(r for r in reversed(dms(h, "UBOB")) if "No change" in r.visible)
    assert "says nothing the committee can use" in bob2.visible
    await h.press(bob2.button("Return"), user="UBOB", channel="DUBOB", message=bob2)
    form = await h.opened_view()
    assert (await h.submit(form, {("reason", "value"): "Say when the audit reports"}, user="UBOB")) == (200, None)
    await d.run_once()
    [returned] = [m for m in mailbox.messages if m["To"] == JANE and m["Subject"].startswith("Update returned: ")]
    body = returned.get_body(preferencelist=("plain",)).get_content()
    assert "Say when the audit reports" in body and link in body
    status, page = await get(h, path)
    assert "returned — why: Say when the audit reports" in page

    # Answered: no automatic chase three working days before.
    await run_scheduled(h.db, h.settings, at(date(2026, 6, 1), 9).astimezone(timezone.utc))
    async with h.db.session() as s:
        assert await s.scalar(select(OutboxMessage.key).where(OutboxMessage.key.like("updates:chase:%"))) is None
