"""TLS contexts, and what a failed connection means in words an admin can act on.

IMAP, SMTP and the translation client fail with socket, DNS, TLS and protocol exceptions whose
own text ("[SSL: CERTIFICATE_VERIFY_FAILED] … (_ssl.c:1006)", "[Errno 111]") says little to
someone setting up a mailbox. `explain` puts the likely cause and the setting to look at in
front, and keeps the exception's class and text after it (for a search engine or a bug report).
The text never holds a secret: callers cut secrets out before (`oauth.redact`).
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

# OpenSSL's verify codes (x509_vfy.h) that mean "signed by nobody the system trusts".
_UNTRUSTED = {18, 19, 20, 21, 27}
_HOSTNAME_MISMATCH = 62
_EXPIRED = 10


def tls_context(ca_file: Path | None) -> ssl.SSLContext | None:
    """A client context trusting `ca_file` (a private CA, or a self-signed certificate) with
    the host name checked; None: the library's default (the system's trust store)."""
    if ca_file is None:
        return None
    return ssl.create_default_context(cafile=str(ca_file))


def explain(exc: BaseException, service: str, host: str, port: int,
            timeout: float | None = None) -> str:
    """One sentence on what went wrong with `service` at host:port, then the raw cause."""
    raw = f"{type(exc).__name__}: {exc}".strip()
    hint = None
    seen: BaseException | None = exc
    for _ in range(4):  # libraries wrap the socket's exception (aiosmtplib: `from exc`)
        if seen is None or hint is not None:
            break
        hint = _hint(seen, service, host, port, timeout)
        seen = seen.__cause__ or seen.__context__
    return f"{hint} ({raw})" if hint else raw


def _hint(exc: BaseException, service: str, host: str, port: int,
          timeout: float | None) -> str | None:
    where = f"{host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _certificate(exc, service, host)
    if isinstance(exc, ssl.SSLError):
        text = str(exc)
        if any(marker in text for marker in ("WRONG_VERSION_NUMBER", "record layer failure",
                                             "UNKNOWN_PROTOCOL", "packet length too long")):
            return (f"{service} at {where} did not answer with TLS: this port may expect "
                    "STARTTLS or plain text (tls: starttls, or the implicit-TLS port: IMAP "
                    "993, SMTP 465)")
        return f"the TLS handshake with {service} at {where} failed"
    if isinstance(exc, socket.gaierror):
        return f"the host name {host!r} of {service} cannot be resolved (DNS): check host:"
    if isinstance(exc, ConnectionRefusedError):
        return (f"nothing accepts connections at {where} (connection refused): is {service} "
                "running, and is the port right?")
    if isinstance(exc, TimeoutError | socket.timeout):
        within = f" within {timeout:g} s" if timeout else ""
        return (f"{service} at {where} did not answer{within}: a firewall, a wrong port, or a "
                "plain-text port for tls: implicit")
    if isinstance(exc, ConnectionResetError | BrokenPipeError | EOFError):
        return (f"{service} at {where} closed the connection: a TLS port used with tls: "
                "starttls or plain, or the server refuses this client")
    return _protocol(exc, service)


def _certificate(exc: ssl.SSLCertVerificationError, service: str, host: str) -> str:
    code = getattr(exc, "verify_code", None)
    if code == _HOSTNAME_MISMATCH or "match" in str(getattr(exc, "verify_message", "")):
        return (f"{service}'s certificate is not for the host name {host!r}: use the name the "
                "certificate was issued for as host:")
    if code == _EXPIRED:
        return f"{service}'s certificate has expired: renew it on the server"
    if code in _UNTRUSTED:
        return (f"{service}'s certificate is not signed by a CA this machine trusts "
                "(self-signed, or a private CA): give that CA's certificate as ca_file:")
    return f"{service}'s certificate was refused"


def _protocol(exc: BaseException, service: str) -> str | None:
    text = str(exc)
    upper = text.upper()
    if "AUTHENTICATIONFAILED" in upper or "LOGIN FAILED" in upper:
        return (f"{service} refused the login: wrong username, password or token "
                "(check the secret's source, not only its value)")
    code = getattr(exc, "code", None)
    if code in (535, 534, 530) or type(exc).__name__ == "SMTPAuthenticationError":
        return (f"{service} refused the login ({code}): wrong username, password or token")
    if type(exc).__name__ == "SMTPNotSupported" and "AUTH" in upper:
        return f"{service} offers no login here (AUTH): is TLS on, and is this the submission port?"
    if "STARTTLS" in upper:
        return f"{service} does not offer STARTTLS on this port: use tls: implicit or another port"
    return None
