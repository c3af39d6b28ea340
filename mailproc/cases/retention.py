"""The data policy over case records (seed 000: data policy, GDPR; seed 003: nothing passed on
to a successor team), decided without I/O: which closed case loses its raw mail and which its
identifying fields, and what a case record and its diary look like afterwards.

`decide` is the daily policy (`retention:` in config.yaml); `handover` is the one-time purge
when a team hands over. Every decision names the rule that made it, for `purge --dry-run`.
`now` is an argument; the store and the files are the caller's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from mailproc.config.consequences import Ladder
from mailproc.config.settings import RetentionConfig
from mailproc.model.parsed import CaseStatus
from mailproc.model.records import (
    ERASED,
    AttachmentRecord,
    Case,
    DiaryEntry,
    ReportedPerson,
    Reporter,
    scrub_strings,
)

EXPUNGED = "expunged"
RAW_DONE = "retention-raw-deleted"  # case.events keys: what retention already did
EXPUNGE_DONE = "retention-expunged"
KEEP_KINDS = frozenset({"retention", "erasure", "quarantine-release"})


class Action(StrEnum):
    RAW = "delete-raw"  # raw mail and attachment files go; the record stays whole
    EXPUNGE = "expunge"  # names, addresses and texts become "expunged"; statistics stay


@dataclass(frozen=True)
class Purge:
    """What retention does to one case, and the rule that says so."""

    case_id: str
    action: Action
    rule: str


@dataclass(frozen=True)
class Kept:
    """A closed case the policy would purge but must keep, and why."""

    case_id: str
    reason: str


# ----------------------------------------------------------------------------- the policy


def upheld(case: Case) -> bool:
    """A motion finding a violation passed."""
    return any(m.status == "passed" and m.violation for m in case.motions)


def highest_rank(case: Case, ladder: Ladder) -> int | None:
    """The rank of the heaviest consequence of a passed motion (None: no consequence)."""
    keys = [k for m in case.motions if m.status == "passed" for k in m.consequences]
    found = ladder.highest(keys)
    return None if found is None else found.rank


def repeat_person(case: Case, by_identifier: Mapping[str, set[str]]) -> bool:
    """Someone this case reports is also reported in another case (a repeat history)."""
    return any(by_identifier.get(ident, set()) - {case.id} for ident in case.identifiers
               if not ident.startswith("possible:"))


def protection(case: Case, policy: RetentionConfig, ladder: Ladder,
               by_identifier: Mapping[str, set[str]]) -> str | None:
    """Why the daily policy never purges this case (None: it may)."""
    rank = highest_rank(case, ladder)
    if upheld(case) and rank is not None and rank > policy.keep_rank_above:
        return f"upheld with a consequence of rank {rank} (> keep_rank_above)"
    if repeat_person(case, by_identifier):
        return "a person it reports is reported in another case"
    return None


def decide(cases: Iterable[Case], policy: RetentionConfig, ladder: Ladder,
           by_identifier: Mapping[str, set[str]], now: datetime
           ) -> tuple[list[Purge], list[Kept]]:
    """The daily policy: what is due now for each closed case, and the cases it must keep."""
    purges: list[Purge] = []
    kept: list[Kept] = []
    for case in cases:
        if case.status is not CaseStatus.CLOSED or case.closed_at is None:
            continue
        due = _due(case, policy, now)
        if not due:
            continue
        reason = protection(case, policy, ladder, by_identifier)
        if reason is not None:
            kept.append(Kept(case.id, reason))
            continue
        purges += due
    return purges, kept


def _due(case: Case, policy: RetentionConfig, now: datetime) -> list[Purge]:
    assert case.closed_at is not None
    age = now - case.closed_at
    out = []
    expunge_days = policy.expunge_upheld_days if upheld(case) else policy.expunge_days
    if expunge_days is not None and age >= timedelta(days=expunge_days) \
            and EXPUNGE_DONE not in case.events:
        which = "expunge_upheld_days" if upheld(case) else "expunge_days"
        out.append(Purge(case.id, Action.EXPUNGE, f"{which}: {expunge_days}"))
    raw_due = policy.raw_days is not None and age >= timedelta(days=policy.raw_days)
    if (raw_due or out) and RAW_DONE not in case.events:
        rule = f"raw_days: {policy.raw_days}" if raw_due else out[0].rule
        out.insert(0, Purge(case.id, Action.RAW, rule))
    return out


def handover(cases: Iterable[Case]) -> tuple[list[Purge], list[str]]:
    """A team hands over (seed 003): every closed case loses its raw mail and identifying
    fields, whatever the daily policy keeps; the successor receives statistics only.
    Returns the purges and the ids of cases still open (left as they are)."""
    purges: list[Purge] = []
    still_open: list[str] = []
    for case in cases:
        if case.status is not CaseStatus.CLOSED:
            still_open.append(case.id)
            continue
        if RAW_DONE not in case.events:
            purges.append(Purge(case.id, Action.RAW, "handover"))
        if EXPUNGE_DONE not in case.events:
            purges.append(Purge(case.id, Action.EXPUNGE, "handover"))
    return purges, still_open


# ----------------------------------------------------------------------------- the records


def without_raw(case: Case, now: datetime) -> Case:
    """The record once its raw mail and attachment files are gone."""
    out = case.model_copy(deep=True)
    out.attachments = [a.model_copy(update={"sha256": None, "note": "deleted by retention"})
                       for a in case.attachments]
    out.events[RAW_DONE] = now
    return out


def expunged(case: Case, now: datetime) -> Case:
    """The record with every identifying field replaced; what statistics need stays (id,
    category, priority, dates, status, kind, risk, votes and consequences, SLA records)."""
    out = case.model_copy(deep=True)
    out.subject = EXPUNGED
    out.original_text = EXPUNGED
    out.translated_text = EXPUNGED if case.translated_text is not None else None
    out.reporter = Reporter(name=EXPUNGED, anonymous=case.reporter.anonymous,
                            on_behalf_of=EXPUNGED if case.reporter.on_behalf_of else None)
    out.incident = case.incident.model_copy(update={
        "when": _gone(case.incident.when), "where": _gone(case.incident.where),
        "description": EXPUNGED, "circumstances": _gone(case.incident.circumstances),
        "witnesses": [EXPUNGED for _ in case.incident.witnesses],
        "links": [EXPUNGED for _ in case.incident.links]})
    out.reported = [ReportedPerson(name=EXPUNGED) for _ in case.reported]
    out.attachments = [AttachmentRecord(filename=EXPUNGED, content_type=a.content_type,
                                        size=a.size, sha256=None, note="expunged")
                       for a in case.attachments]
    out.followups = [f.model_copy(update={"text": EXPUNGED, "translated_text": _gone(
        f.translated_text)}) for f in case.followups]
    out.motions = [m.model_copy(update={"text": EXPUNGED}) for m in case.motions]
    out.decision = _gone(case.decision)
    out.summary = _gone(case.summary)
    out.reporter_outcome = _gone(case.reporter_outcome)
    out.identifiers, out.reporter_hash, out.message_ids = [], None, []
    out.unreachable, out.relayed, out.confirmations = [], {}, []
    out.events[EXPUNGE_DONE] = now
    return out


def _gone(value: str | None) -> str | None:
    return EXPUNGED if value else None


def expunged_entry(entry: DiaryEntry) -> DiaryEntry:
    """A diary line with its words gone: its kind, time and whether a member or the system
    acted stay (what statistics and the chain's shape need). What retention and erasure
    wrote stays: it says what kind of removal happened, never what was removed."""
    if entry.kind in KEEP_KINDS:
        return entry
    return entry.model_copy(update={
        "detail": EXPUNGED if entry.detail else "",
        "actor": entry.actor if entry.actor == "system" else "member"})


# ----------------------------------------------------------------------------- erasure


def person_terms(cases: Iterable[Case], address: str, names: Iterable[str] = ()) -> list[str]:
    """What identifies the person with this address in these cases: the address, and the
    names and handles the cases record for it (as reporter or reported person)."""
    key = address.strip().casefold()
    terms = {address.strip(), *(n.strip() for n in names if n.strip())}
    for case in cases:
        if (case.reporter.email or "").casefold() == key:
            terms.update(t for t in (case.reporter.name, case.reporter.contact) if t)
        for person in case.reported:
            if (person.email or "").casefold() == key:
                terms.update(t for t in (person.name, person.handle) if t)
    return sorted((t for t in terms if len(t) >= 3), key=len, reverse=True)


def terms_pattern(terms: list[str]) -> re.Pattern[str]:
    """One case-insensitive pattern for every term, longest first, on word edges."""
    return re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in terms), re.IGNORECASE)


def erased_case(case: Case, address: str, pattern: re.Pattern[str]) -> Case:
    """The record without the person: as reporter or reported person their fields go, and
    every mention of them (address, name, handle) in any text becomes "[erased]"."""
    key = address.strip().casefold()
    doc = scrub_strings(case.model_dump(mode="json"), pattern, keys=False)
    out = Case.model_validate(doc)
    if (case.reporter.email or "").casefold() == key:
        _erase_name_words(out, case.reporter.name or "")
        out.reporter = Reporter(name=ERASED, anonymous=case.reporter.anonymous)
        out.reporter_hash = None
    out.reported = [ReportedPerson(name=ERASED) if (p.email or "").casefold() == key
                    or _mentions(p, pattern) else p for p in out.reported]
    out.unreachable = [a for a in out.unreachable if a != ERASED]
    return out


def _erase_name_words(case: Case, name: str) -> None:
    """In the texts of the person's own report, each word of their name alone too (people
    sign with their first name); other cases keep such words, which may be someone else's."""
    words = [w for w in name.split() if len(w) >= 3 and w != ERASED]
    if not words:
        return
    each = terms_pattern(words)
    case.original_text = each.sub(ERASED, case.original_text)
    case.subject = each.sub(ERASED, case.subject)
    case.incident.description = each.sub(ERASED, case.incident.description)
    if case.translated_text is not None:
        case.translated_text = each.sub(ERASED, case.translated_text)
    for note in case.followups:
        note.text = each.sub(ERASED, note.text)
        if note.translated_text is not None:
            note.translated_text = each.sub(ERASED, note.translated_text)


def _mentions(person: ReportedPerson, pattern: re.Pattern[str]) -> bool:
    return any(v and ERASED in v for v in (person.name, person.handle, person.email))


def erased_entry(entry: DiaryEntry, pattern: re.Pattern[str]) -> DiaryEntry:
    return entry.model_copy(update={"detail": pattern.sub(ERASED, entry.detail),
                                    "actor": pattern.sub(ERASED, entry.actor)})


def mentions(case: Case, diary: list[DiaryEntry], pattern: re.Pattern[str]) -> bool:
    """Whether the case or its diary names the person anywhere."""
    return bool(pattern.search(case.model_dump_json())) or any(
        pattern.search(e.detail) or pattern.search(e.actor) for e in diary)


