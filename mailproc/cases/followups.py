"""What the reporter writes after the report (pure): recorded, relayed, read for danger, receipted.

A follow-up is accepted only from the case's reporter (their address, or a reply to a mail we
sent them, whose Message-ID carries the case's key: `workflow.from_reporter`); anyone else who
refers to a case opens a new report linked to it (`mentioned`). The reporter is always heard
(DESIGN.md rule 3): the text goes at once to every cleared member who has no conflict, translated
with the original below; a follow-up that reads as danger makes the case urgent and tells every
member who has no conflict (without content to those not cleared); the reporter gets a short
receipt in their language. An escrowed case holds its follow-ups like its report.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailproc.cases.anonymity import make_anonymous, scrub_followup
from mailproc.cases.intake import tell_cleared
from mailproc.cases.workflow import (
    Context,
    Decision,
    Inbound,
    answers_consent,
    case_brief,
    outgoing_mail,
    thread_root,
)
from mailproc.mail.compose import MailSpec
from mailproc.mail.replytext import new_text
from mailproc.model.parsed import Address, CaseStatus, Folder, Outcome, Translation, normalise_email
from mailproc.model.records import Case, DiaryEntry, Followup
from mailproc.reading.consent import ONE_WORD, consent_of
from mailproc.reading.requests import one_word_request


@dataclass(frozen=True)
class FollowupFacts:
    """What the pipeline gathered about a follow-up (translation, what it says of danger)."""

    via: str  # "address" | "case-key" (see `workflow.from_reporter`)
    translation: Translation | None
    urgent_reasons: tuple[str, ...]


def followup(inbound: Inbound, case: Case, facts: FollowupFacts, ctx: Context) -> Decision:
    """The decision for a follow-up from the reporter of `case`."""
    msg = inbound.message
    d = Decision(inbound.key, inbound.sha256, msg.message_id, Outcome.FOLLOWUP,
                 Folder.PROCESSED, "thread", language=case.language)
    updated = case.model_copy(deep=True)
    d.case = updated
    note = Followup(at=ctx.now, sha256=inbound.sha256, text=msg.text, via=facts.via,
                    translated_text=facts.translation.text if facts.translation else None,
                    translation_engine=facts.translation.engine if facts.translation else None,
                    urgent_reasons=list(facts.urgent_reasons))
    updated.followups.append(note)
    _diary(d, ctx, "followup", f"{len(msg.text)} characters, {len(msg.attachments)} attachments"
                          f"{' (via the case key)' if facts.via == 'case-key' else ''}",
           inbound.sha256)
    if msg.message_id:
        d.message_index[msg.message_id] = case.id
        if msg.message_id not in updated.message_ids:
            updated.message_ids.append(msg.message_id)
    # The word is read in what the reporter wrote now: a real reply quotes our mail and signs.
    request = one_word_request(_unsigned(new_text(msg.text).new, msg.from_))
    reasons = (*facts.urgent_reasons, *(["reporter-asked"] if request == "urgent" else []))
    if request == "escrow":
        _hold(d, updated, ctx)
    if request == "anonymous" and make_anonymous(d, updated, ctx, "reporter"):
        tell_cleared(d, updated, ctx, [
            "The reporter asked for anonymity: their name and address were removed from this "
            "case. Mail from now on shows neither."])
    if updated.reporter.anonymous and msg.from_ is not None:
        scrub_followup(note, msg.from_)  # her signature, our greeting she quoted
    newly_urgent = bool(reasons) and not updated.triage.urgent
    if newly_urgent:
        updated.triage.urgent, updated.triage.priority = True, "P1"
        updated.triage.urgent_reasons = sorted({*updated.triage.urgent_reasons, *reasons})
        _diary(d, ctx, "urgent", "a follow-up reads as danger or asks for urgency: "
                                 f"{', '.join(reasons)}; priority P1")
    consent = _consent(d, updated, inbound, ctx) if updated.status is CaseStatus.ESCROWED \
        else None
    if updated.status is CaseStatus.ESCROWED:
        _diary(d, ctx, "followup-held", "held with the escrowed report; not relayed")
    elif consent is None:
        relayed = _relay(d, updated, note, newly_urgent, ctx)
        _diary(d, ctx, "followup-relayed", f"passed to {relayed} cleared member(s)")
        if newly_urgent:
            _urgent_notice(d, updated, ctx)
    _receipt(d, updated, inbound, consent, ctx, request)
    return d


def _unsigned(text: str, sender: Address | None) -> str:
    """`text` without a last line that is only (part of) the sender's name: "Anonymous\n\nSam"."""
    lines = text.rstrip().splitlines()
    name = {w.casefold() for w in (sender.name if sender else "").split()}
    last = {w.strip(",.-–— ").casefold() for w in lines[-1].split()} - {""} if lines else set()
    if len(lines) > 1 and last and last <= name:
        return "\n".join(lines[:-1])
    return text


def _hold(d: Decision, case: Case, ctx: Context) -> None:
    """The reporter's ESCROW: held from now on (the clocks pause), the cleared members told;
    what they already received stays with them."""
    if case.status in (CaseStatus.ESCROWED, CaseStatus.CLOSED):
        return
    case.status, case.escrow = CaseStatus.ESCROWED, True
    case.escrow_periods.append([ctx.now, None])
    _diary(d, ctx, "escrow", "the reporter asked to hold the report in escrow")
    tell_cleared(d, case, ctx, [
        "The reporter asked us to hold this report in escrow: nothing more is done or shown "
        "until another report names the same person and the reporter consents."])


def _consent(d: Decision, case: Case, inbound: Inbound, ctx: Context) -> bool | None:
    """The escrowed reporter's answer, when this is one (a reply to the escrow question, or a
    one-word YES / NO): yes releases the case to the committee, no keeps it held."""
    text = inbound.message.text.strip()
    if not answers_consent(inbound.message, case, ctx) and not ONE_WORD.fullmatch(text):
        return None
    answer = consent_of(text)
    if answer is None:
        _diary(d, ctx, "consent-unclear", "an answer to the escrow question says neither yes "
                                          "nor no; the report stays held")
        return None
    case.escrow_consent = answer
    if not answer:
        _diary(d, ctx, "consent-refused", "the reporter does not consent: the report stays held")
        return False
    case.status, case.escrow = CaseStatus.INVESTIGATING, False
    if case.escrow_periods and case.escrow_periods[-1][1] is None:
        case.escrow_periods[-1][1] = ctx.now  # the clocks run again
    _diary(d, ctx, "consent", "the reporter consents: released from escrow")
    tell_cleared(d, case, ctx, [
        "The reporter of this escrowed case consented: the committee may act on it now. "
        "Reply #show to receive the full report (members who have not answered the notice "
        "yet: #clear or #conflict)."])
    return True


def mentioned(d: Decision, mentioned_case: Case, ctx: Context) -> None:
    """A new report that refers to another case (not from that case's reporter): linked both
    ways in the diaries, and the other case's cleared members told, without its content."""
    new = d.case
    assert new is not None
    if mentioned_case.id not in new.links:
        new.links.append(mentioned_case.id)
    _diary(d, ctx, "mentions", f"refers to case {mentioned_case.id} but does not come from its "
                          "reporter; opened as a new report")
    d.diary.append(DiaryEntry(case_id=mentioned_case.id, at=ctx.now, kind="mentioned",
                              detail=f"a message from someone who is not this case's reporter "
                                     f"referred to it; opened as new report {new.id}"))
    if mentioned_case.status is not CaseStatus.ESCROWED:
        tell_cleared(d, mentioned_case, ctx, [
            f"A message from someone who is not this case's reporter referred to this case. "
            f"It was not added to this case: it was opened as a new report, {new.id}."])


def _relay(d: Decision, case: Case, note: Followup, urgent: bool, ctx: Context) -> int:
    count = 0
    for member in ctx.config.roster:
        email = normalise_email(member.email)
        if email not in case.cleared or email in case.conflicts:
            continue
        rendered = ctx.renderer.render("followup_relay", "en", {
            "member_name": member.name, "case": case_brief(case, ctx.config),
            "text": note.translated_text or note.text,
            "original": note.text if note.translated_text else None,
            "engine": note.translation_engine, "urgent": urgent,
            "urgent_reasons": note.urgent_reasons, "via_key": note.via == "case-key",
            "committee_name": ctx.config.committee_name})
        _to_member(d, case, member.name, member.email, rendered.subject, rendered.body,
                   "followup-relay", urgent, ctx)
        count += 1
    return count


def _urgent_notice(d: Decision, case: Case, ctx: Context) -> None:
    """Members who have not cleared (and have no conflict) learn that the case is urgent now;
    nothing of what was written."""
    for member in ctx.config.roster:
        email = normalise_email(member.email)
        if email in case.cleared or email in case.conflicts:
            continue
        rendered = ctx.renderer.render("urgent_notice", "en", {
            "member_name": member.name, "case": case_brief(case, ctx.config),
            "urgent_reasons": case.triage.urgent_reasons,
            "committee_name": ctx.config.committee_name})
        _to_member(d, case, member.name, member.email, rendered.subject, rendered.body,
                   "urgent-notice", True, ctx)


def _to_member(d: Decision, case: Case, name: str, email: str, subject: str, body: str,
               purpose: str, urgent: bool, ctx: Context) -> None:
    spec = MailSpec(to=(Address(name, email),), subject=subject, body=body,
                    references=(thread_root(case.id, ctx.config.message_id_domain),),
                    extra_headers=(("Importance", "high"),) if urgent else ())
    mail = outgoing_mail(spec, case.id, purpose, ctx)
    d.outgoing.append(mail)
    d.message_index[mail.id] = case.id


def _receipt(d: Decision, case: Case, inbound: Inbound, consent: bool | None,
             ctx: Context, request: str | None = None) -> None:
    """A short "it reached the committee" to whoever wrote, in the case's language."""
    sender = inbound.message.from_
    if sender is None:
        return
    lang = case.language if case.language and ctx.renderer.has("followup_receipt",
                                                                case.language) else "en"
    held = case.status is CaseStatus.ESCROWED
    rendered = ctx.renderer.render("followup_receipt", lang, {
        "case": {"id": case.id}, "held": held, "consent": consent, "request": request,
        "committee_name": ctx.config.committee_name,
        "conduct_address": ctx.config.conduct_address,
        "emergency_contact": ctx.config.emergency_contact})
    spec = MailSpec(to=(Address("", sender.email),), subject=rendered.subject,
                    body=rendered.body, auto_submitted="auto-replied",
                    in_reply_to=inbound.message.message_id, language=lang,
                    references=(thread_root(case.id, ctx.config.message_id_domain),))
    mail = outgoing_mail(spec, case.id, "followup-receipt", ctx, to_reporter=True)
    d.outgoing.append(mail)
    d.message_index[mail.id] = case.id


def _diary(d: Decision, ctx: Context, kind: str, detail: str, sha: str | None = None) -> None:
    assert d.case is not None
    d.diary.append(DiaryEntry(case_id=d.case.id, at=ctx.now, kind=kind,
                              actor="reporter" if kind == "followup" else "system",
                              detail=detail, message_sha256=sha))
