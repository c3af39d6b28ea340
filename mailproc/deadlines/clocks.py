"""A case's clocks: deadlines and SLA records derived from its events and the policy (issue 5).

Pure arithmetic on `Case` and `Config`: no clock is read (`now` is an argument where needed).
Time spent escrowed does not count (the clocks pause), a closed case has no open deadline, and
the reporter-update schedule is numbered so that each period has one key (`reporter-update:N`).
A scheduled mail meets its deadline when it was delivered (`case.delivered`, written by the store
when the outbox hands it over) within `GRACE` of it: the tick that queues it runs once a minute.
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
ACK_KEY = "acknowledge"  # the acknowledgement's `Outgoing.key`: its delivery lands in `delivered`
REPORTER_UPDATE = "reporter-update"
SEARCHING_UPDATE = "searching-update"
# A schedule longer than this many periods is a broken record, not a real case.
MAX_PERIODS = 10_000
# The daemon's deadline tick (service/daemon.py runs it every minute). A mail due at second S is
# queued by the first tick after S and delivered by the flush that follows it: it is on time
# when delivered within one tick of S, plus one more for the delivery itself.
TICK = timedelta(seconds=60)
GRACE = 2 * TICK

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


def consumed_updates(case: Case, cfg: Config) -> list[datetime]:
    """The periods of the schedule from receipt that a manual update (event
    last-reporter-update) consumed: due at or before it. They keep numbers 1..len()."""
    last = case.events.get("last-reporter-update")
    if last is None:
        return []
    periods = escrow_periods(case)
    first = timedelta(days=cfg.timeline.follow_up_days)
    every = timedelta(days=cfg.timeline.update_every_days)
    out: list[datetime] = []
    while len(out) < MAX_PERIODS:
        t = after_active(case.received_at, first + len(out) * every, periods)
        if t is None or t > last:
            break
        out.append(t)
    return out


def reporter_updates(case: Case, cfg: Config) -> Iterator[tuple[int, datetime]]:
    """Numbered reporter-update times: follow_up_days after receipt, then every
    update_every_days; a later manual update (event last-reporter-update) restarts the count
    from it. Numbers never repeat, so `reporter-update:N` is one key per period."""
    periods = escrow_periods(case)
    first = timedelta(days=cfg.timeline.follow_up_days)
    every = timedelta(days=cfg.timeline.update_every_days)
    last = case.events.get("last-reporter-update")
    # Periods already behind the manual update are consumed; count them so the numbers stay
    # ahead of any key sent before it (the fixed schedule is never later).
    skipped = len(consumed_updates(case, cfg))
    anchor = case.received_at
    if last is not None:
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
        # A report with no address to answer (taken in person, say) has nobody to acknowledge.
        "acknowledge": None if not case.reporter.email and case.acknowledged_at is None
        else case.received_at + timedelta(hours=cfg.timeline.acknowledge_hours),
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
    """Every deadline as it stands (met ones included); None when paused or closed."""
    scheduled = _scheduled(case, cfg)
    if case.status is CaseStatus.CLOSED:
        return {k: v if is_met(case, k) else None for k, v in scheduled.items()}
    if paused(case):
        return {k: v if k == "acknowledge" or is_met(case, k) else None
                for k, v in scheduled.items()}
    return scheduled


def pending(case: Case, cfg: Config) -> dict[str, datetime]:
    """What is still to be done and by when, from the case's state as it is (overdue ones
    included): what `show` and `status` print. Empty for a closed case; while escrowed only
    an acknowledgement not yet sent."""
    return {name: at for name, at in deadlines(case, cfg).items()
            if at is not None and not is_met(case, name)}


def sla(case: Case, cfg: Config, now: datetime) -> dict[str, dict[str, Any]]:
    """Per deadline: {"due", "met_at", "missed"}; missed is None while it is still pending.

    A mail (acknowledgement, reporter update) is on time when delivered within GRACE of its
    deadline; a member's action (first action, decision) when it happened by the deadline.
    reporter-update judges every weekly period that has come (absent for anonymous
    reporters): `due` and `met_at` are the latest's, `late` lists the numbers of those that
    were late, and `missed` is true once one was. Searching is a courtesy, not an SLA."""
    scheduled = _scheduled(case, cfg)
    rows: dict[str, dict[str, Any]] = {
        "acknowledge": _row(scheduled["acknowledge"], ack_delivered_at(case), now, case,
                            GRACE),
        "first-action": _row(scheduled["first-action"], first_action_at(case), now, case),
        "reporter-update": _update_row(case, cfg, now),
        "decision": _row(scheduled["decision"], decision_at(case), now, case),
    }
    if anonymous(case):
        del rows["reporter-update"]
    return rows


def ack_delivered_at(case: Case) -> datetime | None:
    """When the acknowledgement reached the reporter's server: its recorded delivery. A case
    acknowledged before deliveries were recorded (no `ack-keyed` event) counts its queue time."""
    if ACK_KEY in case.delivered:
        return case.delivered[ACK_KEY]
    return None if "ack-keyed" in case.events else case.acknowledged_at


def _late(due_at: datetime, met_at: datetime | None, until: datetime,
          grace: timedelta) -> bool | None:
    """Whether an action was late; None while it can still be on time."""
    if met_at is not None:
        return met_at > due_at + grace
    return True if until > due_at + grace else None


def _row(due_at: datetime | None, met_at: datetime | None, now: datetime, case: Case,
         grace: timedelta = timedelta(0)) -> dict[str, Any]:
    # A closed case can no longer meet it: judge at the close, not at `now`.
    until = min(now, case.closed_at or now)
    return {"due": due_at.isoformat() if due_at else None,
            "met_at": met_at.isoformat() if met_at else None,
            "missed": None if due_at is None else _late(due_at, met_at, until, grace)}


def update_met_at(case: Case, cfg: Config, number: int, due_at: datetime) -> datetime | None:
    """When period `number`'s update reached the reporter: its mail's delivery (its queue time
    until the delivery is recorded), or the manual update that consumed it."""
    key = f"{REPORTER_UPDATE}:{number}"
    times = [t for t in (case.delivered.get(key), case.sent.get(key)) if t is not None][:1]
    last = case.events.get("last-reporter-update")
    if last is not None and due_at - timedelta(days=cfg.timeline.update_every_days) < last:
        times.append(last)
    return min(times, default=None)


def _update_row(case: Case, cfg: Config, now: datetime) -> dict[str, Any]:
    until = min(now, case.closed_at or now)
    judged = [(n + 1, t) for n, t in enumerate(consumed_updates(case, cfg)) if t <= until]
    for number, at in reporter_updates(case, cfg):
        if at > until:
            break
        judged.append((number, at))
    if not judged:
        upcoming = None if case.status is CaseStatus.CLOSED else next(
            (t for _, t in reporter_updates(case, cfg)), None)
        return {"due": upcoming.isoformat() if upcoming else None, "met_at": None,
                "missed": None, "late": []}
    verdicts = [(n, t, update_met_at(case, cfg, n, t)) for n, t in judged]
    late = [n for n, t, met in verdicts if _late(t, met, until, GRACE)]
    _, due_at, met_at = verdicts[-1]
    latest = _late(due_at, met_at, until, GRACE)
    return {"due": due_at.isoformat(), "met_at": met_at.isoformat() if met_at else None,
            "missed": True if late else latest, "late": late}


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
    marks: tuple[str, ...] = ()  # more keys recorded in `case.sent` with `key` (who was told)
