"""Health: what `mailproc status` reports and which admin alerts are due (pure functions).

The daemon writes a small snapshot (`status.json` in the data directory) after every round;
`status` combines it with what the store says (outbox, quarantine, and the deadlines computed from
each case's state at the time asked) and judges:
0 healthy, 1 degraded (outbox failing, overdue deadlines, a recent mailbox hiccup), 2 down
(no daemon, a stale snapshot, or the mailbox unreachable).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mailproc.config.settings import Config
from mailproc.deadlines.clocks import GRACE, pending
from mailproc.model.parsed import CaseStatus
from mailproc.model.records import Case, Outgoing

HEALTHY, DEGRADED, DOWN = 0, 1, 2
STALE_AFTER = timedelta(minutes=2)  # the daemon rewrites its snapshot at least every minute


@dataclass
class Snapshot:
    """What the running daemon knows about itself; written as status.json."""

    pid: int
    started_at: datetime
    updated_at: datetime
    mailbox_kind: str
    mailbox_mode: str
    last_contact: datetime | None = None
    unreachable_since: datetime | None = None
    last_error: str | None = None  # the failure's class, and a mailbox error's own words
    waiting: int = 0  # messages seen in the inbox but not yet handled at the last round
    rules_version: str | None = None
    templates_version: str | None = None
    # "process": a reader process archives and reads mail; "inline": the daemon does it itself
    # (turned off, one core, or the process went away: correct, only slower).
    reader: str = "inline"

    def status_line(self) -> str:
        """One line for systemd's STATUS= (what `systemctl status` shows)."""
        if self.unreachable_since is not None:
            return (f"mailbox unreachable since {self.unreachable_since:%H:%M} UTC: "
                    f"{self.last_error or 'unknown'}")[:200]
        if self.last_contact is None:
            return "starting: connecting to the mailbox"
        return (f"reading mail ({self.mailbox_mode}); last contact {self.last_contact:%H:%M} UTC"
                + (f"; {self.waiting} waiting" if self.waiting else ""))

    def to_json(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v)
                for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Snapshot:
        times = ("started_at", "updated_at", "last_contact", "unreachable_since")
        values: dict[str, Any] = {k: (datetime.fromisoformat(v) if k in times and v else v)
                                  for k, v in doc.items() if k in cls.__dataclass_fields__}
        return cls(**values)


@dataclass
class Status:
    code: int
    problems: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


def overdue(cases: list[Case], config: Config, now: datetime) -> list[tuple[str, str]]:
    """(case id, deadline name) for every deadline not met and past (by more than the tick's
    grace), computed from each case's state now: closed and escrowed cases have none."""
    return [(case.id, name) for case in cases
            for name, when in pending(case, config).items() if when + GRACE < now]


def judge(snapshot: Snapshot | None, alive: bool, pending: list[Outgoing], quarantined: int,
          cases: list[Case], config: Config, now: datetime) -> Status:
    """The status report and its exit code."""
    failing = [m for m in pending if m.attempts > 0]
    late = overdue(cases, config, now)
    report: dict[str, Any] = {
        "daemon": "running" if alive else "not running",
        "outbox": {"pending": len(pending), "failed": len(failing),
                   "oldest_failed_age_seconds": max(
                       ((now - m.queued_at).total_seconds() for m in failing), default=None)},
        "quarantined": quarantined,
        "overdue_deadlines": len(late),
        # Open cases some of whose mail came back undelivered (by case id; no addresses).
        "unreachable": sorted(c.id for c in cases
                              if c.unreachable and c.status is not CaseStatus.CLOSED),
    }
    if snapshot is not None:
        report["mailbox"] = {
            "kind": snapshot.mailbox_kind, "mode": snapshot.mailbox_mode,
            "last_contact": snapshot.last_contact.isoformat() if snapshot.last_contact else None,
            "unreachable_since": (snapshot.unreachable_since.isoformat()
                                  if snapshot.unreachable_since else None),
            "last_error": snapshot.last_error, "waiting": snapshot.waiting,
            "reader": snapshot.reader}
        report["rules_version"] = snapshot.rules_version
        report["templates_version"] = snapshot.templates_version
        report["snapshot_age_seconds"] = round((now - snapshot.updated_at).total_seconds(), 1)
    status = Status(HEALTHY, report=report)
    _judge_down(status, snapshot, alive, now)
    if status.code != DOWN:
        _judge_degraded(status, failing, late, config, now)
        if snapshot is not None and snapshot.last_contact is None:
            status.code = DEGRADED
            status.problems.append("starting: no successful mailbox contact yet")
    return status


def _judge_down(status: Status, snapshot: Snapshot | None, alive: bool, now: datetime) -> None:
    if not alive or snapshot is None:
        status.code = DOWN
        status.problems.append("the daemon is not running")
    elif now - snapshot.updated_at > STALE_AFTER:
        status.code = DOWN
        status.problems.append("the daemon has not reported for over two minutes (stuck?)")
    elif snapshot.unreachable_since is not None:
        status.code = DOWN
        status.problems.append(f"the mailbox is unreachable ({snapshot.last_error})")


def _judge_degraded(status: Status, failing: list[Outgoing], late: list[tuple[str, str]],
                    config: Config, now: datetime) -> None:
    limit = timedelta(minutes=config.alerts.outbox_failure_minutes)
    old = [m for m in failing if now - m.queued_at > limit]
    if failing:
        status.problems.append(f"{len(failing)} outgoing mail(s) failing "
                               f"({len(old)} for over {config.alerts.outbox_failure_minutes:g} "
                               "min)")
    if late:
        status.problems.append(f"{len(late)} overdue deadline(s)")
    if status.report["unreachable"]:
        status.problems.append("mail to someone on case(s) " + ", ".join(
            status.report["unreachable"]) + " came back undelivered (see mailproc show)")
    if failing or late:
        status.code = DEGRADED


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
