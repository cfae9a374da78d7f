"""Build the Word, Excel and PDF test papers from the text below (TEST DATA: all
fictional, written for Scrutineer's tests), so no opaque binaries are checked in.

    python tests/data/make_import_papers.py OUTDIR

The benchmark and tests call build(outdir). Each paper's expected items are in
tests/data/papers/<name>.expected.json, whose "generated" key names the file.
"""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

# -- the papers' content ----------------------------------------------------------

DOCX_PAPERS = {
    "t11_docx.docx": {
        "paragraphs": [
            "TEST DATA – a fictional report written for Scrutineer's tests (a Word table). "
            "Thornbury Vale is not a real council.",
            "Thornbury Vale Council – Housing Scrutiny Committee",
            "Progress on the review of temporary accommodation, 6 June 2024",
        ],
        "table": [
            ["No.", "Recommendation", "Cabinet Member", "Timescale", "Status", "Update"],
            ["1.", "Families should not stay in bed and breakfast for more than six weeks.",
             "Cabinet Member for Housing", "June", "Ongoing", "Average stay now seven weeks."],
            ["2.", "A named officer should contact each household every fortnight.",
             "Cabinet Member for Housing", "30 Sept", "Completed", "Named officers in place."],
            ["Prevention", "Prevention", "Prevention", "Prevention", "Prevention", "Prevention"],
            ["3.", "Landlord incentive payments should be reviewed.",
             "Cabinet Member for Finance and Cabinet Member for Housing", "17.7.24", "on hold",
             "Waiting for the budget decision."],
            ["4.", "Officers should report the cost of temporary accommodation each quarter.",
             "Cabinet Member for Finance", "10.05.2024", "Actioned", ""],
        ],
    },
}

XLSX_PAPERS = {
    "t12_xlsx.xlsx": [
        ["TEST DATA – a fictional tracker written for Scrutineer's tests (an Excel sheet). "
         "Marlow Heath is not a real council."],
        ["Marlow Heath Council – Corporate Scrutiny Committee: action tracker, 20 April 2023"],
        [],
        ["Ref", "Action", "Lead Officer", "Target date", "Revised date", "RAG"],
        ["CS1", "Report sickness absence figures by directorate.", "Head of HR",
         datetime(2023, 5, 31), None, "Green"],
        ["CS2", "Publish the corporate complaints annual report.", "Customer Services Manager",
         "June", "14 Aug", "Amber"],
        ["CS3", "Bring the IT disaster recovery test results to the committee.",
         "DoF/Head of IT", "30 Sept", None, "Red"],
        ["CS4", "Review member training attendance.", "Democratic Services Manager",
         "by 28 February 2023", None, "Blue"],
    ],
}

PDF_PAPERS = {
    "t13_pdf.pdf": [
        "TEST DATA - a fictional action log written for Scrutineer's tests (a PDF).",
        "Sallow Cross is not a real council.",
        "Sallow Cross Council - Finance Scrutiny Panel",
        "Action log at 2 October 2019",
        "",
        "Ref     Action                              Lead                  Due          Status",
        "SEPTEMBER",
        "F19/1   Publish the savings tracker each    Chief Finance         30 Nov       Completed",
        "        month on the intranet.              Officer",
        "F19/2   Explain the variance in the         Head of Property      Dec          Ongoing",
        "        property maintenance budget.",
        "F19/3   Circulate the updated treasury      CFO/DCFO              17.10.19     Actioned",
        "        strategy to all panel members.",
        "OCTOBER",
        "F19/4   Review the fees and charges         Head of Finance and   31 January   Not yet due",
        "        schedule before the budget.         Cabinet Member        2020",
    ],
}


# -- writers --------------------------------------------------------------------------

def write_docx(path: Path, spec: dict) -> None:
    import docx
    document = docx.Document()
    for text in spec["paragraphs"]:
        document.add_paragraph(text)
    rows = spec["table"]
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        if len(set(row)) == 1:  # a heading row: one merged cell across the table
            merged = table.cell(r, 0).merge(table.cell(r, len(row) - 1))
            merged.text = row[0]
            continue
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("Background papers: none.")
    document.save(path)


def write_xlsx(path: Path, rows: list[list]) -> None:
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "Tracker"
    for row in rows:
        ws.append(row)
    wb.save(path)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, lines: list[str]) -> None:
    """A one-page PDF in Courier, one text line per line: a hand-written writer."""
    stream = ["BT", "/F1 8 Tf", "10 TL", "30 800 Td"]
    for line in lines:
        stream.append(f"({_pdf_escape(line)}) Tj T*")
    stream.append("ET")
    content = "\n".join(stream).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    path.write_bytes(bytes(out))


def build(outdir: Path, names: set[str] | None = None) -> list[Path]:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    made = []
    for table, writer in ((DOCX_PAPERS, write_docx), (XLSX_PAPERS, write_xlsx),
                          (PDF_PAPERS, write_pdf)):
        for name, spec in table.items():
            if names is None or name in names:
                writer(outdir / name, spec)
                made.append(outdir / name)
    return made


if __name__ == "__main__":
    for made in build(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(made)
