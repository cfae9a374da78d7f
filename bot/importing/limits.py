"""How large a paper may be, checked before it is parsed.

A small upload must not unpack into something that takes minutes or gigabytes to read: a
47 KB Word file can hold 300,000 paragraphs, a 470 KB one 150 MB of XML. Each check here is
cheap (sizes from the zip's directory, counting tags in bytes) and refuses with a
PaperFormatError of one polite line. Whatever gets past them is still read in a separate
process with limits on time and memory (sandbox.py).

Real papers are far inside these: a tracker has tens of recommendations, a long set of
minutes a few thousand paragraphs.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile

from .model import PaperFormatError

MAX_TEXT_CHARS = 5_000_000          # a paper's text: pasted, a text/CSV/HTML file, or what a PDF or Word file holds
MAX_UNPACKED = 100 * 1024 * 1024    # everything inside a Word or Excel file, unpacked
MAX_PART = 25 * 1024 * 1024         # any one part of it that is read as XML (document.xml, a sheet ...)
MAX_ENTRIES = 10_000                # files inside a Word or Excel file
MAX_PARAGRAPHS = 30_000             # paragraphs in a Word file (tables' cells included)
MAX_SHARED_STRINGS = 100_000        # distinct pieces of text in an Excel workbook
MAX_PDF_PAGES = 500
MAX_CSV_FIELD = csv.field_size_limit()   # Python's own limit on one CSV cell (131,072 characters)

_ADVICE = "Please paste just the recommendations, or save them as a CSV."
_WORD = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_SHEET = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def too_large(what: str) -> PaperFormatError:
    return PaperFormatError(f"That paper is too large to read ({what}). {_ADVICE}")


def check_text(text: str) -> str:
    """The text, if it is not longer than a paper can be."""
    if len(text) > MAX_TEXT_CHARS:
        raise too_large(f"more than {MAX_TEXT_CHARS // 1_000_000} million characters of text")
    return text


def check_text_bytes(data: bytes) -> None:
    """Refuse, before decoding, bytes that can't be text of a readable length (4 bytes a character at most)."""
    if len(data) > 4 * MAX_TEXT_CHARS:
        raise too_large(f"more than {MAX_TEXT_CHARS // 1_000_000} million characters of text")


def check_office(content: bytes, kind: str) -> None:
    """A Word ("docx") or Excel ("xlsx") file: its entries, unpacked sizes and, for what is
    read as XML, the number of paragraphs or shared strings, before any of it is parsed.

    The sizes are those the zip's directory declares; Python's zipfile never unpacks more
    than that (an entry that inflates further fails its CRC check)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return   # damaged: the format's own reader says so politely
    noun = "Word" if kind == "docx" else "Excel"
    if len(entries) > MAX_ENTRIES:
        raise too_large(f"the {noun} file holds more than {MAX_ENTRIES:,} parts")
    if sum(e.file_size for e in entries) > MAX_UNPACKED:
        raise too_large(f"the {noun} file unpacks to more than {MAX_UNPACKED // 1024 // 1024} MB")
    for e in entries:
        if e.filename.lower().endswith((".xml", ".rels")) and e.file_size > MAX_PART:
            raise too_large(f"part of the {noun} file unpacks to more than {MAX_PART // 1024 // 1024} MB")
    names = {e.filename for e in entries}
    if kind == "docx" and "word/document.xml" in names:
        if count_elements(_read(archive, "word/document.xml"), _WORD, b"p") > MAX_PARAGRAPHS:
            raise too_large(f"more than {MAX_PARAGRAPHS:,} paragraphs")
    if kind == "xlsx" and "xl/sharedStrings.xml" in names:
        if count_elements(_read(archive, "xl/sharedStrings.xml"), _SHEET, b"si") > MAX_SHARED_STRINGS:
            raise too_large(f"more than {MAX_SHARED_STRINGS:,} different pieces of text")


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    """An entry's bytes, or none if it can't be read (bad CRC, encrypted ...): then the
    format's own reader says so, politely."""
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError):
        return b""


def count_elements(xml: bytes, namespace: bytes, local: bytes) -> int:
    """How many elements named `local` in `namespace` the XML holds, by the prefix the document
    binds that namespace to (Office writes w:p, and <si> in the default namespace)."""
    head = xml[:65536]
    prefixes = set(re.findall(rb'xmlns:([A-Za-z_][\w.\-]*)\s*=\s*["\']' + re.escape(namespace), head))
    if re.search(rb'xmlns\s*=\s*["\']' + re.escape(namespace), head):
        prefixes.add(b"")
    total = 0
    for prefix in prefixes or {b""}:
        tag = b"<" + (prefix + b":" if prefix else b"") + local
        total += sum(xml.count(tag + end) for end in (b">", b" ", b"/", b"\t", b"\n", b"\r"))
    return total


def csv_refusal(error: csv.Error) -> PaperFormatError:
    """A CSV the csv module gives up on, as one polite line."""
    if "field larger than field limit" in str(error):
        return PaperFormatError(f"Sorry, I couldn't read that CSV: one cell is longer than "
                                f"{MAX_CSV_FIELD:,} characters. Please paste just the recommendations.")
    return PaperFormatError("Sorry, I couldn't read that CSV; please check it was saved as CSV.")
