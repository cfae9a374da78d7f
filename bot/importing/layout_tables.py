"""Text layouts that are tables with their grid lines lost.

- pipe: a table flattened one cell per line, each cell ending in "|", a cell
  wrapping over several lines, rows separated by a line holding only "|" (or,
  where such lines are empty cells or absent, rows as wide as the heading row);
- blank: one cell per paragraph, cells separated by blank lines, the column
  headings first (footnote markers such as "Lead¹" or "Target date*" allowed);
- fixed: fixed-width columns, as PDF text extraction or a typed tracker gives
  them, cells wrapping onto continuation lines, group headings ("JUNE 2014")
  between rows (even when, written from the margin, they reach past the first
  column's edge); the table ends at "Next meeting: …" and the like.

Each returns rows for grid.rows_to_paper, or None when the text is not in it.
"""
from __future__ import annotations

import re
from datetime import date

from .classify import heading_role
from .cleaning import squeeze
from .columns import column_role
from .common import END_MATTER, MONTH_HEADING, PAGE_LINE, clean_ref, find_paper_date
from .grid import rows_to_paper
from .model import ParsedPaper


def _finish(rows, preamble: list[str], today: date) -> ParsedPaper | None:
    if not rows:
        return None
    paper_date = find_paper_date(preamble, today)
    return rows_to_paper(rows, today, paper_date=paper_date, wrapped=True)


# -- rows with their cells on one line: tab- or "|"-separated ------------------

_DELIMS = ("\t", "|")


def _split_row(line: str, delim: str) -> list[str] | None:
    stripped = line.strip()
    if delim == "|":
        if re.fullmatch(r"[|:\-\s+]+", stripped):
            return None   # a markdown rule: |---|---|
        stripped = stripped.strip("|")
    cells = [c.strip() for c in (stripped.split(delim) if delim == "|" else line.rstrip("\n").split("\t"))]
    return cells if len(cells) >= 3 else None


def parse_delimited(text: str, today: date) -> ParsedPaper | None:
    """A table typed or pasted with each row on a line and its cells separated by tabs or
    "|" (with or without the outer bars, empty cells kept). A line without the separator
    inside the table continues the last cell of the row above (a wrapped cell)."""
    lines = text.split("\n")
    for delim in _DELIMS:
        marked = [i for i, line in enumerate(lines) if _split_row(line, delim)]
        if len(marked) < 3:
            continue
        first, last = marked[0], marked[-1]
        rows: list[list[str]] = []
        for line in lines[first:last + 1]:
            cells = _split_row(line, delim)
            if cells is not None:
                rows.append(cells)
            elif line.strip() and rows and not re.fullmatch(r"[|:\-\s+]+", line.strip()):
                row = rows[-1]
                k = max((i for i, c in enumerate(row) if c), default=len(row) - 1)
                row[k] = f"{row[k]}\n{line.strip()}" if row[k] else line.strip()
        paper = rows_to_paper(rows, today, paper_date=find_paper_date(lines[:first + 1], today),
                              wrapped=True)
        if paper is not None and paper.items:
            return paper
    return None


# -- cells ending in "|" ------------------------------------------------------

def parse_pipe(text: str, today: date) -> ParsedPaper | None:
    lines = text.split("\n")
    ends = [i for i, line in enumerate(lines) if line.rstrip().endswith("|")]
    if len(ends) < 4:
        return None
    first, last = ends[0], ends[-1]
    # A line that is only "|" may open the table; a cell's first line is not part of
    # the preamble, so the preamble ends at the last line before the first cell
    # that is blank or itself ends a cell.
    start = first
    while start > 0 and lines[start - 1].strip() and not lines[start - 1].rstrip().endswith("|") \
            and first - start < 3 and not _looks_like_prose(lines[start - 1]):
        start -= 1
    # The cells in order, with None where a line holds only "|": that is a row
    # separator in some trackers and an empty cell (" |") in others.
    cells: list[str | None] = []
    table_rows: list[list[str]] = []   # "| a | b | c |" lines are whole rows
    buffer: list[str] = []
    for line in lines[start:last + 1]:
        stripped = line.strip()
        if stripped == "|":
            if buffer:
                cells.append("\n".join(buffer))
                buffer = []
            cells.append(None)
        elif stripped.startswith("|") and stripped.count("|") >= 3:
            if not re.fullmatch(r"[|:\-\s]+", stripped):
                table_rows.append([c.strip() for c in stripped.strip("|").split("|")])
        elif stripped.endswith("|"):
            buffer.append(stripped[:-1].strip())
            cells.append("\n".join(b for b in buffer if b))
            buffer = []
        elif stripped:
            buffer.append(stripped)
    if buffer:
        cells.append("\n".join(buffer))
    # The lines taken in above the first cell may be the paper's title when that
    # cell is a column heading ("Ref |").
    if cells and cells[0] and "\n" in cells[0] and not column_role(cells[0]) \
            and column_role(cells[0].rsplit("\n", 1)[1]):
        cells[0] = cells[0].rsplit("\n", 1)[1]
    rows = table_rows or _pipe_rows(cells)
    # The paper's date may be in the line just above the first cell, too.
    return _finish(rows, lines[:first], today)


def _pipe_rows(cells: list[str | None]) -> list[list[str]]:
    """Rows from the cell stream: split at bare "|" lines, or, when those lines are
    empty cells, cut by the heading row's width."""
    separated: list[list[str]] = []
    row: list[str] = []
    for cell in cells + [None]:
        if cell is None:
            if row:
                separated.append(row)
            row = []
        else:
            row.append(cell)
    # Separators they are when the first row is only headings and no row is wider
    # (a row may be shorter: a last empty cell left out).
    if len(separated) > 1 and len(separated[0]) >= 2 and all(column_role(c) for c in separated[0]) \
            and all(len(r) <= len(separated[0]) for r in separated[1:]):
        return separated
    stream = [c if c is not None else "" for c in cells]
    while stream and not stream[0]:      # a bare "|" opening the table
        stream.pop(0)
    rows = _rows_by_header_width(stream)
    return rows or separated


def _looks_like_prose(line: str) -> bool:
    return len(line.split()) > 12


def _rows_by_header_width(cells: list[str]) -> list[list[str]]:
    width = 0
    while width < len(cells) and column_role(cells[width]):
        width += 1
    if width < 2:
        return []
    return [cells[i:i + width] for i in range(0, len(cells), width)]


# -- cells separated by blank lines -------------------------------------------

def parse_blank_cells(text: str, today: date) -> ParsedPaper | None:
    paragraphs: list[tuple[int, str]] = []   # (first line index, text)
    current: list[str] = []
    lines = text.split("\n")
    start = 0
    for i, line in enumerate(lines + [""]):
        if line.strip():
            if not current:
                start = i
            current.append(line.strip())
        elif current:
            paragraphs.append((start, " ".join(current)))
            current = []
    # The header: the longest run of paragraphs that are all column names.
    # Headings we don't know ("Origin", "Exec Date") may sit among those we do, when they
    # are short and most of the run is known.
    best = None
    i = 0
    while i < len(paragraphs):
        j = i
        while j < len(paragraphs) and len(paragraphs[j][1]) < 40 and (
                _known_heading(paragraphs[j][1]) or _unknown_heading(paragraphs[j][1])):
            j += 1
        while j > i and not _known_heading(paragraphs[j - 1][1]):
            j -= 1   # the run ends at a heading we know
        while j - i > 3 and not column_role(paragraphs[i][1]) and (heading_role(paragraphs[i][1])[0] in [
                heading_role(p)[0] for _, p in paragraphs[i + 1:j]] or not _known_heading(paragraphs[i][1])):
            i += 1   # "Scrutiny Recommendation Tracker" over "… Recommendation …": the title
        known = [heading_role(p)[0] if _known_heading(p) else None for _, p in paragraphs[i:j]]
        if (sum(1 for r in known if r) >= 3 and sum(1 for r in known if r) * 2 > len(known)
                and (best is None or j - i > best[1] - best[0]) and "text" in known):
            best = (i, j)
        i = max(j, i + 1)
    if best is None:
        return None
    h0, h1 = best
    header = [p for _, p in paragraphs[h0:h1]]
    width = len(header)
    number_first = column_role(header[0]) == "number"
    cells = [p for _, p in paragraphs[h1:]]
    rows: list[list[str]] = [header]
    row: list[str] = []
    for cell in cells:
        is_ref = clean_ref(cell) is not None
        if _KEY.match(cell) and len(rows) > 1:
            break   # "Key" to the table's colours and codes
        if number_first and row and _BULLET_CELL.match(cell):
            row[-1] = f"{row[-1]}\n{cell}"   # "· Action 1": a list inside the cell above
            continue
        if number_first:
            if is_ref and (not row or len(row) >= max(2, width // 2)):
                if row:
                    rows.append(row)
                row = [cell]
                continue
            if not row:
                if len(rows) > 1:
                    break  # past the table
                continue
            if len(row) >= width + 2 or len(row) >= width and (MONTH_HEADING.match(cell) or cell.isupper()):
                rows.append(row)
                row = []
                if MONTH_HEADING.match(cell) or cell.isupper():
                    continue
                break  # a complete row followed by something that is not a row: the table ended
            row.append(cell)
        else:
            row.append(cell)
            if len(row) == width:
                rows.append(row)
                row = []
    if row:
        # The last row: paragraphs past its width are what follows the table (footnotes).
        rows.append(row[:width] if number_first else row)
    if number_first:
        merge = next((k for k, h in enumerate(header) if heading_role(h)[0] == "position"),
                     next(k for k, h in enumerate(header) if heading_role(h)[0] == "text"))
        rows = [rows[0]] + [_fit(r, width, merge) for r in rows[1:]]
    preamble = lines[:paragraphs[h0][0]]
    return _finish(rows, preamble, today)


_KEY = re.compile(r"^(?:Key|KEY)\s*:?$")
_BULLET_CELL = re.compile(r"^\s*[\u00b7\u2022\u25aa\u25cf*\-\u2013o]\s+\S")


def _known_heading(cell: str) -> bool:
    return bool(column_role(cell) or heading_role(cell)[0] and len(cell.split()) <= 4
                and not re.search(r"\d{4}", cell))


def _unknown_heading(cell: str) -> bool:
    """ "Origin", "Exec Date": a short capitalised heading we have no role for."""
    words = cell.split()
    return (1 <= len(words) <= 3 and cell[:1].isupper() and clean_ref(cell) is None
            and not cell.rstrip().endswith((".", ":", ";")))


def _fit(row: list[str], width: int, merge: int) -> list[str]:
    """A row with more cells than headings (a cell of several paragraphs): the cells on
    either side keep their columns and the extra paragraphs join the progress column."""
    if len(row) <= width:
        return row
    after = width - merge - 1
    middle = row[merge:len(row) - after]
    return row[:merge] + ["\n".join(middle)] + row[len(row) - after:]


# -- fixed-width columns --------------------------------------------------------

_GAP = re.compile(r"\S+(?: \S+)*")


def _chunks(line: str) -> list[tuple[int, str]]:
    """Runs of text separated by two or more spaces, with where each starts."""
    return [(m.start(), m.group(0)) for m in _GAP.finditer(line.replace("\t", "    "))]


def _role(heading: str) -> str | None:
    return column_role(heading) or (heading_role(heading)[0] if len(heading.split()) <= 4 else None)


def _header_line(line: str) -> list[tuple[int, str]] | None:
    chunks = _chunks(line)
    if len(chunks) < 3:
        return None
    roles = [_role(c) for _, c in chunks]
    known = sum(1 for r in roles if r)
    if known < 3 or "text" not in roles:
        return None
    if known < len(chunks) - 1 and not (known * 3 >= len(chunks) * 2 and all(
            _unknown_heading(c) for (_, c), r in zip(chunks, roles) if not r)):
        return None   # "PAPER", "NEW" among NO, ACTION, LEAD, TARGET: allowed when few
    return chunks


def _second_header_line(line: str, header: list[tuple[int, str]]) -> list[tuple[int, str]] | None:
    """ "DATE   DATE   COMMENT" under "TARGET   NEW   STATUS/": a heading's second line, each
    word under the heading it finishes."""
    chunks = _chunks(line)
    if not chunks or any(len(c.split()) > 2 or re.search(r"\d", c) or not c[:1].isupper()
                         for _, c in chunks):
        return None
    merged = list(header)
    for pos, c in chunks:
        k = max((k for k, (p, _) in enumerate(header) if p <= pos + 3), default=None)
        if k is None:
            return None
        end = header[k + 1][0] if k + 1 < len(header) else 10 ** 6
        if pos >= end:
            return None
        merged[k] = (merged[k][0], f"{merged[k][1]} {c}")
    return merged


def parse_fixed_width(text: str, today: date) -> ParsedPaper | None:
    lines = text.replace("\t", "    ").split("\n")
    header_at = next((i for i, line in enumerate(lines) if _header_line(line)), None)
    if header_at is None:
        return None
    header = _header_line(lines[header_at])
    if header_at + 1 < len(lines) and (two := _second_header_line(lines[header_at + 1], header)):
        header = two
        header_at += 1
    starts = [p for p, _ in header]
    names = [re.sub(r"/\s+", "/ ", c) for _, c in header]
    roles = [_role(c) for c in names]
    number_col = roles.index("number") if "number" in roles else None
    text_col = roles.index("text")
    rows: list[list[list[str]]] = []
    for line in lines[header_at + 1:]:
        if not line.strip() or PAGE_LINE.match(line):
            continue
        if END_MATTER.match(line):
            break  # "Next meeting: …" and the like: the table has ended
        if (again := _header_line(line)) is not None:
            starts = [p for p, _ in again]   # a new page may shift the columns a little
            continue
        if _group_heading(line, starts):
            continue
        cells = _assign(line, starts)
        filled = [i for i, c in enumerate(cells) if c]
        if len(filled) == 1:
            only = cells[filled[0]]
            if MONTH_HEADING.match(only) or (only.isupper() and len(only.split()) <= 6):
                continue  # a group heading between rows
        if _spans(line, starts) and (number_col is None or cells[number_col]
                                      and clean_ref(cells[number_col]) is None):
            break  # a full-width paragraph: prose after the table
        if number_col is not None:
            starts_row = bool(cells[number_col]) and clean_ref(cells[number_col]) is not None
        else:
            starts_row = bool(cells[text_col]) and cells[text_col][:1].isupper() and any(
                cells[i] for i in filled if i != text_col)
        if starts_row or not rows:
            if not starts_row and number_col is not None:
                continue
            rows.append([[c] if c else [] for c in cells])
        else:
            for i, c in enumerate(cells):
                if c:
                    rows[-1][i].append(c)
    if not rows:
        return None
    table = [names] + [["\n".join(parts) for parts in row] for row in rows]
    return _finish(table, lines[:header_at], today)


def _group_heading(line: str, starts: list[int]) -> bool:
    """A heading between rows ("APRIL 2023", "CHILDREN'S SERVICES") written from the
    left margin as one run of text, which may reach past the first column's edge
    (so it is not one cell) but is not a row: no reference, no other cells."""
    chunks = _chunks(line)
    if len(chunks) != 1:
        return False
    pos, only = chunks[0]
    if len(starts) > 1 and pos >= starts[1]:
        return False  # it starts inside a later column: a wrapped cell
    if clean_ref(only.split(" ")[0]) is not None:
        return False
    return bool(MONTH_HEADING.match(only)
                or (only.isupper() and any(ch.isalpha() for ch in only) and len(only.split()) <= 6))


def _spans(line: str, starts: list[int]) -> bool:
    """Does one run of text cross two or more column starts (prose, not a cell)?"""
    for pos, chunk in _chunks(line):
        inside = [s for s in starts if pos < s < pos + len(chunk)]
        if len(inside) >= 2:
            return True
    return False


def _assign(line: str, starts: list[int]) -> list[str]:
    cells = [""] * len(starts)
    for pos, chunk in _chunks(line):
        # A chunk may hold two cells separated by one space where a cell filled its column.
        pieces = [(pos, chunk)]
        for s in starts:
            for k, (p, c) in enumerate(pieces):
                cut = s - p
                if 0 < cut < len(c) and c[cut - 1] == " " and len(pieces) < 8:
                    pieces[k:k + 1] = [(p, c[:cut - 1]), (s, c[cut:])]
                    break
        for p, c in pieces:
            col = max((i for i, s in enumerate(starts) if s <= p + 2), default=0)
            cells[col] = squeeze(f"{cells[col]} {c}")
    return cells
