async def test_setup_then_actions(harness):
    r = await harness.command("/scrutiny", "setup cyp Children and Young People Scrutiny Committee", user="UADMIN", channel="CCYP")
    assert "bound to the new committee" in r.text
    r = await harness.command("/actions", "", user="UDAVE", channel="CCYP")
    assert "No open items" in r.text
