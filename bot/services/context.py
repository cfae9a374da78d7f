"""Who is asking, where, and when: passed to every service call."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.services.directory import Directory


@dataclass(frozen=True)
class Ctx:
    team_id: str
    user_id: str
    channel_id: str | None
    now: datetime  # timezone-aware; the clock is passed in so rules are plain functions of it
    tz: ZoneInfo
    directory: Directory

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    @property
    def in_dm(self) -> bool:
        return not self.channel_id or self.channel_id.startswith("D")

    def in_channel(self, channel_id: str | None) -> "Ctx":
        """The same request, placed where a form or button says it began (its metadata)."""
        return replace(self, channel_id=channel_id)
