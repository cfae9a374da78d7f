"""The public tracker page (`/scrutiny publish on|off`, GET /public/<workspace>/<code>[.csv]):
over plain HTTP through the real server, and in a real headless browser where one exists."""
from __future__ import annotations

import csv
import io
import re
import shutil
from dataclasses import replace
from datetime import date

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.importing import ImportedItem
from bot.services.imports import import_items
from models.tables import AuditEvent, Committee, Workspace
from tests.conftest import NOW
from tests.harness import Harness

CYP = "Children and Young People Policy and Scrutiny Committee"
PUBLIC_URL = "https://scrutiny.example.org"
PAGE = "/public/essex-county-council/cyp"
PEOPLE = ("Ada Admin", "Alice Chair", "Bob Officer", "Carol Cabinet", "Dave Member", "alice", "carol")
ITEMS = [
    ImportedItem(number="1", text="Review foster carer training <script>alert(1)</script> & report back.",
                 owners=["Cabinet Member for Children"], position="Training reviewed with <@UALICE|alice>.",
                 status="in progress"),
    ImportedItem(number="2", text="=HYPERLINK(\"http://evil.example\",\"click\")", owners=["Director of Children's Services"],
                 position="+1 more review; see <https://example.org/report|the report>."),
    ImportedItem(number="3", text="Publish a safeguarding leaflet.", owners=["Chairman of the ESCB"],
                 position="Leaflet published.", status="implemented"),
]


async def _start(slack, database_url, clock) -> Harness:
    h = Harness(slack, database_url, clock, admins={"UENV"})
    h.settings = replace(h.settings, public_url=PUBLIC_URL)
    await h.start()
    return h


async def _load(h: Harness) -> None:
    r = await h.command("/scrutiny", f"setup cyp {CYP}", user="UADMIN", channel="CCYP")
    assert "bound to the new committee" in r.text
    async with h.db.session() as s, s.begin():
        (await s.get(Workspace, "T1")).name = "Essex County Council"
        await import_items(s, team_id="T1", committee_code="cyp", review_code="sg2010", items=ITEMS,
                           actor="UADMIN", now=NOW, title="Safeguarding", agreed_on=date(2010, 6, 3),
                           as_of=date(2010, 6, 1), source="test")
    for text in ("role chair <@UALICE|alice>", "role officer <@UBOB|bob>", 'role "Chairman of the ESCB" <@UCAROL|carol>'):
        await h.command("/scrutiny", text, user="UADMIN", channel="CCYP")
    # An item owned by a person directly: the page names the role "a named officer", never them.
    r = await h.command("/update", "rec-3 owner <@UDAVE|dave>", user="UADMIN", channel="CCYP")
    assert "rec-3" in r.text, r.text


@pytest_asyncio.fixture
async def h(slack, database_url, clock):
    h = await _start(slack, database_url, clock)
    await _load(h)
    yield h
    await h.stop()


async def get(h, path):
    async with h.http.get(h.url + path) as resp:
        return resp.status, resp.headers, await resp.read()


async def test_nothing_is_public_until_published(h):
    for path in (PAGE, PAGE + ".csv", "/public/t1/cyp", "/public/essex-county-council/ssc",
                 "/public/nowhere/cyp", "/public/t2/cyp"):
        status, headers, body = await get(h, path)
        assert status == 404, path
        assert b"Children" not in body and b"rec-" not in body
        assert headers["Cache-Control"] == "no-store"


async def test_published_page_shows_items_with_role_owners_and_no_people(h):
    r = await h.command("/scrutiny", "publish on", user="UALICE", channel="CCYP")   # the chair
    assert f"{PUBLIC_URL}{PAGE}" in r.visible, r.visible
    status, headers, body = await get(h, PAGE)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "script-src" not in headers["Content-Security-Policy"] and "default-src 'none'" in headers["Content-Security-Policy"]
    page = body.decode()
    for text in ("Cabinet Member for Children", "Director of Children&#x27;s Services", "A named officer",
                 "Publish a safeguarding leaflet.", "Leaflet published.", "In progress", "Implemented",
                 '<time datetime="2010-06-01">1 June 2010</time>', "rec-1", "rec-2", "rec-3"):
        assert text in page, text
    assert "Chairman of the ESCB" not in page   # rec-3's owner changed to Dave, shown as a role only
    assert not re.search(r"\bU[A-Z0-9]{4,}\b", page), "a Slack user ID leaked"
    assert not re.search(r"\bT[0-9]\b|\bT2\b|CCYP|CSSC", page)
    for person in PEOPLE:
        assert person not in page, person
    assert "Training reviewed with a named person." in page
    # The page's structure: a captioned table with column and row headers, a CSV link, no script.
    assert "<caption>" in page and '<th scope="col"' in page and '<th scope="row"' in page
    assert 'href="cyp.csv"' in page and "@media print" in page and "max-width: 40em" in page
    assert '<meta name="viewport"' in page and '<html lang="en-GB">' in page
    assert "<script" not in page.replace("&lt;script&gt;", "")
    # The team ID also works as the workspace part, and case doesn't matter.
    assert (await get(h, "/public/T1/CYP"))[0] == 200


async def test_html_escapes_an_items_text(h):
    await h.command("/scrutiny", "publish on", user="UADMIN", channel="CCYP")
    _, _, body = await get(h, PAGE)
    page = body.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; report back." in page
    assert "&quot;http://evil.example&quot;" in page


async def test_csv_download_neutralises_formulas(h):
    await h.command("/scrutiny", "publish on", user="UBOB", channel="CCYP")   # an officer
    status, headers, body = await get(h, PAGE + ".csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["reference", "recommendation", "owners", "status", "rag", "latest position", "position date"]
    by_ref = {r[0]: r for r in rows[1:]}
    assert by_ref["rec-2"][1] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert by_ref["rec-2"][5].startswith("'+1 more review")
    assert by_ref["rec-3"][2] == "A named officer"
    assert not any(cell[:1] in ("=", "+", "-", "@") for row in rows for cell in row)
    assert not re.search(r"\bU[A-Z0-9]{4,}\b", body.decode())


async def test_publish_off_takes_it_down_at_once(h):
    await h.command("/scrutiny", "publish on", user="UADMIN", channel="CCYP")
    assert (await get(h, PAGE))[0] == 200
    r = await h.command("/scrutiny", "publish off", user="UADMIN", channel="CCYP")
    assert "taken down" in r.visible
    assert (await get(h, PAGE))[0] == 404
    assert (await get(h, PAGE + ".csv"))[0] == 404
    async with h.db.session() as s:
        actions = list(await s.scalars(select(AuditEvent.action).where(AuditEvent.entity == "committee",
                                                                       AuditEvent.action.like("%publish"))))
    assert actions == ["publish", "unpublish"]


async def test_only_chair_officers_and_admins_publish(h):
    r = await h.command("/scrutiny", "publish on", user="UDAVE", channel="CCYP")
    assert "Only this committee's chair and officers" in r.visible
    assert (await get(h, PAGE))[0] == 404
    r = await h.command("/scrutiny", "publish", user="UADMIN", channel="CCYP")
    assert "/scrutiny publish on" in r.visible


async def test_a_private_committee_is_never_published(h):
    await h.command("/scrutiny", "setup ssc Safeguarding Sub-Committee", user="UADMIN", channel="CSSC")
    r = await h.command("/scrutiny", "publish on", user="UADMIN", channel="CSSC")
    assert "private committee" in r.visible and "can't be published" in r.visible
    assert (await get(h, "/public/essex-county-council/ssc"))[0] == 404
    # Even a flag set behind the app's back (or before it became private) shows nothing.
    async with h.db.session() as s, s.begin():
        ssc = (await s.scalars(select(Committee).where(Committee.code == "ssc"))).one()
        ssc.published_at = NOW
    assert (await get(h, "/public/essex-county-council/ssc"))[0] == 404


# ---- a real browser --------------------------------------------------------------------------

def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


async def test_page_in_a_headless_browser_at_phone_width(slack, sqlite_url, clock, tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed "
                                         "(pip install playwright) to drive a real browser")
    executable = _browser()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium) for the browser test")
    h = await _start(slack, sqlite_url, clock)
    try:
        await _load(h)
        await h.command("/scrutiny", "publish on", user="UADMIN", channel="CCYP")
        async with playwright_api.async_playwright() as p:
            try:
                context = await p.chromium.launch_persistent_context(
                    str(tmp_path / "profile"), executable_path=executable, headless=True, accept_downloads=True,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                    viewport={"width": 375, "height": 800})
            except Exception as e:   # a browser that won't start here is not the page's fault
                pytest.skip(f"Chromium at {executable} would not start headless: {str(e).splitlines()[0][:200]}")
            try:
                page = await context.new_page()
                resp = await page.goto(h.url + PAGE)
                assert resp.status == 200
                assert await page.title() == f"{CYP}: recommendations tracker"
                caption = await page.locator("table caption").inner_text()
                assert "Recommendations of the" in caption
                assert await page.locator("tbody tr").count() == 3
                overflow = await page.evaluate(
                    "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]")
                assert overflow[0] <= overflow[2] and overflow[1] <= overflow[2], overflow
                # Each cell is readable: the recommendation's text is on screen and not clipped to nothing.
                cell = page.locator("tbody tr").first.locator("td").first
                box = await cell.bounding_box()
                assert box and box["width"] > 250, box
                assert "foster carer training" in await cell.inner_text()
                async with page.expect_download() as info:
                    await page.get_by_role("link", name="Download this table as CSV").click()
                download = await info.value
                data = open(await download.path(), encoding="utf-8-sig").read()
                assert data.startswith("reference,recommendation,owners")
                assert "'=HYPERLINK" in data
            finally:
                await context.close()
    finally:
        await h.stop()
