"""The "Position on recommendations" paper, out of the database and into a file.

content.py builds the paper's content once (plain data); one renderer per format
turns it into bytes: docx.py (for the agenda pack, with chart.py's summary chart),
markdown.py, csv_format.py and xlsx.py (both read back by bot.importing, so an
export imported again changes nothing). service.py is what Slack and the CLI call.
"""
from __future__ import annotations

from .content import PaperRow, PositionPaper, build_position_paper

FORMATS = ("docx", "md", "csv", "xlsx")
MIMETYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(paper: PositionPaper, fmt: str) -> tuple[bytes, str, str]:
    """(content, filename, mimetype) of the paper in one of FORMATS.

    Renderers are imported only when asked for, so python-docx, openpyxl and
    Pillow load on the first export rather than when the app starts."""
    fmt = fmt.lower().lstrip(".")
    if fmt == "markdown":
        fmt = "md"
    if fmt == "docx":
        from .docx import render_docx as renderer
    elif fmt == "md":
        from .markdown import render_markdown as renderer
    elif fmt == "csv":
        from .csv_format import render_csv as renderer
    elif fmt == "xlsx":
        from .xlsx import render_xlsx as renderer
    else:
        raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    return renderer(paper), f"{paper.file_stem}.{fmt}", MIMETYPES[fmt]


__all__ = ["FORMATS", "MIMETYPES", "PaperRow", "PositionPaper", "build_position_paper", "render"]
