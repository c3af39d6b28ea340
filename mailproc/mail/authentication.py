"""Who sent committee mail: a roster address, proven (DESIGN.md rule 4, issue 4 point 8).

The From must be exactly one roster address (or alias), and then (a) the receiving server's
Authentication-Results, (b) the member's secret token, or (c) our own DKIM check (dkimpy) must
vouch for it. Every doubt refuses; nothing here raises or logs an address or a token.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any

import authres
import authres.dmarc
import dkim
from mailparser.utils import get_addresses

from mailproc.config.settings import Config, Member
from mailproc.model.parsed import ParsedMessage, normalise_email

log = logging.getLogger("mailproc.auth")

DnsFunc = Callable[..., bytes | str | None]
Verdict = tuple[str | None, str]  # (method when it passed, reason when it did not)

MAX_SIGNATURES = 3  # DKIM signatures tried per mail: each may cost a DNS lookup
_HEADERS = BytesHeaderParser(policy=policy.compat32)
_AR_FEATURES = authres.FeatureContext(authres.dmarc)
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def _mute_logger() -> logging.Logger:
    # dkimpy logs signature tags (i= can be an address) and header text in its errors; a
    # logger outside the logging tree cannot be re-enabled by anyone's logging set-up.
    mute = logging.Logger("mailproc.mail.authentication.dkimpy", level=logging.CRITICAL + 1)
    mute.addHandler(logging.NullHandler())
    mute.propagate = False
    return mute


_MUTE = _mute_logger()


@dataclass(frozen=True)
class AuthResult:
    """Whether a mail counts as written by a roster member, how, and if not, why not."""

    ok: bool
    method: str | None  # "authres-dmarc", "authres-dkim", "token", "dkim", or None
    member: str | None  # normalised email of the roster member, when ok
    reason: str  # short and content-free, for logs and the refusal record


def authenticate(raw: bytes, msg: ParsedMessage, config: Config, *,
                 token: str | None = None,
                 dnsfunc: DnsFunc | None = None) -> AuthResult:
    """Decide whether `raw` comes from a roster member; never raises, refuses on any doubt."""
    try:
        result = _authenticate(raw, msg, config, token, dnsfunc)
    except Exception as exc:  # fail closed; the class name only, text could carry content
        result = AuthResult(False, None, None, f"internal error: {type(exc).__name__}")
    log.debug("auth: ok=%s method=%s reason=%s", result.ok, result.method, result.reason)
    return result


def _authenticate(raw: bytes, msg: ParsedMessage, config: Config, token: str | None,
                  dnsfunc: DnsFunc | None) -> AuthResult:
    # Headers are read from the raw bytes, as DKIM sees them (encoded words left intact, so
    # a comma inside an encoded display name cannot split or merge addresses).
    headers = [(name.lower(), _unfold(value)) for name, value in
               _HEADERS.parsebytes(raw).raw_items()]
    address, refusal = _sender_address(headers, msg)
    if address is None:
        return AuthResult(False, None, None, refusal)
    member = _roster_member(config, address)
    if member is None:
        return AuthResult(False, None, None, "not a roster address")
    domain = _ascii_domain(address.rpartition("@")[2])
    if domain is None:
        return AuthResult(False, None, None, "From domain unreadable")
    method, reason = _prove(raw, headers, member, domain, config, token, dnsfunc)
    if method is None:
        return AuthResult(False, None, None, reason)
    return AuthResult(True, method, normalise_email(member.email), "")


def _prove(raw: bytes, headers: list[tuple[str, str]], member: Member, domain: str,
           config: Config, token: str | None, dnsfunc: DnsFunc | None) -> Verdict:
    """The first of (a), (b), (c) that passes; else every reason, in that order."""
    checks: list[Callable[[], Verdict]] = [
        lambda: _check_authres(headers, domain, config.auth.trusted_authserv_ids),
        lambda: _check_token(headers, member, token, config.auth.token_header),
    ]
    if config.auth.verify_dkim:
        checks.append(lambda: _check_dkim(raw, domain, dnsfunc))
    reasons = []
    for check in checks:
        method, reason = check()
        if method is not None:
            return method, ""
        reasons.append(reason)
    return None, "; ".join(reasons)


# --------------------------------------------------------------------------- who it claims to be


def _sender_address(headers: list[tuple[str, str]],
                    msg: ParsedMessage) -> tuple[str | None, str]:
    """(the one normalised From address, "") or (None, why there is not exactly one)."""
    froms = _values(headers, "from")
    if len(froms) != 1:
        return None, "no From header" if not froms else "several From headers"
    found = _mailboxes(froms[0])
    if found is None or len(found) != 1:
        return None, "not exactly one From address"
    senders = _values(headers, "sender")
    if len(senders) > 1:
        return None, "several Sender headers"
    if senders and _mailboxes(senders[0]) != found:
        return None, "Sender differs from From"
    # The rest of mailproc reads `msg.from_`: it must name the same person as we do.
    if msg.from_ is None or normalise_email(msg.from_.email) != found[0]:
        return None, "parsed From disagrees"
    return found[0], ""


def _mailboxes(value: str) -> list[str] | None:
    """Normalised addresses of one address header; None when the header is ambiguous."""
    try:
        # RFC 6532 allows raw UTF-8 in headers; other raw bytes are too odd to trust.
        value = value.encode("ascii", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return None
    found: list[Any] = []
    pairs = get_addresses(value, defects=found)
    # mail-parser recovered or guessed something: a person's mail client never needs that, a
    # forger might. The stdlib must read the same addresses (parser differentials are how
    # From spoofing works; it also sees the empty groups mail-parser drops).
    if found or any(not email for _, email in pairs):
        return None
    emails = [normalise_email(email) for _, email in pairs]
    return emails if [normalise_email(e) for _, e in getaddresses([value])] == emails else None


def _roster_member(config: Config, address: str) -> Member | None:
    """The one member whose email or alias is `address` (two claimants: nobody)."""
    matches = [m for m in config.roster
               if address in {normalise_email(a) for a in [m.email, *m.aliases] if "@" in a}]
    return matches[0] if len(matches) == 1 else None


# ---------------------------------------------------------------- (a) Authentication-Results


def _check_authres(headers: list[tuple[str, str]], domain: str, trusted: list[str]) -> Verdict:
    """Only the first Authentication-Results header counts, and only from a trusted server.

    The receiving server adds its header on top of whatever the sender wrote, so every A-R
    header below the first may be forged, including one bearing the trusted id. When the
    first one is not from a trusted id (another server added its own on top), we cannot tell
    whether the trusted-looking one below is real: refuse, rather than skip to it. The
    receiving server must strip incoming A-R headers with its own id (RFC 8601 section 5).
    """
    values = _values(headers, "authentication-results")
    if not values or not trusted:
        return None, "no trusted Authentication-Results"
    try:
        parsed = _AR_FEATURES.parse_value(values[0])
        authserv_id = str(parsed.authserv_id)
        results = list(parsed.results)
    except Exception:
        return None, "malformed Authentication-Results"
    if authserv_id not in {t.strip().lower() for t in trusted}:
        return None, "no trusted Authentication-Results"
    return _authres_verdict(results, domain)


def _authres_verdict(results: list[Any], domain: str) -> Verdict:
    """DMARC pass for the From domain, else a DKIM pass aligned with it; a DMARC fail vetoes."""
    dmarc = [r for r in results if r.method == "dmarc"]
    dkims = [r for r in results if r.method == "dkim"]
    if any(r.result not in ("pass", "none") for r in dmarc):
        return None, "dmarc fail"
    if any(r.result == "pass" and _ascii_domain(_prop(r, "from")) == domain for r in dmarc):
        return "authres-dmarc", ""
    if any(r.result == "pass" and _aligned(_authres_dkim_domain(r), domain) for r in dkims):
        return "authres-dkim", ""
    if any(r.result == "pass" for r in dkims):
        return None, "authres dkim pass not aligned"
    return None, "authres dkim fail" if dkims else "authres has no dmarc or dkim pass"


def _authres_dkim_domain(result: Any) -> str | None:
    """header.d, else the domain of header.i; None when absent (a bare pass proves nothing)."""
    signer = _prop(result, "d")
    if signer is None:
        identity = _prop(result, "i")
        signer = identity.rpartition("@")[2] if identity and "@" in identity else None
    return signer


def _prop(result: Any, name: str) -> str | None:
    """The value of header.`name` when it appears exactly once, non-empty."""
    values = [str(p.value) for p in result.properties if p.type == "header" and p.name == name]
    return values[0] if len(values) == 1 and values[0] else None


# --------------------------------------------------------------------------- (b) token


def _check_token(headers: list[tuple[str, str]], member: Member, token: str | None,
                 header: str) -> Verdict:
    """The member's secret, from the token header or a `#token` line, compared in constant time."""
    presented = [v.strip() for v in _values(headers, header.lower())]
    if len(presented) > 1:
        return None, "several token headers"
    if token is not None:
        presented.append(token.strip())
    presented = [p for p in presented if p]
    if not presented:
        return None, "no token"
    if member.token is None:
        return None, "no token configured for this member"
    try:
        secret = member.token.reveal().strip()
    except ValueError:
        return None, "member token unavailable"
    if not secret:  # an empty secret must never match anything
        return None, "member token unavailable"
    expected = secret.encode("utf-8", "surrogatepass")
    matched = [hmac.compare_digest(p.encode("utf-8", "surrogatepass"), expected)
               for p in presented]
    return ("token", "") if any(matched) else (None, "token mismatch")


# --------------------------------------------------------------------------- (c) our own DKIM


def _check_dkim(raw: bytes, domain: str, dnsfunc: DnsFunc | None) -> Verdict:
    """Any of the first signatures valid, aligned with the From domain and covering From."""
    lookup: DnsFunc = dnsfunc if dnsfunc is not None else dkim.get_txt
    reasons: list[str] = []
    for idx in range(MAX_SIGNATURES):
        reason = _verify_signature(raw, idx, domain, lookup)
        if reason is None:
            return "dkim", ""
        if reason == "end":
            break
        reasons.append(reason)
    return None, ", ".join(dict.fromkeys(reasons)) or "no DKIM signature"


def _verify_signature(raw: bytes, idx: int, domain: str, lookup: DnsFunc) -> str | None:
    """None when signature `idx` proves the From domain, "end" past the last one, else why not."""
    try:
        signer = dkim.DKIM(raw, logger=_MUTE, minkey=1024, timeout=5)
        prep = signer.verify_headerprep(idx)
        if not prep:
            return "end"
        tags: dict[bytes, bytes] = prep[0]
        # Checked before the DNS lookup: an unaligned signer's DNS is never asked.
        if not _aligned(tags[b"d"].decode("ascii", "replace"), domain):
            return "dkim not aligned"
        if b"from" not in prep[1]:
            return "dkim does not cover From"
        if b"l" in tags:  # a body length limit lets anyone append commands below the signed part
            return "dkim body length limit"
        return None if signer.verify(idx=idx, dnsfunc=lookup) is True else "dkim fail"
    except Exception:  # dkimpy raises for malformed signatures, keys and DNS errors
        return "dkim fail"


# --------------------------------------------------------------------------- helpers


def _values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key == name]


def _unfold(value: str) -> str:
    return _FOLD.sub("", value).strip()


def _ascii_domain(value: str | None) -> str | None:
    """A domain lower-cased, without trailing dot, IDNA-encoded; None when unusable."""
    if value is None:
        return None
    value = value.strip().rstrip(".").lower()
    if not value or "@" in value or any(c.isspace() for c in value):
        return None
    if value.isascii():
        return value
    try:
        return value.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _aligned(signer: str | None, domain: str) -> bool:
    """Relaxed alignment: the From domain is the signing domain or below it (never a TLD)."""
    d = _ascii_domain(signer)
    return d is not None and "." in d and (domain == d or domain.endswith("." + d))
