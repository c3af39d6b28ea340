"""What reading a message yields (frozen dataclasses) and the enums records share: no pydantic.

Parsed mail, report fields and translations are built once and never changed. The reader
process imports only this half of the data model; the persisted pydantic records are in
`mailproc.model.records` (their classes cost ~0.1 s to build at each start; a reader without
pydantic took N=1,000 from 1.97 to 1.83 s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


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
    """Lower-case an address and strip surrounding space and angle brackets; an
    internationalised domain in its Unicode form (U-labels, IDNA 2008 with the UTS 46
    mapping), so that `info@xn--mller-kva.de`, as a mail system without SMTPUTF8 writes it,
    and `info@müller.de` are the same address. A domain that is no valid IDN stays as it is."""
    address = email.strip().strip("<>").strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or (domain.isascii() and "xn--" not in domain):
        return address  # nearly every address: no IDNA work
    return f"{local}@{_unicode_domain(domain)}"


def _unicode_domain(domain: str) -> str:
    """A lower-case domain with its A-labels as U-labels, label by label (one label that
    is not valid IDNA stays as written, and so do the others)."""
    import idna  # only for internationalised domains: the reader rarely needs it

    try:
        domain = idna.uts46_remap(domain, std3_rules=False, transitional=False)
    except (ValueError, idna.IDNAError):
        return domain
    labels = []
    for label in domain.split("."):
        try:
            labels.append(label if label.isascii() and not label.startswith("xn--")
                          else idna.decode(label))
        except (ValueError, idna.IDNAError):
            labels.append(label)
    return ".".join(labels)


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
    """One inbound mail, decoded. Produced by `mailproc.mail.parse.parse_message`."""

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
    automatic: bool = False  # found in free text, not named under a label: a guess


@dataclass(frozen=True)
class ReportFields:
    """What `reading.extract` found in a report (heuristic; the committee can correct it)."""

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


@dataclass(frozen=True)
class Translation:
    """A machine translation of a text, and which engine made it."""

    text: str
    engine: str  # e.g. "libretranslate", "google", "mymemory"
    source: str
    target: str
