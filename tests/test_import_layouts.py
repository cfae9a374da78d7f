"""bot.importing: the tracker layouts, numbering styles, owner columns, dates,
status words and file formats of real published papers.

The papers in tests/data/papers are TEST DATA written for these tests (fictional
councils); the Word, Excel and PDF ones are built by tests/data/make_import_papers.py.
"""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.importing import PaperFormatError, parse_paper
from bot.importing.columns import column_role
from bot.importing.common import clean_ref, line_number, read_due, read_status

DATA = Path(__file__).resolve().parent / "data"
PAPERS = DATA / "papers"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
sys.path.insert(0, str(DATA))


def _norm(text):
    import re
    return " ".join(re.sub(r"[^\w£%]+", " ", (text or "").lower()).split())


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    pytest.importorskip("docx")
    pytest.importorskip("openpyxl")
    from make_import_papers import build
    out = tmp_path_factory.mktemp("papers")
    build(out)
    return out


def _specs(prefix: str):
    return sorted(p.name for p in PAPERS.glob(f"{prefix}*.expected.json"))


def _check(spec: dict, path: Path, strict: bool = True):
    paper = parse_paper(path.read_bytes(), filename=path.name,
                        today=date.fromisoformat(spec["today"]))
    assert paper.kind == spec["kind"]
    got = [i.as_json() for i in paper.items]
    assert [g["number"] for g in got] == [e["number"] for e in spec["items"]]
    for g, e in zip(got, spec["items"]):
        assert _norm(g["text"]) == _norm(e["text"]), e["number"]
        assert sorted(g["owners"]) == sorted(e["owners"]), e["number"]
        assert g["due"] == e["due"], e["number"]
        assert g["status"] == e["status"], e["number"]


# --- each layout: the tuned test papers read exactly --------------------------

@pytest.mark.parametrize("name", _specs("t"))
def test_layout_paper_reads_as_expected(name, generated):
    spec = json.loads((PAPERS / name).read_text(encoding="utf-8"))
    path = generated / spec["paper"] if spec.get("generated") else PAPERS / spec["paper"]
    _check(spec, path)


@pytest.mark.parametrize("name", [n for n in _specs("h") if json.loads(
    (PAPERS / n).read_text(encoding="utf-8")).get("set") == "tuning"])
def test_once_held_out_papers_now_tuned_on_read_as_expected(name):
    spec = json.loads((PAPERS / name).read_text(encoding="utf-8"))
    assert spec.get("was_held_out"), name
    _check(spec, PAPERS / spec["paper"])


def test_every_test_paper_is_labelled_as_test_data(generated):
    for path in list(PAPERS.glob("*.txt")) + list(PAPERS.glob("*.html")):
        assert "TEST DATA" in path.read_text(encoding="utf-8").split("\n")[0], path.name


@pytest.mark.parametrize("name", ["002_32c8a528e5124c67.txt", "004_132967f8bf7e4b89.txt",
                                  "paper08.txt", "paper09.txt"])
def test_published_excerpts_when_present(name):
    path = next((p for p in (SHARED / "seeds" / name, SHARED / "papers" / name) if p.exists()),
                None)
    if path is None:
        pytest.skip("../shared not present")
    spec = json.loads((PAPERS / "expected_shared" / (name[:-4] + ".expected.json")).read_text())
    paper = parse_paper(path.read_bytes(), filename=name, today=date.fromisoformat(spec["today"]))
    assert paper.kind == spec["kind"]
    assert [i.number for i in paper.items] == [e["number"] for e in spec["items"]]


# --- numbering styles -----------------------------------------------------------

@pytest.mark.parametrize("written, number", [
    ("(1)", "1"), ("1.", "1"), ("a)", "a"), ("R1", "R1"), ("Recommendation 3", "3"),
    ("SC7", "SC7"), ("02.11", "02.11"), ("41.3", "41.3"), ("BD 12/19(c)", "BD 12/19(c)"),
    ("SR (24/25) 07", "SR (24/25) 07"), ("3.0", "3"),
])
def test_number_cells_keep_their_written_form(written, number):
    assert clean_ref(written) == number


@pytest.mark.parametrize("line, number", [
    ("(1) The council should", "1"), ("1. The council should", "1"), ("a) the report", "a"),
    ("R1 - Review the resources", "R1"), ("Recommendation 3: That", "3"),
    ("SC7 Report back", "SC7"), ("02.11 Bring the plan", "02.11"), ("41.3 That a task", "41.3"),
    ("BD 12/19(c) Board website", "BD 12/19(c)"), ("SR (24/25) 07 That", "SR (24/25) 07"),
])
def test_numbers_at_the_start_of_a_line(line, number):
    assert line_number(line)[0] == number


def test_dates_and_prose_are_not_numbers():
    assert clean_ref("17.7.12") is None and clean_ref("01/01/26") is None
    assert line_number("2 weeks later the board met") is None
    assert line_number("10.05.2023 was the date") is None


# --- owner columns and owners ----------------------------------------------------

@pytest.mark.parametrize("heading", ["Owner", "Owners", "Lead", "Lead Officer", "Responsibility",
                                     "Recommendation made to", "Cabinet Member", "Lead Officer/EM",
                                     "Lead¹", "Responsibility (2)"])
def test_owner_column_names(heading):
    assert column_role(heading) == "owners"


@pytest.mark.parametrize("heading, role", [
    ("Target date*", "due"), ("New date", "new_due"), ("Revised date", "new_due"),
    ("Timescale", "due"), ("Status³", "status"), ("RAG", "rag"), ("Action taken", "position"),
    ("Ref", "number"), ("Action", "text"), ("Executive response", "status")])
def test_other_column_names_with_footnote_markers(heading, role):
    assert column_role(heading) == role


@pytest.mark.parametrize("cell, owners", [
    ("AB/CD", ["AB", "CD"]), ("DoF/DoN", ["DoF", "DoN"]),
    ("Head of Finance; Head of HR", ["Head of Finance", "Head of HR"]),
    ("Highways Manager and Cabinet Member for Transport",
     ["Highways Manager", "Cabinet Member for Transport"]),
])
def test_owners_split_on_slash_semicolon_and(cell, owners):
    text = f"Ref,Action,Owner\n1,Do it,\"{cell}\"\n"
    paste = "\n".join(["Ref |", "Action |", "Owner |", "|", "1 |", "Do it |", f"{cell} |", "|"])
    assert parse_paper(paste, today=date(2024, 1, 1)).items[0].owners == owners
    assert text  # the CSV form keeps ";" only, as before (see test_import_parse)


# --- dates ------------------------------------------------------------------------

PAPER_DAY = date(2014, 1, 10)


@pytest.mark.parametrize("written, due", [
    ("June", date(2014, 6, 30)), ("30 Sept", date(2014, 9, 30)), ("17.7.12", date(2012, 7, 17)),
    ("10.05.2023", date(2023, 5, 10)), ("14 Aug", date(2014, 8, 14)),
    ("by 28 February 2014", date(2014, 2, 28)), ("Ongoing – revised to 30 Sept", date(2014, 9, 30)),
    ("Ongoing", None), ("TBC", None),
])
def test_dates_as_written_take_the_papers_year(written, due):
    assert read_due(written, PAPER_DAY, today=date(2030, 1, 1)) == due


@pytest.mark.parametrize("written, due", [
    ("In progress - target 15 May, revised date 20 Nov", date(2014, 11, 20)),
    ("Target 1 March; new date: 9 June", date(2014, 6, 9)),
    ("28 Feb (now 31 March)", date(2014, 3, 31)),
    ("Deadline extended to 12 Dec", date(2014, 12, 12)),
    ("Renew the new contract by 3 April", date(2014, 4, 3)),   # "new" without a date after it
])
def test_revised_date_overrides_the_target_in_the_same_words(written, due):
    assert read_due(written, PAPER_DAY, today=date(2030, 1, 1)) == due


def test_revised_date_in_an_inline_status_line():
    paste = ("Action tracker, 2 May 2016\n\n"
             "XY 01/16(a) Parking review\nConsult residents on the parking zones.\n"
             "Status: In progress \u2013 target 30 June, revised date 15 Sept / LM/PQ\n")
    item = parse_paper(paste, today=date(2016, 5, 3)).items[0]
    assert (item.number, item.due, item.owners) == ("XY 01/16(a)", date(2016, 9, 15), ["LM", "PQ"])


def test_new_date_column_overrides_target_date():
    paste = "\n".join(["Ref |", "Action |", "Target date |", "New date |", "|",
                       "1 |", "Do it |", "June |", "14 Aug |", "|",
                       "2 |", "Do that |", "June |", " ", "|"])
    items = parse_paper("Tracker, 3 March 2015\n" + paste, today=date(2020, 1, 1)).items
    assert [i.due for i in items] == [date(2015, 8, 14), date(2015, 6, 30)]


# --- status words -----------------------------------------------------------------

@pytest.mark.parametrize("written, status", [
    ("Actioned", "implemented"), ("Pending", "not started"), ("Not yet due", "not started"),
    ("Completed", "implemented"), ("Ongoing", "in progress"), ("Paused", "in progress"),
    ("on hold", "in progress"), ("Proposed for Closure", "implemented"),
    ("Agreed", "in progress"), ("Accepted", "in progress"),
    ("Partially accepted", "in progress"), ("Red", "in progress"), ("Amber", "in progress"),
    ("Green", "in progress"), ("1 Achieved (Fully)", "implemented"), ("2 On Track", "in progress"),
    ("3 Slipped", "in progress"), ("4 Not Achieved", "not accepted"),
    ("Complete – proposed for closure", "implemented"), ("e.g. Paused", "in progress"),
    ("Rejected", "not accepted"), ("nonsense", None),
])
def test_status_words(written, status):
    assert read_status(written) == status


def test_status_as_written_is_kept_as_the_position():
    paper = parse_paper((PAPERS / "t04_rows.txt").read_text(encoding="utf-8"),
                        today=date(2012, 7, 10))
    assert [i.position for i in paper.items][:3] == ["Actioned", "Pending", "Not yet due"]


# --- minutes ------------------------------------------------------------------------

def test_minutes_inline_parts_and_kind():
    paper = parse_paper("Minutes of 3 May 2024\n\nResolved – That (1) the report be noted; "
                        "(2) the Director report back by 30 June 2024.\n", today=date(2024, 5, 4))
    assert paper.kind == "decisions"
    assert [(i.number, i.text, i.due) for i in paper.items] == [
        ("1", "the report be noted", None),
        ("2", "the Director report back by 30 June 2024.", date(2024, 6, 30))]


def test_decisions_printed_twice_are_kept_once():
    block = "Resolved\n(1) That the policy be approved.\n(2) That the update be noted.\n"
    paper = parse_paper("Decision:\n" + block + "Minutes:\nThe report was presented.\n" + block,
                        today=date(2024, 1, 1))
    assert [i.number for i in paper.items] == ["1", "2"]


def test_resolution_parts_numbered_without_a_dot():
    paste = ("Minutes of the meeting on 5 June 2021\n\n12 Library Opening Hours\n\n"
             "RESOLVED:\n1 That the consultation results be noted.\n"
             "2 That the Libraries Manager reports back on Sunday opening by 30 September 2021.\n"
             "\n13 Any Other Business\n\nNone.\n")
    paper = parse_paper(paste, today=date(2021, 6, 6))
    assert paper.kind == "decisions"
    assert [(i.number, i.text, i.due) for i in paper.items] == [
        ("1", "That the consultation results be noted.", None),
        ("2", "That the Libraries Manager reports back on Sunday opening by 30 September 2021.",
         date(2021, 9, 30))]


def test_bare_numbers_must_run_in_order_to_be_resolution_parts():
    paste = ("Minutes, 5 June 2021\n\nRESOLVED:\n1 That the minutes be signed.\n"
             "3 That nothing else be done.\n")
    assert [i.number for i in parse_paper(paste, today=date(2021, 6, 6)).items] == ["1"]


def test_two_resolutions_numbered_from_one_are_both_kept():
    paste = ("Minutes of the meeting on 5 June 2021\n\n"
             "20 Play Areas\nRESOLVED:\n1. That the survey be noted.\n"
             "2. That the swings be replaced.\n\n"
             "21 Cemetery Fees\nRESOLVED:\n1. That the survey be noted.\n"
             "2. That the fees rise by 3%.\n")
    paper = parse_paper(paste, today=date(2021, 6, 6))
    assert [(i.number, i.text) for i in paper.items] == [
        ("1", "That the survey be noted."), ("2", "That the swings be replaced."),
        ("1", "That the survey be noted."), ("2", "That the fees rise by 3%.")]
    assert "Decision 1: the number is used again by a later resolution" in paper.problems


# --- rows with no delimiter, fixed width, blocks: owners and where a table ends ---------

@pytest.mark.parametrize("row, text, owners", [
    ("1 Mend the gate by the pond Grounds Maintenance Officer 3 May Pending",
     "Mend the gate by the pond", ["Grounds Maintenance Officer"]),
    ("1 Update the lettings policy Halls Steering Group 3 May Pending",
     "Update the lettings policy", ["Halls Steering Group"]),
    ("1 Fix the lights ICT & Facilities Manager 3 May Pending",
     "Fix the lights", ["ICT & Facilities Manager"]),
    ("1 Cut the hedge on Mill Lane Clerk 3 May Pending", "Cut the hedge on Mill Lane", ["Clerk"]),
    ("1 Report the potholes Head of Highways 3 May Pending", "Report the potholes",
     ["Head of Highways"]),
])
def test_row_owner_titles_take_their_capitalised_qualifiers(row, text, owners):
    paste = f"Actions, 1 April 2022\nNo. Action Owner Due Status\n{row}\n2 Do it JB 4 May Pending\n"
    item = parse_paper(paste, today=date(2022, 4, 2)).items[0]
    assert (item.text, item.owners) == (text, owners)


@pytest.mark.parametrize("footer", ["Next meeting: 6 June 2022 at 7pm.",
                                    "Date of next meeting \u2013 6 June 2022",
                                    "Signed: ..............."])
def test_rows_stop_at_the_end_matter(footer):
    paste = ("Actions, 1 April 2022\nNo. Action Owner Due Status\n"
             "1 Paint the railings Clerk 3 May Pending\n2 Order new bins RFO June Ongoing\n"
             f"Page 1 of 1\n{footer}\n")
    items = parse_paper(paste, today=date(2022, 4, 2)).items
    assert [(i.number, i.text) for i in items] == [("1", "Paint the railings"),
                                                   ("2", "Order new bins")]


def test_blocks_stop_at_the_end_matter():
    paste = ("Actions, 1 April 2022\n\nR1 - Paint the railings.\nOwner: Clerk\n\n"
             "R2 - Order new bins.\nOwner: RFO\n\nDate of next meeting: 6 June 2022.\n")
    items = parse_paper(paste, today=date(2022, 4, 2)).items
    assert [(i.number, i.text) for i in items] == [("R1", "Paint the railings."),
                                                   ("R2", "Order new bins.")]


def test_fixed_width_group_heading_across_the_first_column_edge():
    paste = "\n".join([
        "Log, 2 May 2021",
        "No.  Action                        Owner          Due",
        "SEPTEMBER 2020",
        "A1   Survey the play area          Parks Manager  June",
        "     and report back.",
        "OCTOBER 2020",
        "A2   Clear the culvert             Clerk and      July",
        "                                   Cllr Shah",
        "Next meeting: 9 June 2021",
        "     A note nobody should read as a cell."])
    items = parse_paper(paste, today=date(2021, 5, 3)).items
    assert [(i.number, i.text, i.owners) for i in items] == [
        ("A1", "Survey the play area and report back.", ["Parks Manager"]),
        ("A2", "Clear the culvert", ["Clerk", "Cllr Shah"])]


# --- file formats --------------------------------------------------------------------

@pytest.mark.parametrize("name, fmt", [("t11_docx.docx", "docx"), ("t12_xlsx.xlsx", "xlsx"),
                                       ("t13_pdf.pdf", "pdf")])
def test_binary_formats_auto_and_named(generated, name, fmt):
    content = (generated / name).read_bytes()
    auto = parse_paper(content, today=date(2024, 1, 1))  # no file name: sniffed from the bytes
    named = parse_paper(content, filename=name, fmt=fmt, today=date(2024, 1, 1))
    assert [i.number for i in auto.items] == [i.number for i in named.items]
    assert len(auto.items) == 4


def test_html_text_and_csv_formats():
    html = (PAPERS / "t10_html.html").read_text(encoding="utf-8")
    assert len(parse_paper(html, fmt="html", today=date(2021, 9, 10)).items) == 4
    text = (PAPERS / "t01_pipe.txt").read_text(encoding="utf-8")
    assert len(parse_paper(text, fmt="text", today=date(2025, 3, 20)).items) == 5
    csv = "Ref,Action,Lead Officer,Target date,Status\nR1,Do it,Head of X,30 Sept,Ongoing\n"
    item = parse_paper(csv, fmt="csv", today=date(2025, 3, 20)).items[0]
    assert (item.number, item.owners, item.status) == ("R1", ["Head of X"], "in progress")


def test_docx_paragraphs_without_a_table(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for line in ["TEST DATA: fictional minutes", "Meeting of 4 March 2024", "RESOLVED:",
                 "1. That the report be noted.", "2. That the Clerk writes to the county."]:
        document.add_paragraph(line)
    document.save(tmp_path / "m.docx")
    paper = parse_paper((tmp_path / "m.docx").read_bytes(), filename="m.docx",
                        today=date(2024, 3, 5))
    assert paper.kind == "decisions" and len(paper.items) == 2


@pytest.mark.parametrize("content, kwargs", [
    (b"%PDF-1.4 broken", {}), (b"PK\x03\x04 junk", {"filename": "a.xlsx"}),
    ("(1) x", {"fmt": "docx"}), (b"not a workbook", {"fmt": "xlsx"}),
])
def test_broken_files_give_one_line_errors(content, kwargs):
    with pytest.raises(PaperFormatError) as caught:
        parse_paper(content, **kwargs, today=date(2024, 1, 1))
    assert "\n" not in str(caught.value)


# --- table first, then columns (issue 12) ----------------------------------------

@pytest.mark.parametrize("name", _specs("n") + _specs("x"))
def test_table_first_papers_read_as_expected(name):
    """Own papers in the layouts of issue 12: one cell per line, HTML merged and nested
    cells, trailing paragraph references, quoted actions with progress after them."""
    spec = json.loads((PAPERS / name).read_text(encoding="utf-8"))
    _check(spec, PAPERS / spec["paper"])


def test_paper_reports_its_column_mapping_and_confidence():
    paper = parse_paper((PAPERS / "n02_html_spans.html").read_bytes(), "n02.html",
                        today=date(2023, 9, 20))
    roles = {c["heading"]: c["role"] for c in paper.columns}
    assert roles["By whom"] == "owners" and roles["Revised date"] == "new_due"
    assert roles["Agreed management action"] == "text" and roles["Finding"] == "ignore"
    assert 0.5 < paper.confidence <= 1
    assert paper.as_json()["columns"]


def test_officer_columns_override_the_importers_reading():
    paste = ("TEST DATA\n| Ref | Recommendation | Contact | When |\n|---|---|---|---|\n"
             "| 1 | Fix the lights in the car park. | Head of Estates | 30/06/2024 |\n"
             "| 2 | Repaint the lines. | Head of Estates | 31/07/2024 |\n"
             "| 3 | Replace the barrier. | Head of Estates | 31/08/2024 |\n")
    default = parse_paper(paste, today=date(2024, 1, 1))
    chosen = parse_paper(paste, today=date(2024, 1, 1), columns="owner=Contact,due=When")
    assert chosen.items[0].owners == ["Head of Estates"]
    assert chosen.items[0].due == date(2024, 6, 30)
    assert {c["role"]: c["how"] for c in chosen.columns}["owners"] == "officer"
    assert default.items[0].text == chosen.items[0].text == "Fix the lights in the car park."


def test_unknown_override_is_a_polite_error():
    with pytest.raises(PaperFormatError):
        parse_paper("Ref | Recommendation | Lead |\n1 | Do it. | AB |\n", today=date(2024, 1, 1),
                    columns="colour=Lead")


def test_columns_judged_by_contents_are_flagged():
    paste = ("TEST DATA\n| Ref | Recommendation | Lead | Column 4 |\n|---|---|---|---|\n"
             "| 1 | Fix the lights in the car park before winter. | Head of Estates | 30/06/2024 |\n"
             "| 2 | Repaint the lines in the staff car park. | Facilities Manager | 31/07/2024 |\n"
             "| 3 | Replace the barrier. | Head of Estates | 31/08/2024 |\n")
    paper = parse_paper(paste, today=date(2024, 1, 1))
    assert paper.items[0].due == date(2024, 6, 30)
    assert any(c["how"] == "contents" and c["role"] == "due" for c in paper.columns)
    assert paper.items[0].flags and any("Column 4" in p for p in paper.problems)


def test_cell_spanning_rows_applies_to_each_and_text_has_no_other_cells():
    paper = parse_paper((PAPERS / "n02_html_spans.html").read_bytes(), "n02.html",
                        today=date(2023, 9, 20))
    assert [i.owners for i in paper.items[:2]] == [["Head of Finance"], ["Head of Finance"]]
    for item in paper.items:
        assert "Head of" not in item.text and "Agreed" not in item.text


@pytest.mark.parametrize("name", ["paper10.txt", "paper12.txt", "paper13.txt"])
def test_labelled_real_papers_used_while_building(name):
    """Development papers of ../shared/papers/gold.json (the others are kept aside for
    bench/import_accuracy.py). Skipped when ../shared is absent."""
    gold_path = SHARED / "papers" / "gold.json"
    if not gold_path.exists():
        pytest.skip("../shared not present")
    entry = json.loads(gold_path.read_text(encoding="utf-8"))[name]
    paper = parse_paper((SHARED / "papers" / name).read_bytes(), filename=name,
                        today=date.fromisoformat(entry.get("base") or "2024-01-01"))
    by_number = {i.number: i for i in paper.items}
    for exp in entry["items"]:
        got = by_number[exp["number"]]
        assert _norm(got.text) == _norm(exp["text"]), exp["number"]
        assert sorted(got.owners) in [sorted(o) for o in [exp["owners"], *exp.get("owners_alt", [])]]
        assert (got.due.isoformat() if got.due else None) in [exp["due"], *exp.get("due_alt", [])]
        assert got.status in [exp["status"], *exp.get("status_alt", [])]


# --- minutes' smaller shapes ------------------------------------------------------

def test_noted_over_the_words_noted_is_one_decision():
    paper = parse_paper("Audit Committee, 3 March 2025\nThe Committee received the tracker.\nNOTED\n"
                        "the progress report on outstanding audit actions.\n", today=date(2025, 3, 5))
    assert [(i.number, i.text) for i in paper.items] == [
        ("1", "the progress report on outstanding audit actions.")]


def test_a_quotation_inside_a_resolution_is_part_of_its_text():
    paper = parse_paper("Members considered the tracker.\n"
                        "(a) that officers report any slippage on target dates; and\n"
                        "(b) that the \u201chigh priority\u201d actions in Appendix 2 be noted; and\n"
                        "(c) that the reporting process be agreed.\n", today=date(2025, 3, 5))
    texts = {i.number: i.text for i in paper.items}
    assert texts["b"] == "that the \u201chigh priority\u201d actions in Appendix 2 be noted"
    assert not paper.items[1].position


def test_a_nested_part_with_its_own_owner_and_date_is_an_item_of_its_own():
    paper = parse_paper("Recommendations\n"
                        "(a) The Council should improve the housing register:\n"
                        "(i) review the banding scheme;\n"
                        "(ii) publish waiting times by area (Lead: Head of Housing) by 30 June 2025;\n"
                        "(iii) write to every applicant once a year.\n"
                        "(b) The Council should report void times every quarter.\n", today=date(2025, 1, 10))
    got = {i.number: i for i in paper.items}
    assert list(got) == ["a", "a(ii)", "b"]
    assert "(i) review the banding scheme" in got["a"].text and "(iii) write to every" in got["a"].text
    assert got["a(ii)"].text == "publish waiting times by area by 30 June 2025"
    assert got["a(ii)"].owners == ["Head of Housing"] and got["a(ii)"].due == date(2025, 6, 30)
    assert got["a"].owners == [] and got["a"].due is None


def test_every_column_is_described_and_several_may_be_left_out():
    text = ("Ref\tOrigin\tRecommendation\tLead\tTarget date\tStatus\n"
            "R1\tCRP\tPublish the map.\tHead of Highways\t31 March 2025\tOngoing\n"
            "R2\tPPL\tReview the charges.\tHead of Waste\t30 June 2025\tComplete\n"
            "R3\tPPL\tTrain the staff.\tHead of HR\t30 June 2025\tNot started\n")
    paper = parse_paper(text, today=date(2025, 1, 10))
    assert [(c["heading"], c["role"]) for c in paper.columns][:2] == [("Ref", "number"), ("Origin", "ignore")]
    again = parse_paper(text, today=date(2025, 1, 10), columns="ignore=Lead,ignore=Target date")
    assert [(i.owners, i.due) for i in again.items] == [([], None)] * 3
    assert [i.status for i in again.items] == ["in progress", "implemented", "not started"]
