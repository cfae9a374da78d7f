"""Installations in many workspaces (OAuth), kept in the app's own database.

- `InstallationStore` and `StateStore` implement slack_sdk's async interfaces over
  bot.db.Database, for Bolt's OAuth flow (GET /slack/install, GET /slack/oauth_redirect) and
  its authorize step (each request's token).
- `Tokens` gives the worker each workspace's bot token (`token_for(team_id)`), cached briefly,
  refreshed before use when it rotates and is near expiry; None once the app is uninstalled.
- `stop_workspace` is what an uninstall or a revoked token does: the installation is marked
  uninstalled and everything still queued for that workspace ends as dead, with the reason.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store import Installation as SdkInstallation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import abandon_team
from models.delivery import OutboxMessage
from models.installations import Installation, OAuthState, OrgWorkspace

log = logging.getLogger("scrutineer.installations")

# The bot scopes an installation asks for: those of manifest.yml (a test keeps them equal).
BOT_SCOPES = ("commands", "chat:write", "users:read", "team:read", "channels:read", "groups:read", "files:write",
              "files:read", "im:write", "channels:history", "groups:history", "im:history")
REVOKED_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive"})


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def _datetime(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(float(value), timezone.utc)


def _key(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False):
    """(enterprise_id, team_id) as stored: an org-wide install is found by its enterprise alone."""
    return (enterprise_id or "", "" if is_enterprise_install else (team_id or ""))


class InstallationStore(AsyncInstallationStore):
    """One row per workspace (or org-wide install); installing again replaces it and clears
    an earlier uninstall. An uninstalled workspace's installation is never found."""

    def __init__(self, db, clock: Callable[[], datetime] = utc_now):
        self.db = db
        self.clock = clock
        self._logger = log
        self._members: set[tuple[str, str]] = set()   # (team, enterprise) known in org_workspaces

    @property
    def logger(self):
        return self._logger

    async def _row(self, s: AsyncSession, enterprise_id, team_id, is_enterprise_install=False) -> Installation | None:
        enterprise, team = _key(enterprise_id, team_id, is_enterprise_install)
        return await s.scalar(select(Installation).where(Installation.enterprise_id == enterprise,
                                                         Installation.team_id == team))

    async def async_save(self, installation: SdkInstallation) -> None:
        values = dict(team_name=installation.team_name, app_id=installation.app_id,
                      is_enterprise_install=bool(installation.is_enterprise_install),
                      bot_token=installation.bot_token or "", bot_refresh_token=installation.bot_refresh_token,
                      bot_token_expires_at=_datetime(installation.bot_token_expires_at),
                      bot_id=installation.bot_id, bot_user_id=installation.bot_user_id,
                      scopes=",".join(installation.bot_scopes or []), installer_user_id=installation.user_id,
                      installed_at=_datetime(installation.installed_at) or self.clock(),
                      uninstalled_at=None, uninstalled_reason=None)
        async with self.db.session() as s, s.begin():
            row = await self._row(s, installation.enterprise_id, installation.team_id,
                                  installation.is_enterprise_install)
            if row is None:
                enterprise, team = _key(installation.enterprise_id, installation.team_id,
                                        installation.is_enterprise_install)
                s.add(Installation(enterprise_id=enterprise, team_id=team, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)

    async def async_save_bot(self, bot: Bot) -> None:
        """A rotated bot token: the row keeps everything else."""
        async with self.db.session() as s, s.begin():
            row = await self._row(s, bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
            if row is None:
                return
            row.bot_token = bot.bot_token
            row.bot_refresh_token = bot.bot_refresh_token
            row.bot_token_expires_at = _datetime(bot.bot_token_expires_at)
            if bot.bot_scopes:
                row.scopes = ",".join(bot.bot_scopes)

    async def installation_row(self, enterprise_id: str | None, team_id: str | None,
                               is_enterprise_install: bool | None = False) -> Installation | None:
        through_org = False
        async with self.db.session() as s:
            row = await self._row(s, enterprise_id, team_id, is_enterprise_install)
            if row is None and team_id and not is_enterprise_install:
                # A workspace inside an org-wide install (or asked for without its enterprise).
                row = await s.scalar(select(Installation).where(Installation.team_id == team_id))
            if row is None and team_id and not enterprise_id:
                # Asked by team alone (the worker): the org it was seen in, if any.
                enterprise_id = await s.scalar(select(OrgWorkspace.enterprise_id).where(OrgWorkspace.team_id == team_id))
            if row is None and enterprise_id:
                row = await self._row(s, enterprise_id, None, True)
                through_org = row is not None and bool(team_id) and not is_enterprise_install
        if row is None or row.uninstalled_at is not None:
            return None
        if through_org:
            await self._remember_member(team_id, enterprise_id)
        return row

    async def _remember_member(self, team_id: str, enterprise_id: str) -> None:
        """A workspace served by its org's org-wide install: kept, so the worker sending its
        rows (which know only the team) finds the org's token too."""
        if (team_id, enterprise_id) in self._members:
            return
        try:
            async with self.db.session() as s, s.begin():
                known = await s.get(OrgWorkspace, team_id)
                if known is None:
                    s.add(OrgWorkspace(team_id=team_id, enterprise_id=enterprise_id, seen_at=self.clock()))
                elif known.enterprise_id != enterprise_id:
                    known.enterprise_id, known.seen_at = enterprise_id, self.clock()
        except IntegrityError:   # another replica remembered it first
            pass
        self._members.add((team_id, enterprise_id))

    async def async_find_installation(self, *, enterprise_id: Optional[str], team_id: Optional[str],
                                      user_id: Optional[str] = None,
                                      is_enterprise_install: Optional[bool] = False) -> Optional[SdkInstallation]:
        row = await self.installation_row(enterprise_id, team_id, is_enterprise_install)
        if row is None:
            return None
        return SdkInstallation(app_id=row.app_id, enterprise_id=row.enterprise_id or None,
                               team_id=row.team_id or None, team_name=row.team_name,
                               bot_token=row.bot_token, bot_id=row.bot_id, bot_user_id=row.bot_user_id,
                               bot_scopes=row.scopes, bot_refresh_token=row.bot_refresh_token,
                               bot_token_expires_at=_epoch(row.bot_token_expires_at),
                               user_id=row.installer_user_id or "", installed_at=row.installed_at.timestamp(),
                               is_enterprise_install=row.is_enterprise_install)

    async def async_find_bot(self, *, enterprise_id: Optional[str], team_id: Optional[str],
                             is_enterprise_install: Optional[bool] = False) -> Optional[Bot]:
        installation = await self.async_find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                                          is_enterprise_install=is_enterprise_install)
        return None if installation is None else installation.to_bot()

    async def async_delete_bot(self, *, enterprise_id: Optional[str], team_id: Optional[str]) -> None:
        await stop_workspace(self.db, team_id or "", "app_uninstalled", self.clock(), enterprise_id=enterprise_id)

    async def async_delete_installation(self, *, enterprise_id: Optional[str], team_id: Optional[str],
                                        user_id: Optional[str] = None) -> None:
        if user_id is None:   # (only the bot's installation is kept: a user's is nothing to us)
            await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)


class StateStore(AsyncOAuthStateStore):
    """Single-use states: consumed once, atomically, and only before they expire."""

    def __init__(self, db, expiration_seconds: int = 600, clock: Callable[[], datetime] = utc_now):
        self.db = db
        self.expiration_seconds = expiration_seconds
        self.clock = clock

    @property
    def logger(self):
        return log

    async def async_issue(self, *args, **kwargs) -> str:
        state = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.db.session() as s, s.begin():
            s.add(OAuthState(state=state, expires_at=now + timedelta(seconds=self.expiration_seconds)))
        return state

    async def async_consume(self, state: str) -> bool:
        if not state or len(state) > 100:
            return False
        now = self.clock()
        async with self.db.session() as s, s.begin():
            done = await s.execute(update(OAuthState).where(
                OAuthState.state == state, OAuthState.consumed_at.is_(None), OAuthState.expires_at > now)
                .values(consumed_at=now).execution_options(synchronize_session=False))
        return done.rowcount == 1


async def mark_uninstalled(session: AsyncSession, team_id: str, reason: str, now: datetime,
                           enterprise_id: str | None = None) -> None:
    query = update(Installation).where(Installation.uninstalled_at.is_(None))
    if team_id:
        done = await session.execute(query.where(Installation.team_id == team_id).values(
            uninstalled_at=now, uninstalled_reason=reason[:100]).execution_options(synchronize_session=False))
        if done.rowcount or reason not in REVOKED_ERRORS:
            return
        # A workspace served by an org-wide install whose token Slack refused: the token is the
        # org's, so the org's install ends. (An event about one workspace of the org doesn't.)
        enterprise_id = await session.scalar(select(OrgWorkspace.enterprise_id).where(OrgWorkspace.team_id == team_id))
        if not enterprise_id:
            return
    await session.execute(query.where(Installation.enterprise_id == (enterprise_id or ""), Installation.team_id == "")
                          .values(uninstalled_at=now, uninstalled_reason=reason[:100])
                          .execution_options(synchronize_session=False))


async def stop_workspace(db, team_id: str, reason: str, now: datetime, *, enterprise_id: str | None = None) -> int:
    """The app was uninstalled from a workspace, or its token revoked: no token for it from now
    on, and what is still queued for it ends as dead with `reason`. How many rows were given up."""
    from bot.services.letters import record_refusal  # (the dispatcher's on_dead hook, bot.scheduled)

    async with db.session() as s, s.begin():
        await mark_uninstalled(s, team_id, reason, now, enterprise_id)
        # An org-wide install: every workspace of the org it served stops with it.
        teams = [team_id] if team_id else list(await s.scalars(
            select(OrgWorkspace.team_id).where(OrgWorkspace.enterprise_id == (enterprise_id or ""))))
        waiting = list(await s.scalars(select(OutboxMessage).where(
            OutboxMessage.team_id.in_(teams), OutboxMessage.sent_at.is_(None), OutboxMessage.dead_at.is_(None))))
        dropped = 0
        for team in teams:
            dropped += await abandon_team(s, team, reason, now)
        for row in waiting:   # as a death of its own would be: a letter's recipient marked undelivered
            async with s.begin_nested():
                await record_refusal(s, row, reason)
    log.warning("Stopped sending to workspace %s (%s): %d queued messages given up", team_id or enterprise_id,
                reason, dropped)
    return dropped


class Tokens:
    """Each workspace's bot token for the worker: `token_for(team_id)`, cached for `ttl` seconds
    (and never past the point it should be refreshed); refreshed through `rotator` (one refresh
    at a time per workspace) when it rotates and is within `refresh_minutes` of expiring."""

    def __init__(self, store: InstallationStore, rotator: AsyncTokenRotator | None = None, *,
                 ttl: float = 30.0, refresh_minutes: int = 120):
        self.store = store
        self.rotator = rotator
        self.ttl = ttl
        self.refresh_minutes = refresh_minutes
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def forget(self, team_id: str) -> None:
        self._cache.pop(team_id, None)

    async def token_for(self, team_id: str) -> str | None:
        hit = self._cache.get(team_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        lock = self._locks.setdefault(team_id, asyncio.Lock())
        async with lock:
            hit = self._cache.get(team_id)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
            token, good_for = await self._look_up(team_id)
            self._cache[team_id] = (time.monotonic() + min(self.ttl, good_for), token)
            return token

    async def _look_up(self, team_id: str) -> tuple[str | None, float]:
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            return None, self.ttl
        if bot.bot_refresh_token and bot.bot_token_expires_at and self.rotator is not None:
            rotated = await self.rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=self.refresh_minutes)
            if rotated is not None:
                await self.store.async_save_bot(rotated)
                log.info("Refreshed the bot token of workspace %s", team_id)
                bot = rotated
        if bot.bot_refresh_token and bot.bot_token_expires_at:
            # Look again when the token comes within reach of needing its refresh.
            return bot.bot_token, max(0.0, bot.bot_token_expires_at - time.time() - self.refresh_minutes * 60)
        return bot.bot_token, self.ttl

    async def revoked(self, session: AsyncSession, team_id: str, reason: str, now: datetime) -> None:
        """The dispatcher's hook when Slack refuses a workspace's token: the installation ends
        (the dispatcher gives up its queued rows in the same transaction)."""
        await mark_uninstalled(session, team_id, reason, now)
        self._cache[team_id] = (time.monotonic() + self.ttl, None)
