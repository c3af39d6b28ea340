"""Health: what `mailproc status` reports and which admin alerts are due (pure functions).

The daemon writes a small snapshot (`status.json` in the data directory) after every round;
`status` combines it with what the store says (outbox, quarantine, reports waiting for their
translation, and the deadlines computed from each case's state at the time asked) and judges:
0 healthy, 1 degraded (outgoing mail failing, rules or templates refused, translation down or
reports waiting for it, overdue deadlines), 2 down (no daemon, a stale snapshot, or the
mailbox unreachable). Each failing part is named with its cause, since when it fails, and what
waits because of it (`Failure`), in the same words as the log and the admin alert.
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
PURPOSE_WORDS = {"ack": "acknowledgement(s) to reporters", "admin-alert": "admin alert(s)"}


@dataclass(frozen=True)
class Failure:
    """One part that fails: mailbox, smtp, translation, rules or templates."""

    part: str
    cause: str  # in words an admin can act on; never a secret or report content
    since: datetime
    waiting: str  # what waits because of it

    def line(self) -> str:
        verb = "unreachable" if self.part == "mailbox" else "failing"
        return (f"{self.part} {verb} since {self.since:%Y-%m-%d %H:%M} UTC: {self.cause}; "
                f"waiting: {self.waiting}")

    def to_json(self) -> dict[str, str]:
        return {"part": self.part, "cause": self.cause, "since": self.since.isoformat(),
                "waiting": self.waiting}

    @classmethod
    def from_json(cls, doc: dict[str, str]) -> Failure:
        return cls(doc["part"], doc["cause"], datetime.fromisoformat(doc["since"]),
                   doc["waiting"])
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
    # The other parts failing now (smtp, translation, rules, templates), as the daemon sees them.
    failures: list[Failure] = field(default_factory=list)

    def status_line(self) -> str:
        """One line for systemd's STATUS= (what `systemctl status` shows)."""
        others = "".join(f"; {f.part} failing: {f.cause}" for f in self.failures)
        if self.unreachable_since is not None:
            return (f"mailbox unreachable since {self.unreachable_since:%H:%M} UTC: "
                    f"{self.last_error or 'unknown'}{others}")[:400]
        if self.last_contact is None:
            return "starting: connecting to the mailbox" + others
        return (f"reading mail ({self.mailbox_mode}); last contact {self.last_contact:%H:%M} UTC"
                + (f"; {self.waiting} waiting" if self.waiting else "") + others)[:400]

    def to_json(self) -> dict[str, Any]:
        doc = {k: (v.isoformat() if isinstance(v, datetime) else v)
               for k, v in asdict(self).items() if k != "failures"}
        doc["failures"] = [f.to_json() for f in self.failures]
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Snapshot:
        times = ("started_at", "updated_at", "last_contact", "unreachable_since")
        values: dict[str, Any] = {k: (datetime.fromisoformat(v) if k in times and v else v)
                                  for k, v in doc.items() if k in cls.__dataclass_fields__}
        values["failures"] = [Failure.from_json(f) for f in doc.get("failures") or []]
        return cls(**values)


def mailbox_failure(snapshot: Snapshot) -> Failure | None:
    """The mailbox's outage as a Failure (None while it is reached)."""
    if snapshot.unreachable_since is None:
        return None
    return Failure("mailbox", snapshot.last_error or "unknown", snapshot.unreachable_since,
                   "new mail stays unread in the inbox: no acknowledgement, no case")


def outbox_failure(pending: list[Outgoing], smtp: bool) -> Failure | None:
    """Queued mail that failed at least once: its latest cause, since the oldest was queued."""
    failing = sorted((m for m in pending if m.attempts > 0), key=lambda m: m.queued_at)
    if not failing:
        return None
    kinds: dict[str, int] = {}
    for mail in pending:
        kinds[mail.purpose] = kinds.get(mail.purpose, 0) + 1
    what = ", ".join(f"{n} {PURPOSE_WORDS.get(p, p + ' mail(s)')}"
                     for p, n in sorted(kinds.items(), key=lambda kv: (kv[0] != "ack", kv[0])))
    latest = max(failing, key=lambda m: m.next_attempt_at or m.queued_at)
    return Failure("smtp" if smtp else "outbox", latest.last_error or "unknown",
                   failing[0].queued_at, f"{len(pending)} mail(s) undelivered ({what})")


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


# Free space under the data directory below which nothing can be committed (a report, its
# archive copy and journal need a few times its size), and below which the admin is warned.
DISK_FULL_BYTES = 1 << 20
DISK_LOW_BYTES = 64 << 20


def judge(snapshot: Snapshot | None, alive: bool, pending: list[Outgoing], quarantined: int,
          cases: list[Case], config: Config, now: datetime,
          translation_pending: int = 0, disk_free: int | None = None) -> Status:
    """The status report and its exit code. `disk_free`: bytes free under the data directory
    (a full disk stops all work, and the daemon cannot even write its status then)."""
    failing = [m for m in pending if m.attempts > 0]
    late = overdue(cases, config, now)
    failures = [f for f in (mailbox_failure(snapshot) if snapshot else None,
                            outbox_failure(pending, config.outgoing.smtp is not None)) if f]
    failures += snapshot.failures if snapshot is not None and alive else []
    report: dict[str, Any] = {
        "daemon": "running" if alive else "not running",
        "outbox": {"pending": len(pending), "failed": len(failing),
                   "oldest_failed_age_seconds": max(
                       ((now - m.queued_at).total_seconds() for m in failing), default=None)},
        "quarantined": quarantined,
        "translation_pending": translation_pending,
        "overdue_deadlines": len(late),
        "failing": [f.to_json() for f in failures],
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
    if disk_free is not None:
        report["disk_free_bytes"] = disk_free
    status = Status(HEALTHY, report=report)
    _judge_down(status, snapshot, alive, now)
    _judge_disk(status, disk_free, config)
    status.problems += [f.line() for f in failures]
    if translation_pending and not any(f.part == "translation" for f in failures):
        status.problems.append(f"{translation_pending} report(s) wait for their translation")
    if status.code != DOWN:
        _judge_degraded(status, failing, late, config, now)
        if failures or translation_pending:
            status.code = DEGRADED
        if snapshot is not None and snapshot.last_contact is None:
            status.code = DEGRADED
            status.problems.append("starting: no successful mailbox contact yet")
    return status


def _judge_disk(status: Status, free: int | None, config: Config) -> None:
    if free is None or free >= DISK_LOW_BYTES:
        return
    where = config.data_dir
    if free < DISK_FULL_BYTES:
        status.code = DOWN
        status.problems.append(
            f"disk: the file system of {where} is full ({free // 1024} KiB free): nothing can "
            "be recorded, new mail waits on the server (nothing is lost) until space is freed")
    else:
        status.code = max(status.code, DEGRADED)
        status.problems.append(f"disk: only {free >> 20} MiB free under {where}")


def _judge_down(status: Status, snapshot: Snapshot | None, alive: bool, now: datetime) -> None:
    if not alive or snapshot is None:
        status.code = DOWN
        status.problems.append("the daemon is not running")
    elif now - snapshot.updated_at > STALE_AFTER:
        status.code = DOWN
        status.problems.append("the daemon has not reported for over two minutes (stuck?)")
    elif snapshot.unreachable_since is not None:
        status.code = DOWN  # the Failure's line says why


def _judge_degraded(status: Status, failing: list[Outgoing], late: list[tuple[str, str]],
                    config: Config, now: datetime) -> None:
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
