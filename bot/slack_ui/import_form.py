"""The /scrutiny import modal and its preview (Block Kit views)."""
from __future__ import annotations

from bot.importing import ParsedPaper
from bot.slack_ui.blocks import clip, escape
from bot.slack_ui.metadata import ImportForm

IMPORT_CALLBACK = "import_paper"
CONFIRM_CALLBACK = "import_confirm"
READING_CALLBACK = "import_reading"   # no submit button: nothing listens for it
PASTE_ROOM = 3000                     # what a plain_text_input may hold as its initial value
SHOWN_ITEMS = 20
FILETYPES = ["pdf", "docx", "xlsx", "csv", "txt", "html"]


def _input(block_id: str, label: str, element: dict, *, optional=True, hint: str | None = None) -> dict:
    b = {"type": "input", "block_id": block_id, "optional": optional,
         "label": {"type": "plain_text", "text": label}, "element": element}
    if hint:
        b["hint"] = {"type": "plain_text", "text": hint}
    return b


def _modal(callback_id: str, meta: ImportForm, submit: str, blocks: list[dict]) -> dict:
    return {"type": "modal", "callback_id": callback_id, "private_metadata": meta.dumps(),
            "title": {"type": "plain_text", "text": "Import a paper"},
            "submit": {"type": "plain_text", "text": submit},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": blocks}


def import_form(meta: ImportForm, review: str = "", *, title: str | None = None, paste: str | None = None,
                problem: str | None = None) -> dict:
    """The form; filled in again, with what went wrong above it, when a paper couldn't be read
    (an attached file must be attached again: Slack can't pre-fill a file input)."""
    code: dict = {"type": "plain_text_input", "action_id": "value", "max_length": 32,
                  "placeholder": {"type": "plain_text", "text": "sg2010"}}
    if review:
        code["initial_value"] = clip(review, 32)
    title_input: dict = {"type": "plain_text_input", "action_id": "value", "max_length": 200}
    if title:
        title_input["initial_value"] = clip(title, 200)
    paste_input: dict = {"type": "plain_text_input", "action_id": "value", "multiline": True,
                         "placeholder": {"type": "plain_text", "text": "1. Recommendation text … Owner … Position …"}}
    if paste and len(paste) <= PASTE_ROOM:
        paste_input["initial_value"] = paste
    intro = "Paste the paper's text or attach the file. You will see what I found before anything is stored."
    if problem:
        intro = f":warning: {escape(clip(problem, 1000))}\n\n{intro}"
    return _modal(IMPORT_CALLBACK, meta, "Preview", [
        {"type": "section", "text": {"type": "mrkdwn", "text": intro}},
        _input("review", "Review code", code, optional=False,
               hint="Short code for the scrutiny report, e.g. sg2010. Importing again updates it."),
        _input("title", "Review title", title_input, hint="Leave empty to use the paper's own title."),
        _input("paste", "Paste the paper", paste_input),
        _input("file", "Or attach the file",
               {"type": "file_input", "action_id": "value", "filetypes": FILETYPES, "max_files": 1},
               hint="PDF, Word, Excel, CSV, text or HTML."),
    ])


def reading_view(meta: ImportForm, what: str | None) -> dict:
    """Shown at once when the form is sent, while the paper is read (the preview replaces it)."""
    name = f"*{escape(clip(what, 200))}*" if what else "the pasted paper"
    view = _modal(READING_CALLBACK, meta, "Preview", [
        {"type": "section", "text": {"type": "mrkdwn", "text":
            f":hourglass_flowing_sand: Reading {name}…\nThis can take a few seconds; what I find will appear here."}}])
    del view["submit"]   # nothing to submit until the preview arrives
    return view


def _item_block(item) -> dict:
    owners = ", ".join(item.owners) if item.owners else ":warning: no owner"
    details = [f"Owners: {escape(owners)}", f"Due: {item.due.strftime('%-d %b %Y') if item.due else '—'}",
               f"Status: {item.status or '—'}"]
    text = f"*{escape(clip(item.number, 40))}* {escape(clip(item.text.replace(chr(10), ' '), 400))}\n" + " · ".join(details)
    if item.position:
        text += f"\n_Position:_ {escape(clip(item.position.replace(chr(10), ' '), 400))}"
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}


SHOWN_CONFLICTS = 15


def _comparison(report) -> dict:
    """What importing would change in Scrutineer (an ImportReport made with dry_run), with
    every conflict: a field changed in the paper and here since the last import."""
    lines = [f"*If you import this:* {escape(report.counts())}."]
    if report.conflicts:
        lines.append(f":warning: *{escape(report.conflicts_heading())}:*")
        lines += [f"• {escape(clip(c.describe(), 300))}" for c in report.conflicts[:SHOWN_CONFLICTS]]
        if len(report.conflicts) > SHOWN_CONFLICTS:
            lines.append(f"…and {len(report.conflicts) - SHOWN_CONFLICTS} more: "
                         + escape(", ".join(c.ref for c in report.conflicts[SHOWN_CONFLICTS:])))
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip("\n".join(lines), 3000)}}


def preview_view(meta: ImportForm, paper: ParsedPaper, kept_text: list[str] | None = None,
                 report=None) -> dict:
    """What was found, with Import / Cancel. kept_text: pasted text too long for
    private_metadata, carried in input blocks so confirm imports the same paper. report:
    what importing it would change (bot.services.imports.compare), conflicts included."""
    n = len(paper.items)
    noun = "decision" if getattr(paper, "kind", None) == "decisions" else "recommendation"
    head = f"*Found {n} {noun}{'' if n == 1 else 's'}* for review `{meta.review}`"
    if meta.title or paper.title:
        head += f" — {escape(clip(meta.title or paper.title, 200))}"
    if paper.paper_date:
        head += f"\nPositions dated {paper.paper_date.strftime('%-d %B %Y')}."
    head += "\nNothing is stored until you press *Import*."
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": clip(head, 3000)}}]
    if paper.problems:
        lines = "\n".join(f":warning: {escape(clip(p, 200))}" for p in paper.problems[:15])
        if len(paper.problems) > 15:
            lines += f"\n:warning: …and {len(paper.problems) - 15} more"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip(lines, 3000)}})
    if report is not None:
        blocks.append(_comparison(report))
    blocks.append({"type": "divider"})
    blocks += [_item_block(i) for i in paper.items[:SHOWN_ITEMS]]
    if n > SHOWN_ITEMS:
        rest = ", ".join(i.number for i in paper.items[SHOWN_ITEMS:])
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(
            f"…and {n - SHOWN_ITEMS} more: {escape(rest)}", 3000)}]})
    for k, part in enumerate(kept_text or []):
        blocks.append(_input(f"kept_{k}", "Paper text (kept for the import)" + (f", part {k + 1}" if len(kept_text) > 1 else ""),
                             {"type": "plain_text_input", "action_id": "value", "multiline": True,
                              "initial_value": part}, optional=True))
    return _modal(CONFIRM_CALLBACK, meta, "Import", blocks[:50])


def submitted_files(values: dict, block_id: str = "file") -> list[dict]:
    el = (values.get(block_id) or {}).get("value") or {}
    return list(el.get("files") or [])


def kept_parts(values: dict) -> list[str] | None:
    keys = sorted((k for k in values if k.startswith("kept_")), key=lambda k: int(k[5:]))
    if not keys:
        return None
    return [((values[k].get("value") or {}).get("value") or "") for k in keys]
