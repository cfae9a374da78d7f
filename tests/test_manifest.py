"""manifest.yml is what an admin pastes into Slack: it must list exactly what the app does."""
import json
from pathlib import Path

import pytest
import yaml

from bot.app import build_app
from bot.config import Settings
from bot.db import Database
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())


def _strings_in_closures(fn, seen=None) -> set[str]:
    """Strings captured by a listener matcher (Bolt keeps the command it was registered for there)."""
    seen = seen if seen is not None else set()
    if id(fn) in seen:
        return set()
    seen.add(id(fn))
    found = set()
    for cell in getattr(fn, "__closure__", None) or ():
        value = cell.cell_contents
        if isinstance(value, str):
            found.add(value)
        elif callable(value):
            found |= _strings_in_closures(value, seen)
    return found


def listened_commands(tmp_path) -> set[str]:
    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'm.db'}", bot_token="xoxb-x",
                                 signing_secret="s")
    app, _ = build_app(settings, Database(settings.database_url))
    found = set()
    for listener in app._async_listeners:
        for matcher in listener.matchers:
            found |= {s for s in _strings_in_closures(matcher.func) if s.startswith("/")}
    return found


def test_manifest_commands_are_the_commands_the_app_listens_to(tmp_path):
    in_manifest = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert in_manifest == listened_commands(tmp_path)


async def test_each_manifest_command_is_answered(harness):
    for c in MANIFEST["features"]["slash_commands"]:
        reply = await harness.command(c["command"], "help", user="UDAVE", channel="CCYP")
        assert c["command"] in reply.text, reply.text


def test_every_command_is_described_and_escaped():
    for c in MANIFEST["features"]["slash_commands"]:
        assert c["description"] and len(c["description"]) <= 100, c["command"]
        assert c.get("usage_hint"), c["command"]
        assert c["should_escape"] is True, c["command"]


def test_manifest_turns_on_what_the_app_uses():
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "users:read", "groups:read", "channels:read"} <= scopes


def test_manifest_is_valid_against_slacks_schema():
    schema_path = SHARED / "slack" / "manifest.schema.1.0.0.json"
    if not schema_path.exists():
        pytest.skip("../shared/slack/manifest.schema.1.0.0.json is not present")
    import jsonschema

    schema = json.loads(schema_path.read_text())
    jsonschema.validate(MANIFEST, schema)
