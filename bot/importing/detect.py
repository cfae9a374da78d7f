"""Turning uploaded content into text, and deciding which format reads it."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile

from .columns import header_roles
from .limits import check_text, check_text_bytes
from .model import PaperFormatError

FORMATS = ("auto", "csv", "text", "html", "pdf", "docx", "xlsx")
BINARY = ("pdf", "docx", "xlsx")
# Formats we can't read: a clear message beats a garbled import.
_LATER = {"doc": "old Word (.doc)", "xls": "old Excel (.xls)"}
_HTML_DOCUMENT = re.compile(r"<(?:html|body|table|tr|td)\b", re.I)


def _later(kind: str) -> PaperFormatError:
    return PaperFormatError(
        f"Sorry, I can't read {kind} files yet; please paste the paper's text or upload a CSV.")


def sniff_binary(content: str | bytes, filename: str | None, fmt: str) -> str | None:
    """"pdf", "docx" or "xlsx" if the upload is one of those files, else None."""
    fmt = (fmt or "auto").lower()
    ext = filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if fmt in BINARY:
        if not isinstance(content, (bytes, bytearray)):
            raise PaperFormatError(
                f"Sorry, a {fmt.upper()} file must be uploaded as a file, not pasted as text.")
        return fmt
    if fmt != "auto" or not isinstance(content, (bytes, bytearray)):
        return None
    data = bytes(content)
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        kind = zip_kind(data)
        if kind:
            return kind
        if ext in BINARY:
            return ext
        raise PaperFormatError("Sorry, that looks like a damaged Word or Excel file.")
    return None


def decode(content: str | bytes) -> str:
    """Text from an upload or a paste, or PaperFormatError if it isn't text."""
    if isinstance(content, (bytes, bytearray)):
        data = bytes(content)
        if data.startswith(b"%PDF") or data.startswith(b"PK\x03\x04"):
            raise PaperFormatError("Sorry, I couldn't read that file as text.")
        check_text_bytes(data)
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
            text = data.decode("utf-16", errors="replace")
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                # Older council systems export Windows-1252 (£, curly quotes).
                text = data.decode("cp1252", errors="replace")
    elif isinstance(content, str):
        text = content
    else:
        raise PaperFormatError("Sorry, I can only read text or file contents.")
    check_text(text)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise PaperFormatError("The paper is empty, so there is nothing to import.")
    if _looks_binary(text):
        raise PaperFormatError(
            "Sorry, that doesn't look like text; please paste the paper's text or upload a CSV.")
    return text


def _looks_binary(text: str) -> bool:
    sample = text[:4000]
    odd = sum(1 for ch in sample
              if ch == "\ufffd" or (unicodedata.category(ch).startswith("C")
                                    and ch not in "\t\n\f"))
    return odd > max(2, len(sample) // 50) or not any(ch.isalnum() for ch in sample)


def csv_header(line: str) -> tuple[str, list[str]] | None:
    """(delimiter, cells) if this line is a CSV header naming number and text columns."""
    for delimiter in (",", "\t", ";"):
        if delimiter not in line:
            continue
        try:
            cells = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:   # a cell longer than the csv module reads: not a header
            continue
        roles = header_roles(cells)
        if "number" in roles and "text" in roles:
            return delimiter, cells
    return None


def choose_format(text: str, filename: str | None, fmt: str) -> str:
    """"csv" or "paper" (the text/HTML position-paper layout)."""
    fmt = (fmt or "auto").lower()
    if fmt in _LATER:
        raise _later(_LATER[fmt])
    if fmt not in FORMATS:
        raise PaperFormatError(f"Sorry, I don't know the format '{fmt}'; "
                               "try text, html, csv, pdf, docx or xlsx.")
    if fmt == "csv":
        return "csv"
    if fmt in ("text", "html"):
        return "paper"
    ext = filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if ext in _LATER:
        raise _later(_LATER[ext])
    if ext == "csv":
        return "csv"
    first = next((line for line in text.split("\n") if line.strip()), "")
    return "csv" if csv_header(first) else "paper"


def is_html_document(text: str, fmt: str) -> bool:
    """A real HTML page with a table, rather than the flattened-table text layout."""
    if fmt == "text":
        return False
    return bool(_HTML_DOCUMENT.search(text))


def zip_kind(content: bytes) -> str | None:
    """"docx" or "xlsx" for an Office file, by what is inside the zip."""
    try:
        names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    except zipfile.BadZipFile:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None
