"""IMAP login: LOGIN with a password, or SASL XOAUTH2 with an OAuth2 access token.

The secret is read afresh at every (re)connect, because access tokens expire and the admin's own
tooling (a token command or a file it rewrites) refreshes them; it is never kept after login.
`hidden()` lists every form of the secret that could appear in an error, so that the caller can
cut it out of messages (see `ImapSource._guard`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Literal

from imapclient import IMAPClient

from mailproc.adapters.mailbox import MailboxError
from mailproc.adapters.oauth import TokenError, read_access_token, redact
from mailproc.config.settings import ImapConfig

__all__ = ["Credentials", "log_in", "read_credentials", "redact"]


@dataclass(frozen=True)
class Credentials:
    """Who logs in and how; `secret` is a password or an access token (never printed)."""

    method: Literal["password", "xoauth2"]
    username: str
    secret: str = field(repr=False)

    def hidden(self) -> tuple[str, ...]:
        """The secret as sent on the wire: raw, and inside the base64 XOAUTH2 string."""
        if self.method == "password":
            return (self.secret,)
        return (self.secret, base64.b64encode(_xoauth2_string(self).encode()).decode())


def _xoauth2_string(creds: Credentials) -> str:
    return f"user={creds.username}\1auth=Bearer {creds.secret}\1\1"


def read_credentials(cfg: ImapConfig) -> Credentials:
    """The username and a freshly read password or token; MailboxError naming what is missing."""
    if not cfg.username:
        raise MailboxError("IMAP needs username: in the mailbox config")
    source = cfg.oauth2_token if cfg.auth == "xoauth2" else cfg.password
    what = "oauth2_token" if cfg.auth == "xoauth2" else "password"
    if source is None:
        raise MailboxError(f"IMAP auth {cfg.auth} needs {what}: in the mailbox config")
    try:
        if cfg.auth == "xoauth2":
            secret = read_access_token(source, f"IMAP {what}")
        else:
            secret = source.reveal()
    except TokenError as exc:
        raise MailboxError(str(exc)) from exc
    except ValueError as exc:  # the message names the source (variable, file, command), not data
        raise MailboxError(f"IMAP {what}: {exc}") from exc
    return Credentials(cfg.auth, cfg.username, secret)


def log_in(client: IMAPClient, creds: Credentials) -> None:
    """LOGIN, or AUTHENTICATE XOAUTH2 through imapclient's oauth2_login."""
    if creds.method == "xoauth2":
        client.oauth2_login(creds.username, creds.secret)
    else:
        client.login(creds.username, creds.secret)
