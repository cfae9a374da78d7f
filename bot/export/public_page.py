"""A committee's public tracker (bot/services/publication.py) as a plain HTML page and a CSV.

The page is one document with its styles inline and no script: a semantic table (caption,
column and row headers), readable at phone width (each row becomes a card below 40em),
WCAG 2.2 AA contrast (RAG is always written as a word, never colour alone), and a print
stylesheet. Every piece of text is HTML-escaped; the CSV's cells are neutralised against formulas.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import io
from html import escape

from bot.core.dates import long_date
from bot.services.publication import PublicRow, PublicTracker

from .csv_format import neutralise

CSV_COLUMNS = ("reference", "recommendation", "owners", "status", "rag", "latest position", "position date")

# Colours: text #0b0c0c on white (19.8:1); links #1d4ed8 (6.7:1); RAG badges white on #a4161a
# (7.6:1) and on #00703c (6.0:1), black on #ffbf47 (12:1). Focus: a 3px #0b0c0c outline on #ffdd00.
CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #0b0c0c; background: #fff; overflow-wrap: break-word; }
main { max-width: 75rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.75rem; line-height: 1.2; margin: 0 0 .5rem; }
p { margin: 0 0 .75rem; }
a { color: #1d4ed8; text-decoration: underline; }
a:visited { color: #4c2c92; }
a:focus { outline: 3px solid #0b0c0c; background: #ffdd00; color: #0b0c0c; }
.meta { color: #383f43; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
caption { text-align: left; font-weight: 700; font-size: 1.25rem; padding: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .5rem; border-bottom: 1px solid #6f777b; }
thead th { border-bottom: 2px solid #0b0c0c; }
td p:last-child { margin-bottom: 0; }
.rag { display: inline-block; padding: 0 .4rem; border-radius: .2rem; font-weight: 700; }
.rag-red { background: #a4161a; color: #fff; }
.rag-amber { background: #ffbf47; color: #0b0c0c; }
.rag-green { background: #00703c; color: #fff; }
.none { color: #383f43; }
@media screen and (max-width: 40em) {
  h1 { font-size: 1.4rem; }
  table, caption, tbody, tr, th, td { display: block; width: 100%; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  tr { border: 1px solid #6f777b; margin: 0 0 1rem; }
  th, td { border: 0; padding: .25rem .5rem; }
  tbody th { background: #f3f2f1; }
  td::before { content: attr(data-label) ": "; font-weight: 700; }
}
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  a { color: #0b0c0c; }
  .download { display: none; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  th, td { border: 1px solid #0b0c0c; }
  .rag { border: 1px solid #0b0c0c; background: none; color: #0b0c0c; }
}
"""

_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
# No script at all, styles only from the page itself, nothing loaded from elsewhere.
CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'none'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

NOT_FOUND_HTML = ("<!doctype html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<title>Page not found</title></head><body><main><h1>Page not found</h1>"
                  "<p>There is no published tracker at this address.</p></main></body></html>\n")


def _e(text: str | None) -> str:
    return escape(text or "", quote=True)


def _paragraphs(text: str | None) -> str:
    parts = [p.strip() for p in (text or "").split("\n") if p.strip()]
    return "".join(f"<p>{_e(p)}</p>" for p in parts)


def _date(d) -> str:
    return f'<time datetime="{d.isoformat()}">{_e(long_date(d))}</time>'


def _row(row: PublicRow) -> str:
    owners = "<br>".join(_e(o) for o in row.owners) or '<span class="none">None named</span>'
    rag = (f'<span class="rag rag-{_e(row.rag)}">{_e(row.rag.capitalize())}</span>' if row.rag
           else '<span class="none">Closed</span>')
    position = _paragraphs(row.position) or '<p class="none">No position recorded yet</p>'
    when = _date(row.position_date) if row.position_date else '<span class="none">—</span>'
    return ('<tr role="row">'
            f'<th scope="row" role="rowheader" data-label="Ref">{_e(row.ref)}</th>'
            f'<td role="cell" data-label="Recommendation">{_paragraphs(row.text)}</td>'
            f'<td role="cell" data-label="Owners">{owners}</td>'
            f'<td role="cell" data-label="Status">{_e(row.status.capitalize())}</td>'
            f'<td role="cell" data-label="RAG">{rag}</td>'
            f'<td role="cell" data-label="Latest position">{position}</td>'
            f'<td role="cell" data-label="Position date">{when}</td>'
            "</tr>")


def render_html(tracker: PublicTracker) -> str:
    title = f"{tracker.committee}: recommendations tracker"
    by = f"{_e(tracker.council)} · " if tracker.council else ""
    n = len(tracker.rows)
    rows = "\n".join(_row(r) for r in tracker.rows)
    if not rows:
        rows = '<tr role="row"><td role="cell" colspan="7">No recommendations have been recorded yet.</td></tr>'
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{_e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>{_e(title)}</h1>
<p class="meta">{by}Position at {_date(tracker.as_of)} · {n} recommendation{'s' if n != 1 else ''}</p>
<p class="download"><a href="{_e(tracker.committee_code)}.csv" download>Download this table as CSV</a></p>
<table role="table">
<caption>Recommendations of the {_e(tracker.committee)}, their owners, status, RAG rating and latest position</caption>
<thead role="rowgroup">
<tr role="row"><th scope="col" role="columnheader">Ref</th><th scope="col" role="columnheader">Recommendation</th><th scope="col" role="columnheader">Owners</th><th scope="col" role="columnheader">Status</th><th scope="col" role="columnheader">RAG</th><th scope="col" role="columnheader">Latest position</th><th scope="col" role="columnheader">Position date</th></tr>
</thead>
<tbody role="rowgroup">
{rows}
</tbody>
</table>
<p class="meta">RAG: red is overdue or off track, amber at risk, green on track; closed recommendations have none. Owners are shown by role.</p>
</main>
</body>
</html>
"""


def render_csv(tracker: PublicTracker) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in tracker.rows:
        writer.writerow([neutralise(v) for v in (
            r.ref, r.text, "; ".join(r.owners), r.status, r.rag or "", r.position or "",
            r.position_date.isoformat() if r.position_date else "")])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_filename(tracker: PublicTracker) -> str:
    return f"tracker-{tracker.committee_code}-{tracker.as_of.isoformat()}.csv"
