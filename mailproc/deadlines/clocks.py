"""A case's clocks: deadlines and SLA records derived from its events and the policy (issue 5).

Pure arithmetic on `Case` and `Config`: no clock is read (`now` is an argument where needed).
Time spent escrowed does not count (the clocks pause), a closed case has no open deadline, and
the reporter-update schedule is numbered so that each period has one key (`reporter-update:N`).
`mailproc.deadlines.due` decides what is due from these; `mailproc.deadlines.contexts` shows them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mailproc.config.settings import Config
from mailproc.model.parsed import CaseStatus, normalise_email
from mailproc.model.records import Case

NAMES = ("acknowledge", "first-action", "reporter-update", "decision", "searching")
REPORTER_UPDATE = "reporter-update"
SEARCHING_UPDATE = "searching-update"
# A schedule longer than this many periods is a broken record, not a real case.
MAX_PERIODS = 10_000

Period = tuple[datetime, datetime | None]


def escrow_periods(case: Case) -> list[Period]:
    """The case's escrow periods as (start, end-or-None), sorted; malformed pairs ignored."""
    pairs = [(p[0], p[1] if len(p) > 1 else None) for p in case.escrow_periods
             if p and p[0] is not None]
    return sorted(pairs, key=lambda p: p[0])


def paused(case: Case) -> bool:
    """Whether the case's clocks are stopped right now (escrowed)."""
    return case.status is CaseStatus.ESCROWED or any(e is None for _, e in escrow_periods(case))


def after_active(start: datetime, span: timedelta, periods: list[Period]) -> datetime | None:
    """The wall-clock time at which `span` of unescrowed time has passed since `start`.

    None when an escrow period that is still open began before that time (paused)."""
    end = start + span
    for begin, finish in periods:
        if finish is not None and finish <= start:
            continue
        if begin >= end:
            break
        if finish is None:
            return None
        end += finish - max(begin, start)
    return end


def event_mode(case: Case, cfg: Config) -> bool:
    """Whether the half-day target applies (config-wide or set on this case)."""
    return cfg.deadlines.event_mode or "event-mode" in case.events


def anonymous(case: Case) -> bool:
    """Whether the reporter cannot be written to (asked for anonymity or gave no address)."""
    return case.reporter.anonymous or not case.reporter.email


def conflicted(case: Case, cfg: Config, email: str) -> bool:
    """Whether this address (or the roster member who uses it) has a conflict on the case."""
    conflicts = {normalise_email(c) for c in case.conflicts}
    member = cfg.member_by_email(email)
    addresses = [email, *([*member.aliases, member.email] if member else [])]
    return any(normalise_email(a) in conflicts for a in addresses)


def sent_numbers(case: Case, prefix: str) -> list[int]:
    """The period numbers of sent keys `prefix:N` (the last `:`-field is the number)."""
    numbers = []
    for key in case.sent:
        if key.startswith(prefix + ":") and key.rpartition(":")[2].isdigit():
            numbers.append(int(key.rpartition(":")[2]))
    return numbers


def reporter_updates(case: Case, cfg: Config) -> Iterator[tuple[int, datetime]]:
    """Numbered reporter-update times: follow_up_days after receipt, then every
    update_every_days; a later manual update (event last-reporter-update) restarts the count
    from it. Numbers never repeat, so `reporter-update:N` is one key per period."""
    periods = escrow_periods(case)
    first = timedelta(days=cfg.timeline.follow_up_days)
    every = timedelta(days=cfg.timeline.update_every_days)
    last = case.events.get("last-reporter-update")
    anchor, skipped = case.received_at, 0
    if last is not None:
        # Periods already behind the manual update are consumed; count them so the numbers
        # stay ahead of any key sent before it (the fixed schedule is never later).
        while skipped < MAX_PERIODS:
            t = after_active(case.received_at, first + skipped * every, periods)
            if t is None or t > last:
                break
            skipped += 1
        anchor, first = last, every
    for k in range(MAX_PERIODS):
        t = after_active(anchor, first + k * every, periods)
        if t is None:
            return
        yield skipped + k + 1, t


def searching_anchor(case: Case) -> datetime:
    """When the current search began (status-since, else receipt)."""
    return case.events.get("status-since", case.received_at)


def searching_prefix(case: Case) -> str:
    """The key prefix of this search's daily updates (a new search starts a new series)."""
    return f"{SEARCHING_UPDATE}:{searching_anchor(case):%Y%m%dT%H%M%S}"


def first_action_at(case: Case) -> datetime | None:
    """When a member had cleared and a lead was named (both), from the case's events."""
    cleared, lead = case.events.get("first-cleared"), case.events.get("lead-named")
    return max(cleared, lead) if cleared and lead else None


def decision_at(case: Case) -> datetime | None:
    """When a motion passed or the case closed, whichever came first."""
    times = [m.decided_at for m in case.motions if m.status == "passed" and m.decided_at]
    if case.closed_at is not None:
        times.append(case.closed_at)
    return min(times) if times else None


def first_update_at(case: Case) -> datetime | None:
    """The earliest known update to the reporter (a sent scheduled one or a manual one)."""
    times = [at for key, at in case.sent.items() if key.startswith(REPORTER_UPDATE + ":")]
    if "last-reporter-update" in case.events:
        times.append(case.events["last-reporter-update"])
    return min(times) if times else None


def is_met(case: Case, name: str) -> bool:
    """Whether the action a deadline asks for has happened (events or the case's state)."""
    if name == "acknowledge":
        return case.acknowledged_at is not None
    if name == "first-action":
        return first_action_at(case) is not None or bool(case.cleared and case.owners.lead)
    if name == "decision":
        return decision_at(case) is not None or case.status in (CaseStatus.DECIDED,
                                                                 CaseStatus.CLOSED)
    return False  # reporter-update and searching are recurring: the next one is never met


def _scheduled(case: Case, cfg: Config) -> dict[str, datetime | None]:
    """Every deadline as the policy sets it, ignoring whether the case is closed."""
    periods, d = escrow_periods(case), cfg.deadlines
    hours = d.event_action_hours if event_mode(case, cfg) else d.first_action_hours
    return {
        "acknowledge": case.received_at + timedelta(hours=cfg.timeline.acknowledge_hours),
        "first-action": after_active(case.received_at, timedelta(hours=hours), periods),
        "reporter-update": None if anonymous(case) else _next_update(case, cfg),
        "decision": after_active(case.received_at, timedelta(days=d.decision_days), periods),
        "searching": _next_searching(case, cfg),
    }


def _next_update(case: Case, cfg: Config) -> datetime | None:
    done = max(sent_numbers(case, REPORTER_UPDATE), default=0)
    return next((t for n, t in reporter_updates(case, cfg) if n > done), None)


def _next_searching(case: Case, cfg: Config) -> datetime | None:
    if case.status is not CaseStatus.SEARCHING:
        return None
    done = max(sent_numbers(case, searching_prefix(case)), default=0)
    every = timedelta(hours=cfg.deadlines.searching_update_hours)
    return searching_anchor(case) + (done + 1) * every


def deadlines(case: Case, cfg: Config) -> dict[str, datetime | None]:
    """The case's current deadlines (what `show` prints); None when paused or closed."""
    scheduled = _scheduled(case, cfg)
    if case.status is CaseStatus.CLOSED:
        return {k: v if is_met(case, k) else None for k, v in scheduled.items()}
    if paused(case):
        return {k: v if k == "acknowledge" or is_met(case, k) else None
                for k, v in scheduled.items()}
    return scheduled


def sla(case: Case, cfg: Config, now: datetime) -> dict[str, dict[str, Any]]:
    """Per deadline: {"due", "met_at", "missed"}; missed is None while it is still pending.

    reporter-update records the first follow-up (absent for anonymous reporters); searching
    is a courtesy schedule, not an SLA."""
    periods, scheduled = escrow_periods(case), _scheduled(case, cfg)
    first_update = after_active(case.received_at, timedelta(days=cfg.timeline.follow_up_days),
                                periods)
    rows: dict[str, tuple[datetime | None, datetime | None]] = {
        "acknowledge": (scheduled["acknowledge"], case.acknowledged_at),
        "first-action": (scheduled["first-action"], first_action_at(case)),
        "reporter-update": (first_update, first_update_at(case)),
        "decision": (scheduled["decision"], decision_at(case)),
    }
    if anonymous(case):
        del rows["reporter-update"]
    return {name: _sla_row(due_at, met_at, now, case.closed_at)
            for name, (due_at, met_at) in rows.items()}


def _sla_row(due_at: datetime | None, met_at: datetime | None, now: datetime,
             closed_at: datetime | None) -> dict[str, Any]:
    missed: bool | None
    if due_at is None:
        missed = None
    elif met_at is not None:
        missed = met_at > due_at
    else:
        # A closed case can no longer meet it: judge at the close, not at `now`.
        missed = min(now, closed_at or now) > due_at or None
    return {"due": due_at.isoformat() if due_at else None,
            "met_at": met_at.isoformat() if met_at else None, "missed": missed}


@dataclass(frozen=True)
class Due:
    """One scheduled mail to queue now; `key` goes into `case.sent` once it is queued."""

    kind: str  # reporter-update | searching-update | outcome | reminder | escalation |
    #            first-action-escalation
    case_id: str
    key: str
    to: tuple[str, ...]  # "reporter", or member emails (never a conflicted member)
    template: str
    deadline: str  # acknowledge | first-action | reporter-update | decision | searching
    at: datetime  # when it became due
