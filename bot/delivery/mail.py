"""Sending an outbox row of method "email" over SMTP (aiosmtplib).

Configured by one URL (SCRUTINEER_SMTP_URL): `smtp://[user:pass@]host[:port]` plain SMTP (with
a login when credentials are given; STARTTLS used if the server offers it), `smtp+starttls://`
STARTTLS required, `smtps://` TLS from the start. The row's payload holds to, subject, text
and html; the message carries a Message-ID made from the row's key, so a resend after a crash
mid-send is recognisable as the same message.

What the server says decides what the dispatcher does: a 4xx (or a connection that failed or
dropped) is MailDeferred, tried again with backoff; a 5xx is MailRefused, the row given up on
with the server's words kept.
"""
from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

EMAIL_METHOD = "email"
TIMEOUT = 30.0

# Sends one email outbox row's payload (with the row's key): raises MailDeferred or MailRefused.
MailSender = Callable[[dict, str], Awaitable[None]]


class MailDeferred(Exception):
    """The mail server (or the way to it) failed for now: try again later."""


class MailRefused(Exception):
    """The mail server refused the message for good (a 5xx): trying again won't help."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False         # smtps://: TLS from the start
    start_tls: bool | None = None  # True: required; None: if offered

    @classmethod
    def from_url(cls, url: str) -> "SmtpConfig":
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtp+starttls", "smtps") or not parts.hostname:
            raise ValueError("SCRUTINEER_SMTP_URL: use smtp://, smtp+starttls:// or smtps://[user:pass@]host[:port]")
        default_port = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[scheme]
        return cls(host=parts.hostname, port=parts.port or default_port,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password is not None else None,
                   use_tls=scheme == "smtps", start_tls=True if scheme == "smtp+starttls" else (
                       False if scheme == "smtps" else None))


def build_message(payload: dict, key: str, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = payload["to"]
    message["Subject"] = payload.get("subject") or ""
    message["Date"] = formatdate(localtime=False)
    domain = mail_from.rsplit("@", 1)[-1].strip(" >") or "scrutineer.invalid"
    message["Message-ID"] = make_msgid(hashlib.sha256(key.encode()).hexdigest()[:24], domain=domain)
    message.set_content(payload.get("text") or "")
    if payload.get("html"):
        message.add_alternative(payload["html"], subtype="html")
    return message


def smtp_sender(url: str, mail_from: str, *, timeout: float = TIMEOUT) -> MailSender:
    """The MailSender for a SCRUTINEER_SMTP_URL."""
    config = SmtpConfig.from_url(url)

    async def send(payload: dict, key: str) -> None:
        import aiosmtplib

        message = build_message(payload, key, mail_from)
        try:
            await aiosmtplib.send(message, hostname=config.host, port=config.port, username=config.username,
                                  password=config.password, use_tls=config.use_tls, start_tls=config.start_tls,
                                  timeout=timeout)
        except aiosmtplib.SMTPRecipientsRefused as e:
            codes = [r.code for r in e.recipients]
            words = "; ".join(f"{r.code} {r.message}" for r in e.recipients)
            raise (MailRefused(words) if codes and all(c >= 500 for c in codes) else MailDeferred(words)) from e
        except aiosmtplib.SMTPAuthenticationError as e:   # our configuration, not the address: keep trying
            raise MailDeferred(f"login refused: {e.code} {e.message}") from e
        except aiosmtplib.SMTPResponseException as e:
            words = f"{e.code} {e.message}"
            raise (MailRefused(words) if 500 <= e.code < 600 else MailDeferred(words)) from e
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as e:
            raise MailDeferred(f"{type(e).__name__}: {e}") from e

    return send
