"""What people see in Slack: their text shown as typed, mentions kept live, nothing that
broadcasts or hides a link, clipping that never cuts an entity or a mention, and words."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest

from bot.slack_ui.blocks import Message, Section, clip, people_clip, people_text, plural, safe_cut

# ---- people_text ------------------------------------------------------------------------


@pytest.mark.parametrize("typed, shown", [
    ("Agreed with <@UDAVE|dave>", "Agreed with <@UDAVE>"),
    ("Agreed with <@UDAVE>", "Agreed with <@UDAVE>"),
    ("<@W0ENTERPRISE|eve> and <@UBOB>", "<@W0ENTERPRISE> and <@UBOB>"),
    ("See <#CCYP|cyp-scrutiny>", "See <#CCYP>"),
    ("See <#G0PRIVATE>", "See <#G0PRIVATE>"),
    ("Ask <!subteam^S0OFFICERS|@officers>", "Ask <!subteam^S0OFFICERS>"),
    ("Police & social care", "Police &amp; social care"),
    ("a < b > c", "a &lt; b &gt; c"),
    ("<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"),
    ("already &amp; escaped", "already &amp;amp; escaped"),
    ("", ""),
])
def test_people_text_keeps_mentions_and_escapes_the_rest(typed, shown):
    assert people_text(typed) == shown


def test_people_text_of_none_is_empty():
    assert people_text(None) == ""


@pytest.mark.parametrize("typed", [
    "<!channel>", "<!here>", "<!everyone>", "<!here|here>", "<!channel|@channel>", "<!date^1392734382^{date}|x>",
    "Hi <!channel> all", "<!subteam^S1>", "<!subteam^|x>",
])
def test_people_text_never_broadcasts(typed):
    shown = people_text(typed)
    assert "<!" not in shown.replace("<!subteam^S", "")
    assert not re.search(r"<!(channel|here|everyone|date)", shown)


@pytest.mark.parametrize("typed", [
    "<https://evil.example|click>", "<http://evil.example>", "<mailto:a@b.c|Chair>", "<tel:123|call>",
    "<@UDAVE|<https://evil|x>>", "<#CCYP|<!channel>>", "<@udave>", "<@U>", "<@UDAVE", "@UDAVE>",
    "<<@UDAVE>>", "<@UDAVE|dave><!here>", "<@UDAVE|x\n<!channel>>",
])
def test_people_text_never_makes_a_link_or_a_broadcast(typed):
    shown = people_text(typed)
    # The only `<` left opens a plain mention that closes at once.
    for m in re.finditer("<", shown):
        assert re.match(r"<(@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|!subteam\^S[A-Z0-9]+)>", shown[m.start():]), (typed, shown)
    assert "|" not in "".join(re.findall(r"<[^>]*>", shown))
    assert "http" not in "".join(re.findall(r"<[^>]*>", shown))


def test_people_text_shows_every_character_typed_outside_mentions():
    typed = "Police & <b>partners</b> <!here> <https://x|y> 100% > 50% <@UDAVE|dave>"
    shown = people_text(typed)
    unescaped = re.sub(r"<@UDAVE>", "@dave", shown).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == typed.replace("<@UDAVE|dave>", "@dave")


# ---- clipping ---------------------------------------------------------------------------

def test_clip_leaves_short_text_alone():
    assert clip("short", 10) == "short"
    assert clip("exactly 10", 10) == "exactly 10"


def test_clip_cuts_and_marks_the_cut():
    assert clip("a" * 20, 10) == "a" * 9 + "…"
    assert len(clip("word " * 100, 50)) <= 50


@pytest.mark.parametrize("n", range(1, 40))
def test_clip_of_escaped_text_never_ends_inside_an_entity_or_a_mention(n):
    shown = people_text("Police & <b> partners <@UDAVE|dave> & <#CCYP> <!here> &&&")
    cut = clip(shown, n)
    assert len(cut) <= n
    body = cut.removesuffix("…")
    assert not re.search(r"&[a-z]{0,3}$", body), cut          # no "&am", "&l"
    assert not re.search(r"<[^>]*$", body), cut               # no "<@UDA"
    assert body in shown


@pytest.mark.parametrize("n", range(1, 30))
def test_clip_of_raw_text_never_cuts_a_mention_slack_sent(n):
    typed = "Agreed <@UDAVE|dave> & <#CCYP|cyp>"
    shown = people_clip(typed, n)
    assert "&lt;@" not in shown and "&lt;#" not in shown and not shown.startswith("|")
    assert not re.search(r"&[a-z]{0,3}(…|$)", shown), shown


def test_people_clip_folds_lines_when_asked():
    assert people_clip("one\n\ntwo   three", 100, one_line=True) == "one two three"
    assert people_clip("a & b " * 50, 20, one_line=True).endswith("…")


def test_safe_cut_splits_long_text_without_splitting_tokens():
    shown = people_text("&" * 1000)
    pieces, rest = [], shown
    while rest:
        cut = safe_cut(rest, 2900)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    assert "".join(pieces) == shown
    assert all(p.startswith("&amp;") and p.endswith("&amp;") and len(p) <= 2900 for p in pieces)


def test_a_section_over_block_kit_limits_keeps_whole_entities():
    msg = Message("x").add(Section(people_text("& <@UDAVE|dave> " * 200)))  # 3800 characters escaped
    texts = [b["text"]["text"] for b in msg.to_blocks() if b["type"] == "section"]
    for text in texts:
        assert len(text) <= 3000
        body = text.removesuffix("…")
        assert not re.search(r"&[a-z]{0,3}$|<[^>]*$", body) and not re.match(r"^[a-z]{1,3};|^[^<]*>", body), text


def test_the_text_fallback_never_broadcasts_from_a_summary():
    msg = Message("Position on <!channel> & <https://evil|click> for <@UDAVE>").add(Section("body"))
    text = msg.to_text()
    assert "<!channel>" not in text and "<https" not in text
    assert "<@UDAVE>" in text


# ---- words ------------------------------------------------------------------------------

@pytest.mark.parametrize("n, shown", [(0, "0 items"), (1, "1 item"), (2, "2 items"), (21, "21 items")])
def test_plural(n, shown):
    assert plural(n, "item") == shown


def test_plural_irregular():
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(3, "entry", "entries") == "3 entries"


def test_weekly_summary_names_the_week_by_its_monday_not_an_iso_week():
    from types import SimpleNamespace

    from bot.slack_ui.reminders import officer_summary

    committee = SimpleNamespace(name="Health & Care <Board>")
    msg = officer_summary(committee, [], [], date(2026, 6, 3), "2026-W23", 14)
    shown = msg.to_text() + str(msg.to_blocks())
    assert "W23" not in shown and "2026-W" not in shown
    assert "week of 1 June 2026" in msg.summary
    assert "Week of 1 June 2026" in str(msg.to_blocks())


# ---- end to end: what the harness's Slack receives ---------------------------------------

CYP = "Children and Young People Scrutiny Committee"


@pytest.fixture
def now():
    return datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)


async def _world(h):
    from bot.importing import ImportedItem
    from tests.test_position_update import item_id, load

    r = await h.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    assert "bound to the new committee" in r.text, r.text
    r = await h.command("/scrutiny", "role officer <@UBOB|bob>", user="UADMIN", channel="CCYP")
    await load(h, "sg2010", [ImportedItem("10", "Train foster carers & partners.", owners=["Cabinet Member"],
                                          due=date(2010, 9, 30), position="Agreed.")])
    h.rec10 = await item_id(h, "sg2010", "10")
    return h


async def test_a_mention_in_a_position_is_live_on_the_card_and_in_the_history(harness):
    h = await _world(harness)
    r = await h.command("/update", "rec-10 position Agreed with <@UDAVE|dave> in <#CCYP|cyp-scrutiny>",
                        user="UBOB", channel="CCYP")
    assert "Agreed with <@UDAVE> in <#CCYP>" in r.visible, r.visible
    assert "&lt;@" not in r.visible and "&lt;#" not in r.visible
    card = await h.command("/position", "rec-10", user="UDAVE", channel="CCYP")
    assert "Agreed with <@UDAVE> in <#CCYP>" in card.visible
    assert "&lt;@" not in card.visible and "|dave" not in card.visible
    assert "Train foster carers &amp; partners." in card.visible
    hist = await h.command("/position", "rec-10 history", user="UDAVE", channel="CCYP")
    assert "Agreed with <@UDAVE> in <#CCYP>" in hist.visible and "&lt;@" not in hist.visible


async def test_a_broadcast_or_a_link_in_a_position_is_shown_as_typed(harness):
    h = await _world(harness)
    await h.command("/update", "rec-10 position <!channel> read <https://evil.example|this>",
                    user="UBOB", channel="CCYP")
    card = await h.command("/position", "rec-10", user="UDAVE", channel="CCYP")
    assert "&lt;!channel&gt; read &lt;https://evil.example|this&gt;" in card.visible
    assert "<!channel>" not in card.visible + card.text and "<https" not in card.visible + card.text


async def test_a_committee_name_with_markup_characters_is_shown_escaped(harness):
    h = harness
    r = await h.command("/scrutiny", "setup hcb Health & Care <Board>", user="UADMIN", channel="CCYP")
    assert "*Health &amp; Care &lt;Board&gt;*" in r.visible, r.visible
    assert "<Board>" not in r.visible
    r = await h.command("/actions", "", user="UDAVE", channel="CCYP")
    assert "Health &amp; Care &lt;Board&gt;" in r.visible and "<Board>" not in r.visible
    r = await h.command("/meeting", "", user="UDAVE", channel="CCYP")
    assert "Health &amp; Care &lt;Board&gt;" in r.visible and "<Board>" not in r.visible


async def test_an_error_that_echoes_input_is_escaped(harness):
    h = await _world(harness)
    r = await h.command("/position", "<!here>&<b>", user="UDAVE", channel="CCYP")
    assert r.visible.startswith(":warning: ")
    assert "<!here>" not in r.visible and "<b>" not in r.visible
