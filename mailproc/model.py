"""The data every part of mailproc shares: parsed mail, cases, outgoing mail, outcomes.

Parsed mail is a frozen dataclass (built once by `parse`, never changed). Persisted records
(`Case`, `Outgoing`, `DiaryEntry`) are pydantic models so that the store can validate what it
reads back and the JSON shape (`mailproc show ID --json`) is the contract in DESIGN.md.
Enums are persisted by value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Outcome(StrEnum):
    """How one inbound message ended (DESIGN.md: exactly one per message)."""

    REPORT = "report"
    FOLLOWUP = "followup"
    COMMAND = "command"
    ROUTED = "routed"
    DROPPED = "dropped"
    QUARANTINED = "quarantined"


class CaseStatus(StrEnum):
    NEW = "new"
    ESCROWED = "escrowed"
    INVESTIGATING = "investigating"
    SEARCHING = "searching"
    AWAITING_REPORTED = "awaiting-reported"
    DECIDED = "decided"
    CLOSED = "closed"


class Folder(StrEnum):
    """Logical destination folders; the mailbox config maps them to real names."""

    PROCESSED = "processed"
    ROUTED = "routed"
    JUNK = "junk"
    QUARANTINE = "quarantine"


# --------------------------------------------------------------------------- parsed mail


@dataclass(frozen=True)
class Address:
    name: str
    email: str  # as written; compare with `normalise_email`

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


def normalise_email(email: str) -> str:
    """Lower-case an address and strip surrounding space and angle brackets."""
    return email.strip().strip("<>").strip().lower()


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    payload: bytes

    @property
    def size(self) -> int:
        return len(self.payload)


@dataclass(frozen=True)
class ParsedMessage:
    """One inbound mail, decoded. Produced by `mailproc.parse.parse_message`."""

    message_id: str | None  # without angle brackets
    subject: str  # RFC 2047 decoded
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    date: datetime | None  # timezone-aware when the header had a zone
    in_reply_to: tuple[str, ...]  # message ids without angle brackets
    references: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]  # (name as written, decoded value), in order
    content_type: str  # top-level, lower case, e.g. "multipart/report"
    text: str  # best readable body: text/plain preferred, HTML converted otherwise
    text_from_html: bool
    attachments: tuple[ParsedAttachment, ...]
    defects: tuple[str, ...] = ()

    def header(self, name: str) -> list[str]:
        """All values of a header, case-insensitively, in message order."""
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def first_header(self, name: str) -> str | None:
        values = self.header(name)
        return values[0] if values else None


# --------------------------------------------------------------------------- extraction


@dataclass(frozen=True)
class ReportedPersonFields:
    name: str | None = None
    handle: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ReportFields:
    """What `mailproc.extract` found in a report (heuristic; the committee can correct it)."""

    when: str | None = None
    where: str | None = None
    ongoing: bool | None = None
    description: str = ""
    circumstances: str | None = None
    witnesses: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    reported: tuple[ReportedPersonFields, ...] = ()
    contact: str | None = None  # a phone or other contact the reporter gave
    anonymous: bool = False
    escrow: bool = False
    on_behalf_of: str | None = None  # who the report is for, "" when unnamed
    urgent: bool = False
    urgent_reasons: tuple[str, ...] = ()  # e.g. ("physical-danger", "threat", "doxxing")
    signals: tuple[str, ...] = field(default=())  # names of the cues that fired, for --explain


# --------------------------------------------------------------------------- persisted records


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Reporter(Record):
    name: str | None = None
    email: str | None = None
    anonymous: bool = False
    on_behalf_of: str | None = None
    contact: str | None = None


class Incident(Record):
    when: str | None = None
    where: str | None = None
    ongoing: bool | None = None
    description: str = ""
    circumstances: str | None = None
    witnesses: list[str] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)


class ReportedPerson(Record):
    name: str | None = None
    handle: str | None = None
    email: str | None = None


class AttachmentRecord(Record):
    filename: str
    content_type: str
    size: int
    sha256: str | None  # None when it was kept out of the case (see `note`)
    note: str | None = None


class Triage(Record):
    category: str | None = None
    priority: str = "P3"
    urgent: bool = False
    urgent_reasons: list[str] = Field(default_factory=list)
    rule: str | None = None
    signals: list[str] = Field(default_factory=list)


class Owners(Record):
    lead: str | None = None
    secondary: str | None = None


class Risk(Record):
    impact: int | None = None
    likelihood: int | None = None
    score: int | None = None


class Motion(Record):
    """A proposal put to the cleared members (`#propose`), decided by their votes."""

    number: int
    text: str
    proposed_by: str
    at: datetime
    violation: bool | None = None
    consequences: list[str] = Field(default_factory=list)
    votes: dict[str, str] = Field(default_factory=dict)  # member email -> yes | no | abstain
    status: str = "open"  # open | passed | failed
    decided_at: datetime | None = None


class Confirmation(Record):
    """A destructive command waiting for `#confirm CODE` from the same member."""

    code: str
    member: str
    command: str
    args: str
    expires: datetime


class Followup(Record):
    at: datetime
    sha256: str
    text: str


class Case(Record):
    """The case record: the keys of `mailproc show ID --json` (DESIGN.md contract)."""

    id: str
    code_name: str
    status: CaseStatus = CaseStatus.NEW
    received_at: datetime
    acknowledged_at: datetime | None = None
    language: str | None = None
    language_probability: float | None = None
    subject: str = ""
    original_text: str = ""
    translated_text: str | None = None
    translation_engine: str | None = None
    translation_pending: bool = False
    reporter: Reporter = Field(default_factory=Reporter)
    incident: Incident = Field(default_factory=Incident)
    reported: list[ReportedPerson] = Field(default_factory=list)
    attachments: list[AttachmentRecord] = Field(default_factory=list)
    triage: Triage = Field(default_factory=Triage)
    escrow: bool = False
    owners: Owners = Field(default_factory=Owners)
    conflicts: list[str] = Field(default_factory=list)
    cleared: list[str] = Field(default_factory=list)
    risk: Risk = Field(default_factory=Risk)
    decision: str | None = None
    deadlines: dict[str, datetime | None] = Field(default_factory=dict)
    followups: list[Followup] = Field(default_factory=list)
    kind: str | None = None  # enforcement | conflict-resolution (seed 002)
    member_involved: bool = False  # a committee member is the reporter or the reported person
    taker: str | None = None  # the member who filed it with #intake
    links: list[str] = Field(default_factory=list)
    motions: list[Motion] = Field(default_factory=list)
    summary: str | None = None
    public_summary: str | None = None  # the transparency report's line (`public:`)
    closed_at: datetime | None = None
    identifiers: list[str] = Field(default_factory=list)  # keyed hashes of who was reported
    reporter_hash: str | None = None  # keyed hash of the reporter's address
    confirmations: list[Confirmation] = Field(default_factory=list)
    disclosed: list[str] = Field(default_factory=list)  # members who got the full report
    escrow_matches: list[str] = Field(default_factory=list)
    # What the clocks are derived from (issue 5): when things happened, what was already sent.
    events: dict[str, datetime] = Field(default_factory=dict)  # first-cleared, lead-named,
    #   status-since, last-reporter-update, event-mode (per-case half-day target) ...
    escrow_periods: list[list[datetime | None]] = Field(default_factory=list)  # [start, end]
    sent: dict[str, datetime] = Field(default_factory=dict)  # scheduled-mail key -> when sent
    sla: dict[str, dict[str, Any]] = Field(default_factory=dict)  # deadline -> due/met/missed
    # Message-IDs (no brackets) of every mail sent or received for this case: threading.
    message_ids: list[str] = Field(default_factory=list)
    source_sha256: str | None = None


class DiaryEntry(Record):
    """One line of a case diary: what happened, when, by whom (member email or 'system')."""

    case_id: str
    at: datetime
    kind: str  # received, acknowledged, notice, followup, translated, ...
    actor: str = "system"
    detail: str = ""
    message_sha256: str | None = None
    prev_hash: str | None = None  # set by the store: the chain that makes edits evident
    hash: str | None = None


class Outgoing(Record):
    """One queued mail. `raw` is the complete RFC 5322 message as sent."""

    id: str  # our Message-ID without brackets; unique
    case_id: str | None
    purpose: str  # ack, notice, route, ...
    mail_from: str  # envelope sender
    recipients: list[str]
    raw: str
    queued_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
