"""What the scheduled mails say: template contexts for due mail and the public statement.

Contexts are plain strings, lists and dicts (SAMPLE_CONTEXTS in `mailproc.mail.templates` documents
each). Only reporter-facing contexts carry the reporter's name; committee contexts (reminder,
escalation, digest, statement) never hold the reporter's identity, so no template can leak it.
A reminder or an escalation is worded for its recipient: what is due, the role they are told
as, what they can do about it now, and who the escalation reaches next.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from mailproc.config.settings import Config
from mailproc.deadlines.clocks import REPORTER_UPDATE, Due, anonymous, deadlines, reporter_updates
from mailproc.deadlines.ladder import roles
from mailproc.deadlines.wording import (
    ROLE_WORDS,
    WHAT_IS_DUE,
    actions,
    duration,
    ladder_words,
)
from mailproc.mail.plaintext import format_at_offset, format_date
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


def when(value: datetime, cfg: Config, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    return format_date(value, cfg.timezone, fmt)


def committee(cfg: Config) -> dict[str, object]:
    return {"committee_name": cfg.committee_name, "conduct_address": cfg.conduct_address}


def _case_ref(case: Case, cfg: Config) -> dict[str, object]:
    return {"id": case.id, "code_name": case.code_name,
            "received_at": when(case.received_at, cfg), "status": case.status.value}


def mail_context(item: Due, case: Case, cfg: Config, now: datetime,
                 recipient: str = "") -> dict[str, object]:
    """The template context for one due mail (see SAMPLE_CONTEXTS[item.template]); committee
    mail is worded for `recipient` (a member's address)."""
    if item.template in ("update", "searching", "outcome"):
        return _reporter_context(item, case, cfg, now)
    due_at = deadlines(case, cfg).get(item.deadline) or item.at
    escalation = item.template == "escalation"
    role = roles(case, cfg).get(normalise_email(recipient), "") if escalation else ""
    # Who comes next is read as if this mail were already recorded as sent.
    after = case.model_copy(update={"sent": {**case.sent, item.key: now,
                                             **dict.fromkeys(item.marks, now)}})
    gap = max(timedelta(hours=cfg.deadlines.reminder_before_hours), timedelta(hours=1))
    return {"case": _case_ref(case, cfg), "deadline": item.deadline.replace("-", " "),
            "what": WHAT_IS_DUE[item.deadline], "due_at": when(due_at, cfg),
            "due_in": "" if escalation else duration(due_at - now),
            "overdue_for": duration(now - due_at) if escalation else "",
            "role": ROLE_WORDS.get(role, ""),
            "nobody_cleared": item.kind == "first-action-escalation",
            "actions": actions(case, cfg, item.deadline, recipient, role),
            "in_digest": cfg.deadlines.digest,
            "next_steps": ladder_words(after, cfg, item.deadline, recipient),
            "next_in": duration(gap), **committee(cfg)}


def reporter_when(value: datetime, case: Case, cfg: Config, fmt: str | None = None) -> str:
    """A time in mail to the reporter: in their time zone when their report's Date header
    told it (the UTC offset named), else in the committee's."""
    if case.reporter_utc_offset is None:
        return when(value, cfg, fmt) if fmt else when(value, cfg)
    return format_at_offset(value, case.reporter_utc_offset, with_time=fmt != DAY)


def _reporter_context(item: Due, case: Case, cfg: Config, now: datetime) -> dict[str, object]:
    name = "" if anonymous(case) else (case.reporter.name or "")
    ref = {**_case_ref(case, cfg), "received_at": reporter_when(case.received_at, case, cfg)}
    ctx: dict[str, object] = {"case": ref, "reporter_name": name, **committee(cfg)}
    if item.template == "update":
        ctx["next_update"] = reporter_when(_next_update_after(item, case, cfg, now), case, cfg,
                                           DAY)
        ctx["news"] = news(case)
    elif item.template == "searching":
        every = timedelta(hours=cfg.deadlines.searching_update_hours)
        ctx["next_update"] = reporter_when(max(item.at, now) + every, case, cfg, DAY)
        ctx["emergency_contact"] = cfg.emergency_contact
    else:
        # Only what the committee wrote for the reporter (`#outcome`): never the motion, the
        # internal summary or the public line (DESIGN.md rule 3).
        ctx["outcome"] = case.reporter_outcome or ""
        ctx["outcome_original"] = None  # set by the tick when it sends a machine translation
    return ctx


def _next_update_after(item: Due, case: Case, cfg: Config, now: datetime) -> datetime:
    number = int(item.key.rpartition(":")[2]) if item.kind == REPORTER_UPDATE else 0
    later = (t for n, t in reporter_updates(case, cfg) if n > number and t > now)
    return next(later, now + timedelta(days=cfg.timeline.update_every_days))


def news(case: Case) -> str:
    """Where the case stands, in one word the reporter's update turns into a sentence: never
    what was decided or said, only how far the process has come."""
    if case.status is CaseStatus.DECIDED:
        return "decided"  # a decision was reached; the outcome is being prepared
    if case.status is CaseStatus.AWAITING_REPORTED:
        return "waiting"  # we are waiting to hear from someone
    if case.owners.lead:
        return "handled"  # a committee member is handling it
    return "reading"  # the committee is reading it


def statement_context(case: Case, cfg: Config) -> dict[str, object]:
    """The public statement draft's context (seed 003): public summary and action, no names."""
    passed = [m for m in case.motions if m.status == "passed"]
    actions_taken = list(passed[-1].consequences) if passed else []
    return {"case": {"id": case.id, "code_name": case.code_name},
            "summary": case.public_summary or "",
            "violation": passed[-1].violation if passed else None,
            "actions": actions_taken, "community_name": cfg.community_name, **committee(cfg)}
