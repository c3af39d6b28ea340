"""Machine mail: what must never be answered (RFC 3834, and what Zammad, RT and Mailman check).

A pure function of the headers alone, so it runs before the full parse; 90% of a public
address's mail is bounces, auto-replies, lists, bulk and spam. Delivery reports are checked
before auto-replies because real bounces often carry `Auto-Submitted: auto-replied` too.
Every rule has a name; the first that fires is the reason recorded in the seen log.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

HeaderLookup = Callable[[str], list[str]]  # all values of one header, case-insensitive

LOOP_HEADER = "X-Mailproc-Loop"
MESSAGE_ID_PREFIX = "mailproc."
_ADDR = re.compile(r"<([^<>]*)>|(\S+@\S+)")
_DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_NO_REPLY = re.compile(r"^(no-?reply|do-?not-?reply|bounces?)([+\-.].*)?$")


@dataclass(frozen=True)
class Envelope:
    """The header facts classification needs; built from any parser's headers."""

    get: HeaderLookup
    content_type: str  # lower case, top level
    from_email: str  # normalised, "" when missing


def _addr(value: str) -> str:
    match = _ADDR.search(value)
    if not match:
        return value.strip().lower()
    return (match.group(1) if match.group(1) is not None else match.group(2)).strip().lower()


def _values(env: Envelope, name: str) -> list[str]:
    return [v.strip().lower() for v in env.get(name)]


def _own_loop(env: Envelope, conduct: str, domain: str) -> bool:
    if any(conduct in v for v in _values(env, LOOP_HEADER)):
        return True
    if env.from_email == conduct:
        return True
    own_id = f"{MESSAGE_ID_PREFIX}"
    return any(v.strip("<> ").startswith(own_id) and v.rstrip("> ").endswith("@" + domain)
               for v in _values(env, "Message-ID"))


def _bounce(env: Envelope) -> bool:
    if env.content_type == "multipart/report":
        return True
    if env.get("X-Failed-Recipients"):
        return True
    local = env.from_email.partition("@")[0]
    return local in _DAEMON_LOCALPARTS


def _empty_return_path(env: Envelope) -> bool:
    return any(_addr(v) in ("", "<>") for v in env.get("Return-Path"))


def _auto_reply(env: Envelope) -> bool:
    if any(v and v != "no" for v in _values(env, "Auto-Submitted")):
        return True
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if env.get(name):
            return True
    return any(v in ("auto_reply", "auto-reply", "autoreply") for v in
               _values(env, "X-Auto-Reply-Type") + _values(env, "Precedence"))


def _list(env: Envelope) -> bool:
    if env.get("List-Id") or env.get("List-Unsubscribe") or env.get("List-Post"):
        return True
    return "list" in _values(env, "Precedence")


def _bulk(env: Envelope) -> bool:
    return any(v in ("bulk", "junk") for v in _values(env, "Precedence"))


def _spam(env: Envelope) -> bool:
    if any(v.startswith("yes") for v in _values(env, "X-Spam-Flag")):
        return True
    return any(v.startswith("yes") for v in _values(env, "X-Spam-Status"))


# Ordered: the first that fires names the reason. Bounces before auto-replies (see above).
MACHINE_RULES: dict[str, Callable[[Envelope], bool]] = {
    "bounce": _bounce,
    "empty-return-path": _empty_return_path,
    "auto-reply": _auto_reply,
    "bulk": _bulk,
    "mailing-list": _list,
    "spam": _spam,
}


def machine_reason(env: Envelope, conduct_address: str) -> str | None:
    """The name of the first machine-mail rule that fires, or None for human mail."""
    conduct = conduct_address.lower()
    if _own_loop(env, conduct, conduct.rpartition("@")[2]):
        return "own-loop"
    for name, rule in MACHINE_RULES.items():
        if rule(env):
            return name
    return None


def is_no_reply_sender(email: str) -> bool:
    """Addresses that should not get an acknowledgement even when a human wrote via them."""
    return bool(_NO_REPLY.match(email.partition("@")[0].lower()))
