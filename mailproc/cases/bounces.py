"""Our own mail coming back undelivered (pure): linked to its case and recipient, never answered.

A delivery failure names the mail it is about (our Message-ID is in its returned headers) and,
usually, the address that failed. When the address is the case's reporter, the cleared members
learn that the reporter cannot be reached (and a later `#reply` says so); when it is a member's
address, the chair and the admin learn it (the member misses notices). The case's diary records
it, and `show` lists the address under `unreachable`. The failure itself stays dropped. Each
failure is in the diary; people are told only the first time an address fails.
"""

from __future__ import annotations

import re

from mailproc.cases.intake import tell_cleared
from mailproc.cases.workflow import Context, Decision, outgoing_mail
from mailproc.mail.compose import MailSpec
from mailproc.model.parsed import Address, normalise_email
from mailproc.model.records import Case, DiaryEntry

# Our Message-IDs (`mail.compose.new_message_id`, with a reporter key and purpose marker).
_OURS = re.compile(rb"mailproc\.[0-9a-f]{20}(?:\.[a-z]+)?(?:\.[0-9a-f]{20})?@[A-Za-z0-9.\-]+")


def our_message_ids(raw: bytes) -> list[str]:
    """The Message-IDs of our own mail that a delivery failure quotes, in order, no repeats."""
    return list(dict.fromkeys(m.decode("ascii") for m in _OURS.findall(raw)))


def bounced(d: Decision, case: Case, failed: set[str], ctx: Context,
            how: str = "came back undelivered") -> None:
    """Record on `case` (in `d`) that mail to `failed` came back undelivered (or, `how`,
    was refused for good by our SMTP server), and tell who must know. `d` is the dropped
    decision of the failure; it gets the case."""
    updated = case.model_copy(deep=True)
    d.case, d.related_case = updated, case.id
    addresses = {normalise_email(a) for a in failed} or {"(an address the failure did not name)"}
    reporter = normalise_email(case.reporter.email) if case.reporter.email else None
    members = {normalise_email(m.email): m for m in ctx.config.roster}
    for address in sorted(addresses):
        known = address in updated.unreachable  # then whoever must know was told already
        if updated.reporter.anonymous and address not in members:
            # An anonymous reporter's address (a receipt to it) is not written back to the case.
            d.diary.append(DiaryEntry(case_id=case.id, at=ctx.now, kind="bounce",
                                      detail=f"mail to the anonymous reporter {how}"))
            continue
        if not known:
            updated.unreachable.append(address)
        who = "the reporter" if address == reporter else \
            "a committee member" if address in members else "a recipient"
        d.diary.append(DiaryEntry(case_id=case.id, at=ctx.now, kind="bounce",
                                  detail=f"mail to {who} {how}"))
        if known:
            continue
        if address == reporter:
            tell_cleared(d, updated, ctx, [
                f"Our mail to the reporter {how}: the reporter cannot be "
                "reached at the address they wrote from. Mail sent with #reply will not reach "
                "them either; they may write again from another address."])
        elif address in members:
            _tell_chair_and_admin(d, updated, members[address].name, ctx, how)


def _tell_chair_and_admin(d: Decision, case: Case, name: str, ctx: Context,
                          how: str) -> None:
    config = ctx.config
    line = (f"Mail from the committee to {name} ({case.id}) {how}: they are "
            "missing notices and relays. Please check their address in the roster.")
    targets = [Address(m.name, m.email) for m in config.roster
               if m.chair and normalise_email(m.email) not in case.conflicts]
    if config.admin_address:
        targets.append(Address("", config.admin_address))
    for target in targets:
        rendered = ctx.renderer.render("committee_update", "en", {
            "member_name": target.name or "admin", "committee_name": config.committee_name,
            "case": {"id": case.id, "code_name": case.code_name}, "lines": [line]})
        spec = MailSpec(to=(target,), subject=rendered.subject, body=rendered.body)
        d.outgoing.append(outgoing_mail(spec, None, "member-unreachable", ctx))
