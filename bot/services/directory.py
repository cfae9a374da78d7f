"""What only Slack knows about people and channels: who is an admin, who is in which
private channel. Answers are cached briefly so a busy committee costs few API calls."""
from __future__ import annotations

import asyncio
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

NAMED_TTL = 10.0   # how long another replica may take to see an admin named or removed


class Directory:
    def __init__(self, client: AsyncWebClient, admins: frozenset[str] = frozenset(), ttl: float = 300.0,
                 named_admins=None):
        self.client = client
        self.admins = admins
        self.ttl = ttl
        # async (team_id, user_id) -> bool: named an admin by one of the workspace's admins
        # (`/scrutiny admin add`, bot.services.settings); remembered for NAMED_TTL seconds.
        self.named_admins = named_admins
        self._cache: dict[tuple, tuple[float, object]] = {}
        self._scoped: dict[str, dict] = {}   # workspace -> its cache (with_client)

    def with_client(self, client: AsyncWebClient, scope: str) -> "Directory":
        """The same directory asking Slack through `client` (one workspace's, many workspaces),
        with a cache of its own for `scope` (the workspace), kept between requests."""
        other = Directory(client, self.admins, self.ttl, self.named_admins)
        other._cache = self._scoped.setdefault(scope, {})
        return other

    def _get(self, key):
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None

    def _put(self, key, value):
        self._cache[key] = (time.monotonic() + self.ttl, value)
        return value

    async def user(self, user_id: str) -> dict | None:
        key = ("user", user_id)
        cached = self._get(key)
        if cached is not None:
            return cached or None
        try:
            resp = await self.client.users_info(user=user_id)
            user = resp.get("user") or {}
        except SlackApiError:
            user = {}
        return self._put(key, user) or None

    async def is_admin(self, user_id: str, team_id: str | None = None) -> bool:
        """An admin of the workspace `team_id`: named in SCRUTINEER_ADMINS for it (`T1:U123`; a
        bare `U123` counts in every workspace the app serves), or an admin or owner of it in
        Slack. An admin of one workspace is never an admin of another."""
        if user_id in self.admins or (team_id and f"{team_id}:{user_id}" in self.admins):
            return True
        user = await self.user(user_id)
        if user and not (team_id and user.get("team_id") and user["team_id"] != team_id) and \
                (user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")):
            return True
        return await self._named_admin(team_id, user_id)

    async def _named_admin(self, team_id: str | None, user_id: str) -> bool:
        """Named an admin of this workspace by one of its admins (never of another)."""
        if self.named_admins is None or not team_id:
            return False
        key = ("named", team_id, user_id)
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        named = bool(await self.named_admins(team_id, user_id))
        self._cache[key] = (time.monotonic() + NAMED_TTL, named)
        return named

    def forget_admin(self, team_id: str, user_id: str) -> None:
        """An admin was just named or removed: ask again next time."""
        self._cache.pop(("named", team_id, user_id), None)

    async def display_name(self, user_id: str) -> str:
        return self._name(await self.user(user_id), user_id)

    def display_name_cached(self, user_id: str) -> str | None:
        """The name display_name would give, if it is known without asking Slack; else None."""
        user = self._get(("user", user_id))
        return None if user is None else self._name(user, user_id)

    async def display_names(self, user_ids) -> dict[str, str]:
        """display_name of each person, looked up together: one round trip to Slack at most,
        however many people (those cached cost nothing)."""
        ids = list(dict.fromkeys(u for u in user_ids if u))
        names = await asyncio.gather(*(self.display_name(u) for u in ids))
        return dict(zip(ids, names))

    @staticmethod
    def _name(user: dict | None, user_id: str) -> str:
        user = user or {}
        profile = user.get("profile") or {}
        return profile.get("real_name") or user.get("real_name") or user.get("name") or user_id

    async def private_channels_of(self, user_id: str) -> frozenset[str]:
        """Private channels the person is a member of (that the app is in too)."""
        key = ("channels", user_id)
        cached = self._get(key)
        if cached is not None:
            return cached
        found: set[str] = set()
        cursor = None
        try:
            while True:
                resp = await self.client.users_conversations(
                    user=user_id, types="private_channel", limit=200, cursor=cursor,
                    exclude_archived=True)
                found.update(c["id"] for c in resp.get("channels", []))
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError:
            pass
        return self._put(key, frozenset(found))

    async def channel_is_private(self, channel_id: str) -> bool:
        key = ("private", channel_id)
        cached = self._get(key)
        if cached is not None:
            return cached
        try:
            resp = await self.client.conversations_info(channel=channel_id)
            private = bool(resp["channel"].get("is_private"))
        except SlackApiError:
            private = False
        return self._put(key, private)
