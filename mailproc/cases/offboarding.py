"""Off-boarding (pure): what removing a committee member changes, at once (seed 001).

Cases they owned lose them as lead or secondary and are flagged for reassignment, with the
remaining cleared members told; their later mail is refused and recorded, never acted on.
Members added or restored are recorded in the diary of every open case (`roster_changed`).
"""

from __future__ import annotations

from mailproc.cases.intake import tell_cleared
from mailproc.cases.workflow import Context, Decision, Inbound, StateView, thread_case
from mailproc.model.parsed import CaseStatus, Folder, Outcome
from mailproc.model.records import Case, DiaryEntry


def offboard(cases: list[Case], removed: frozenset[str], ctx: Context) -> list[Decision]:
    """Clear the removed members' roles on open cases and tell the others (one decision per
    case changed; none of them is about a message)."""
    decisions = []
    for case in cases:
        if case.status is CaseStatus.CLOSED:
            continue
        roles = [r for r in ("lead", "secondary") if getattr(case.owners, r) in removed]
        if not roles:
            continue
        updated = case.model_copy(deep=True)
        for role in roles:
            setattr(updated.owners, role, None)
        d = Decision("", "", None, Outcome.COMMAND, Folder.PROCESSED, "offboarding",
                     case=updated)
        d.diary.append(DiaryEntry(case_id=case.id, at=ctx.now, kind="offboarded",
                                  detail=f"{' and '.join(roles)} left the committee; "
                                         "reassign with #lead / #secondary"))
        tell_cleared(d, updated, ctx, [f"The {' and '.join(roles)} owner of this case has "
                                       "left the committee. Please name a new one "
                                       "(#lead NAME|me, #secondary NAME|me)."])
        decisions.append(d)
    return decisions


def removed_member(inbound: Inbound, state: StateView, ctx: Context) -> Decision:
    """Mail from a removed member: recorded on the case it concerns, refused, not answered."""
    d = Decision(inbound.key, inbound.sha256, inbound.message.message_id, Outcome.COMMAND,
                 Folder.PROCESSED, "refused:removed-member")
    case = thread_case(inbound.message, state, ctx.config)
    if case is not None:
        d.related_case = case.id
        d.diary.append(DiaryEntry(case_id=case.id, at=ctx.now, kind="refused",
                                  detail="mail from a removed committee member; nothing done",
                                  message_sha256=inbound.sha256))
    return d


def roster_changed(cases: list[Case], added: list[str], restored: list[str],
                   ctx: Context) -> list[Decision]:
    """A diary entry on every open case for each member added or restored (by address)."""
    decisions = []
    for case in cases:
        if case.status is CaseStatus.CLOSED or not (added or restored):
            continue
        d = Decision("", "", None, Outcome.COMMAND, Folder.PROCESSED, "roster",
                     related_case=case.id)
        d.diary += [DiaryEntry(case_id=case.id, at=ctx.now, kind="member-added", actor=email,
                               detail="joined the committee (mailproc members add)")
                    for email in added]
        d.diary += [DiaryEntry(case_id=case.id, at=ctx.now, kind="member-restored",
                               actor=email, detail="restored to the committee "
                                                   "(mailproc members restore)")
                    for email in restored]
        decisions.append(d)
    return decisions
