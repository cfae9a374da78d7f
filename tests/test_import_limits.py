"""Hostile papers: small uploads that unpack into something huge or slow are refused politely,
before parsing (bot.importing.limits) or by the reader's own limits on time and memory
(bot.importing.sandbox), and reading never holds up the server (/healthz answers meanwhile).
The confirm step checks who is asking before anything is downloaded, unpacked or read."""
from __future__ import annotations

import asyncio
import base64
import io
import time
import zipfile
import zlib
from datetime import date

import pytest
import pytest_asyncio

from bot.core.errors import UserError
from bot.importing import PaperFormatError, limits, parse_paper, sandbox
from bot.importing.sandbox import parse_in_sandbox
from bot.services import imports
from tests.test_cli import one_clear_line, run_cli
from tests.test_import_form import CSV_PAPER, count, open_form, preview, read, visible

TODAY = date(2026, 6, 1)


# ---------------------------------------------------------------- hostile files, built here

def docx_with(body: bytes, *, extra: dict[str, bytes] | None = None) -> bytes:
    """A real Word file (python-docx's template) whose body is `body`."""
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                head, _, rest = data.partition(b"<w:body>")
                data = head + b"<w:body>" + body + rest
            z.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def paragraphs(n: int) -> bytes:
    return docx_with(b"<w:p><w:r><w:t>1. A line of the paper.</w:t></w:r></w:p>" * n)


def word_bomb(megabytes: int = 150) -> bytes:
    """A Word file whose document.xml unpacks to `megabytes` MB of repeated text."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w") as f:
            chunk = b"<w:p><w:r><w:t>Recommendation text.</w:t></w:r></w:p>" * 20000   # ~1 MB
            for _ in range(megabytes):
                f.write(chunk)
    return out.getvalue()


def workbook_with_shared_strings(n: int) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["number", "text"])
    wb.active.append(["1", "Do it"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    strings = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               + b"<si><t>x</t></si>" * n + b"</sst>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename != "xl/sharedStrings.xml":
                z.writestr(info.filename, src.read(info))
        z.writestr("xl/sharedStrings.xml", strings)
    return out.getvalue()


def refusal(content, filename=None) -> str:
    with pytest.raises(PaperFormatError) as e:
        parse_paper(content, filename, today=TODAY)
    message = str(e.value)
    assert "\n" not in message and message.endswith(".")
    return message


# ---------------------------------------------------------------- refused before parsing

def test_word_file_of_very_many_paragraphs_is_refused_before_parsing():
    data = paragraphs(300_000)
    assert len(data) < 100_000   # small to upload
    started = time.monotonic()
    assert "more than 30,000 paragraphs" in refusal(data, "minutes.docx")
    assert time.monotonic() - started < 10   # generous: counting tags, not parsing 300,000 of them


def test_zip_bomb_is_refused_by_its_unpacked_size():
    data = word_bomb(150)
    assert len(data) < 5 * 1024 * 1024
    assert "unpacks to more than 100 MB" in refusal(data, "paper.docx")


def test_zip_of_too_many_parts_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
        for n in range(limits.MAX_ENTRIES + 1):
            z.writestr(f"customXml/item{n}.xml", "")
    assert "more than 10,000 parts" in refusal(out.getvalue(), "paper.docx")


def test_workbook_of_absurdly_many_shared_strings_is_refused():
    data = workbook_with_shared_strings(500_000)
    assert len(data) < 200_000
    assert "more than 100,000 different pieces of text" in refusal(data, "tracker.xlsx")


def test_text_and_csv_limits_are_one_polite_line():
    assert "more than 5 million characters" in refusal("1. Do it.\n" * 600_000)
    assert "more than 5 million characters" in refusal(b"number,text\n1," + b"x" * 20_000_000 + b"\n", "big.csv")
    # a cell longer than the csv module reads: a refusal, not a traceback
    message = refusal("number,text\n1,Do it\n2," + "x" * (limits.MAX_CSV_FIELD + 10) + "\n", "recs.csv")
    assert "one cell is longer than 131,072 characters" in message
    # ...also when that long cell is on the first line
    refusal("x" * (limits.MAX_CSV_FIELD + 10) + ",text\n1,2\n", "recs.csv")


def test_ordinary_papers_are_well_inside_the_limits():
    assert len(parse_paper(paragraphs(50), "paper.docx", today=TODAY).items) >= 1
    assert len(parse_paper(workbook_with_shared_strings(10), "t.xlsx", today=TODAY).items) == 1
    assert len(parse_paper(CSV_PAPER, "t.csv", today=TODAY).items) == 13


# ---------------------------------------------------------------- the paste and its packing

def test_paste_and_packed_paste_limits():
    imports.check_paste("x" * imports.MAX_PASTE)
    with pytest.raises(UserError, match="too long to paste"):
        imports.check_paste("x" * (imports.MAX_PASTE + 1))
    ok = "1. Do it.\n" * 1000
    assert imports.unpack(imports.pack(ok)) == ok
    # 64 KB of form field that would inflate to 12 MB: refused without inflating it all
    bomb = base64.b64encode(zlib.compress(b"a" * 12_000_000, 9)).decode()
    with pytest.raises(UserError, match="out of date"):
        imports.unpack(bomb)
    with pytest.raises(UserError, match="out of date"):
        imports.unpack(imports.pack("x" * (imports.MAX_PASTE + 1)))
    with pytest.raises(UserError, match="out of date"):
        imports.unpack(imports.pack(ok)[:-8])   # cut short
    with pytest.raises(UserError, match="out of date"):
        imports.join_chunks(["x" * 3000] * 100)


# ---------------------------------------------------------------- the reader's own limits

async def test_sandbox_reads_what_parse_paper_reads():
    paper = await parse_in_sandbox(CSV_PAPER, "t.csv", TODAY)
    assert paper.as_json() == parse_paper(CSV_PAPER, "t.csv", today=TODAY).as_json()
    with pytest.raises(PaperFormatError, match="more than 30,000 paragraphs"):
        await parse_in_sandbox(paragraphs(300_000), "m.docx", TODAY)


async def test_sandbox_stops_a_slow_paper_and_replaces_its_reader():
    await parse_in_sandbox(CSV_PAPER, "t.csv", TODAY)   # a reader started (its start isn't timed)
    slow = paragraphs(25_000)   # under the paragraph limit; seconds of python-docx
    with pytest.raises(PaperFormatError) as e:
        await parse_in_sandbox(slow, "m.docx", TODAY, timeout=0.3)
    assert str(e.value) == sandbox.TOO_SLOW
    assert len((await parse_in_sandbox(CSV_PAPER, "t.csv", TODAY)).items) == 13


async def test_sandbox_limits_memory():
    with pytest.raises(PaperFormatError) as e:
        await parse_in_sandbox("1. Do it.\n" * 400_000, None, TODAY, memory_mb=16)
    assert str(e.value) == sandbox.TOO_LARGE
    assert len((await parse_in_sandbox(CSV_PAPER, "t.csv", TODAY)).items) == 13


# ---------------------------------------------------------------- through Slack

CYP = "Children and Young People Scrutiny Committee"


@pytest_asyncio.fixture
async def world(harness):
    h = harness
    await h.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    await h.command("/scrutiny", "role chair <@UALICE|alice>", user="UADMIN", channel="CCYP")
    await h.command("/scrutiny", "role officer <@UBOB|bob>", user="UADMIN", channel="CCYP")
    return h


def attach(h, file_id: str, name: str, data: bytes) -> dict:
    h.slack.add_file(file_id, name, data, "application/octet-stream")
    return {("review", "value"): "sg2010", ("file", "value"): [{"id": file_id, "name": name}]}


async def test_huge_word_file_is_refused_politely_in_the_form(world):
    h = world
    view = await open_form(h)
    shown = await read(h, view, attach(h, "F0BOMB1", "minutes.docx", paragraphs(300_000)))
    assert shown["callback_id"] == "import_paper"
    assert "too large to read (more than 30,000 paragraphs)" in visible(shown)
    assert await count(h) == 0


async def test_health_check_answers_while_a_paper_is_read(world, monkeypatch):
    h = world
    monkeypatch.setattr(imports, "PARSE_TIMEOUT", 0.5)
    await parse_in_sandbox(CSV_PAPER, "t.csv", TODAY)   # a reader is ready: its start isn't timed
    view = await open_form(h)
    answers = attach(h, "F0SLOW1", "minutes.docx", paragraphs(25_000))   # seconds of python-docx
    healthy: list[float] = []
    done = asyncio.Event()

    async def poll():
        while not done.is_set():
            async with h.http.get(h.url + "/healthz") as resp:
                if resp.status == 200:
                    healthy.append(time.monotonic())
            await asyncio.sleep(0.02)

    poller = asyncio.create_task(poll())
    try:
        status, body = await h.submit(view, answers, user="UBOB")
        assert status == 200 and body["view"]["callback_id"] == "import_reading"   # answered at once
        answered = time.monotonic()
        call = (await h.slack.wait_for("views.update", timeout=60))[0]
    finally:
        done.set()
        await poller
    assert sandbox.TOO_SLOW in visible(call.response["view"])
    # The health check kept answering while the paper was read (and stopped at 0.5 s).
    assert sum(1 for t in healthy if answered <= t <= call.at) >= 2, (len(healthy), call.at - answered)


async def test_oversized_and_deeply_nested_pastes(world):
    h = world
    view = await open_form(h)
    status, body = await h.submit(view, {("review", "value"): "sg2010",
                                         ("paste", "value"): "1. Do it.\n" * 20_001}, user="UBOB")
    assert body["response_action"] == "errors" and "too long to paste" in body["errors"]["paste"]
    assert not h.slack.calls_to("views.update")
    nested = "<html><body>" + "<table><tr><td>" * 5000 + "1. Do it" + "</td></tr></table>" * 5000
    shown = await read(h, view, {("review", "value"): "sg2010", ("paste", "value"): nested})
    assert shown["callback_id"] == "import_paper" and ":warning:" in visible(shown)
    assert await count(h) == 0


async def test_confirm_by_someone_who_may_not_import_reads_nothing(world, monkeypatch):
    h = world
    h.slack.add_file("F0IMPORT9", "tracker.csv", CSV_PAPER.encode(), "text/csv")
    by_file = await preview(h, {("review", "value"): "sg2010", ("file", "value"): [{"id": "F0IMPORT9"}]})
    by_paste = await preview(h, {("review", "value"): "sg2010", ("paste", "value"): CSV_PAPER}, n=2)
    assert "Found 13 recommendations" in visible(by_file) and "Found 13 recommendations" in visible(by_paste)
    touched = []
    for name in ("parse", "unpack", "join_chunks", "fetch_file"):
        real = getattr(imports, name)
        monkeypatch.setattr(imports, name, lambda *a, _n=name, _r=real, **k: touched.append(_n) or _r(*a, **k))
    seen = {m: len(h.slack.calls_to(m)) for m in ("files.info", "file_download", "views.update")}
    for n, view in enumerate((by_file, by_paste), start=1):
        status, body = await h.submit(view, {}, user="UDAVE")
        assert status == 200 and not body
        said = (await h.slack.wait_for("chat.postEphemeral", n))[n - 1].args
        assert said["user"] == "UDAVE"
        assert said["text"].startswith(":warning: Nothing was imported. Only the committee's chair and officers")
    await h.settle()
    assert touched == []
    assert {m: len(h.slack.calls_to(m)) for m in seen} == seen
    assert await count(h) == 0


# ---------------------------------------------------------------- the command line

def test_cli_refuses_hostile_files_in_one_line(tmp_path):
    cases = [("minutes.docx", paragraphs(300_000), "more than 30,000 paragraphs"),
             ("bomb.docx", word_bomb(150), "unpacks to more than 100 MB"),
             ("recs.csv", b"number,text\n1," + b"x" * 20_000_000 + b"\n", "too large to read"),
             ("recs2.csv", b"number,text\n1," + b"x" * 200_000 + b"\n", "one cell is longer")]
    for name, data, hint in cases:
        path = tmp_path / name
        path.write_bytes(data)
        result = run_cli("import", str(path), "--committee", "cyp", "--review", "r1", "--dry-run",
                         database_url=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        assert result.returncode == 2, (name, result.stderr)
        assert hint in one_clear_line(result.stderr), name
        assert result.stdout == ""
