"""Acting on a triage decision (pure): route away, drop, or annotate the new case.

Routed mail is forwarded from the conduct address with a short cover note and the original
attached as message/rfc822; the sender gets a short "we passed this to …" reply in their
language unless the rule says `reply: false`. The routing guard has already cancelled any
route or drop for mail that reads like a report (see `triage`), so nothing here can send a
report away.
"""

from __future__ import annotations

from mailproc.cases.workflow import (
    Context,
    Decision,
    Inbound,
    StateView,
    outgoing_mail,
    sender_hash,
)
from mailproc.mail.compose import MailSpec
from mailproc.mail.machine import is_no_reply_sender
from mailproc.model.parsed import Address, Folder, Outcome, ParsedMessage
from mailproc.model.records import Case, Outgoing
from mailproc.triage.evaluate import TriageDecision, TriageInput


def triage_input(msg: ParsedMessage, size: int, language: str,
                 translation: str | None) -> TriageInput:
    """What triage rules may look at for one message."""
    return TriageInput(
        from_email=msg.from_.email.lower() if msg.from_ else "",
        to=tuple(a.email.lower() for a in msg.to), cc=tuple(a.email.lower() for a in msg.cc),
        subject=msg.subject, body=msg.text, text=translation or msg.text, headers=msg.headers,
        language=language, has_attachment=bool(msg.attachments), size=size)


def rule_outcome(inbound: Inbound, raw: bytes, tri: TriageDecision, language: str,
                 ctx: Context, state: StateView) -> Decision | None:
    """A Decision when a rule routes or drops the message; None when it stays a report."""
    msg = inbound.message
    if tri.drop is not None:
        return Decision(inbound.key, inbound.sha256, msg.message_id, Outcome.DROPPED,
                        Folder.JUNK, f"rule:{tri.rule}", language=language)
    if tri.route is None:
        return None
    d = Decision(inbound.key, inbound.sha256, msg.message_id, Outcome.ROUTED, Folder.ROUTED,
                 f"rule:{tri.rule}", language=language)
    domain = msg.from_.email.rpartition("@")[2].lower() if msg.from_ else ""
    d.routed = {"key": inbound.key, "domain": domain, "subject": msg.subject,
                "rule": tri.rule or "", "route": tri.route_name or tri.route or ""}
    d.outgoing.append(_forward(inbound, raw, tri, ctx))
    if tri.reply_to_sender and msg.from_ is not None and _may_answer(d, msg.from_.email,
                                                                     ctx, state):
        d.outgoing.append(_reply(inbound, tri, language, ctx))
    return d


def _may_answer(d: Decision, email: str, ctx: Context, state: StateView) -> bool:
    """The "we passed this on" reply obeys the acknowledgement's guards: never to a no-reply
    address, and at most `limits.acks_per_sender_per_day` answers a day to one sender (an
    autoresponder that a routing rule catches must not start a loop)."""
    if is_no_reply_sender(email):
        return False
    hashed = sender_hash(email, ctx.pepper)
    if state.acks_on(hashed, ctx.now.date().isoformat()) >= \
            ctx.config.limits.acks_per_sender_per_day:
        return False
    d.ack_to = hashed
    return True


def _forward(inbound: Inbound, raw: bytes, tri: TriageDecision, ctx: Context) -> Outgoing:
    assert tri.route is not None
    rendered = ctx.renderer.render("route_forward", "en", {
        "rule": tri.rule or "", "route_name": tri.route_name or tri.route,
        "conduct_address": ctx.config.conduct_address,
        "committee_name": ctx.config.committee_name})
    subject = f"Fwd: {inbound.message.subject}".strip()
    spec = MailSpec(to=(Address("", tri.route),), subject=subject or rendered.subject,
                    body=rendered.body, attach_message=raw)
    return outgoing_mail(spec, None, "route", ctx)


def _reply(inbound: Inbound, tri: TriageDecision, language: str, ctx: Context) -> Outgoing:
    msg = inbound.message
    assert msg.from_ is not None
    lang = language if ctx.renderer.has("route_reply", language) else "en"
    rendered = ctx.renderer.render("route_reply", lang, {
        "route_name": tri.route_name or "", "route_address": tri.route or "",
        "subject": msg.subject, "conduct_address": ctx.config.conduct_address,
        "committee_name": ctx.config.committee_name,
        "community_name": ctx.config.community_name})
    spec = MailSpec(to=(msg.from_,), subject=rendered.subject, body=rendered.body,
                    auto_submitted="auto-replied", in_reply_to=msg.message_id,
                    references=msg.references, language=rendered.language)
    return outgoing_mail(spec, None, "route-reply", ctx)


def annotate(case: Case, tri: TriageDecision) -> None:
    """Carry the rules' category, priority, urgency and the guard's signals into the case."""
    triage = case.triage
    if tri.category:
        triage.category = tri.category
    if tri.priority and not triage.urgent:
        triage.priority = min(tri.priority, triage.priority)  # "P1" < "P3": the more urgent
    if tri.urgent:
        triage.urgent = True
        triage.priority = "P1"
        if "rule" not in triage.urgent_reasons:
            triage.urgent_reasons.append("rule")
    triage.rule = tri.rule
    triage.signals = sorted(set(triage.signals) | {f"guard:{s}" for s in tri.guard}
                            | {f"rule:{r}" for r in tri.fired})
