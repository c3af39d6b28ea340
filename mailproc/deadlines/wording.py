"""What committee mail about a deadline says in words (issue 5, points 2 and 6).

What is due (`WHAT_IS_DUE`), durations pluralised ("less than an hour", "1 hour", "3 days and
2 hours"), the role a person is told as, and what one member can do about a deadline now:
chosen by the deadline and by where that member stands on the case (cleared or not, lead or
not, a motion open, their vote), never by the case's status field. English, as the committee
templates are. Pure.
"""

from __future__ import annotations

from datetime import timedelta

from mailproc.config.settings import Config
from mailproc.deadlines.clocks import anonymous
from mailproc.deadlines.ladder import allowed, steps_ahead
from mailproc.model.parsed import normalise_email
from mailproc.model.records import Case

WHAT_IS_DUE = {
    "acknowledge": "the acknowledgement to the reporter",
    "first-action": "the first action: a member without a conflict of interest clears the "
                    "case, and a lead is named",
    "reporter-update": "the status update to the reporter",
    "decision": "a decision: a motion passed by the cleared members, or the case closed",
    "searching": "the daily update to the reporter while searching",
}
ROLE_WORDS = {
    "cleared": "a member who cleared the case (it has no lead yet)",
    "lead": "the case's lead",
    "secondary": "the case's secondary owner",
    "deputy": "the member standing in for the chair, who has a conflict on this case",
    "chair": "the committee's chair",
}


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def duration(span: timedelta) -> str:
    """A span in words, to the nearest hour ("less than an hour" below one); days from two
    days on. A tick runs a few seconds after the hour it serves: 11:59:30 is "12 hours"."""
    seconds = abs(span.total_seconds())
    if seconds < 3600:
        return "less than an hour"
    hours = int((seconds + 1800) // 3600)
    if hours < 48:
        return plural(hours, "hour")
    days, rest = divmod(hours, 24)
    return plural(days, "day") + (f" and {plural(rest, 'hour')}" if rest else "")


def actions(case: Case, cfg: Config, deadline: str, email: str, role: str = "") -> list[str]:
    """What this member can do now about this deadline, one command line each; `role` is
    the ladder role they are escalated to as (the chair's can chase the others)."""
    me = normalise_email(email)
    cleared = me in {normalise_email(c) for c in case.cleared}
    out: list[str] = _chasing(case, cfg, deadline) if role in ("chair", "deputy") else []
    if not cleared:
        out.append("Answer the case notice (or this mail) with #clear if you have no conflict "
                   "of interest (the full report follows), or #conflict if you have one.")
    if deadline == "first-action":
        return out + _first_action(case, cleared)
    if not cleared:
        return [*out, "Once cleared, you can propose a decision, vote on one, or close the "
                      "case."]
    return out + _decision(case, me)


def _chasing(case: Case, cfg: Config, deadline: str) -> list[str]:
    """What the top of the ladder can ask of the others."""
    if not allowed(case, cfg, case.cleared):
        return ["Ask the members without a conflict of interest to answer the notice."]
    lead = cfg.member_by_email(case.owners.lead) if case.owners.lead else None
    if lead is not None and deadline == "decision":
        return [f"Ask the case's lead ({lead.name}) what the decision is waiting for, or "
                "have another cleared member take the lead (#lead NAME)."]
    return []


def _first_action(case: Case, cleared: bool) -> list[str]:
    if case.owners.lead:
        return []
    lead = "take the lead with #lead me, or name a cleared member with #lead NAME."
    return [f"Once cleared, {lead}" if not cleared else lead[0].upper() + lead[1:]]


def _decision(case: Case, me: str) -> list[str]:
    out: list[str] = []
    if not case.owners.lead:
        out.append("The case has no lead: take it with #lead me, or name one with #lead NAME.")
    motion = next((m for m in reversed(case.motions) if m.status == "open"), None)
    if motion is None:
        out.append("Propose a decision with #propose violation=yes|no consequences=... PLAN.")
    elif me in {normalise_email(v) for v in motion.votes}:
        out.append(f"Motion {motion.number} is open with {plural(len(motion.votes), 'vote')} "
                   "in: ask the others to vote.")
    else:
        out.append(f"Vote on motion {motion.number} with #vote yes, #vote no or #vote abstain.")
    out.append("Close the case with #close SUMMARY if it needs no decision.")
    if not anonymous(case):
        out.append("If the committee needs more time, tell the reporter with #reply TEXT (it "
                   "goes from the conduct address, without your name).")
    return out


def _level_words(case: Case, cfg: Config, level: str, people: tuple[str, ...],
                 recipient: str) -> str:
    names = [("you" if normalise_email(p) == normalise_email(recipient)
              else (m.name if (m := cfg.member_by_email(p)) else "a member")) for p in people]
    chairs = {normalise_email(m.email) for m in cfg.roster if m.chair}
    if level == "lead":
        what = "the case's lead" if case.owners.lead else "the members who cleared it"
    elif level == "secondary":
        what = "the secondary owner"
    else:
        what = "the chair" if {normalise_email(p) for p in people} <= chairs \
            else "the members standing in for the chair"
    return f"{what} ({', '.join(names)})"


def ladder_words(case: Case, cfg: Config, deadline: str, recipient: str) -> list[str]:
    """Who the deadline's escalation would reach next, step by step, in words."""
    return [_level_words(case, cfg, s.level, s.to, recipient)
            for s in steps_ahead(case, cfg, deadline)]
