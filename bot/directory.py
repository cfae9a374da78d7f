"""What only Slack knows about people and channels: who is an admin, who is in which
private channel. Answers are cached briefly so a busy committee costs few API calls."""
from __future__ import annotations

import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient


class Directory:
    def __init__(self, client: AsyncWebClient, admins: frozenset[str] = frozenset(), ttl: float = 300.0):
        self.client = client
        self.admins = admins
        self.ttl = ttl
        self._cache: dict[tuple, tuple[float, object]] = {}

    def _get(self, key):
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None

    def _put(self, key, value):
        self._cache[key] = (time.monotonic() + self.ttl, value)
        return value

    def forget(self) -> None:
        self._cache.clear()

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

    async def is_admin(self, user_id: str) -> bool:
        if user_id in self.admins:
            return True
        user = await self.user(user_id)
        return bool(user and (user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")))

    async def display_name(self, user_id: str) -> str:
        user = await self.user(user_id) or {}
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
