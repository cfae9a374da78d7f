"""Long content arrives whole: a long digest as a thread of messages, a message Slack refuses
as too long split rather than retried for ever, a long letter through its form, a long
/actions filter behind its More button, an import preview with a very long title."""
from __future__ import annotations

import random
import re
from datetime import date, timedelta

from sqlalchemy import select

from bot.delivery import enqueue
from bot.services import items
from bot.slack_ui import letters as letters_ui
from models.delivery import OutboxMessage
from models.meetings import Decision, Letter, Meeting
from models.queries import committee_by_code, role_key
from models.tables import Role
from tests.harness import visible_text
from tests.test_import_form import confirm, preview, world  # noqa: F401  (world: the fixture)
from tests.test_letters import open_letter
from tests.test_letters import set_up as letters_set_up
from tests.test_meetings import CABINET, MEETING_START, dispatcher, ok, posts, set_up

N = 80


async def long_meeting(h, *, closed: bool, n_decisions: int = N, n_actions: int = N) -> int:
    """A meeting with long decisions (about 1,400 characters each) and actions arising."""
    async with h.db.session() as s, s.begin():
        committee = await committee_by_code(s, "T1", "cyp")
        meeting = Meeting(team_id="T1", committee_id=committee.id, starts_at=MEETING_START,
                          ends_at=MEETING_START + timedelta(hours=2), created_by="UBOB", created_at=MEETING_START)
        if closed:
            meeting.closed_at, meeting.closed_by = MEETING_START + timedelta(hours=2), "UBOB"
        s.add(meeting)
        await s.flush()
        cabinet = await s.scalar(select(Role).filter_by(team_id="T1", key=role_key(CABINET)))
        for n in range(1, n_decisions + 1):
            s.add(Decision(meeting_id=meeting.id, number=n, created_by="UBOB", created_at=MEETING_START,
                           text=f"decision number {n} says " + "that the committee notes the report " * 40))
        for n in range(1, n_actions + 1):
            item = await items.create_action(s, team_id="T1", committee=committee, text=f"Action arising {n}",
                                             roles=[cabinet], due=date(2026, 9, 30), actor="UBOB", now=MEETING_START)
            item.meeting_id = meeting.id
        return meeting.id


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\((\d+)\) decision number", text)]


async def test_long_digest_goes_as_a_thread_with_nothing_left_out(harness):
    h = harness
    await set_up(h)
    await long_meeting(h, closed=False)
    card = await ok(h, "", "UDAVE")   # the /meeting card: one message, every decision listed
    assert len(card.blocks) <= 50 and sorted(numbers(card.visible)) == list(range(1, N + 1))
    assert "shortened here" in card.visible
    r = await ok(h, "close", "UBOB")
    assert "Closed the meeting" in r.text
    assert await dispatcher(h).run_once() >= 3
    parts = posts(h, "CCYP")
    assert len(parts) >= 2
    first, rest = parts[0], parts[1:]
    assert "thread_ts" not in first.call.args
    ts = first.call.response["ts"]
    assert all(p.call.args.get("thread_ts") == ts for p in rest)
    assert all(len(p.blocks) <= 50 for p in parts)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for p in parts for b in p.blocks)
    seen = [n for p in parts for n in numbers(p.visible)]
    assert sorted(seen) == list(range(1, N + 1))   # each decision exactly once
    everything = "\n".join(p.visible for p in parts)
    assert "Actions arising" in everything and "Open items by RAG" in everything and "Overdue" in everything
    assert "Continued in the thread below" in first.visible


async def test_a_message_slack_refuses_as_too_long_is_split_not_retried(harness):
    h = harness
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"line {n}"}} for n in range(1, 121)]
    blocks.insert(3, {"type": "section", "text": {"type": "mrkdwn", "text": "word " * 1500}})   # 7,500 characters
    async with h.db.session() as s, s.begin():
        await enqueue(s, team_id="T1", key="long:1", channel="CCYP", payload={"text": "A long one", "blocks": blocks},
                      now=h.clock())
    d = dispatcher(h)
    await d.run_once()
    calls = [c for c in h.slack.calls_to("chat.postMessage") if c.args.get("channel") == "CCYP"]
    assert calls[0].response.get("error") == "msg_blocks_too_long"
    sent = [c for c in calls if c.response.get("ok")]
    assert len(sent) >= 3
    assert all("thread_ts" not in c.args for c in sent[:1]) and all(
        c.args.get("thread_ts") == sent[0].response["ts"] for c in sent[1:])
    shown = "\n".join(visible_text(c.args["blocks"]) for c in sent)
    assert all(f"line {n}\n" in shown + "\n" for n in range(1, 121))
    assert shown.count("word") == 1500
    async with h.db.session() as s:
        rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.key.like("long:1%"))))
    assert all(r.sent_at is not None and r.dead_at is None for r in rows)
    assert await d.run_once() == 0   # nothing left to retry


async def test_refused_message_that_cannot_be_split_is_given_up_with_its_reason(harness):
    h = harness
    async with h.db.session() as s, s.begin():
        await enqueue(s, team_id="T1", key="refused:1", channel="CCYP", now=h.clock(),
                      payload={"text": "short", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]})
    h.slack.fail_next("chat.postMessage", status=200, error="invalid_blocks")
    d = dispatcher(h)
    assert await d.run_once() == 0
    async with h.db.session() as s:
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.key == "refused:1"))
    assert row.dead_at is not None and row.last_error == "invalid_blocks"
    h.clock.now += timedelta(hours=1)
    assert await d.run_once() == 0
    assert len(h.slack.calls_to("chat.postMessage")) == 1


def test_letter_pieces_join_back_exactly():
    rng = random.Random(13)
    words = ["the", "committee", "Resolved", "–", "That", "(1)", "\n", "\n\n", "Ŵyn", "&", "<@U1>", " "]
    for size in (10, 2999, 3000, 3001, 9000, 25000):
        text = "".join(rng.choice(words) + " " for _ in range(size))[:size]
        for sample in (text, text.replace("\n", " "), "x" * size):
            pieces = letters_ui.letter_pieces(sample)
            assert all(len(p) <= 3000 for _, p in pieces)
            values = {}
            for n, (joiner, piece) in enumerate(pieces, start=1):
                block = "letter" if n == 1 else f"letter_{n}{'' if joiner else '_glued'}"
                values[block] = {"value": {"type": "plain_text_input", "value": piece}}
            assert letters_ui.letter_text(values) == sample


async def test_a_letter_of_nine_thousand_characters_round_trips(harness):
    h = harness
    await letters_set_up(h)
    await long_meeting(h, closed=True, n_decisions=6, n_actions=3)
    view = await open_letter(h)

    def shown(view: dict) -> tuple[list[dict], str]:
        inputs = [b for b in view["blocks"] if b.get("type") == "input"]
        values = {b["block_id"]: {"value": {"type": "plain_text_input", "value": b["element"]["initial_value"]}}
                  for b in inputs}
        return inputs, letters_ui.letter_text(values)

    inputs, draft = shown(view)
    assert len(draft) > 9000 and len(inputs) >= 4   # several inputs, nothing clipped
    assert all(len(b["element"]["initial_value"]) <= 3000 for b in inputs)
    assert sorted(int(n) for n in re.findall(r"\((\d+)\) decision number", draft)) == [1, 2, 3, 4, 5, 6]
    status, body = await h.submit(view, {}, user="UALICE")
    assert status == 200 and body["response_action"] == "update", body
    preview_view = body["view"]
    assert shown(preview_view)[1] == draft
    status, body = await h.submit(preview_view, {}, user="UALICE")
    assert status == 200 and body["response_action"] == "update", body
    async with h.db.session() as s:
        [sent] = list(await s.scalars(select(Letter)))
    assert sent.text == draft.strip()


async def test_actions_more_button_with_a_very_long_filter(harness):
    h = harness
    await set_up(h)
    words = ["Ŵ" * 90 + "a", "Ŷ" * 90 + "b", "Ŵ" * 90 + "c", "Ŷ" * 90 + "d"]
    async with h.db.session() as s, s.begin():
        committee = await committee_by_code(s, "T1", "cyp")
        cabinet = await s.scalar(select(Role).filter_by(team_id="T1", key=role_key(CABINET)))
        for n in range(25):
            await items.create_action(s, team_id="T1", committee=committee, text=f"Item {n} " + " ".join(words),
                                      roles=[cabinet], due=date(2026, 9, 1) + timedelta(days=n), actor="UBOB",
                                      now=h.clock())
    r = await ok(h, "search " + " ".join(words), "UDAVE", command="/actions")
    more = r.button("More")
    assert len(more["value"]) < 100 and more["value"].startswith("saved:")
    key = await h.press(more, user="UDAVE", channel="CCYP", message=r)
    page = await h.reply(key)
    assert "out of date" not in page.text and "Showing 21–25 of 25" in page.visible
    # Another council can't use the key.
    key = await h.press(more, user="UT2ADMIN", channel="CT2", team="T2", message=r)
    assert "out of date" in (await h.reply(key)).text


async def test_import_preview_with_a_long_non_ascii_title_confirms(world):  # noqa: F811
    h = world
    paper = "Ref,Recommendation,Owner,Due date,Status,Position\n1,\"Train foster carers.\",Cabinet Member,30/09/2027,Ongoing,\"Begun.\"\n"
    for title, n in (("Ŵ" * 2500, 1), ("Ŷ" * 2990, 2)):
        view = await preview(h, {("review", "value"): f"sg{n}", ("title", "value"): title, ("paste", "value"): paper},
                             n=n)
        assert len(view["private_metadata"]) <= 3000
        said = await confirm(h, view, n=n)
        assert said.startswith(f":white_check_mark: Imported sg{n}"), said
