"""bot.importing: reading recommendations out of CSVs and position papers."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.importing import ImportedItem, PaperFormatError, ParsedPaper, parse_paper

TODAY = date(2010, 6, 3)
SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
DATA = Path(__file__).resolve().parent / "data"


def by_number(paper: ParsedPaper) -> dict[str, ImportedItem]:
    return {item.number: item for item in paper.items}


# --- (a) the real committee paper -------------------------------------------

@pytest.fixture(scope="module")
def seed_paper() -> ParsedPaper:
    path = SEEDS / "002_32c8a528e5124c67.txt"
    if not path.exists():
        pytest.skip("../shared/seeds not present")
    return parse_paper(path.read_bytes(), filename=path.name, today=TODAY)


SEED_OWNERS = {
    "1": ["Chairman of CYP P&SC"],
    "2": ["Chairman of the ESCB"],
    "3": ["Chairman of the ESCB"],
    "4": ["Cabinet Member", "Chairman of the ESCB"],
    "5": ["ESCB Chairman"],
    "6": ["Chairman CYP P&SC"],
    "7": ["Cabinet Member"],
    "8": ["Executive Director of SCF"],
    "9": ["Cabinet Member"],
    "10": ["ESCB Chairman"],
    "11": ["Chairman of the ESCB"],
    "12": ["Chairman CYP P&SC"],
    "13": ["Chairman CYP P&SC"],
}


def test_seed_has_thirteen_items_in_order_with_owners(seed_paper):
    assert [i.number for i in seed_paper.items] == [str(n) for n in range(1, 14)]
    assert {i.number: i.owners for i in seed_paper.items} == SEED_OWNERS
    assert seed_paper.problems == []


def test_seed_title_and_date(seed_paper):
    assert seed_paper.title == "Position on Safeguarding Recommendations"
    assert seed_paper.paper_date == date(2010, 6, 1)


def test_seed_text_is_clean(seed_paper):
    items = by_number(seed_paper)
    assert items["1"].text.startswith("The CYP P&SC should continue to fulfil its role")
    assert items["1"].text.endswith("identified in the Director\u2019s report.")
    for item in seed_paper.items:
        for field in (item.text, item.position or ""):
            assert "<" not in field and "&amp;" not in field and "Owner" not in field
            assert not field.startswith(f"({item.number})")
        assert all(o == o.strip(" .,;:") for o in item.owners)
    # The owner label sat mid-paragraph and is taken out of the text.
    assert items["3"].text.endswith("on a three-year contract.")
    assert items["12"].text.endswith("recruitment & retention initiatives on an ongoing basis")


def test_seed_positions_and_page_break_continuations(seed_paper):
    items = by_number(seed_paper)
    assert items["1"].position.startswith("The Committee had received regular updates")
    assert items["6"].position == "Issue for Safeguarding Sub-Committee to consider."
    # Rec 5 ran over a page break mid-sentence; it is rejoined.
    assert ("action to be taken by all agencies. The Policy and Scrutiny Committee would also "
            "receive a copy of this letter via the Committee Officer.") in items["5"].position
    assert "most cases were complex and therefore took longer" in items["10"].position
    assert "Each Serious Case Review was also scored by Ofsted." in items["10"].position
    assert items["10"].position.endswith("may be reviewed and obtained.")
    assert items["7"].position.count("\n") == 2  # three paragraphs


def test_seed_dates_and_status(seed_paper):
    assert all(item.due is None for item in seed_paper.items)
    statuses = {i.number: i.status for i in seed_paper.items}
    assert statuses.pop("8") == "needs clarification"
    assert set(statuses.values()) == {None}


# --- (b) a fictional paper in the same layout --------------------------------

@pytest.fixture(scope="module")
def own_paper() -> ParsedPaper:
    path = DATA / "import_position_paper.txt"
    return parse_paper(path.read_text(encoding="utf-8"), filename=path.name,
                       today=date(2011, 3, 1))


def test_own_paper_items(own_paper):
    items = by_number(own_paper)
    assert list(items) == ["1", "2", "3", "4", "5", "6"]
    assert own_paper.title == "Position on Parks and Libraries Recommendations"
    assert own_paper.paper_date == date(2011, 3, 14)
    assert items["1"].text == ("The Council should publish a single map of its parks & open "
                               "spaces, showing play areas and toilets.")
    assert items["1"].position == ("A draft map was shown to the task group in January. "
                                   "Printing & distribution is planned for May.")
    assert items["1"].owners == ["Cabinet Member for Leisure"]
    assert items["3"].text.endswith("Hill Street & Marsh Lane libraries.")


def test_own_paper_owners(own_paper):
    items = by_number(own_paper)
    assert items["2"].owners == ["Head of Libraries", "Parks Manager",
                                 "Friends of Parks Liaison Officer"]
    # "and" inside one role's name is not a second owner.
    assert items["4"].owners == ["Director of Environment, Parks and Leisure"]
    assert items["5"].owners == []
    assert own_paper.problems == ["Recommendation 5: no owner found"]


def test_own_paper_continuations_and_fields(own_paper):
    items = by_number(own_paper)
    # Carried over a page footer, and joined to the cut-off sentence.
    assert items["2"].position.split("\n")[-1].endswith("report back to the task group by "
                                                          "the end of the summer.")
    assert items["3"].status == "needs clarification"
    assert items["4"].due == date(2011, 9, 30)
    assert items["4"].text == ("A survey of street trees should be carried out before any "
                               "new planting.")
    assert items["5"].status is None  # "Done" in prose is not read as a status
    # A recommendation typed over two lines, with its position on a third.
    assert items["6"].text == ("The task group should visit two other councils' library hubs "
                               "before making its final report.")
    assert items["6"].owners == ["Chairman of the Task Group"]
    assert items["6"].position == "Visits are booked for April 2011."
    # Text after a heading below the table belongs to no row.
    assert all("None." not in (i.position or "") for i in own_paper.items)


def test_plain_text_paste_with_header_row():
    paste = ("Recommendation\tPosition\n"
             "(1) Improve signage at the civic centre. Owner: Facilities Manager"
             "\t(1) New signs ordered.\n"
             "(2) Review the hire charges Owners: Cabinet Member and Head of Finance."
             "\t(2) Review started\n")
    paper = parse_paper(paste, today=TODAY)
    assert [(i.number, i.owners, i.position) for i in paper.items] == [
        ("1", ["Facilities Manager"], "New signs ordered."),
        ("2", ["Cabinet Member", "Head of Finance"], "Review started"),
    ]
    assert paper.items[0].text == "Improve signage at the civic centre."
    assert paper.title is None and paper.paper_date is None and paper.problems == []


def test_plain_text_over_several_lines_and_prose_after_the_table():
    paste = ("(1) Improve signage.\nOwner: Facilities Manager\n\t(1) Ordered.\n"
             "(2) Second one\nspans lines. Owner: X\nPosition: Started\nand continuing.\n"
             "Minutes:\nThe Director introduced the report.\n")
    one, two = parse_paper(paste, today=TODAY).items
    assert (one.text, one.owners, one.position) == ("Improve signage.", ["Facilities Manager"],
                                                    "Ordered.")
    assert (two.text, two.owners, two.position) == ("Second one spans lines.", ["X"],
                                                    "Started and continuing.")


def test_clarification_only_when_the_position_itself_needs_it():
    paste = ("(1) A. Owner: X\t(1) The guidance needs clarification from the DfE.\n"
             "(2) B. Owner: X\t(2) Needs clarification\n"
             "(3) C. Owner: X\t(3) Progress made. This recommendation requires further "
             "clarification.\n")
    assert [i.status for i in parse_paper(paste, today=TODAY).items] == [
        None, "needs clarification", "needs clarification"]


@pytest.mark.parametrize("owner_text, owners", [
    ("Cabinet Member and Chairman of the ESCB", ["Cabinet Member", "Chairman of the ESCB"]),
    ("Chairman/Vice-Chairman.", ["Chairman", "Vice-Chairman"]),
    ("Head of Legal; Head of Finance;", ["Head of Legal", "Head of Finance"]),
    ("Director of Children, Schools and Families", ["Director of Children, Schools and Families"]),
    ("Cabinet Member and cabinet member", ["Cabinet Member"]),
])
def test_owner_splitting(owner_text, owners):
    paper = parse_paper(f"(1) Do it. Owners: {owner_text}\t(1) Doing it.", today=TODAY)
    assert paper.items[0].owners == owners


def test_paper_with_more_columns_named_in_its_header():
    paste = ("Position at 31/03/2012\n"
             "No.\tRecommendation\tOwner\tTarget date\tStatus\tPosition\n"
             "1\tDo X\tHead of Y and Cabinet Member\t30 September 2012\tDone\tFinished.\n"
             "2\tDo Z\tHead of Y\tsoon-ish\tweird\tStarted\n")
    paper = parse_paper(paste, today=date(2012, 4, 1))
    assert paper.paper_date == date(2012, 3, 31)
    assert [i.as_json() for i in paper.items] == [
        {"number": "1", "text": "Do X", "owners": ["Head of Y", "Cabinet Member"],
         "due": "2012-09-30", "status": "implemented", "position": "Finished."},
        {"number": "2", "text": "Do Z", "owners": ["Head of Y"], "due": None, "status": None,
         "position": "Started"},
    ]
    assert paper.problems == ["Recommendation 2: due date 'soon-ish' not understood",
                              "Recommendation 2: status 'weird' not recognised"]


def test_numbering_problems_are_reported():
    paste = ("(1) First. Owner: A\t(1) Fine.\n"
             "(3) Third. Owner: B\t(4) Misnumbered.\n"
             "(3) Again. Owner: C\n")
    paper = parse_paper(paste, fmt="text", today=TODAY)
    assert [i.number for i in paper.items] == ["1", "3", "3"]
    assert paper.items[1].position == "Misnumbered."
    assert any(p.startswith("Recommendation 3: its position is numbered (4)")
               for p in paper.problems)
    assert "Recommendation 2: not found (numbers go from 1 to 3)" in paper.problems
    assert "Recommendation 3: appears more than once" in paper.problems


def test_html_table_document():
    page = """<html><body>
      <p><u>Position on Housing Recommendations</u></p>
      <h2>POSITION ON HOUSING RECOMMENDATIONS &ndash; 2 FEBRUARY 2012</h2>
      <table>
        <tr><th>Recommendation</th><th>Position</th></tr>
        <tr><td><p>(1) Void homes should be re-let within 28 days.</p>
                <p><b>Owner:</b> Head of Housing &amp; Repairs</p></td>
            <td><p>(1) Average is now 31 days.</p><p>Target agreed.</p></td></tr>
        <tr><td>(2) Tenants should be told about repairs. <b>Owner:</b> Repairs Manager</td>
            <td>(2) A text message service started in January.</td></tr>
      </table></body></html>"""
    paper = parse_paper(page, filename="position.html", today=TODAY)
    assert paper.title == "Position on Housing Recommendations"
    assert paper.paper_date == date(2012, 2, 2)
    one, two = paper.items
    assert one.text == "Void homes should be re-let within 28 days."
    assert one.owners == ["Head of Housing & Repairs"]
    assert one.position == "Average is now 31 days.\nTarget agreed."
    assert two.owners == ["Repairs Manager"]
    assert two.position == "A text message service started in January."


# --- (c) CSV -----------------------------------------------------------------

def test_csv_basic_with_quoting_and_owners():
    csv_text = (
        "number,text,owners,due,status,position\n"
        '1,"Review the policy, then report back",Cabinet Member; Chairman of the ESCB,'
        '30/09/2010,in progress,"First draft done, ""good"" progress"\n'
        '2,"Two paragraphs\nof text",,,,\n'
        ",,,,,\n"
        "3,Third,Head of Legal,2010-12-31,Completed,\n"
    )
    paper = parse_paper(csv_text, filename="recs.csv", today=TODAY)
    one, two, three = paper.items
    assert one.text == "Review the policy, then report back"
    assert one.owners == ["Cabinet Member", "Chairman of the ESCB"]
    assert one.due == date(2010, 9, 30)
    assert one.status == "in progress"
    assert one.position == 'First draft done, "good" progress'
    assert two.text == "Two paragraphs\nof text"
    assert (two.owners, two.due, two.status, two.position) == ([], None, None, None)
    assert (three.due, three.status) == (date(2010, 12, 31), "implemented")
    assert paper.problems == []
    assert paper.title is None and paper.paper_date is None


def test_csv_bom_reordered_columns_and_auto_detect():
    body = ("Position,Extra,TEXT,Number,Owners,Due,Status\n"
            "Going well,ignored,Fix the lights,4,Parks Manager,30 September 2010,on hold\n")
    raw = "\ufeff".encode("utf-8") + body.encode("utf-8")
    for content, filename in ((raw, "upload.csv"), (raw, None), ("\ufeff" + body, "paste.txt")):
        paper = parse_paper(content, filename=filename, today=TODAY)
        [item] = paper.items
        assert item.as_json() == {"number": "4", "text": "Fix the lights",
                                  "owners": ["Parks Manager"], "due": "2010-09-30",
                                  "status": "in progress", "position": "Going well"}


def test_csv_bad_date_and_bad_status_are_problems():
    csv_text = ("number,text,due,status\n"
                "1,One,next blue moon,done\n"
                "2,Two,30/09/2010,xyz\n"
                ",Orphan text,,\n")
    paper = parse_paper(csv_text, fmt="csv", today=TODAY)
    one, two = paper.items
    assert (one.due, one.status) == (None, "implemented")
    assert (two.due, two.status) == (date(2010, 9, 30), None)
    assert paper.problems == [
        "Recommendation 1: due date 'next blue moon' not understood",
        "Recommendation 2: status 'xyz' not recognised",
        "Row 4: has text but no recommendation number, so it was skipped",
    ]


def test_csv_numbers_are_tidied_and_semicolon_delimiter_read():
    paper = parse_paper("Number;Text;Owners\n(1);One;A\n2.;Two;B\n", today=TODAY)
    assert [(i.number, i.text, i.owners) for i in paper.items] == [("1", "One", ["A"]),
                                                                  ("2", "Two", ["B"])]


def test_csv_without_required_header_is_rejected():
    with pytest.raises(PaperFormatError, match="'number' and 'text'"):
        parse_paper("a,b\n1,2\n", fmt="csv", today=TODAY)
    with pytest.raises(PaperFormatError):
        parse_paper("number,text\n", fmt="csv", today=TODAY)


# --- (d) JSON shape ----------------------------------------------------------

def test_as_json_keys():
    item = ImportedItem(number="1", text="T", owners=["A"], due=date(2010, 9, 30),
                        status=None, position=None)
    assert list(item.as_json()) == ["number", "text", "owners", "due", "status", "position"]
    assert item.as_json()["due"] == "2010-09-30"
    paper = parse_paper("(1) Text Owner: A\t(1) Pos", today=TODAY)
    assert list(paper.items[0].as_json()) == ["number", "text", "owners", "due", "status",
                                              "position"]


# --- (e) unreadable input ----------------------------------------------------

@pytest.mark.parametrize("content, kwargs", [
    ("", {}),
    ("   \n\t\n", {}),
    (b"", {}),
    (bytes(range(256)) * 4, {}),
    (b"\x00\x01\x02\xff\xfe\x00binary\x00\x00junk", {}),
    (b"%PDF-1.4 ...", {}),
    (b"PK\x03\x04 rest of a docx", {"filename": "report.docx"}),
    ("Minutes of the meeting held on Tuesday. Nothing numbered here.", {}),
    ("(1) x\t(1) y", {"fmt": "pdf"}),
    ("(1) x\t(1) y", {"fmt": "yaml"}),
])
def test_unreadable_input_raises_one_line_error(content, kwargs):
    with pytest.raises(PaperFormatError) as caught:
        parse_paper(content, **kwargs, today=TODAY)
    message = str(caught.value)
    assert message and "\n" not in message
    assert isinstance(caught.value, ValueError)
