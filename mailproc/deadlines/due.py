"""The deadline engine: from cases, policy and `now`, the scheduled mail that is due (issue 5).

Pure: no I/O, no clock. The daemon's tick calls `due()`, queues each `Due` and records its key
(and its `marks`) in `case.sent`; a key already there is never returned again, so a restart or a
week of downtime yields every overdue action once. Clock arithmetic lives in
`mailproc.deadlines.clocks`, who is told in `mailproc.deadlines.ladder`, template contexts in
`mailproc.deadlines.contexts` and digests in `mailproc.deadlines.digest`; the ones the service
uses are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from mailproc.config.settings import Config
from mailproc.deadlines.clocks import (
    REPORTER_UPDATE,
    Due,
    anonymous,
    deadlines,
    is_met,
    paused,
    reporter_updates,
    searching_anchor,
    searching_prefix,
    sent_numbers,
    sla,
)
from mailproc.deadlines.contexts import mail_context, statement_context
from mailproc.deadlines.digest import digest_context, digest_due
from mailproc.deadlines.ladder import (
    LEVELS,
    allowed,
    ended,
    reminded,
    step_key,
    steps_ahead,
    told_key,
    top_sent,
)
from mailproc.model.parsed import CaseStatus
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
        yield Due("reminder", case.id, f"reminder:{name}", reminded(case, cfg), "reminder",
                  name, at - before)


def _escalation(case: Case, cfg: Config, name: str, at: datetime, now: datetime) -> Iterator[Due]:
    """The next step of this deadline's ladder (`mailproc.deadlines.ladder`), when it is time.

    The first step is due at the deadline; each next one `reminder_before_hours` (at least an
    hour) after the previous was sent, so a restart never fires the whole ladder at one tick.
    A reminder whose deadline has passed is superseded by this and never sent."""
    if ended(case, at):
        return
    ahead = steps_ahead(case, cfg, name)
    if not ahead:
        return
    top = top_sent(case, name)
    if top >= 0:
        gap = max(timedelta(hours=cfg.deadlines.reminder_before_hours), timedelta(hours=1))
        at = case.sent[step_key(name, LEVELS[top])] + gap
    if at > now:
        return
    step = ahead[0]
    nobody = name == "first-action" and not allowed(case, cfg, case.cleared)
    kind = "first-action-escalation" if nobody else "escalation"
    yield Due(kind, case.id, step_key(name, step.level), step.to, "escalation", name, at,
              marks=tuple(told_key(name, email) for email in step.to))
