"""SMTP delivery with aiosmtplib: connections reused for a whole flush, several in parallel.

A new connection per mail (connect, EHLO, STARTTLS, AUTH) cost more than composing the mail;
one lane (`SmtpLane`) keeps its connection for a flush and closes it at the end, after
`mails_per_connection` mails and after any error, so a broken session never carries over. A
flush uses up to `connections` lanes at once: the round trips of one (MAIL, RCPT, DATA) overlap
those of the others. TLS is always explicit: aiosmtplib's default (`start_tls=None`) silently
sends in clear to a server without STARTTLS. Refused recipients come back in aiosmtplib's
result without an exception: checked.

A mail to an internationalised address (`jörg@müller.de`, written in UTF-8 by
`mail.compose`) is sent with SMTPUTF8 (RFC 6531); a server that does not offer it cannot
carry that mail at all, and the mail fails with the recipient it is for (by position, never
by address: the error is logged and shown to the admin), is kept and retried, and nothing
else in the flush is held up.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from email.policy import SMTP

import aiosmtplib
import idna

from mailproc.adapters.delivery import (
    DeliveryError,
    Lane,
    LaneRefused,
    ServerUnreachable,
    wire_bytes,
)
from mailproc.adapters.netfail import explain, tls_context
from mailproc.adapters.oauth import TokenError, read_access_token, redact
from mailproc.config.settings import SmtpConfig, TlsMode
from mailproc.model.records import Outgoing


class SmtpDelivery:
    """Up to `smtp.connections` lanes, created when a flush first needs them."""

    kind = "smtp"

    def __init__(self, cfg: SmtpConfig) -> None:
        self.cfg = cfg
        self._lanes: list[SmtpLane] = []

    def lanes(self, wanted: int) -> Sequence[Lane]:
        count = max(1, min(wanted, self.cfg.connections))
        while len(self._lanes) < count:
            self._lanes.append(SmtpLane(self.cfg))
        return self._lanes[:count]

    async def close(self) -> None:
        await asyncio.gather(*(lane.close() for lane in self._lanes))


CONNECTION_ERRORS = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError,
                     aiosmtplib.SMTPTimeoutError, OSError, ssl.SSLError, TimeoutError)


class SmtpLane:
    """One SMTP connection, opened on first use and reused (see the module docstring)."""

    def __init__(self, cfg: SmtpConfig) -> None:
        self.cfg = cfg
        self._client: aiosmtplib.SMTP | None = None
        self._carried = 0  # mails accepted on the current connection

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        await self.close()
        cfg = self.cfg
        client = await connect(cfg, await self._token())
        self._client, self._carried = client, 0
        return client

    async def _token(self) -> str | None:
        """XOAUTH2: a fresh access token for this connection (a command may take a while)."""
        cfg = self.cfg
        if cfg.auth != "xoauth2":
            return None
        if cfg.oauth2_token is None:
            raise ServerUnreachable("SMTP auth xoauth2 needs oauth2_token: in the config")
        try:
            return await asyncio.to_thread(read_access_token, cfg.oauth2_token,
                                           "SMTP oauth2_token")
        except TokenError as exc:  # no login possible: the rest of the flush waits as well
            raise ServerUnreachable(str(exc)) from exc

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
            if mail_options(mail) and not await _offers_smtputf8(client):
                mail = ascii_fallback(mail) or mail  # else refused below, with the recipient
            data = wire_bytes(mail)
            options = mail_options(mail)
            errors, _reply = await client.sendmail(mail.mail_from, mail.recipients, data,
                                                   mail_options=options)
        except aiosmtplib.SMTPNotSupported as exc:  # before MAIL FROM: the session is intact
            raise DeliveryError(_needs_smtputf8(mail), permanent=True,
                                refused=_not_ascii(mail)) from exc
        except ValueError as exc:  # an address aiosmtplib will not put on the wire
            raise DeliveryError(f"address not sendable: {type(exc).__name__}", permanent=True,
                                refused=tuple(mail.recipients)) from exc
        except CONNECTION_ERRORS as exc:
            await self.close()
            raise _Disconnected(f"{type(exc).__name__}: {_safe(str(exc))}") from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:  # aiosmtplib has sent RSET
            raise _refused({e.recipient: e.code for e in exc.recipients}) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:  # the server is closing the session
                await self.close()
                raise _Disconnected(f"{exc.code} {_safe(exc.message)}") from exc
            if exc.code == 432:  # "concurrent connections limit exceeded" (Exchange Online)
                await self.close()
                raise LaneRefused(f"{exc.code} {_safe(exc.message)}") from exc
            raise DeliveryError(f"{type(exc).__name__}: {exc.code} {_safe(exc.message)}",
                                permanent=_permanent(exc.code),
                                refused=tuple(mail.recipients)) from exc
        except aiosmtplib.SMTPException as exc:
            await self.close()
            raise DeliveryError(f"{type(exc).__name__}: {_safe(str(exc))}") from exc
        self._carried += 1
        if self._carried >= self.cfg.mails_per_connection:
            await self.close()
        if errors:
            raise _refused({rcpt: code for rcpt, (code, _msg) in errors.items()})

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


async def connect(cfg: SmtpConfig, token: str | None) -> aiosmtplib.SMTP:
    """A connected, logged-in client (EHLO, STARTTLS or implicit TLS, AUTH); the failure, in
    words an admin can act on, as ServerUnreachable (never with the password or token)."""
    try:
        password = cfg.password.reveal() if cfg.password and token is None else None
    except ValueError as exc:  # names the source (variable, file), never the value
        raise ServerUnreachable(f"SMTP password: {exc}") from exc
    client = aiosmtplib.SMTP(
        hostname=cfg.host, port=cfg.port, username=cfg.username, password=password,
        oauth_token_generator=None if token is None else _constant(token),
        use_tls=cfg.tls is TlsMode.IMPLICIT, start_tls=cfg.tls is TlsMode.STARTTLS,
        tls_context=tls_context(cfg.ca_file), timeout=cfg.timeout_seconds)
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, *CONNECTION_ERRORS) as exc:
        client.close()
        message = _safe(explain(exc, "the SMTP server", cfg.host, cfg.port,
                                cfg.timeout_seconds))
        hidden = tuple(s for s in (token, password) if s)
        raise ServerUnreachable(f"SMTP: {redact(message, hidden)}") from None
    return client


def mail_options(mail: Outgoing) -> list[str]:
    """MAIL FROM options: SMTPUTF8 (with BODY=8BITMIME, which every SMTPUTF8 server offers,
    RFC 6531 3.1) when an envelope address or a header is not ASCII; none for 7-bit mail."""
    head = mail.raw.partition("\r\n\r\n")[0]
    if mail.mail_from.isascii() and all(r.isascii() for r in mail.recipients) \
            and head.isascii():
        return []
    return ["SMTPUTF8", "BODY=8BITMIME"]


async def _offers_smtputf8(client: aiosmtplib.SMTP) -> bool:
    """Whether the server announces SMTPUTF8 (EHLO first when aiosmtplib has not sent it yet:
    without TLS or AUTH it waits for the first mail)."""
    if client.is_ehlo_or_helo_needed:
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:  # a HELO-only server: sendmail falls back to HELO
            return False
    return client.supports_extension("smtputf8")


def ascii_address(address: str) -> str | None:
    """An address as a server without SMTPUTF8 can take it: itself when ASCII, the domain as
    its A-label when only the domain is not (`info@müller.de` -> `info@xn--mller-kva.de`);
    None when the local part is not ASCII or the domain is no valid IDN."""
    if address.isascii():
        return address
    local, at, domain = address.rpartition("@")
    if not at or not local or not local.isascii():
        return None
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except (ValueError, idna.IDNAError):  # IDNAError and UnicodeError are ValueErrors
        return None


def ascii_fallback(mail: Outgoing) -> Outgoing | None:
    """The mail for a server without SMTPUTF8 (see the module docstring), or None when some
    part of it cannot be written in ASCII."""
    mail_from = ascii_address(mail.mail_from)
    recipients = [ascii_address(r) for r in mail.recipients]
    if mail_from is None or any(r is None for r in recipients):
        return None
    head, sep, body = mail.raw.partition("\r\n\r\n")
    if not body.isascii():
        return None
    fields = []
    for field in re.split(r"\r\n(?![ \t])", head):
        if field.isascii():
            fields.append(field + "\r\n")
            continue
        written = _ascii_field(field)
        if written is None:
            return None
        fields.extend([written] if written else [])
    return mail.model_copy(update={
        "mail_from": mail_from, "recipients": [r for r in recipients if r is not None],
        "raw": "".join(fields) + sep.removeprefix("\r\n") + body})


# An address in a header: ASCII local part starting after a delimiter, then any domain.
_ADDRESS = re.compile(r"(?<![^\s<,:;\"(])([A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[^\s<>@,;:()\[\]\"]+)")
_ID_FIELDS = frozenset({"in-reply-to", "references"})


def _ascii_field(field: str) -> str | None:
    """One header field that is not ASCII, written in ASCII with its CRLF ("" to leave it
    out), or None when it cannot be."""
    name, colon, value = field.partition(":")
    if not colon:
        return None
    value = re.sub(r"\r\n(?=[ \t])", "", value).strip()
    if name.strip().lower() in _ID_FIELDS:  # ids are compared as they are: never converted
        ids = [i for i in re.findall(r"<[^<>]*>", value) if i.isascii()]
        return f"{name}: " + "\r\n ".join(ids) + "\r\n" if ids else ""
    if name.strip().lower() == "message-id":
        return None
    value = _ADDRESS.sub(lambda m: ascii_address(m.group(1)) or m.group(1), value)
    try:
        written = SMTP.header_factory(name.strip(), value).fold(policy=SMTP)
    except Exception:  # the email package on a header it cannot make sense of
        return None
    return written if written.isascii() else None


def _needs_smtputf8(mail: Outgoing) -> str:
    """Which recipient needs SMTPUTF8, by position (the error is logged: no addresses)."""
    count = len(mail.recipients)
    which = [str(n) for n, r in enumerate(mail.recipients, 1) if ascii_address(r) is None]
    if which:
        whom = f"recipient {', '.join(which)} of {count}"
        what = "an internationalised address"
    elif not mail.mail_from.isascii():
        whom, what = f"all {count} recipients", "an internationalised sender address"
    else:
        whom, what = f"all {count} recipients", "internationalised headers"
    return (f"not sent to {whom}: {what} needs SMTPUTF8, which the SMTP server does not "
            "offer")


# 5xx replies that say our session is wrong (authentication), not that the mail is: retried,
# and the admin is told, like any failing server.
_SESSION_5XX = frozenset({530, 534, 535, 538})


def _permanent(code: int) -> bool:
    return 500 <= code < 600 and code not in _SESSION_5XX


def _refused(codes: dict[str, int]) -> DeliveryError:
    """Some recipient was refused (the mail stays queued): the reply codes in the message, no
    addresses; permanent when every refusal was a 5xx, naming those recipients."""
    text = f"recipient refused ({', '.join(sorted({str(c) for c in codes.values()}))})"
    for_good = tuple(r for r, c in codes.items() if _permanent(c))
    return DeliveryError(text, permanent=len(for_good) == len(codes), refused=for_good)


def _not_ascii(mail: Outgoing) -> tuple[str, ...]:
    """The recipients an SMTP server without SMTPUTF8 cannot take (all: the sender or the
    headers need it)."""
    which = tuple(r for r in mail.recipients if ascii_address(r) is None)
    return which or tuple(mail.recipients)


def _constant(token: str) -> Callable[[], Awaitable[str]]:
    async def generate() -> str:
        return token

    return generate


class _Disconnected(Exception):
    """The connection broke under a mail (the mail may be retried on a new one)."""


def _safe(text: str) -> str:
    """A server's message as the admin needs it (up to 80 words), without any word that holds
    an address (servers echo the recipient)."""
    words = [w if "@" not in w else "<address>" for w in text.split()[:80]]
    return " ".join(words)
