"""The recommendations report (bot/services/reports.py) as a chart and as a paper.

The chart is drawn with matplotlib (Agg backend), imported only inside draw_chart, so the
app starts and idles without it. It is made for a phone screen: large type, the Okabe–Ito
colour-blind-safe palette, every bar labelled with its words and its number (RAG bars say
"Red – overdue" and are hatched, so colour is never the only cue), and alt text beside it.
Papers: DOCX (python-docx), XLSX (openpyxl, the chart on its own sheet) and Markdown (the
chart as a PNG file beside it). `/scrutiny report` uploads the chart to the channel."""
from __future__ import annotations

import io
import textwrap

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.dates import format_date, long_date
from bot.services import reports as rules
from bot.services.context import Ctx
from bot.services.reports import Line, Report
from bot.slack_ui import reports as words
from bot.slack_ui.blocks import Message, Section, escape

from .upload import upload_to_channel

REPORT_FORMATS = ("docx", "xlsx", "md")
MIMETYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "md": "text/markdown", "png": "image/png"}
# Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies.
BLUE, SKY, VERMILION, GREEN, ORANGE, GREY = "#0072B2", "#56B4E9", "#D55E00", "#009E73", "#E69F00", "#8C8C8C"
RAG_BARS = (("red", "Red – overdue or at risk", "#C0392B", "///"), ("amber", "Amber – due soon", ORANGE, ".."),
            ("green", "Green – on track", GREEN, ""))
ALT_LIMIT = 1000


# ---- the chart -------------------------------------------------------------------

def _change(report: Report, name: str) -> str:
    n = report.total.change(name)
    return "" if n is None else f"  ({words.signed(n) if n else '±0'})"


def chart_panels(report: Report) -> list[tuple[str, list[tuple[str, int, str, str, str]]]]:
    """(panel title, [(label, value, colour, hatch, change text)]) for each panel of the chart."""
    t = report.total.now
    c = lambda name: _change(report, name)   # noqa: E731
    return [
        ("Executive response", [("Accepted", t.accepted, BLUE, "", c("accepted")),
                                ("Partially accepted", t.partially, SKY, "", c("partially")),
                                ("Not accepted", t.not_accepted, VERMILION, "", c("not_accepted")),
                                ("Awaiting response", t.awaiting, GREY, "", c("awaiting"))]),
        ("Progress", [("Implemented", t.implemented, GREEN, "", c("implemented")),
                      ("Signed off", t.signed_off, BLUE, "", c("signed_off")),
                      ("Overdue", t.overdue, VERMILION, "///", c("overdue"))]),
        ("Open recommendations by RAG", [(label, report.rag[key], colour, hatch, "")
                                         for key, label, colour, hatch in RAG_BARS]),
    ]


def alt_text(report: Report) -> str:
    """What the chart shows, in words, for screen readers (Slack's alt_txt, the DOCX's description)."""
    t = report.total.now
    parts = [f"Bar charts of the {t.made} recommendations of {', '.join(report.committees)} "
             f"on {long_date(report.today)}."]
    for title, bars in chart_panels(report):
        parts.append(f"{title}: " + ", ".join(f"{label} {value}{change.strip() and ' ' + change.strip()}"
                                              for label, value, _, _, change in bars) + ".")
    if report.since is not None:
        parts.append(f"Changes in brackets are {words.since_phrase(report)}.")
    text = " ".join(parts)
    return text if len(text) <= ALT_LIMIT else text[:ALT_LIMIT - 1].rstrip() + "…"


def draw_chart(report: Report) -> bytes:
    """The report's chart as a PNG, 1200 pixels wide."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    panels = chart_panels(report)
    rows = sum(len(bars) for _, bars in panels)
    fig = Figure(figsize=(8, 2.4 + 0.72 * rows + 0.9 * len(panels)), dpi=150)
    fig.patch.set_facecolor("white")
    title = textwrap.fill(f"{', '.join(report.committees)}", 38)
    fig.suptitle(f"{title}\nRecommendations at {format_date(report.today)}", fontsize=19, fontweight="bold",
                 x=0.02, ha="left", y=0.99)
    heights = [len(bars) for _, bars in panels]
    grid = fig.add_gridspec(len(panels), 1, height_ratios=heights, hspace=0.42,
                            left=0.38, right=0.84, top=1 - 1.5 / fig.get_figheight(), bottom=0.06)
    most = max([1] + [v for _, bars in panels for _, v, _, _, _ in bars])
    for n, (panel_title, bars) in enumerate(panels):
        ax = fig.add_subplot(grid[n])
        labels = [label for label, *_ in bars]
        values = [v for _, v, *_ in bars]
        ys = list(range(len(bars)))[::-1]
        ax.barh(ys, values, height=0.68, color=[b[2] for b in bars], hatch=None, edgecolor="#222222",
                linewidth=1.2)
        for y, (_, v, colour, hatch, change) in zip(ys, bars):
            if hatch:
                ax.barh([y], [v], height=0.68, color="none", hatch=hatch, edgecolor="white", linewidth=0)
            ax.text(v + most * 0.02, y, f"{v}{change}", va="center", ha="left", fontsize=17, fontweight="bold",
                    color="#111111")
        ax.set_yticks(ys, labels, fontsize=16)
        ax.set_xlim(0, most * 1.18)
        ax.set_xticks([])
        ax.set_title(panel_title, fontsize=17, fontweight="bold", loc="left", x=-0.62, pad=8)
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0, pad=8)
    if report.since is not None:
        fig.text(0.02, 0.012, f"(+n / −n): change {words.since_phrase(report)}", fontsize=13, color="#333333")
    out = io.BytesIO()
    fig.savefig(out, format="png", facecolor="white")
    return out.getvalue()


# ---- the paper's tables -------------------------------------------------------------

BREAKDOWN_HEADER = ["Made", "Accepted", "Partly accepted", "Not accepted", "Implemented", "Signed off",
                    "Overdue", "Average days to implement", "Longest"]


def _breakdown_row(line: Line) -> list:
    t = line.now
    avg = round(t.average_days) if t.average_days is not None else "—"
    longest = t.longest_days if t.longest_days is not None else "—"
    row = [line.label, t.made, t.accepted, t.partially, t.not_accepted, t.implemented, t.signed_off, t.overdue,
           avg, longest]
    if line.then is not None:
        row.append(words.change_sentence(line))
    return row


def tables(report: Report) -> list[tuple[str, list[str], list[list]]]:
    """(title, header, rows) of every table in the paper, in order."""
    compare = report.since is not None
    when = format_date(report.since) if compare else ""
    figures = [[label, getattr(report.total.now, name)] + (
        [getattr(report.total.then, name), words.signed(report.total.change(name))] if compare else [])
        for name, label in rules.FIGURES]
    t = report.total.now
    figures.append(["Average days to implement", round(t.average_days) if t.average_days is not None else "—"]
                   + (["", ""] if compare else []))
    figures.append(["Longest days to implement", t.longest_days if t.longest_days is not None else "—"]
                   + (["", ""] if compare else []))
    out = [("Figures", ["Figure", f"At {format_date(report.today)}"] + ([f"At {when}", "Change"] if compare else []),
            figures)]
    tail = ["Change"] if compare else []
    for title, lines in (("By committee", report.by_committee if len(report.by_committee) > 1 else []),
                         ("By owner", report.by_owner), ("By partner agency", report.by_agency)):
        if lines:
            out.append((title, [title.split()[-1].capitalize()] + BREAKDOWN_HEADER + tail,
                        [_breakdown_row(x) for x in lines]))
    return out


INDICATOR_HEADER = ["Indicator", "Latest period", "Latest figure", "Target", "RAG", "Direction of travel", "Owner"]


def indicator_rows(standings) -> list[list]:
    """The paper's "Indicators" table: each indicator's latest figure, target, RAG and direction."""
    from bot.slack_ui import indicators as ind_words

    rows = []
    for st in standings:
        ind = st.indicator
        target = (f"{ind_words.figure(ind.target, ind.unit)} ({'lower' if ind.lower_is_better else 'higher'} is better)"
                  if ind.target is not None else "no target")
        owner = ind.owner_role.name if ind.owner_role is not None else "—"
        if st.latest is None:
            rows.append([ind.name, "—", "no figures yet", target, "—", "—", owner])
            continue
        rag = st.rag.capitalize() if st.rag else "no target"
        trend = ind_words.direction_text(st) or "—"
        rows.append([ind.name, st.latest.period.label, ind_words.figure(st.latest.value, ind.unit), target, rag,
                     trend, owner])
    return rows


def indicator_history_rows(st) -> list[list]:
    """One indicator's figures by period, oldest first (the table beside its chart)."""
    from bot.services.indicators import rag as rag_of
    from bot.slack_ui import indicators as ind_words

    ind = st.indicator
    return [[p.period.label, ind_words.figure(p.value, ind.unit),
             (rag_of(p.value, ind.target, ind.lower_is_better) or "—").capitalize(), p.note or ""]
            for p in st.points]


def indicator_charts(standings) -> list[tuple[object, bytes, str]]:
    """(standing, PNG, alt text) for each indicator with figures."""
    from .indicator_chart import alt_text as ind_alt
    from .indicator_chart import draw_indicator_chart

    return [(st, draw_indicator_chart(st), ind_alt(st)) for st in standings if st.points]


def summary_paragraphs(report: Report) -> list[str]:
    t = report.total.now
    paras = [words.response_sentence(t), words.progress_sentence(t),
             "Open recommendations by RAG: " + ", ".join(f"{report.rag[k]} {k}" for k in ("red", "amber", "green"))
             + ".", words.time_sentence(report)]
    change = words.change_sentence(report.total)
    paras.append(f"Change {words.since_phrase(report)}: {change}." if change is not None else
                 "This is the first report: the next one shows the change since today.")
    if report.by_owner and any(len(x.now.days) or x.now.made for x in report.by_owner):
        paras.append("An item with several owners is counted under each of them.")
    return paras


# ---- the papers ------------------------------------------------------------------------

def render_docx(report: Report, chart: bytes, indicators=()) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    from .docx import _setup

    doc = Document()
    _setup(doc)
    props = doc.core_properties
    props.title, props.subject, props.author = report.title, ", ".join(report.committees), "Scrutineer"
    doc.add_paragraph(report.title, style="Title")
    doc.add_paragraph("Summary", style="Heading 1")
    for p in summary_paragraphs(report):
        doc.add_paragraph(p)
    doc.add_picture(io.BytesIO(chart), width=Cm(15))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc_pr = doc.inline_shapes[0]._inline.docPr
    doc_pr.set("descr", alt_text(report))
    doc_pr.set("name", "Recommendations chart")
    for title, header, rows in tables(report):
        doc.add_paragraph(title, style="Heading 1")
        _docx_table(doc, header, rows)
    _docx_indicators(doc, indicators)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _docx_table(doc, header, rows) -> None:
    """A grid table: a shaded heading row repeated on every page, 9 pt text."""
    from docx.shared import Pt

    from .docx import HEADER_FILL, _repeat_as_header, _shade

    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, label in zip(table.rows[0].cells, header):
        run = cell.paragraphs[0].add_run(str(label))
        run.bold = True
        run.font.size = Pt(9)
        _shade(cell, HEADER_FILL)
    _repeat_as_header(table.rows[0])
    for row in rows:
        for cell, value in zip(table.add_row().cells, row):
            cell.paragraphs[0].add_run(str(value)).font.size = Pt(9)


def _docx_indicators(doc, standings) -> None:
    """The paper's "Indicators" section: the table, then each indicator's chart and figures."""
    if not standings:
        return
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    doc.add_paragraph("Indicators", style="Heading 1")
    _docx_table(doc, INDICATOR_HEADER, indicator_rows(standings))
    for st, png, alt in indicator_charts(standings):
        doc.add_paragraph(st.indicator.name, style="Heading 2")
        doc.add_picture(io.BytesIO(png), width=Cm(14))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        doc_pr = doc.inline_shapes[len(doc.inline_shapes) - 1]._inline.docPr
        doc_pr.set("descr", alt)
        doc_pr.set("name", f"{st.indicator.name} chart"[:100])
        _docx_table(doc, ["Period", "Figure", "RAG", "Note"], indicator_history_rows(st))


def render_xlsx(report: Report, chart: bytes, indicators=()) -> bytes:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Alignment, Font

    from .xlsx import HEADER_FILL, HEADER_FONT, clean_cell

    wb = Workbook()
    ws = wb.active
    ws.title = "Report"
    ws.append([report.title])
    ws["A1"].font = Font(bold=True, size=14)
    for p in summary_paragraphs(report):
        ws.append([p])
    for title, header, rows in tables(report):
        ws.append([])
        ws.append([title])
        ws.cell(ws.max_row, 1).font = Font(bold=True, size=12)
        ws.append(header)
        for cell in ws[ws.max_row]:
            cell.fill, cell.font = HEADER_FILL, HEADER_FONT
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in rows:
            ws.append([clean_cell(v) if isinstance(v, str) else v for v in row])
    ws.column_dimensions["A"].width = 40
    for col in "BCDEFGHIJK":
        ws.column_dimensions[col].width = 13
    sheet = wb.create_sheet("Chart")
    sheet["A1"] = clean_cell(alt_text(report))
    sheet["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 120
    sheet.row_dimensions[1].height = 90
    image = Image(io.BytesIO(chart))
    image.width, image.height = image.width // 2, image.height // 2
    sheet.add_image(image, "A3")
    if indicators:
        _xlsx_indicators(wb, indicators)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _xlsx_indicators(wb, standings) -> None:
    """An "Indicators" sheet: the table, then each indicator's figures by period and its chart."""
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Alignment, Font

    from .xlsx import HEADER_FILL, HEADER_FONT, clean_cell

    ws = wb.create_sheet("Indicators")

    def header(cells):
        ws.append(cells)
        for cell in ws[ws.max_row]:
            cell.fill, cell.font = HEADER_FILL, HEADER_FONT
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    ws.append(["Indicators"])
    ws.cell(ws.max_row, 1).font = Font(bold=True, size=14)
    header(INDICATOR_HEADER)
    for row in indicator_rows(standings):
        ws.append([clean_cell(v) if isinstance(v, str) else v for v in row])
    for st, png, alt in indicator_charts(standings):
        ws.append([])
        ws.append([clean_cell(st.indicator.name)])
        ws.cell(ws.max_row, 1).font = Font(bold=True, size=12)
        header(["Period", "Figure", "RAG", "Note"])
        for period, _, rag, note in indicator_history_rows(st):
            value = next(p.value for p in st.points if p.period.label == period)
            ws.append([period, value, rag, clean_cell(note)])
        ws.append([clean_cell(alt)])
        ws.cell(ws.max_row, 1).alignment = Alignment(wrap_text=False)
        image = Image(io.BytesIO(png))
        image.width, image.height = image.width // 2, image.height // 2
        ws.add_image(image, f"A{ws.max_row + 1}")
        for _ in range(22):          # room for the image before the next indicator
            ws.append([])
    ws.column_dimensions["A"].width = 40
    for col in "BCDEFG":
        ws.column_dimensions[col].width = 18


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report, image_name: str, indicators=(), indicator_images: dict | None = None) -> bytes:
    lines = [f"# {report.title}", ""]
    for p in summary_paragraphs(report):
        lines += [p, ""]
    lines += [f"![{_md_cell(alt_text(report)).replace(']', ')')}]({image_name})", ""]
    for title, header, rows in tables(report):
        lines += [f"## {title}", "", "| " + " | ".join(_md_cell(h) for h in header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
        lines.append("")
    lines += _md_indicators(indicators, indicator_images or {})
    return "\n".join(lines).encode()


def _md_table(header, rows) -> list[str]:
    return (["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows] + [""])


def _md_indicators(standings, images: dict) -> list[str]:
    """The "Indicators" section; images: indicator id -> (file name, alt text) of its chart."""
    if not standings:
        return []
    lines = ["## Indicators", ""] + _md_table(INDICATOR_HEADER, indicator_rows(standings))
    for st in standings:
        if not st.points:
            continue
        lines += [f"### {_md_cell(st.indicator.name)}", ""]
        if st.indicator.id in images:
            name, alt = images[st.indicator.id]
            lines += [f"![{_md_cell(alt).replace(']', ')')}]({name})", ""]
        lines += _md_table(["Period", "Figure", "RAG", "Note"], indicator_history_rows(st))
    return lines


def render_report(report: Report, fmt: str, stem: str | None = None, indicators=()) -> tuple[bytes, str, dict[str, bytes]]:
    """(the paper, its file name, files to write beside it) in one of REPORT_FORMATS; stem:
    the file name without its extension (default: report-<committee>-<date>). indicators: the
    committee's (bot.services.indicators.standings_of), for the paper's "Indicators" section,
    with a chart of each one's figures by period."""
    chart = draw_chart(report)
    stem = stem or report.file_stem
    name = f"{stem}.{fmt}"
    if fmt == "docx":
        return render_docx(report, chart, indicators), name, {}
    if fmt == "xlsx":
        return render_xlsx(report, chart, indicators), name, {}
    if fmt == "md":
        image = f"{stem}.png"
        beside = {image: chart}
        images = {}
        for st, png, alt in indicator_charts(indicators):
            file = f"{stem}-{st.indicator.slug[:60]}.png"
            beside[file] = png
            images[st.indicator.id] = (file, alt)
        return render_markdown(report, image, indicators, images), name, beside
    raise ValueError(f"unknown report format {fmt!r}; one of {', '.join(REPORT_FORMATS)}")


# ---- Slack -----------------------------------------------------------------------------

async def report_to_channel(session: AsyncSession, ctx: Ctx, client, text: str) -> Message:
    """`/scrutiny report [code] [since <when>]`: upload the chart to the channel, remember the
    report, and answer with the figures."""
    if text.strip().lower() in ("help", "?", "-h", "--help"):
        usage = f"*/scrutiny report* posts how this committee's recommendations fare, with a chart: {rules.USAGE}."
        return Message(usage).add(Section(usage))
    code, since = rules.parse_report_words(text, ctx.today)
    committee = await rules.report_committee(session, ctx, code)
    report = await rules.build_report(session, ctx.team_id, [committee], now=ctx.now, tz=ctx.tz, since=since)
    chart = draw_chart(report)
    await upload_to_channel(
        client, ctx.channel_id, "chart", file=chart, filename=f"{report.file_stem}.png", title=report.title,
        alt_txt=alt_text(report),
        initial_comment=f"<@{ctx.user_id}> made a recommendations report for *{escape(committee.name)}*. "
                        f"{words.response_sentence(report.total.now)} {words.progress_sentence(report.total.now)}")
    rules.record_report(session, team_id=ctx.team_id, actor=ctx.user_id, now=ctx.now, committees=[committee],
                        report=report)
    return words.report_message(report)


__all__ = ["REPORT_FORMATS", "alt_text", "draw_chart", "indicator_rows", "render_report", "report_to_channel",
           "tables"]
