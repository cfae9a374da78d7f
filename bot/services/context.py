"""Who is asking, where, and when: passed to every service call."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    # Slack Connect and Enterprise Grid: the acting person's own workspace when the request says
    # it (`user.team_id`, a command's `user_team`), and the enterprise the request came through.
    user_team_id: str | None = None
    enterprise_id: str | None = None
    _answers: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    @property
    def in_dm(self) -> bool:
        return not self.channel_id or self.channel_id.startswith("D")

    async def from_another_organisation(self) -> bool:
        """The person acts in a workspace's channel from another organisation (a Slack Connect
        channel shared with another council): their own workspace is not the one whose tracker
        this is, nor part of the same Enterprise Grid org. Asked of Slack (users.info, cached)
        only when the request doesn't say."""
        if "outsider" not in self._answers:
            team, enterprise = self.user_team_id, None
            if team and team.startswith("E"):   # (Slack names a Grid org where it would a workspace)
                team, enterprise = None, team
            if not team or (team != self.team_id and self.enterprise_id and enterprise is None):
                user = await self.directory.user(self.user_id) or {}
                team = team or user.get("team_id")
                enterprise = enterprise or (user.get("enterprise_user") or {}).get("enterprise_id")
            same_org = bool(self.enterprise_id) and enterprise == self.enterprise_id
            self._answers["outsider"] = bool(team) and team != self.team_id and not same_org
        return self._answers["outsider"]

    def in_channel(self, channel_id: str | None) -> "Ctx":
        """The same request, placed where a form or button says it began (its metadata)."""
        return replace(self, channel_id=channel_id)
