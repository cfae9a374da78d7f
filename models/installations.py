"""Installations of the app in many workspaces (OAuth), and the OAuth flow's single-use states."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base


class Installation(Base):
    """The app's bot in one workspace (or org): the token every call for it uses. One row per
    workspace, replaced when the app is installed again; uninstalled_at set when Slack says the
    app was removed or its token revoked, after which nothing is sent there."""
    __tablename__ = "installations"
    __table_args__ = (Index("ix_installations_team", "enterprise_id", "team_id", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), default="")        # "" for an org-wide install
    enterprise_id: Mapped[str] = mapped_column(String(32), default="")  # "" outside Enterprise Grid
    team_name: Mapped[str | None] = mapped_column(String(200))
    app_id: Mapped[str | None] = mapped_column(String(32))
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean, default=False)
    bot_token: Mapped[str] = mapped_column(Text)
    bot_refresh_token: Mapped[str | None] = mapped_column(Text)
    bot_token_expires_at: Mapped[datetime | None]
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    scopes: Mapped[str] = mapped_column(Text, default="")               # comma-separated bot scopes
    installer_user_id: Mapped[str | None] = mapped_column(String(32))
    installed_at: Mapped[datetime]
    uninstalled_at: Mapped[datetime | None]
    uninstalled_reason: Mapped[str | None] = mapped_column(String(100))


class OAuthState(Base):
    """A state handed to a browser at /slack/install, good once until it expires."""
    __tablename__ = "oauth_states"
    state: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]


class OrgWorkspace(Base):
    """A workspace of an Enterprise Grid org whose app is installed org-wide, as its requests
    showed it: the worker finds the org's installation (and token) for the workspace's rows."""
    __tablename__ = "org_workspaces"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(32))
    seen_at: Mapped[datetime]
