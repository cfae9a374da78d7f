"""The paper as Markdown: a heading block, an overview table, then each recommendation
with its owners and its latest position."""
from __future__ import annotations

import re

from bot.core.dates import long_date

from .content import PaperRow, PositionPaper


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _block(text: str) -> str:
    """Paragraphs kept apart; characters Markdown would act on at a line start escaped."""
    out = []
    for para in (p.strip() for p in (text or "").split("\n")):
        if not para:
            continue
        if re.match(r"([#>+*|-]|\d+[.)](\s|$))", para):
            para = "\\" + para
        out.append(para)
    return "\n\n".join(out)


def _recommendation(row: PaperRow) -> list[str]:
    label = "Owners" if len(row.owners) > 1 else "Owner"
    lines = [f"### Recommendation {row.number}", "", _block(row.text), "",
             f"**{label}:** {'; '.join(row.owners) or 'not assigned'}"
             + (f"  \n**Due:** {long_date(row.due)}" if row.due else ""), ""]
    when = f" ({long_date(row.position_date)})" if row.position_date else ""
    lines += [f"**Position{when}:**", "", _block(row.position) if row.position else "_No position reported yet._", ""]
    if getattr(row, "awaiting", None):
        sent = f", submitted {long_date(row.awaiting_date)}" if row.awaiting_date else ""
        lines += [f"**Update awaiting review{sent}** _(not yet accepted: not the latest position)_:", "",
                  _block(row.awaiting), ""]
    meta = f"Status: {row.status}" + (f" · RAG: {row.rag}" if row.rag else "")
    lines += [f"_{meta}_", ""]
    return lines


def render_markdown(paper: PositionPaper) -> bytes:
    lines = [f"# {paper.title}", ""]
    facts = ([f"**Council:** {paper.council}"] if paper.council else []) + [
        f"**Committee:** {paper.committee}", f"**Date:** {long_date(paper.as_of)}"]
    if paper.review_title:
        agreed = f", agreed {long_date(paper.agreed_on)}" if paper.agreed_on else ""
        facts.append(f"**Review:** {paper.review_title} (`{paper.review_code}`){agreed}")
    lines += ["  \n".join(facts), "", "## Summary", "", paper.summary(), "",
              "| No. | Recommendation | Owner(s) | Due | Status | RAG | Position at |",
              "|---|---|---|---|---|---|---|"]
    for row in paper.rows:
        short = _cell(row.text)
        short = short if len(short) <= 80 else short[:79].rstrip() + "…"
        lines.append("| " + " | ".join([
            _cell(row.number), short, _cell("; ".join(row.owners)) or "–",
            row.due.isoformat() if row.due else "–", row.status, row.rag or "–",
            row.position_date.isoformat() if row.position_date else "–"]) + " |")
    lines += ["", "## Recommendations and positions", ""]
    for row in paper.rows:
        lines += _recommendation(row)
    return ("\n".join(lines).rstrip() + "\n").encode("utf-8")
