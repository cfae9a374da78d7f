"""Choosing which text layout reads a pasted or extracted paper.

Each layout reader returns None when the text is not in its layout, so they are
tried from the most distinctive marks to the least: whole rows on a line with their cells
separated by tabs or "|", cells ending in "|", cells
between blank lines, tab-separated rows (the position paper), fixed-width
columns, rows with no delimiter under a header line, minutes' RESOLVED/AGREED
blocks, numbered minute paragraphs each followed by "ACTION: who", and finally
numbered blocks and paragraphs.
"""
from __future__ import annotations

from datetime import date

from .layout_cells import parse_cell_lines
from .layout_lines import parse_blocks, parse_rows
from .layout_tables import parse_blank_cells, parse_delimited, parse_fixed_width, parse_pipe
from .minutes import parse_action_notes, parse_minutes
from .model import PaperFormatError, ParsedPaper
from .position_paper import parse_position_paper


def parse_text(text: str, today: date) -> ParsedPaper:
    for reader in (parse_delimited, parse_pipe, parse_blank_cells):
        if (paper := reader(text, today)) and paper.items:
            return paper
    if "\t" in text:
        try:
            return parse_position_paper(text, today)
        except PaperFormatError:
            pass
    for reader in (parse_fixed_width, parse_rows, parse_cell_lines, parse_minutes, parse_action_notes,
                   parse_blocks):
        if (paper := reader(text, today)) and paper.items:
            return paper
    return parse_position_paper(text, today)
