"""The pure core of intake: one message plus gathered facts and current state -> a Decision.

No I/O and no clock: `now`, randomness and the rendered-template source come in through
`Context`; what to do comes out as data (the case, diary entries, queued mail, the folder).
Order (DESIGN.md): machine mail (see `classify`) -> committee mail -> follow-up to a known case
-> triage rules (a later issue) -> a new report.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from mailproc.config.settings import Config
from mailproc.mail.compose import MailSpec, build_mail, new_message_id
from mailproc.mail.templates import Renderer
from mailproc.model.parsed import Address, Folder, Outcome, ParsedMessage, normalise_email
from mailproc.model.records import Case, DiaryEntry, Outgoing


class StateView(Protocol):
    """What the core may read of the store (a read-only view, batch-aware)."""

    def case_for_message(self, message_id: str) -> str | None: ...
    def get_case(self, case_id: str) -> Case | None: ...
    def counter(self, name: str) -> int: ...
    def code_name_taken(self, name: str) -> bool: ...
    def acks_on(self, sender_hash: str, day: str) -> int: ...
    def related_cases(self, identifiers: list[str]) -> list[Case]: ...


@dataclass(frozen=True)
class Context:
    config: Config
    renderer: Renderer
    now: datetime
    rng: random.Random
    pepper: bytes  # keys the sender hashes kept for rate limits (never plain addresses)


@dataclass(frozen=True)
class Inbound:
    key: str
    sha256: str
    message: ParsedMessage


@dataclass
class Decision:
    """Everything one message changes. Applied by the pipeline in one store commit."""

    key: str
    sha256: str
    message_id: str | None
    outcome: Outcome
    folder: Folder
    reason: str
    case: Case | None = None  # the case as changed by this message
    related_case: str | None = None  # the case it concerns when it does not change it
    diary: list[DiaryEntry] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)
    message_index: dict[str, str] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    ack_to: str | None = None
    scrub_archive: bool = False
    language: str | None = None
    routed: dict[str, str] | None = None  # for the digest: sender domain, subject, rule

    @property
    def case_id(self) -> str | None:
        return self.case.id if self.case is not None else self.related_case


def sender_hash(email: str, pepper: bytes) -> str:
    """A keyed hash of an address: usable for counting, useless for recovering it."""
    return hmac.new(pepper, normalise_email(email).encode(), hashlib.sha256).hexdigest()[:32]


def thread_root(case_id: str, domain: str) -> str:
    """A Message-ID that no mail has but every case mail references, so clients thread it."""
    return f"case.{case_id.lower()}@{domain}"


def outgoing_mail(spec: MailSpec, case_id: str | None, purpose: str, ctx: Context, *,
                  to_reporter: bool = False) -> Outgoing:
    """Queue-ready mail with a fresh Message-ID. Mail to a case's reporter carries the case's
    key in its Message-ID (`reporter_key`): a reply that refers to it comes from the reporter,
    or from someone the reporter gave it to. The escrow question also names its purpose there,
    so that the answer to it is read as the answer (`answers_consent`)."""
    config = ctx.config
    mid = new_message_id(ctx.rng, config.message_id_domain)
    if to_reporter and case_id is not None:
        local, _, domain = mid.partition("@")
        marker = ".consent" if purpose == "escrow-consent" else ""
        mid = f"{local}{marker}.{reporter_key(case_id, ctx.pepper)}@{domain}"
        if config.reply_address_tag:
            spec = MailSpec(**{**spec.__dict__, "extra_headers": (
                *spec.extra_headers, ("Reply-To", tagged_address(case_id, ctx)))})
    sender = config.conduct_address
    spec = MailSpec(**{**spec.__dict__, "from_name": spec.from_name or config.committee_name})
    return Outgoing(id=mid, case_id=case_id, purpose=purpose, mail_from=sender,
                    recipients=[a.email for a in spec.to],
                    raw=build_mail(spec, sender, mid, ctx.now), queued_at=ctx.now)


def tagged_address(case_id: str, ctx: Context) -> str:
    """The conduct address with the case's key (`reply_address_tag`): conduct+KEY@domain."""
    local, _, domain = ctx.config.conduct_address.partition("@")
    return f"{local}+{reporter_key(case_id, ctx.pepper)}@{domain}"


def reporter_key(case_id: str, pepper: bytes) -> str:
    """The case's secret in the Message-IDs of mail to its reporter (not derivable from the
    case id without the pepper, which never leaves the data directory)."""
    return hmac.new(pepper, f"reporter-key:{case_id}".encode(), hashlib.sha256).hexdigest()[:20]


def dropped(inbound_key: str, sha: str, message_id: str | None, reason: str) -> Decision:
    """Machine mail: kept in the archive, moved to junk, never answered."""
    return Decision(inbound_key, sha, message_id, Outcome.DROPPED, Folder.JUNK, reason)


def quarantined(key: str, sha: str, message_id: str | None, reason: str,
                ctx: Context) -> Decision:
    """Mail that could not be handled: kept for a human, the admin told (without content)."""
    decision = Decision(key, sha, message_id, Outcome.QUARANTINED, Folder.QUARANTINE, reason)
    admin = ctx.config.admin_address
    if admin and ctx.renderer.has("quarantine_alert", "en"):
        rendered = ctx.renderer.render("quarantine_alert", "en", {
            "reason": reason, "sha256": sha, "received_at": format_time(ctx.now, ctx.config),
            "folder": ctx.config.mailbox_folder_name(Folder.QUARANTINE)})
        spec = MailSpec(to=(Address("", admin),), subject=rendered.subject, body=rendered.body)
        decision.outgoing.append(outgoing_mail(spec, None, "quarantine-alert", ctx))
    return decision


def format_time(when: datetime, config: Config) -> str:
    """A timestamp as people read it, in the committee's time zone."""
    return when.astimezone(ZoneInfo(config.timezone)).strftime("%Y-%m-%d %H:%M %Z")


def case_brief(case: Case, config: Config) -> dict[str, object]:
    """What committee mail shows of a case: never content, never the reporter."""
    return {"id": case.id, "code_name": case.code_name, "status": case.status.value,
            "received_at": format_time(case.received_at, config),
            "urgent": case.triage.urgent}


# --------------------------------------------------------------------------- routing


def _tag_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"\[({re.escape(prefix)}-\d{{4}}-\d{{4,}})\]")


def thread_case(msg: ParsedMessage, state: StateView, config: Config) -> Case | None:
    """The case a message belongs to: by its references, or by subject tag from the reporter."""
    for mid in (*msg.in_reply_to, *reversed(msg.references)):
        case_id = state.case_for_message(mid)
        if case_id:
            return state.get_case(case_id)
    local, _, domain = normalise_email(config.conduct_address).partition("@")
    for addr in (*msg.to, *msg.cc):  # conduct+KEY@domain (`reply_address_tag`)
        mine, _, at = normalise_email(addr.email).partition("@")
        if at == domain and mine.startswith(f"{local}+"):
            case_id = state.case_for_message(f"reply-to:{mine.partition('+')[2]}")
            if case_id:
                return state.get_case(case_id)
    match = _tag_pattern(config.case_prefix).search(msg.subject)
    if match and msg.from_ is not None:
        case = state.get_case(match.group(1))
        if case and case.reporter.email and \
                normalise_email(case.reporter.email) == normalise_email(msg.from_.email):
            return case
    return None


def answers_consent(msg: ParsedMessage, case: Case, ctx: Context) -> bool:
    """Whether a message replies to the escrow question we sent this case's reporter."""
    key = f".consent.{reporter_key(case.id, ctx.pepper)}@"
    return any(key in mid for mid in (*msg.in_reply_to, *msg.references))


def from_reporter(msg: ParsedMessage, case: Case, ctx: Context) -> str | None:
    """How a message on a case proves it comes from the case's reporter: "address" (sent from
    the reporter's address), "case-key" (it refers to a mail we sent the reporter), or None:
    anyone else, whose mail is a new report that mentions the case (DESIGN.md, step 3)."""
    if msg.from_ is not None and case.reporter.email and \
            normalise_email(msg.from_.email) == normalise_email(case.reporter.email):
        return "address"
    key = f".{reporter_key(case.id, ctx.pepper)}@"
    if any(key in mid for mid in (*msg.in_reply_to, *msg.references)):
        return "case-key"
    tagged = normalise_email(tagged_address(case.id, ctx))
    if any(normalise_email(a.email) == tagged for a in (*msg.to, *msg.cc)):
        return "case-key"
    return None
