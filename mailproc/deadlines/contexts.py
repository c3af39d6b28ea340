"""What the scheduled mails say: template contexts for due mail, the daily digest, the statement.

Contexts are plain strings, lists and dicts (SAMPLE_CONTEXTS in `mailproc.mail.templates` documents
each). Only reporter-facing contexts carry the reporter's name; committee contexts (reminder,
escalation, digest, statement) never hold the reporter's identity, so no template can leak it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mailproc.config.settings import Config
from mailproc.deadlines.clocks import (
    REPORTER_UPDATE,
    Due,
    anonymous,
    conflicted,
    deadlines,
    is_met,
    reporter_updates,
)
from mailproc.mail.plaintext import format_date
from mailproc.model.parsed import CaseStatus, normalise_email
from mailproc.model.records import Case

LABELS = {
    "acknowledge": "acknowledgement to the reporter",
    "first-action": "first action (a member clears and a lead is named)",
    "reporter-update": "status update to the reporter",
    "decision": "decision",
    "searching": "daily update while searching",
}
DAY = "%Y-%m-%d"


def _when(value: datetime, cfg: Config, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    return format_date(value, cfg.timezone, fmt)


def _committee(cfg: Config) -> dict[str, object]:
    return {"committee_name": cfg.committee_name, "conduct_address": cfg.conduct_address}


def _case_ref(case: Case, cfg: Config) -> dict[str, object]:
    return {"id": case.id, "code_name": case.code_name,
            "received_at": _when(case.received_at, cfg), "status": case.status.value}


def mail_context(item: Due, case: Case, cfg: Config, now: datetime) -> dict[str, object]:
    """The template context for one due mail (see SAMPLE_CONTEXTS[item.template])."""
    if item.template in ("update", "searching", "outcome"):
        return _reporter_context(item, case, cfg, now)
    due_at = deadlines(case, cfg).get(item.deadline) or item.at
    hours = int((due_at - now).total_seconds() // 3600)
    return {"case": _case_ref(case, cfg), "deadline": LABELS[item.deadline],
            "due_at": _when(due_at, cfg), "hours_left": max(hours, 0),
            "overdue_hours": max(-hours, 0), "level": item.key.rpartition(":")[2],
            "nobody_cleared": item.kind == "first-action-escalation", **_committee(cfg)}


def _reporter_context(item: Due, case: Case, cfg: Config, now: datetime) -> dict[str, object]:
    name = "" if anonymous(case) else (case.reporter.name or "")
    ctx: dict[str, object] = {"case": _case_ref(case, cfg), "reporter_name": name,
                              **_committee(cfg)}
    if item.template == "update":
        ctx["next_update"] = _when(_next_update_after(item, case, cfg, now), cfg, DAY)
    elif item.template == "searching":
        every = timedelta(hours=cfg.deadlines.searching_update_hours)
        ctx["next_update"] = _when(max(item.at, now) + every, cfg, DAY)
        ctx["emergency_contact"] = cfg.emergency_contact
    else:
        # Only what the committee wrote for the reporter (`#outcome`): never the motion, the
        # internal summary or the public line (DESIGN.md rule 3).
        ctx["outcome"] = case.reporter_outcome or ""
    return ctx


def _next_update_after(item: Due, case: Case, cfg: Config, now: datetime) -> datetime:
    number = int(item.key.rpartition(":")[2]) if item.kind == REPORTER_UPDATE else 0
    later = (t for n, t in reporter_updates(case, cfg) if n > number and t > now)
    return next(later, now + timedelta(days=cfg.timeline.update_every_days))


def statement_context(case: Case, cfg: Config) -> dict[str, object]:
    """The public statement draft's context (seed 003): public summary and action, no names."""
    passed = [m for m in case.motions if m.status == "passed"]
    actions = list(passed[-1].consequences) if passed else []
    return {"case": {"id": case.id, "code_name": case.code_name},
            "summary": case.public_summary or "",
            "violation": passed[-1].violation if passed else None,
            "actions": actions, "community_name": cfg.community_name, **_committee(cfg)}


def digest_context(member_email: str, cases: Iterable[Case], routed: list[dict[str, str]],
                   cfg: Config, now: datetime) -> dict[str, object] | None:
    """One member's daily digest; None when there is nothing to tell them."""
    member = cfg.member_by_email(member_email)
    if member is None:
        return None
    cleared: list[dict[str, object]] = []
    notices: list[dict[str, object]] = []
    overdue: list[dict[str, object]] = []
    for case in sorted(cases, key=lambda c: c.id):
        if case.status is CaseStatus.CLOSED or conflicted(case, cfg, member.email):
            continue
        if _is_cleared(case, member.email, member.aliases):
            cleared.append(_cleared_row(case, cfg, now))
            overdue.extend(_overdue_rows(case, cfg, now))
        else:
            notices.append({"id": case.id, "code_name": case.code_name,
                            "received_at": _when(case.received_at, cfg)})
    rows = [{**r, "reclaim": f"#reclaim {r['key']}"} for r in routed]
    if not (cleared or notices or overdue or rows):
        return None
    return {"member_name": member.name, "date": _when(now, cfg, DAY), "cleared": cleared,
            "notices": notices, "overdue": overdue, "routed": rows, **_committee(cfg)}


def _is_cleared(case: Case, email: str, aliases: list[str]) -> bool:
    mine = {normalise_email(a) for a in [email, *aliases]}
    return any(normalise_email(c) in mine for c in case.cleared)


def _cleared_row(case: Case, cfg: Config, now: datetime) -> dict[str, object]:
    pending = sorted((at, name) for name, at in deadlines(case, cfg).items()
                     if at is not None and at >= now and not is_met(case, name))
    row: dict[str, object] = {"id": case.id, "code_name": case.code_name,
                              "status": case.status.value,
                              "next_deadline": "", "next_deadline_at": ""}
    if pending:
        row["next_deadline"] = LABELS[pending[0][1]]
        row["next_deadline_at"] = _when(pending[0][0], cfg)
    return row


def _overdue_rows(case: Case, cfg: Config, now: datetime) -> list[dict[str, object]]:
    return [{"id": case.id, "code_name": case.code_name, "deadline": LABELS[name],
             "due_at": _when(at, cfg)}
            for name, at in sorted(deadlines(case, cfg).items(), key=lambda kv: str(kv[1]))
            if at is not None and at < now and not is_met(case, name)
            and name not in ("reporter-update", "searching")]


def digest_due(member_email: str, last_sent: datetime | None, cfg: Config,
               now: datetime) -> bool:
    """True once per day, at or after `digest_time` in the configured time zone."""
    zone = ZoneInfo(cfg.timezone)
    hour, minute = (int(part) for part in cfg.deadlines.digest_time.split(":"))
    today = now.astimezone(zone).date()
    slot = _slot(today, hour, minute, zone)
    if last_sent is None:  # the first digest waits for the configured time of day
        return now >= slot
    if now < slot:
        slot = _slot(today - timedelta(days=1), hour, minute, zone)
    return last_sent < slot


def _slot(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)
