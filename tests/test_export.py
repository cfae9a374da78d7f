"""The "Position on recommendations" paper: content from the database, the DOCX for the
agenda pack, Markdown, CSV and XLSX; the round trip back through the importer; the
`/scrutiny export` upload; and `scrutineer export`.

The recommendations are the seed paper's 13, read by the real importer (the demo's
rewording of the same paper where ../shared/seeds is absent), on SQLite and PostgreSQL.
"""
from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.export import FORMATS, build_position_paper, render
from bot.export.csv_format import COLUMNS
from bot.importing import ImportedItem, parse_paper
from bot.offline.demo import SG2010
from bot.services.imports import import_items
from models.tables import AuditEvent, Position, Workspace
from tests.conftest import NOW, SEED_002

CYP = "Children and Young People Policy and Scrutiny Committee"
COUNCIL = "Essex County Council"
TODAY = date(2026, 6, 1)            # NOW in Europe/London
TITLE = "Position on Safeguarding Recommendations – 1 June 2026"
NEW_POSITION = "Two reviews remain; both will be finished by the end of September."
ROOT = Path(__file__).resolve().parents[1]


async def load_recommendations(h) -> None:
    """Bind #cyp, import the 13 recommendations, then change a few things the way an
    officer would: a due date, a newer position, a status."""
    r = await h.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    assert "bound to the new committee" in r.text
    if SEED_002.exists():
        paper = parse_paper(SEED_002.read_bytes(), filename=SEED_002.name, today=TODAY)
        items, as_of, title = paper.items, paper.paper_date, paper.title
    else:
        items = [ImportedItem(number=n, text=t, owners=o, position=p,
                              status="needs clarification" if n == "8" else None) for n, t, o, p in SG2010]
        as_of, title = date(2010, 6, 1), "Position on Safeguarding Recommendations"
    assert len(items) == 13
    async with h.db.session() as s, s.begin():
        (await s.get(Workspace, "T1")).name = COUNCIL
        report = await import_items(s, team_id="T1", committee_code="cyp", review_code="sg2010", items=items,
                                    actor="UADMIN", now=NOW, title=title, agreed_on=date(2010, 6, 3),
                                    as_of=as_of, source="seed")
        assert len(report.created) == 13
    for text in ("rec-13 due 30 September 2026", f"rec-10 position {NEW_POSITION}", "rec-11 status implemented"):
        r = await h.command("/update", text, user="UADMIN", channel="CCYP")
        assert "rec-1" in r.text, r.text


async def paper_of(h, review: str | None = "sg2010"):
    async with h.db.session() as s:
        return await build_position_paper(s, "T1", "cyp", review, today=TODAY)


async def store_counts(h) -> dict[str, int]:
    async with h.db.session() as s:
        return {"positions": await s.scalar(select(func.count(Position.id))),
                "audit": await s.scalar(select(func.count(AuditEvent.id))),
                "updates": await s.scalar(select(func.count(AuditEvent.id)).where(
                    AuditEvent.action.in_(("update", "import", "position"))))}


def cell_text(cell) -> str:
    return "\n".join(p.text for p in cell.paragraphs)


# ---- the content ---------------------------------------------------------------

async def test_paper_content_from_the_database(harness):
    await load_recommendations(harness)
    paper = await paper_of(harness)
    assert paper.title == TITLE
    assert (paper.council, paper.committee, paper.review_code) == (COUNCIL, CYP, "sg2010")
    assert [r.number for r in paper.rows] == [str(n) for n in range(1, 14)]
    rows = {r.number: r for r in paper.rows}
    assert rows["4"].owners == ["Cabinet Member", "Chairman of the ESCB"]
    assert rows["5"].owners == ["Chairman of the ESCB"]       # "ESCB Chairman" is the same role
    assert rows["10"].position == NEW_POSITION and rows["10"].position_date == TODAY
    assert rows["1"].position_date == date(2010, 6, 1)
    assert rows["13"].due == date(2026, 9, 30)
    assert rows["8"].status == "needs clarification"
    assert rows["11"].status == "implemented" and rows["11"].rag is None
    assert paper.status_counts == {"in progress": 11, "needs clarification": 1, "implemented": 1}
    assert paper.rag_counts == {"red": 0, "amber": 0, "green": 12}
    # Without --review: the committee's only review.
    assert (await paper_of(harness, None)).rows == paper.rows


# ---- DOCX ----------------------------------------------------------------------

async def test_docx_has_the_papers_shape(harness):
    await load_recommendations(harness)
    data, filename, mimetype = render(await paper_of(harness), "docx")
    assert filename == "position-sg2010-2026-06-01.docx"
    assert mimetype.endswith("wordprocessingml.document")
    doc = Document(io.BytesIO(data))

    header = "\n".join(p.text for p in doc.sections[0].header.paragraphs)
    assert COUNCIL in header and CYP in header
    texts = [p.text for p in doc.paragraphs]
    assert TITLE in texts
    assert TITLE.upper() in texts          # the table's heading, as the paper prints it
    assert doc.core_properties.title == TITLE

    table = doc.tables[-1]
    assert len(table.rows) == 14
    assert [cell_text(c) for c in table.rows[0].cells] == ["Recommendation", "Position"]
    rec1, pos1 = (cell_text(c) for c in table.rows[1].cells)
    assert rec1.startswith("(1) ") and "Owner: Chairman of CYP P&SC" in rec1
    assert pos1.startswith("(1) ") and "Position at 1 June 2010" in pos1
    rec4 = cell_text(table.rows[4].cells[0])
    assert "Owners: Cabinet Member; Chairman of the ESCB" in rec4
    pos10 = cell_text(table.rows[10].cells[1])
    assert NEW_POSITION in pos10 and "Position at 1 June 2026" in pos10
    assert "Due: 30 September 2026" in cell_text(table.rows[13].cells[0])
    assert "Status: needs clarification" in cell_text(table.rows[8].cells[1])
    for number, row in enumerate(table.rows[1:], start=1):
        assert cell_text(row.cells[0]).startswith(f"({number}) ")
        assert "Owner" in cell_text(row.cells[0])

    # The summary chart is embedded as a PNG, with alt text.
    assert len(doc.inline_shapes) == 1
    images = [p for p in doc.part.related_parts.values() if p.content_type == "image/png"]
    assert len(images) == 1 and images[0].blob.startswith(b"\x89PNG")
    assert "13 recommendations" in doc.inline_shapes[0]._inline.docPr.get("descr")

    # Page numbers: PAGE (and NUMPAGES) fields in the footer.
    footer_xml = doc.sections[0].footer._element.xml
    assert "<w:instrText" in footer_xml and " PAGE " in footer_xml and " NUMPAGES " in footer_xml
    assert "Page" in doc.sections[0].footer.paragraphs[0].text


def docx_first_page_png(docx: bytes, workdir: Path) -> Path | None:
    """Test-only: the DOCX's first page as a PNG, through LibreOffice and pdftoppm
    (None where either is missing)."""
    soffice = shutil.which("libreoffice") or shutil.which("soffice")
    pdftoppm = shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        return None
    source = workdir / "paper.docx"
    source.write_bytes(docx)
    env = dict(os.environ, HOME=str(workdir))     # a profile of its own, not the user's
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(workdir), str(source)],
                   check=True, capture_output=True, timeout=180, env=env)
    subprocess.run([pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(workdir / "paper.pdf"), str(workdir / "page1")], check=True, capture_output=True, timeout=60)
    return workdir / "page1.png"


async def test_docx_first_page_renders(harness, database_url, tmp_path):
    if database_url.startswith("postgresql"):
        pytest.skip("the rendering does not depend on the store; once on SQLite is enough")
    await load_recommendations(harness)
    data, _, _ = render(await paper_of(harness), "docx")
    png = await asyncio.to_thread(docx_first_page_png, data, tmp_path)
    if png is None:
        pytest.skip("LibreOffice and pdftoppm are not installed")
    from PIL import Image
    with Image.open(png) as page:
        width, height = page.size
        assert abs(height / width - 29.7 / 21) < 0.02          # A4 portrait
        colours = page.convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 50                                    # text and a chart, not a blank page
    if keep := os.environ.get("SCRUTINEER_KEEP_RENDER"):
        shutil.copy(png, keep)


# ---- XLSX, Markdown, CSV -----------------------------------------------------------

async def test_xlsx_cells(harness):
    await load_recommendations(harness)
    data, filename, _ = render(await paper_of(harness), "xlsx")
    assert filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Position", "About"]
    ws = wb["Position"]
    assert [c.value for c in ws[1]] == list(COLUMNS)
    assert all(c.font.bold for c in ws[1])
    assert ws.max_row == 14
    assert ws["A2"].value == "1" and ws["C2"].value == "Chairman of CYP P&SC"
    assert ws["C5"].value == "Cabinet Member; Chairman of the ESCB"
    assert ws["F11"].value == NEW_POSITION
    assert ws["E9"].value == "needs clarification"
    assert ws["D14"].value.date() == date(2026, 9, 30)
    assert ws["B2"].alignment.wrap_text
    assert ws.column_dimensions["B"].width >= 60 and ws.freeze_panes == "A2"
    about = {row[0]: row[1] for row in wb["About"].iter_rows(values_only=True)}
    assert about["Title"] == TITLE and about["Committee"] == CYP


async def test_markdown(harness):
    await load_recommendations(harness)
    data, filename, mimetype = render(await paper_of(harness), "md")
    md = data.decode()
    assert filename.endswith(".md") and mimetype == "text/markdown"
    assert md.startswith(f"# {TITLE}\n")
    assert f"**Council:** {COUNCIL}" in md and f"**Committee:** {CYP}" in md
    assert md.count("### Recommendation ") == 13
    assert "| 4 | " in md and "Cabinet Member; Chairman of the ESCB" in md
    assert "**Owners:** Cabinet Member; Chairman of the ESCB" in md
    assert f"**Position (1 June 2026):**\n\n{NEW_POSITION}" in md
    assert "_Status: needs clarification · RAG: green_" in md


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_round_trip_changes_nothing(harness, fmt):
    await load_recommendations(harness)
    paper = await paper_of(harness)
    data, filename, _ = render(paper, fmt)
    if fmt == "csv":
        assert data.decode("utf-8-sig").splitlines()[0] == "number,text,owners,due,status,position"
    parsed = read_back(data, filename)
    assert not parsed.problems
    assert [i.number for i in parsed.items] == [r.number for r in paper.rows]
    before = await store_counts(harness)
    async with harness.db.session() as s, s.begin():
        report = await import_items(s, team_id="T1", committee_code="cyp", review_code="sg2010",
                                    items=parsed.items, actor="UADMIN", now=NOW, as_of=TODAY, source=filename)
    assert (report.created, report.updated, report.positions_added) == ([], [], 0)
    assert len(report.unchanged) == 13
    assert await store_counts(harness) == before
    assert (await paper_of(harness)).rows == paper.rows


def read_back(data: bytes, filename: str):
    """What `/scrutiny import` / `scrutineer import` would read from the file."""
    return parse_paper(data, filename=filename, today=TODAY)


# ---- Slack -----------------------------------------------------------------------

async def test_slash_export_uploads_the_csv(harness):
    await load_recommendations(harness)
    r = await harness.command("/scrutiny", "export csv", user="UDAVE", channel="CCYP")
    assert r.ephemeral and "uploaded" in r.text and "CSV" in r.text
    assert len(harness.slack.files) == 1
    (file_id, stored), = harness.slack.files.items()
    expected, filename, _ = render(await paper_of(harness), "csv")
    assert stored["filename"] == filename and stored["title"] == TITLE
    assert harness.slack.file_content(file_id) == expected
    shared = [m for m in harness.slack.messages_in("CCYP") if m.get("subtype") == "file_share"]
    assert len(shared) == 1 and shared[0]["files"][0]["id"] == file_id
    assert "<@UDAVE>" in shared[0]["text"] and "13 recommendations" in shared[0]["text"]


async def test_slash_export_defaults_to_docx(harness):
    await load_recommendations(harness)
    r = await harness.command("/scrutiny", "export", user="UCAROL", channel="CCYP")
    assert "Word" in r.text
    (file_id, stored), = harness.slack.files.items()
    assert stored["filename"].endswith(".docx")
    doc = Document(io.BytesIO(harness.slack.file_content(file_id)))
    assert len(doc.tables[-1].rows) == 14


@pytest.mark.parametrize("text", ["export pdf", "export dcox", "export csv xlsx"])
async def test_slash_export_bad_word_is_one_polite_line(harness, text):
    await load_recommendations(harness)
    r = await harness.command("/scrutiny", text, user="UDAVE", channel="CCYP")
    assert "\n" not in r.visible.strip() and "/scrutiny export docx" in r.visible, r.visible
    assert harness.slack.files == {}


async def test_slash_export_needs_a_committee_channel(harness):
    await load_recommendations(harness)
    r = await harness.command("/scrutiny", "export md", user="UDAVE", channel="DUDAVE")
    assert "isn't bound to a committee" in r.text
    assert harness.slack.files == {}
    r = await harness.command("/scrutiny", "help", user="UDAVE", channel="CCYP")
    assert "/scrutiny export" in r.visible


# ---- CLI -------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
async def test_cli_export_writes_the_file(harness, database_url, tmp_path, fmt):
    await load_recommendations(harness)
    out = tmp_path / f"paper.{fmt}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(DATABASE_URL=database_url, SCRUTINEER_TZ="Europe/London")
    args = [sys.executable, "-m", "bot.cli", "export", "--committee", "cyp", "--review", "sg2010",
            "--format", fmt, "--out", str(out), "--team", "T1"]
    done = await asyncio.to_thread(subprocess.run, args, cwd=ROOT, env=env, capture_output=True, text=True,
                                   timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"Wrote {out}" in done.stdout and "13 recommendations" in done.stdout
    data = out.read_bytes()
    if fmt == "docx":
        assert len(Document(io.BytesIO(data)).tables[-1].rows) == 14
    elif fmt == "xlsx":
        assert load_workbook(io.BytesIO(data))["Position"].max_row == 14
    elif fmt == "csv":
        assert len(parse_paper(data, filename="x.csv", today=TODAY).items) == 13
    else:
        assert data.decode().count("### Recommendation ") == 13

    bad = await asyncio.to_thread(subprocess.run, [*args[:5], "nope", *args[6:]], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no committee `nope`" in bad.stderr


@pytest.mark.parametrize("error,hint", [("not_in_channel", "/invite"), (None, "try again")])
async def test_slash_export_upload_refused_is_explained(harness, error, hint):
    await load_recommendations(harness)
    harness.slack.fail_next("files.getUploadURLExternal", error=error)
    r = await harness.command("/scrutiny", "export xlsx", user="UDAVE", channel="CCYP")
    assert "wouldn't take the file" in r.visible and hint in r.visible, r.visible
    assert not [m for m in harness.slack.messages_in("CCYP") if m.get("subtype") == "file_share"]


async def test_committee_paper_covers_every_review(harness):
    await load_recommendations(harness)
    async with harness.db.session() as s, s.begin():
        await import_items(s, team_id="T1", committee_code="cyp", review_code="fc2026", actor="UADMIN", now=NOW,
                           title="Foster Care Recruitment", agreed_on=date(2026, 3, 1),
                           items=[ImportedItem(number="1", text="Publish the fostering allowances.",
                                               owners=["Cabinet Member"])])
    both = await paper_of(harness, None)
    assert both.heading == f"Position on {CYP} Recommendations" and both.review_code is None
    assert len(both.rows) == 14 and both.rows[0].number == "sg2010/1" and both.rows[-1].number == "fc2026/1"
    one = await paper_of(harness, "fc2026")
    assert one.title == "Position on Foster Care Recruitment – 1 June 2026"
    assert [r.number for r in one.rows] == ["1"] and one.rows[0].position is None
    doc = Document(io.BytesIO(render(one, "docx")[0]))
    assert "No position has been reported yet" in cell_text(doc.tables[-1].rows[1].cells[1])
    r = await harness.command("/scrutiny", "export md fc2026", user="UDAVE", channel="CCYP")
    assert "Foster Care Recruitment" in r.text
    with pytest.raises(Exception, match="no review `zz9`"):
        await paper_of(harness, "zz9")
