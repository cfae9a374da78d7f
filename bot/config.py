"""Configuration, read once from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

DEFAULT_DATABASE_URL = "sqlite:///scrutineer.db"


def normalise_database_url(url: str) -> str:
    """Map plain sqlite/postgresql URLs to the async drivers we ship."""
    if url.startswith("sqlite:///") or url == "sqlite://":
        return "sqlite+aiosqlite" + url[len("sqlite"):]
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


def _minutes(value: str | None, default: int) -> int:
    """"2h", "90m", "90" (minutes) or "1h30m"."""
    if not value:
        return default
    import re
    m = re.fullmatch(r"\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m?)?\s*", value.lower())
    if not m or not any(m.groups()):
        raise ValueError(f"SCRUTINEER_DIGEST_DELAY: can't read {value!r}; use e.g. 2h or 90m")
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


def _retention_days(value: str | None) -> int | None:
    """SCRUTINEER_RETENTION_DAYS: whole days (default 90); "off" (or 0) keeps data for ever."""
    value = (value or "").strip().lower()
    if not value:
        return 90
    if value in ("off", "never", "0"):
        return None
    if not value.isdigit():
        raise ValueError(f"SCRUTINEER_RETENTION_DAYS: can't read {value!r}; use a number of days, e.g. 90, or off")
    return int(value)


@dataclass(frozen=True)
class Settings:
    database_url: str = normalise_database_url(DEFAULT_DATABASE_URL)
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    slack_api_url: str | None = None
    host: str = "127.0.0.1"        # `scrutineer serve` listens here (0.0.0.0 in a container)
    port: int = 3000
    tz_name: str = "Europe/London"
    admins: frozenset[str] = field(default_factory=frozenset)
    digest_delay_minutes: int = 120   # a meeting nobody closed gets its digest this long after it ends
    remind_days: int = 7              # owners are reminded this many days before an item falls due
    update_days: int = 10             # owners are asked for updates this many working days before a meeting
    escalate_days: int = 10           # an item overdue by more than this many working days is escalated
    # Defaults with no variable of their own; each council may set its own (`/scrutiny settings`).
    escalate_roles: tuple[str, ...] = ("chair", "officer")   # whose committee roles hear of escalations
    meeting_minutes: int = 120        # a meeting's length unless said otherwise
    holiday_region: str = "england-and-wales"   # whose bank holidays are not working days (bot.core.workdays)
    worker_interval: float = 5.0      # seconds between rounds of scheduled work and delivery
    lease_seconds: float = 30.0       # how soon another replica takes over from one that died
    worker: bool = True               # off: this replica only answers Slack; others deliver
    public_url: str | None = None     # where `scrutineer serve` is reached from outside (public tracker pages)
    client_id: str | None = None      # SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: many workspaces, installed by OAuth
    client_secret: str | None = None
    smtp_url: str | None = None       # smtp://, smtp+starttls:// or smtps://[user:pass@]host[:port]: letters by email
    mail_from: str | None = None      # the From address of those emails
    retention_days: int | None = 90   # an uninstalled workspace's data is removed this long after (None: never)

    @property
    def multi_workspace(self) -> bool:
        """Installed by OAuth in many workspaces, each with its own token (HTTP mode)."""
        return bool(self.client_id and self.client_secret)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> "Settings":
        env = dict(os.environ if env is None else env)
        api_url = env.get("SLACK_API_URL") or None
        if api_url and not api_url.endswith("/"):
            api_url += "/"
        values = dict(
            database_url=normalise_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            bot_token=env.get("SLACK_BOT_TOKEN") or None,
            signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            app_token=env.get("SLACK_APP_TOKEN") or None,
            slack_api_url=api_url,
            host=(env.get("HOST") or "127.0.0.1").strip(),
            port=int(env.get("PORT") or 3000),
            tz_name=env.get("SCRUTINEER_TZ") or "Europe/London",
            admins=frozenset(a.strip() for a in (env.get("SCRUTINEER_ADMINS") or "").split(",") if a.strip()),
            digest_delay_minutes=_minutes(env.get("SCRUTINEER_DIGEST_DELAY"), 120),
            remind_days=int(env.get("SCRUTINEER_REMIND_DAYS") or 7),
            update_days=int(env.get("SCRUTINEER_UPDATE_DAYS") or 10),
            escalate_days=int(env.get("SCRUTINEER_ESCALATE_DAYS") or 10),
            worker_interval=float(env.get("SCRUTINEER_WORKER_INTERVAL") or 5.0),
            lease_seconds=float(env.get("SCRUTINEER_LEASE_SECONDS") or 30.0),
            worker=(env.get("SCRUTINEER_WORKER") or "on").strip().lower() not in ("off", "0", "false", "no"),
            public_url=(env.get("SCRUTINEER_PUBLIC_URL") or "").strip().rstrip("/") or None,
            client_id=(env.get("SLACK_CLIENT_ID") or "").strip() or None,
            client_secret=(env.get("SLACK_CLIENT_SECRET") or "").strip() or None,
            smtp_url=(env.get("SCRUTINEER_SMTP_URL") or "").strip() or None,
            mail_from=(env.get("SCRUTINEER_MAIL_FROM") or "").strip() or None,
            retention_days=_retention_days(env.get("SCRUTINEER_RETENTION_DAYS")),
        )
        values.update(overrides)
        if "database_url" in overrides:
            values["database_url"] = normalise_database_url(overrides["database_url"])
        return cls(**values)
