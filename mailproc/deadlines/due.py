"""The deadline engine: from cases, policy and `now`, the scheduled mail that is due (issue 5).

Pure: no I/O, no clock. The daemon's tick calls `due()`, queues each `Due` and records its key in
`case.sent`; a key already there is never returned again, so a restart or a week of downtime
yields every overdue action once. Clock arithmetic lives in `mailproc.deadlines.clocks`, digests and
template contexts in `mailproc.deadlines.contexts`; both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from mailproc.config.settings import Config
from mailproc.deadlines.clocks import (
    REPORTER_UPDATE,
    Due,
    anonymous,
    conflicted,
    deadlines,
    is_met,
    paused,
    reporter_updates,
    searching_anchor,
    searching_prefix,
    sent_numbers,
    sla,
)
from mailproc.deadlines.contexts import digest_context, digest_due, mail_context, statement_context
from mailproc.model.parsed import CaseStatus, normalise_email
from mailproc.model.records import Case

__all__ = ["Due", "deadlines", "digest_context", "digest_due", "due", "mail_context", "sla",
           "statement_context"]

COMMITTEE_DEADLINES = ("first-action", "decision")
REPORTER = "reporter"




def due(cases: Iterable[Case], cfg: Config, now: datetime) -> list[Due]:
    """Everything that should be sent now and was not, oldest first."""
    items: list[Due] = []
    for case in cases:
        seen: set[str] = set()
        for item in _case_due(case, cfg, now):
            if item.key not in case.sent and item.key not in seen and item.to:
                seen.add(item.key)
                items.append(item)
    return sorted(items, key=lambda d: (d.at, d.case_id, d.key))


def _case_due(case: Case, cfg: Config, now: datetime) -> Iterator[Due]:
    if case.status is CaseStatus.CLOSED:
        if not anonymous(case):
            yield Due("outcome", case.id, "outcome", (REPORTER,), "outcome", "decision",
                      case.closed_at or now)
        return
    if paused(case):
        return
    if not anonymous(case):
        yield from _reporter_update(case, cfg, now)
        yield from _searching_update(case, cfg, now)
    current = deadlines(case, cfg)
    for name in COMMITTEE_DEADLINES:
        at = current[name]
        if at is None or is_met(case, name):
            continue
        yield from _reminder(case, cfg, name, at, now)
        if now >= at:
            yield from _escalation(case, cfg, name, at, now)


def _reporter_update(case: Case, cfg: Config, now: datetime) -> Iterator[Due]:
    """Only the latest period that has come, and only if no later one was sent."""
    done = max(sent_numbers(case, REPORTER_UPDATE), default=0)
    latest: tuple[int, datetime] | None = None
    for number, at in reporter_updates(case, cfg):
        if at > now:
            break
        latest = (number, at)
    if latest is not None and latest[0] > done:
        yield Due(REPORTER_UPDATE, case.id, f"{REPORTER_UPDATE}:{latest[0]}", (REPORTER,),
                  "update", "reporter-update", latest[1])


def _searching_update(case: Case, cfg: Config, now: datetime) -> Iterator[Due]:
    if case.status is not CaseStatus.SEARCHING:
        return
    every = timedelta(hours=cfg.deadlines.searching_update_hours)
    since = searching_anchor(case)
    number = int((now - since) / every)
    prefix = searching_prefix(case)
    if number >= 1 and number > max(sent_numbers(case, prefix), default=0):
        yield Due("searching-update", case.id, f"{prefix}:{number}", (REPORTER,), "searching",
                  "searching", since + number * every)


def _reminder(case: Case, cfg: Config, name: str, at: datetime, now: datetime) -> Iterator[Due]:
    before = timedelta(hours=cfg.deadlines.reminder_before_hours)
    if before and at - before <= now < at:
        yield Due("reminder", case.id, f"reminder:{name}", _reminded(case, cfg), "reminder",
                  name, at - before)


def _escalation(case: Case, cfg: Config, name: str, at: datetime, now: datetime) -> Iterator[Due]:
    """Lead (no lead: the cleared members), then secondary, then chair, each once.

    The first step is due at the deadline; each next one `reminder_before_hours` (at least an
    hour) after the previous was sent, so a restart never fires the whole chain at one tick.
    A reminder whose deadline has passed is superseded by this and never sent."""
    if name == "first-action" and not _cleared(case, cfg):
        key = "escalation:first-action:chair"
        yield Due("first-action-escalation", case.id, key, _chair(case, cfg), "escalation",
                  name, at)
        return
    step = max(timedelta(hours=cfg.deadlines.reminder_before_hours), timedelta(hours=1))
    previous: str | None = None
    for level, to in _chain(case, cfg):
        key = f"escalation:{name}:{level}"
        if previous is not None:
            if previous not in case.sent:
                return  # the previous step is still waiting to be sent
            at = case.sent[previous] + step
        if key not in case.sent:
            if at <= now:
                yield Due("escalation", case.id, key, to, "escalation", name, at)
            return
        previous = key


def _chain(case: Case, cfg: Config) -> list[tuple[str, tuple[str, ...]]]:
    """The escalation levels that have someone to tell: lead, secondary, chair."""
    lead = _allowed(case, cfg, [case.owners.lead] if case.owners.lead else _cleared(case, cfg))
    secondary = _allowed(case, cfg, [case.owners.secondary] if case.owners.secondary else [])
    levels = [("lead", lead), ("secondary", tuple(m for m in secondary if m not in lead)),
              ("chair", _chair(case, cfg))]
    return [(level, to) for level, to in levels if to]


def _chair(case: Case, cfg: Config) -> tuple[str, ...]:
    """The chair; if conflicted, the other cleared members; if none, every unconflicted member."""
    chairs = _allowed(case, cfg, [m.email for m in cfg.roster if m.chair])
    if chairs:
        return chairs
    owners = {normalise_email(o) for o in (case.owners.lead, case.owners.secondary) if o}
    cleared = _cleared(case, cfg)
    others = tuple(m for m in cleared if normalise_email(m) not in owners)
    return others or cleared or _allowed(case, cfg, [m.email for m in cfg.roster if not m.chair])


def _reminded(case: Case, cfg: Config) -> tuple[str, ...]:
    """The owners; with none, the cleared members; with none, every unconflicted member."""
    owners = [o for o in (case.owners.lead, case.owners.secondary) if o]
    return (_allowed(case, cfg, owners) or _cleared(case, cfg)
            or _allowed(case, cfg, [m.email for m in cfg.roster]))


def _cleared(case: Case, cfg: Config) -> tuple[str, ...]:
    return _allowed(case, cfg, case.cleared)


def _allowed(case: Case, cfg: Config, emails: Iterable[str]) -> tuple[str, ...]:
    """The addresses given, minus anyone with a conflict on the case (by any of their
    addresses), without duplicates, in order."""
    out: list[str] = []
    for email in emails:
        if not conflicted(case, cfg, email) and normalise_email(email) not in map(
                normalise_email, out):
            out.append(email)
    return tuple(out)

