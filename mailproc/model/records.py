"""The persisted records every part of mailproc shares: cases, diary entries, outgoing mail.

What reading a message yields (parsed mail, report fields, translations) and the enums the
records use live in `mailproc.model.parsed`, which the reader process imports without
pydantic (its models cost ~0.1 s to build at each start). Persisted records
(`Case`, `Outgoing`, `DiaryEntry`) are pydantic models so that the store can validate what it
reads back and the JSON shape (`mailproc show ID --json`) is the contract in DESIGN.md.
Enums are persisted by value.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mailproc.model.parsed import (
    CaseStatus,
)

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
    automatic: bool = False  # found automatically in the report's free text (a guess)


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
    """What the reporter (or the holder of an anonymous case's key) wrote after the report."""

    at: datetime
    sha256: str
    text: str
    via: str = "address"  # "address": from the reporter's own; "case-key": a reporter mail's key
    translated_text: str | None = None
    translation_engine: str | None = None
    urgent_reasons: list[str] = Field(default_factory=list)


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
    reporter_outcome: str | None = None  # what the reporter is told (`#outcome`, confirmed)
    closed_at: datetime | None = None
    identifiers: list[str] = Field(default_factory=list)  # keyed hashes of who was reported
    reporter_hash: str | None = None  # keyed hash of the reporter's address
    confirmations: list[Confirmation] = Field(default_factory=list)
    disclosed: list[str] = Field(default_factory=list)  # members who got the full report
    escrow_matches: list[str] = Field(default_factory=list)
    unreachable: list[str] = Field(default_factory=list)  # addresses our mail bounced from
    reporter_utc_offset: int | None = None  # minutes, from the report's Date header
    relayed: dict[str, list[datetime]] = Field(default_factory=dict)  # member -> recent relays
    escrow_consent: bool | None = None  # the escrowed reporter's answer, once a match asked her
    # What the clocks are derived from (issue 5): when things happened, what was already sent.
    events: dict[str, datetime] = Field(default_factory=dict)  # first-cleared, lead-named,
    #   status-since, last-reporter-update, event-mode (per-case half-day target) ...
    escrow_periods: list[list[datetime | None]] = Field(default_factory=list)  # [start, end]
    sent: dict[str, datetime] = Field(default_factory=dict)  # scheduled-mail key -> when queued
    # scheduled-mail key -> when its mail was delivered (SLAs count this, not the queue time)
    delivered: dict[str, datetime] = Field(default_factory=dict)
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
    key: str | None = None  # the scheduled-mail key it carries: its delivery goes on the case


ERASED = "[erased]"  # what stands where erasure or retention took a person's data out


def scrub_strings(value: Any, pattern: re.Pattern[str], *, keys: bool) -> Any:
    """Every string inside a JSON value with `pattern` replaced by ERASED; `keys`: the keys of
    objects too (a log keyed by address), not for a record whose keys are its field names."""
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [scrub_strings(v, pattern, keys=keys) for v in value]
    if isinstance(value, dict):
        return {pattern.sub(ERASED, k) if keys else k: scrub_strings(v, pattern, keys=keys)
                for k, v in value.items()}
    return value
