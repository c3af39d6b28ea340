"""Delivering queued mail: SMTP (aiosmtplib) or a file outbox, with retry and backoff.

Every mail is in the store before this runs (it is part of the commit that queued it); a mail
leaves the queue only once the SMTP server accepted it for every recipient. TLS is always
explicit: aiosmtplib's default (`start_tls=None`) silently sends in clear to a server without
STARTTLS. Refused recipients come back in aiosmtplib's result without an exception: checked.
One SMTP connection carries a whole flush (a new connection per mail cost more than composing
it); the connection is closed when the flush ends, after `mails_per_connection` mails and after
any error, so a broken session never carries over to the next mail.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import aiosmtplib

from mailproc.config import OutgoingConfig, SmtpConfig, TlsMode
from mailproc.imapauth import redact
from mailproc.model import Outgoing
from mailproc.oauth import TokenError, read_access_token
from mailproc.storage import sync_filesystem
from mailproc.store import Store

log = logging.getLogger("mailproc.outbox")


class DeliveryError(Exception):
    """A mail could not be delivered now; it stays queued and is retried."""


class Delivery(Protocol):
    kind: str

    async def deliver(self, mail: Outgoing) -> None: ...

    async def close(self) -> None: ...


class FileDelivery:
    """The embedded default: one .eml per outgoing mail in a directory."""

    kind = "file"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def deliver(self, mail: Outgoing) -> None:
        stamp = mail.queued_at.strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{mail.purpose}-{mail.id.split('@')[0]}.eml"
        tmp = self.directory / f".{name}.tmp"
        try:  # made durable for the whole group by `sync` before the queue forgets them
            tmp.write_bytes(mail.raw.encode("utf-8"))
            os.replace(tmp, self.directory / name)
        except OSError as exc:
            raise DeliveryError(f"cannot write outbox file: {exc.strerror}") from exc

    async def close(self) -> None:
        return None

    def sync(self) -> None:
        sync_filesystem(self.directory)


CONNECTION_ERRORS = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError,
                     aiosmtplib.SMTPTimeoutError, OSError, ssl.SSLError, TimeoutError)


class SmtpDelivery:
    """aiosmtplib over one connection per flush (see the module docstring)."""

    kind = "smtp"

    def __init__(self, cfg: SmtpConfig) -> None:
        self.cfg = cfg
        self._client: aiosmtplib.SMTP | None = None
        self._carried = 0  # mails accepted on the current connection
        self.connections = 0  # opened so far (for tests and status)

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        await self.close()
        cfg = self.cfg
        token = await self._token()
        client = aiosmtplib.SMTP(
            hostname=cfg.host, port=cfg.port, username=cfg.username,
            password=cfg.password.reveal() if cfg.password and token is None else None,
            oauth_token_generator=None if token is None else _constant(token),
            use_tls=cfg.tls is TlsMode.IMPLICIT, start_tls=cfg.tls is TlsMode.STARTTLS,
            timeout=cfg.timeout_seconds)
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, *CONNECTION_ERRORS) as exc:
            client.close()
            message = _safe(str(exc))
            if token is not None:
                message = redact(message, (token,))
            raise DeliveryError(f"{type(exc).__name__}: {message}") from exc
        self._client, self._carried = client, 0
        self.connections += 1
        return client

    async def _token(self) -> str | None:
        """XOAUTH2: a fresh access token for this connection (a command may take a while)."""
        cfg = self.cfg
        if cfg.auth != "xoauth2":
            return None
        if cfg.oauth2_token is None:
            raise DeliveryError("SMTP auth xoauth2 needs oauth2_token: in the outgoing config")
        try:
            return await asyncio.to_thread(read_access_token, cfg.oauth2_token,
                                           "SMTP oauth2_token")
        except TokenError as exc:
            raise DeliveryError(str(exc)) from exc

    async def deliver(self, mail: Outgoing) -> None:
        reused = self._client is not None and self._client.is_connected
        try:
            await self._send(mail)
        except _Disconnected as exc:
            if not reused:
                raise DeliveryError(str(exc)) from exc
            # The server closed a connection that had carried mail already (a per-connection
            # limit, an idle timeout): once more on a fresh one.
            try:
                await self._send(mail)
            except _Disconnected as again:
                raise DeliveryError(str(again)) from again

    async def _send(self, mail: Outgoing) -> None:
        client = await self._connection()
        try:
            errors, _reply = await client.sendmail(mail.mail_from, mail.recipients,
                                                   mail.raw.encode("utf-8"))
        except CONNECTION_ERRORS as exc:
            await self.close()
            raise _Disconnected(f"{type(exc).__name__}: {_safe(str(exc))}") from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:  # aiosmtplib has sent RSET
            codes = sorted({str(e.code) for e in exc.recipients})
            raise DeliveryError(f"recipient refused ({', '.join(codes)})") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:  # the server is closing the session
                await self.close()
                raise _Disconnected(f"{exc.code} {_safe(exc.message)}") from exc
            raise DeliveryError(f"{type(exc).__name__}: {exc.code} "
                                f"{_safe(exc.message)}") from exc
        except aiosmtplib.SMTPException as exc:
            await self.close()
            raise DeliveryError(f"{type(exc).__name__}: {_safe(str(exc))}") from exc
        self._carried += 1
        if self._carried >= self.cfg.mails_per_connection:
            await self.close()
        if errors:
            codes = sorted({str(code) for code, _msg in errors.values()})
            raise DeliveryError(f"recipient refused ({', '.join(codes)})")

    async def close(self) -> None:
        """End the session politely (QUIT); a connection already gone is simply dropped."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except (aiosmtplib.SMTPException, *CONNECTION_ERRORS):
            client.close()


def _constant(token: str) -> Callable[[], Awaitable[str]]:
    async def generate() -> str:
        return token

    return generate


class _Disconnected(Exception):
    """The connection broke under a mail (the mail may be retried on a new one)."""


def _safe(text: str) -> str:
    """Server messages can echo addresses: keep only the first words, without any '@'."""
    words = [w for w in text.split()[:8] if "@" not in w]
    return " ".join(words)


def build_delivery(cfg: OutgoingConfig) -> Delivery:
    if cfg.smtp is not None:
        return SmtpDelivery(cfg.smtp)
    assert cfg.outbox_dir is not None
    return FileDelivery(cfg.outbox_dir)


MARK_EVERY = 25  # delivered mail is dropped from the queue in groups (a crash may resend a group)


def _mark(store: Store, delivery: Delivery, delivered: list[Outgoing],
          clock: Callable[[], datetime]) -> None:
    if not delivered:
        return
    sync = getattr(delivery, "sync", None)
    if sync is not None:
        sync()
    store.mark_sent_many(list(delivered), clock())
    delivered.clear()


@dataclass(frozen=True)
class FlushResult:
    sent: int
    failed: int
    waiting: int


async def flush_outbox(store: Store, delivery: Delivery, cfg: OutgoingConfig,
                       clock: Callable[[], datetime]) -> FlushResult:
    """Send every queued mail that is due; failures are rescheduled with capped backoff."""
    try:
        return await _flush(store, delivery, cfg, clock)
    finally:
        await delivery.close()


async def _flush(store: Store, delivery: Delivery, cfg: OutgoingConfig,
                 clock: Callable[[], datetime]) -> FlushResult:
    sent = failed = waiting = 0
    delivered: list[Outgoing] = []
    for mail in sorted(store.pending_outgoing(), key=lambda m: m.queued_at):
        if len(delivered) >= MARK_EVERY:
            _mark(store, delivery, delivered, clock)
        now = clock()
        if mail.next_attempt_at is not None and mail.next_attempt_at > now:
            waiting += 1
            continue
        try:
            await delivery.deliver(mail)
        except DeliveryError as exc:
            failed += 1
            delay = min(cfg.retry_initial_seconds * 2 ** mail.attempts, cfg.retry_max_seconds)
            store.update_outgoing(mail.model_copy(update={
                "attempts": mail.attempts + 1, "last_error": str(exc),
                "next_attempt_at": now + timedelta(seconds=delay)}))
            log.warning("delivery of %s (%s, case %s) failed, retry in %.0fs: %s",
                        mail.id.split("@")[0], mail.purpose, mail.case_id, delay, exc)
            continue
        delivered.append(mail)
        sent += 1
        log.debug("sent %s (%s, case %s)", mail.id.split("@")[0], mail.purpose, mail.case_id)
    _mark(store, delivery, delivered, clock)
    if sent or failed:
        log.info("outbox: %d sent, %d failed, %d waiting to retry", sent, failed, waiting)
    return FlushResult(sent, failed, waiting)
