"""OAuth2 access tokens for XOAUTH2 (IMAP and SMTP), read afresh at each connection.

Access tokens expire within the hour; the admin's own tooling refreshes them (a token command,
or a file it rewrites), so the secret is read at every (re)connect and never kept after login.
"""

from __future__ import annotations

from mailproc.config.settings import Secret


class TokenError(ValueError):
    """The token could not be read or is not one token; the message never contains it."""


def read_access_token(source: Secret, what: str) -> str:
    """The token from its source (env, file or command); TokenError naming `what` if unusable."""
    try:
        token = source.reveal()
    except ValueError as exc:  # the message names the source (variable, file, command), not data
        raise TokenError(f"{what}: {exc}") from exc
    if not token.isprintable() or len(token.split()) != 1:
        # A command that prints JSON or several lines would only fail later, at the server.
        raise TokenError(f"{what}: expected one access token with no spaces or line breaks; "
                         "make the token command print only the token")
    return token


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every occurrence of each secret replaced by a marker."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[secret]")
    return text
