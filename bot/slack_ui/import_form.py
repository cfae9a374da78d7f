"""The /scrutiny import modal and its preview (Block Kit views)."""
from __future__ import annotations

from bot.importing import ParsedPaper
from bot.services.imports import COLUMN_ROLES, column_role_word
from bot.slack_ui.blocks import clip, escape
from bot.slack_ui.metadata import ImportChoice, ImportForm

IMPORT_CALLBACK = "import_paper"
CONFIRM_CALLBACK = "import_confirm"
AGAIN_ACTION = "import_preview_again"   # "Preview again" under the column selects
COLUMN_BLOCK = "col_"                  # + the column's number: its role select
CHOICE_BLOCK = "conflict_"             # + a counter: keep Scrutineer's value or take the paper's
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
    for flag in (getattr(item, "flags", None) or [])[:5]:   # the importer is unsure: say so, per reason
        text += f"\n:warning: _Check:_ {escape(clip(str(flag), 200))}"
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}


SHOWN_CONFLICTS = 15   # each with its own choice; the rest keep Scrutineer's value, said so
SHOWN_COLUMNS = 15     # column selects (with the rest, a preview stays well within 100 blocks)
MAX_BLOCKS = 100       # Slack's limit for a modal
_ROLE_LABELS = {"number": "Number", "text": "Recommendation text", "owner": "Owner", "due": "Due date",
                "revised": "Revised due date", "status": "Status", "rag": "RAG rating",
                "position": "Position (progress)", "ignore": "Ignore this column"}
_HOW = {"heading": "read by its heading", "contents": "read by what its cells hold", "officer": "as you chose",
        "unrecognised": "not recognised, so left out"}


def _option(value: str, text: str) -> dict:
    return {"text": {"type": "plain_text", "text": clip(text, 75)}, "value": value}


def _columns(paper: ParsedPaper) -> list[dict]:
    """How the importer read the table, and how sure it is: a select per column (its role,
    preselected with the importer's reading) and "Preview again" to read it the officer's way."""
    sure = round(100 * float(getattr(paper, "confidence", 1.0) or 0))
    columns = list(getattr(paper, "columns", None) or [])
    if not columns:
        return [{"type": "context", "elements": [{"type": "mrkdwn", "text":
                 f"Not a table: I read the items by their numbering ({sure}% sure)."}]}]
    head = f"*How I read the table* ({sure}% sure)."
    head += (" :warning: Please check the columns: change any I took wrongly and press *Preview again*."
             if sure < 80 else " Change a column's role and press *Preview again* to read it your way.")
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
    for c in columns[:SHOWN_COLUMNS]:
        word = column_role_word(c.get("role"))
        options = [_option(w, _ROLE_LABELS[w]) for w in COLUMN_ROLES]
        label = f"Column {c.get('column')}: {' '.join(str(c.get('heading') or '(no heading)').split())}"
        how = _HOW.get(c.get("how"), str(c.get("how") or ""))
        hint = f"{how.capitalize()}, {round(100 * float(c.get('confidence') or 0))}% sure."
        blocks.append(_input(f"{COLUMN_BLOCK}{c.get('column')}", clip(label, 150),
                             {"type": "static_select", "action_id": "value", "options": options,
                              "initial_option": next(o for o in options if o["value"] == word)},
                             optional=False, hint=hint))
    if len(columns) > SHOWN_COLUMNS:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                       f"…and {len(columns) - SHOWN_COLUMNS} more columns, read as shown in the items below."}]})
    blocks.append({"type": "actions", "block_id": "columns_again", "elements": [
        {"type": "button", "action_id": AGAIN_ACTION, "text": {"type": "plain_text", "text": "Preview again"},
         "value": "again"}]})
    return blocks


def _choice(k: int, conflict) -> dict:
    keep = _option(ImportChoice(conflict.ref, conflict.field).dumps(),
                   f"Keep Scrutineer's: {conflict.shown('current')}")
    take = _option(ImportChoice(conflict.ref, conflict.field, take=True).dumps(),
                   f"Take the paper's: {conflict.shown('paper')}")
    return _input(f"{CHOICE_BLOCK}{k}", clip(conflict.describe(), 2000),
                  {"type": "radio_buttons", "action_id": "value", "options": [keep, take], "initial_option": keep},
                  optional=False)


def _comparison(report) -> list[dict]:
    """What importing would change in Scrutineer (an ImportReport made with dry_run), with
    every conflict (a field changed in the paper and here since the last import) and, for the
    first SHOWN_CONFLICTS, the choice: keep Scrutineer's value (the default) or take the paper's."""
    lines = [f"*If you import this:* {escape(report.counts())}."]
    if report.conflicts:
        lines.append(f":warning: *{escape(report.conflicts_heading())}:* unless you choose the paper's below.")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": clip("\n".join(lines), 3000)}}]
    offered = [c for c in report.conflicts
               if len(ImportChoice(c.ref, c.field, take=True).dumps()) <= 150][:SHOWN_CONFLICTS]   # an option's value
    blocks += [_choice(k, c) for k, c in enumerate(offered)]
    rest = [c for c in report.conflicts if c not in offered]
    if rest:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(
            f"…and {len(rest)} more, where Scrutineer's value will be kept: "
            + escape(", ".join(c.what for c in rest)), 3000)}]})
    return blocks


def preview_view(meta: ImportForm, paper: ParsedPaper, kept_text: list[str] | None = None,
                 report=None, note: str | None = None) -> dict:
    """What was found, with Import / Cancel. kept_text: pasted text too long for
    private_metadata, carried in input blocks so confirm imports the same paper. report:
    what importing it would change (bot.services.imports.compare), conflicts included, each
    with its choice. The table's columns each have a select of their role, and items the
    importer is unsure of say why. note: said first (e.g. that the columns couldn't be used)."""
    n = len(paper.items)
    noun = "decision" if getattr(paper, "kind", None) == "decisions" else "recommendation"
    head = f"*Found {n} {noun}{'' if n == 1 else 's'}* for review `{meta.review}`"
    if meta.title or paper.title:
        head += f" — {escape(clip(meta.title or paper.title, 200))}"
    if paper.paper_date:
        head += f"\nPositions dated {paper.paper_date.strftime('%-d %B %Y')}."
    unsure = [i for i in paper.items if getattr(i, "flags", None)]
    if unsure:
        head += (f"\n:warning: {len(unsure)} {'item' if len(unsure) == 1 else 'items'} to check, each saying why: "
                 + escape(clip(", ".join(i.number for i in unsure), 500)))
    head += "\nNothing is stored until you press *Import*."
    if note:
        head = f"{escape(clip(note, 500))}\n\n{head}"
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": clip(head, 3000)}}]
    if paper.problems:
        lines = "\n".join(f":warning: {escape(clip(p, 200))}" for p in paper.problems[:15])
        if len(paper.problems) > 15:
            lines += f"\n:warning: …and {len(paper.problems) - 15} more"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip(lines, 3000)}})
    blocks += _columns(paper)
    if report is not None:
        blocks += _comparison(report)
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
    if len(blocks) > MAX_BLOCKS:   # can't be, with the limits above; never cut the kept text
        raise ValueError(f"import preview of {len(blocks)} blocks")
    return _modal(CONFIRM_CALLBACK, meta, "Import", blocks)


def submitted_files(values: dict, block_id: str = "file") -> list[dict]:
    el = (values.get(block_id) or {}).get("value") or {}
    return list(el.get("files") or [])


def kept_parts(values: dict) -> list[str] | None:
    keys = sorted((k for k in values if k.startswith("kept_")), key=lambda k: int(k[5:]))
    if not keys:
        return None
    return [((values[k].get("value") or {}).get("value") or "") for k in keys]


def column_choices(values: dict) -> dict[int, str]:
    """{column number: role word} from the preview's column selects (a view's state values)."""
    out = {}
    for block_id, actions in values.items():
        number = block_id[len(COLUMN_BLOCK):]
        if block_id.startswith(COLUMN_BLOCK) and number.isdigit() and len(number) < 4:
            chosen = ((actions or {}).get("value") or {}).get("selected_option") or {}
            if isinstance(chosen.get("value"), str):
                out[int(number)] = chosen["value"]
    return out


def changed_columns(view: dict) -> list[str]:
    """Block ids of the column selects whose choice differs from what the preview was read with
    (the select's initial option): the preview doesn't show the paper read that way yet."""
    values = (view.get("state") or {}).get("values") or {}
    chosen = column_choices(values)
    changed = []
    for block in view.get("blocks") or []:
        block_id = block.get("block_id") or ""
        if block_id.startswith(COLUMN_BLOCK) and block_id[len(COLUMN_BLOCK):].isdigit():
            initial = ((block.get("element") or {}).get("initial_option") or {}).get("value")
            if chosen.get(int(block_id[len(COLUMN_BLOCK):]), initial) != initial:
                changed.append(block_id)
    return changed


def conflict_choices(values: dict) -> set[tuple[str, str]]:
    """(ref, field) of each conflict where the officer chose the paper's value. Raises
    UserError for a choice that is not one the preview offered."""
    take = set()
    for block_id, actions in values.items():
        if not block_id.startswith(CHOICE_BLOCK):
            continue
        chosen = ((actions or {}).get("value") or {}).get("selected_option") or {}
        choice = ImportChoice.loads(chosen.get("value"), limit=150)
        if choice.take:
            take.add((choice.ref, choice.field))
    return take

