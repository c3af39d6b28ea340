"""A member's daily digest: their cases, what is overdue, notices to answer, routed mail.

The chair (or whoever stands in for a conflicted chair) sees every overdue case, picked up or
not, with what is overdue and who holds it; other members see the overdue deadlines of the
cases they cleared. Escrowed cases are held, not waiting for an answer, so they are not listed
as notices. Only ids, code names, statuses, deadlines and members: never the reporter. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mailproc.config.settings import Config
from mailproc.deadlines.clocks import conflicted, paused, pending
from mailproc.deadlines.contexts import DAY, LABELS, committee, when
from mailproc.deadlines.ladder import allowed, chair_of
from mailproc.deadlines.wording import duration
from mailproc.model.parsed import CaseStatus, normalise_email
from mailproc.model.records import Case

# Sent by the tick on their own: never waiting on a member.
AUTOMATIC = ("reporter-update", "searching")


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
        mine = _is_cleared(case, member.email, member.aliases)
        if mine:
            cleared.append(_cleared_row(case, cfg, now, normalise_email(member.email)))
        elif not paused(case):
            notices.append({"id": case.id, "code_name": case.code_name,
                            "received_at": when(case.received_at, cfg)})
        chairing = normalise_email(member.email) in map(normalise_email, chair_of(case, cfg))
        if mine or chairing:
            overdue.extend(_overdue_rows(case, cfg, now))
    rows = [{**r, "reclaim": f"#reclaim {r['key']}"} for r in routed]
    if not (cleared or notices or overdue or rows):
        return None
    return {"member_name": member.name, "date": when(now, cfg, DAY), "cleared": cleared,
            "notices": notices, "overdue": overdue, "routed": rows, **committee(cfg)}


def _is_cleared(case: Case, email: str, aliases: list[str]) -> bool:
    mine = {normalise_email(a) for a in [email, *aliases]}
    return any(normalise_email(c) in mine for c in case.cleared)


def _cleared_row(case: Case, cfg: Config, now: datetime, member: str) -> dict[str, object]:
    ahead = sorted((at, name) for name, at in pending(case, cfg).items() if at >= now)
    row: dict[str, object] = {"id": case.id, "code_name": case.code_name,
                              "status": case.status.value,
                              "next_deadline": "", "next_deadline_at": "",
                              # relayed at once when they came; counted again here
                              "reporter_wrote": sum(f.at > now - timedelta(days=1)
                                                    for f in case.followups),
                              # the summary line for texts relayed without a transcript
                              "you_relayed": sum(at > now - timedelta(days=1)
                                                 for at in case.relayed.get(member, []))}
    if ahead:
        row["next_deadline"] = LABELS[ahead[0][1]]
        row["next_deadline_at"] = when(ahead[0][0], cfg)
    return row


def _overdue_rows(case: Case, cfg: Config, now: datetime) -> list[dict[str, object]]:
    return [{"id": case.id, "code_name": case.code_name, "deadline": LABELS[name],
             "due_at": when(at, cfg), "overdue_for": duration(now - at),
             "holder": _holder(case, cfg)}
            for name, at in sorted(pending(case, cfg).items(), key=lambda kv: kv[1])
            if at < now and name not in AUTOMATIC]


def _holder(case: Case, cfg: Config) -> str:
    """Who has picked the case up, in words."""
    if not allowed(case, cfg, case.cleared):
        return "nobody has cleared it yet"
    if not case.owners.lead:
        return "cleared, but no lead yet"
    member = cfg.member_by_email(case.owners.lead)
    return f"lead: {member.name if member else case.owners.lead}"


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
