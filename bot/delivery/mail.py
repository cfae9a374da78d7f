"""Sending an outbox row of method "email" over SMTP (aiosmtplib).

Configured by one URL (SCRUTINEER_SMTP_URL): `smtp://[user:pass@]host[:port]` plain SMTP (with
a login when credentials are given; STARTTLS used if the server offers it), `smtp+starttls://`
STARTTLS required, `smtps://` TLS from the start. The row's payload holds to, subject, text
and html; the message carries a Message-ID made from the row's key, so a resend after a crash
mid-send is recognisable as the same message.

A personal link's secret (the /ack/<token> of a decision letter) is never stored in the outbox in
clear: the payload holds it sealed (`seal`: encrypted and authenticated with a key derived from
the app's secrets in its environment — SLACK_SIGNING_SECRET, else SLACK_CLIENT_SECRET, else
SCRUTINEER_SMTP_URL — never from the database), and it is opened only here, as the message is
built to be sent. So someone who can read the database cannot use the link. A row queued before
links were sealed carries its link in clear and is sent as it is.

What the server says decides what the dispatcher does: a 4xx (or a connection that failed or
dropped) is MailDeferred, tried again with backoff; a 5xx is MailRefused, the row given up on
with the server's words kept.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from cryptography.fernet import Fernet, InvalidToken

EMAIL_METHOD = "email"
TIMEOUT = 30.0
SEALED = re.compile(r"~ack~([A-Za-z0-9_-]{20,400})~")


def link_key(settings) -> bytes:
    """The key links are sealed with: from secrets the app has in its environment, not the database."""
    return _key_from(getattr(settings, "signing_secret", None) or getattr(settings, "client_secret", None)
                     or getattr(settings, "smtp_url", None) or "")


def _key_from(material: str) -> bytes:
    return hashlib.sha256(b"scrutineer personal link\x00" + material.encode()).digest()


def _fernet(key: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key).digest()))


def seal(secret: str, key: bytes) -> str:
    """`secret` (a link's token) encrypted and authenticated (Fernet: AES-CBC with an HMAC), as a
    placeholder that stays intact through HTML escaping: `~ack~<base64url>~`."""
    return "~ack~" + _fernet(key).encrypt(secret.encode()).decode().rstrip("=") + "~"


def unseal(sealed: str, key: bytes) -> str | None:
    """The secret in a placeholder's base64 part, or None when it was not sealed with this key."""
    try:
        return _fernet(key).decrypt((sealed + "=" * (-len(sealed) % 4)).encode()).decode()
    except (InvalidToken, ValueError, UnicodeDecodeError):
        return None


def open_links(payload: dict, key: bytes | None) -> dict:
    """The payload with every sealed link opened, to send. MailDeferred when one can't be opened
    (the app's secrets changed since it was queued): nothing is sent with a broken link."""
    def opened(text: str) -> str:
        def one(m: re.Match) -> str:
            secret = unseal(m.group(1), key) if key is not None else None
            if secret is None:
                raise MailDeferred("a personal link in this email can't be opened: the app's secret changed "
                                   "since it was queued")
            return secret
        return SEALED.sub(one, text)
    if not any(SEALED.search(payload.get(k) or "") for k in ("text", "html")):
        return payload
    return {**payload, **{k: opened(payload[k]) for k in ("text", "html") if payload.get(k)}}

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


def build_message(payload: dict, key: str, mail_from: str, link_key: bytes | None = None) -> EmailMessage:
    payload = open_links(payload, link_key)
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


def smtp_sender(url: str, mail_from: str, *, timeout: float = TIMEOUT, links_key: bytes | None = None) -> MailSender:
    """The MailSender for a SCRUTINEER_SMTP_URL. links_key opens sealed links: pass
    link_key(settings), the key they were sealed with (by default the one from the URL alone)."""
    config = SmtpConfig.from_url(url)
    links_key = links_key if links_key is not None else _key_from(url)

    async def send(payload: dict, key: str) -> None:
        import aiosmtplib

        message = build_message(payload, key, mail_from, links_key)
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
