"""The paper as a Word document for the agenda pack, shaped like the committee's own:
council and committee at the head, the title with its date, the purpose, a summary
chart, then the two-column table (Recommendation with its owners | Position with its
date), and "Page N of M" in the footer."""
from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from bot.core.dates import long_date

from .chart import render_chart
from .content import PaperRow, PositionPaper

FONT = "Arial"
BLACK = RGBColor(0, 0, 0)
GREY = RGBColor(0x59, 0x59, 0x59)
HEADER_FILL = "D9E2F3"
RAG_COLOUR = {"red": RGBColor(0xC0, 0, 0), "amber": RGBColor(0xB3, 0x6B, 0), "green": RGBColor(0, 0x80, 0x40)}
COLUMN = Cm(8.5)


def _set_font(style_or_run, size: float | None = None, bold: bool | None = None,
              colour: RGBColor | None = None) -> None:
    """Arial everywhere, overriding the template's theme fonts (which Word prefers)."""
    font = style_or_run.font
    font.name = FONT
    r_pr = style_or_run.element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if colour is not None:
        font.color.rgb = colour


def _setup(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)   # A4
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.header_distance = section.footer_distance = Cm(1)
    normal = doc.styles["Normal"]
    _set_font(normal, 11)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.1
    for name, size in (("Title", 15), ("Heading 1", 13), ("Heading 2", 11.5)):
        style = doc.styles[name]
        _set_font(style, size, True, BLACK)
        style.font.italic = False
        style.paragraph_format.space_before = Pt(12 if name != "Title" else 6)
        style.paragraph_format.space_after = Pt(6)
        p_pr = style.element.get_or_add_pPr()
        for border in p_pr.findall(qn("w:pBdr")):   # the template's Title has a rule under it
            p_pr.remove(border)


def _field(paragraph, instruction: str, placeholder: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word and LibreOffice fill in when laying out."""
    def char(kind):
        run = paragraph.add_run()
        fld = OxmlElement("w:fldChar")
        fld.set(qn("w:fldCharType"), kind)
        run._r.append(fld)
        return run
    char("begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    char("separate")
    paragraph.add_run(placeholder)
    char("end")


def _header_footer(doc, paper: PositionPaper) -> None:
    section = doc.sections[0]
    head = section.header.paragraphs[0]
    head.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if paper.council:
        _set_font(head.add_run(paper.council), 9, True, GREY)
        head.add_run().add_break()
    _set_font(head.add_run(paper.committee), 9, False, GREY)

    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(foot.add_run("Page "), 9, colour=GREY)
    _field(foot, "PAGE", "1")
    _set_font(foot.add_run(" of "), 9, colour=GREY)
    _field(foot, "NUMPAGES", "1")
    for run in foot.runs:
        _set_font(run, 9, colour=GREY)


def _shade(cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _repeat_as_header(row) -> None:
    """The header row is printed again at the top of every page the table runs onto."""
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _keep_on_one_page(row) -> None:
    """Don't split a row across pages (Word still breaks one taller than a page)."""
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _paragraphs(cell, text: str, prefix: str) -> None:
    """Text into a cell, one Word paragraph per paragraph, the first led by "(10)"."""
    parts = [p for p in (text or "").split("\n") if p.strip()] or [""]
    for n, part in enumerate(parts):
        p = cell.paragraphs[0] if n == 0 and not cell.paragraphs[0].text else cell.add_paragraph()
        p.add_run(f"{prefix} {part}" if n == 0 and prefix else part)


def _label_line(cell, label: str, value: str, colour: RGBColor | None = None):
    p = cell.add_paragraph()
    p.add_run(label).bold = True
    run = p.add_run(value)
    if colour is not None:
        run.font.color.rgb = colour
    return p


def _row(table, row: PaperRow) -> None:
    added = table.add_row()
    rec, pos = added.cells
    # A row of up to half a page moves whole to the next page rather than leave a
    # stray line behind; longer ones (rec 10's position) run on as the paper's own do.
    if max(len(row.text), len(row.position or "")) < 1500:
        _keep_on_one_page(added)
    prefix = f"({row.number})"
    _paragraphs(rec, row.text, prefix)
    if row.owners:
        _label_line(rec, "Owners: " if len(row.owners) > 1 else "Owner: ", "; ".join(row.owners))
    else:
        _label_line(rec, "Owner: ", "not assigned")
    if row.due:
        _label_line(rec, "Due: ", long_date(row.due))

    if row.position:
        _paragraphs(pos, row.position, prefix)
    else:
        p = pos.paragraphs[0]
        p.add_run(f"{prefix} No position has been reported yet.").italic = True
    if getattr(row, "awaiting", None):
        sent = f", submitted {long_date(row.awaiting_date)}" if row.awaiting_date else ""
        note = pos.add_paragraph()
        _set_font(note.add_run(f"Update awaiting review{sent} (not yet accepted): "), 9, True, GREY)
        _set_font(note.add_run(" ".join(row.awaiting.split())), 9, colour=GREY)
    meta = pos.add_paragraph()
    bits = []
    if row.position_date:
        bits.append(f"Position at {long_date(row.position_date)}")
    bits.append(f"Status: {row.status}")
    for n, bit in enumerate(bits):
        run = meta.add_run(("  ·  " if n else "") + bit)
        _set_font(run, 9, colour=GREY)
    if row.rag:
        _set_font(meta.add_run("  ·  RAG:\u00a0"), 9, colour=GREY)
        _set_font(meta.add_run(row.rag.capitalize()), 9, True, RAG_COLOUR[row.rag])
    for cell in (rec, pos):
        cell.width = COLUMN


def render_docx(paper: PositionPaper) -> bytes:
    doc = Document()
    _setup(doc)
    _header_footer(doc, paper)
    props = doc.core_properties
    props.title, props.subject, props.author = paper.title, paper.committee, "Scrutineer"
    props.keywords = paper.review_code or paper.committee_code

    # The cover block, as the committee's own papers set it out.
    facts = doc.add_table(rows=0, cols=2)
    facts.alignment = WD_TABLE_ALIGNMENT.LEFT
    facts.autofit = False
    facts.columns[0].width, facts.columns[1].width = Cm(3.2), Cm(13.8)
    lines = [("Council:", paper.council)] if paper.council else []
    lines += [("Committee:", paper.committee), ("Date:", long_date(paper.as_of))]
    if paper.review_title:
        agreed = f", agreed {long_date(paper.agreed_on)}" if paper.agreed_on else ""
        lines.append(("Review:", f"{paper.review_title} ({paper.review_code}){agreed}"))
    for label, value in lines:
        left, right = facts.add_row().cells
        left.width, right.width = Cm(3.2), Cm(13.8)
        left.paragraphs[0].add_run(label).bold = True
        right.paragraphs[0].add_run(value)
    doc.add_paragraph(paper.title, style="Title")

    doc.add_paragraph("Purpose of the report", style="Heading 1")
    subject = paper.heading[len("Position on "):] if paper.heading.startswith("Position on ") else paper.heading
    doc.add_paragraph(f"To set out the position to date on {subject}.")

    doc.add_paragraph("Summary", style="Heading 1")
    doc.add_paragraph(paper.summary())
    doc.add_picture(io.BytesIO(render_chart(paper)), width=Cm(16))
    picture = doc.paragraphs[-1]
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc_pr = doc.inline_shapes[0]._inline.docPr
    doc_pr.set("descr", "Chart: " + paper.summary())     # alt text for screen readers
    doc_pr.set("name", "Summary chart")

    doc.add_paragraph(paper.title.upper(), style="Heading 1")
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    table.columns[0].width = table.columns[1].width = COLUMN
    for cell, label in zip(table.rows[0].cells, ("Recommendation", "Position")):
        cell.paragraphs[0].add_run(label).bold = True
        cell.width = COLUMN
        _shade(cell, HEADER_FILL)
    _repeat_as_header(table.rows[0])
    for row in paper.rows:
        _row(table, row)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
