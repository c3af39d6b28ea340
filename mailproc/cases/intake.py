"""Opening a case from a report (pure): the case record, the acknowledgement and the notices.

The acknowledgement is planned here and finished by `attach_ack` once the pipeline has (or has
not, within a couple of seconds) a machine translation: in a language with shipped templates it
goes as is; otherwise English machine-translated, marked as such, with the English below; and
when no translation is at hand, English at once. The committee notice carries no report content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailproc.cases.codenames import new_code_name
from mailproc.cases.identity import identifiers, matches_member, same_person
from mailproc.cases.routing import annotate
from mailproc.cases.workflow import (
    Context,
    Decision,
    Inbound,
    StateView,
    case_brief,
    format_time,
    outgoing_mail,
    reporter_key,
    sender_hash,
    thread_root,
)
from mailproc.config.settings import Member
from mailproc.deadlines.clocks import ACK_KEY, pending
from mailproc.mail.compose import MailSpec
from mailproc.mail.machine import is_no_reply_sender
from mailproc.mail.plaintext import format_at_offset
from mailproc.mail.templates import Rendered
from mailproc.model.parsed import (
    Address,
    CaseStatus,
    Folder,
    Outcome,
    ReportFields,
    Translation,
    normalise_email,
)
from mailproc.model.records import (
    AttachmentRecord,
    Case,
    DiaryEntry,
    Incident,
    ReportedPerson,
    Reporter,
    Triage,
)
from mailproc.reading.detect import Detection
from mailproc.triage.evaluate import TriageDecision

LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese",
    "it": "Italian", "nl": "Dutch", "ja": "Japanese", "zh": "Chinese", "ko": "Korean",
    "ru": "Russian", "uk": "Ukrainian", "pl": "Polish", "ar": "Arabic", "tr": "Turkish",
    "hi": "Hindi", "sv": "Swedish", "cs": "Czech", "el": "Greek", "he": "Hebrew",
}


@dataclass(frozen=True)
class Gathered:
    """Facts the pipeline collected (with I/O) before the core decides."""

    detection: Detection
    translation: Translation | None
    translation_pending: bool
    fields: ReportFields
    attachments: tuple[AttachmentRecord, ...]
    triage: TriageDecision | None = None  # what the rules said (category, priority, no_ack)
    taker: str | None = None  # the member who filed it (#intake): cleared, no notice


@dataclass(frozen=True)
class AckPlan:
    """An acknowledgement ready in one language, possibly wanting a machine translation."""

    case_id: str
    to: Address
    rendered: Rendered
    target_language: str
    in_reply_to: str | None

    @property
    def wants_translation(self) -> bool:
        return self.rendered.language != self.target_language


def open_case(inbound: Inbound, gathered: Gathered, state: StateView,
              ctx: Context) -> tuple[Decision, AckPlan | None]:
    """A new report: the case, its diary, the committee notices and the ack plan."""
    msg, config = inbound.message, ctx.config
    year = ctx.now.year
    counter = f"case-{config.case_prefix}-{year}"
    number = state.counter(counter) + 1
    case = _new_case(f"{config.case_prefix}-{year}-{number:04d}", inbound, gathered, state, ctx)
    if gathered.triage is not None:
        annotate(case, gathered.triage)
    if gathered.taker:
        case.taker = gathered.taker
        case.cleared.append(gathered.taker)
        case.events.setdefault("first-cleared", ctx.now)  # the first-action clock reads it
        case.disclosed.append(gathered.taker)
    case.identifiers = identifiers(case, ctx.pepper)
    case.deadlines = dict(pending(case, config))  # as `show` computes them when asked
    if case.reporter.email:
        case.reporter_hash = sender_hash(case.reporter.email, ctx.pepper)
    d = Decision(inbound.key, inbound.sha256, msg.message_id, Outcome.REPORT, Folder.PROCESSED,
                 "new-report", case=case, counters={counter: number},
                 scrub_archive=case.reporter.anonymous, language=case.language)
    _diary(d, "received", f"language {case.language} (p={case.language_probability:.2f}), "
                          f"{len(case.original_text)} characters, "
                          f"{len(case.attachments)} attachments", inbound.sha256)
    if gathered.translation is not None:
        _diary(d, "translated", f"{gathered.translation.source} -> "
                                f"{gathered.translation.target} by {gathered.translation.engine}")
    elif gathered.translation_pending:
        _diary(d, "translation-pending", "machine translation not available yet; will retry")
    if case.reporter.anonymous:
        _diary(d, "anonymous", "reporter asked for anonymity: name and address not recorded, "
                               "raw copy scrubbed")
    if msg.message_id:
        d.message_index[msg.message_id] = case.id
        case.message_ids.append(msg.message_id)
    root = thread_root(case.id, config.message_id_domain)
    d.message_index[root] = case.id
    case.message_ids.append(root)
    d.message_index[f"reply-to:{reporter_key(case.id, ctx.pepper)}"] = case.id
    _notices(d, case, ctx)
    _escrow_matches(d, case, state, ctx)
    if gathered.triage is not None and gathered.triage.no_ack:
        _diary(d, "ack-skipped", f"no acknowledgement: rule {gathered.triage.rule}")
        return d, None
    return d, _plan_ack(d, inbound, state, ctx)


def _new_case(case_id: str, inbound: Inbound, g: Gathered, state: StateView,
              ctx: Context) -> Case:
    msg, f = inbound.message, g.fields
    anonymous = f.anonymous
    sender = msg.from_
    reporter = Reporter(
        name=None if anonymous or sender is None else (sender.name or None),
        email=None if anonymous or sender is None else (sender.email or None),
        anonymous=anonymous, on_behalf_of=f.on_behalf_of,
        contact=None if anonymous else f.contact)
    urgent = f.urgent
    status = CaseStatus.ESCROWED if f.escrow else CaseStatus.NEW
    return Case(
        escrow_periods=[[ctx.now, None]] if f.escrow else [],
        id=case_id, code_name=new_code_name(ctx.rng, state.code_name_taken), status=status,
        received_at=ctx.now, language=g.detection.language,
        language_probability=round(g.detection.probability, 3), subject=msg.subject,
        original_text=msg.text,
        translated_text=g.translation.text if g.translation else None,
        translation_engine=g.translation.engine if g.translation else None,
        translation_pending=g.translation_pending, reporter=reporter,
        incident=Incident(when=f.when, where=f.where, ongoing=f.ongoing,
                          description=f.description, circumstances=f.circumstances,
                          witnesses=list(f.witnesses), links=list(f.links)),
        reported=[ReportedPerson(name=p.name, handle=p.handle, email=p.email,
                                   automatic=p.automatic)
                  for p in f.reported],
        attachments=list(g.attachments),
        triage=Triage(priority="P1" if urgent else "P3", urgent=urgent,
                      urgent_reasons=list(f.urgent_reasons), signals=list(f.signals)),
        escrow=f.escrow, source_sha256=inbound.sha256,
        reporter_utc_offset=None if anonymous else _utc_offset(msg.date))


def _utc_offset(date: datetime | None) -> int | None:
    """The sender's UTC offset in minutes, when their Date header gave one."""
    offset = date.utcoffset() if date is not None else None
    return None if offset is None else int(offset.total_seconds() // 60)


def _diary(d: Decision, kind: str, detail: str, sha: str | None = None,
           actor: str = "system") -> None:
    assert d.case is not None
    d.diary.append(DiaryEntry(case_id=d.case.id, at=d.case.received_at, kind=kind,
                              actor=actor, detail=detail, message_sha256=sha))


def _is_involved(member: Member, case: Case) -> bool:
    """The member is the reporter or a reported person (email, aliases, handles, name)."""
    own = {normalise_email(a) for a in [member.email, *member.aliases]}
    if case.reporter.email and normalise_email(case.reporter.email) in own:
        return True
    return any(matches_member(p, member.email, member.name, member.aliases, member.handles)
               for p in case.reported)


def _notices(d: Decision, case: Case, ctx: Context) -> None:
    """One short notice per member; a member who is the reporter or reported gets none."""
    config = ctx.config
    for member in config.roster:
        email = normalise_email(member.email)
        if email in case.conflicts or email == case.taker:
            continue
        if _is_involved(member, case):
            case.conflicts.append(email)
            case.member_involved = True
            _diary(d, "recused", "a committee member is involved in this report; "
                                 "they get no notice", actor=email)
            continue
        lang = next((x for x in member.languages if ctx.renderer.has("notice", x)), "en")
        rendered = ctx.renderer.render("notice", lang, {
            "member_name": member.name,
            "case": {"id": case.id, "code_name": case.code_name,
                     "received_at": format_time(case.received_at, config),
                     "urgent": case.triage.urgent, "escrow": case.escrow,
                     "language": LANGUAGE_NAMES.get(case.language or "", case.language)},
            "reported": [p.model_dump() for p in case.reported],
            # With nobody found, the place is what a member can judge a conflict by.
            "where": None if case.reported else case.incident.where,
            "urgent_reasons": case.triage.urgent_reasons,
            "committee_name": config.committee_name,
            "conduct_address": config.conduct_address})
        root = thread_root(case.id, config.message_id_domain)
        spec = MailSpec(to=(Address(member.name, member.email),), subject=rendered.subject,
                        body=rendered.body, references=(root,), language=rendered.language,
                        extra_headers=(("Importance", "high"),) if case.triage.urgent else ())
        mail = outgoing_mail(spec, case.id, "notice", ctx)
        d.outgoing.append(mail)
        d.message_index[mail.id] = case.id
        case.message_ids.append(mail.id)
        _diary(d, "notice", f"new-case notice sent ({lang})", actor=normalise_email(member.email))
    if case.member_involved:
        _tell_chair(d, case, ctx)


def _escrow_matches(d: Decision, case: Case, state: StateView, ctx: Context) -> None:
    """Escrowed reports about the same person from someone else: tell, and ask consent."""
    for held in state.related_cases(case.identifiers):
        different = held.reporter_hash is None or held.reporter_hash != case.reporter_hash
        if held.id == case.id or held.status is not CaseStatus.ESCROWED or not different:
            continue
        if same_person(case, held) is None:  # similar names only: the committee judges
            _diary(d, "escrow-possible-match", f"may name the same person as escrowed case "
                                               f"{held.id}")
            tell_cleared(d, held, ctx, [
                f"A new report ({case.id}) from a different reporter names someone who may be "
                "the same person as in this escrowed case (similar names, not the same). Its "
                "reporter is not asked unless the committee finds it is the same person."])
            continue
        case.escrow_matches.append(held.id)
        _diary(d, "escrow-match", f"names the same person as escrowed case {held.id}")
        d.diary.append(DiaryEntry(case_id=held.id, at=ctx.now, kind="escrow-match",
                                  detail=f"{case.id}, from a different reporter, names the "
                                         "same person; the reporter is asked for consent"))
        tell_cleared(d, held, ctx, [
            f"A new report ({case.id}) from a different reporter names the same person as "
            f"this escrowed case. Its reporter is being asked whether we may act on it."])
        _ask_consent(d, held, ctx)
    if case.escrow_matches and case.status is CaseStatus.ESCROWED:
        _ask_consent(d, case, ctx)  # both asked for escrow: the new reporter is asked too


def tell_cleared(d: Decision, case: Case, ctx: Context, lines: list[str]) -> None:
    for member in ctx.config.roster:
        email = normalise_email(member.email)
        if email not in case.cleared or email in case.conflicts:
            continue
        _member_update(d, member, case, ctx, lines, "committee_update")


def _member_update(d: Decision, member: Member, case: Case, ctx: Context, lines: list[str],
                   purpose: str) -> None:
    """A `committee_update` mail to one member, threaded on the case."""
    rendered = ctx.renderer.render("committee_update", "en", {
        "member_name": member.name, "committee_name": ctx.config.committee_name,
        "case": case_brief(case, ctx.config), "lines": lines})
    spec = MailSpec(to=(Address(member.name, member.email),), subject=rendered.subject,
                    body=rendered.body,
                    references=(thread_root(case.id, ctx.config.message_id_domain),))
    d.outgoing.append(outgoing_mail(spec, case.id, purpose, ctx))


def _ask_consent(d: Decision, held: Case, ctx: Context) -> None:
    """The escrowed reporter, individually, in their language: may we act on your report?"""
    if held.reporter.anonymous or not held.reporter.email:
        return
    lang = held.language if held.language and ctx.renderer.has("escrow_consent",
                                                               held.language) else "en"
    rendered = ctx.renderer.render("escrow_consent", lang, {
        "case": {"id": held.id}, "committee_name": ctx.config.committee_name})
    spec = MailSpec(to=(Address(held.reporter.name or "", held.reporter.email),),
                    subject=rendered.subject, body=rendered.body, language=lang,
                    references=(thread_root(held.id, ctx.config.message_id_domain),))
    mail = outgoing_mail(spec, held.id, "escrow-consent", ctx, to_reporter=True)
    d.outgoing.append(mail)
    d.message_index[mail.id] = held.id  # the answer lands on the escrowed case


def _tell_chair(d: Decision, case: Case, ctx: Context) -> None:
    """The chair learns that a member is involved (not who, nor anything of the report)."""
    for chair in (m for m in ctx.config.roster if m.chair):
        if normalise_email(chair.email) in case.conflicts:
            continue
        _member_update(d, chair, case, ctx, [
            "A committee member is involved in this case (as the reporter or the reported "
            "person). They got no notice and cannot see or act on it."], "chair-notice")


def _plan_ack(d: Decision, inbound: Inbound, state: StateView, ctx: Context) -> AckPlan | None:
    case, sender, config = d.case, inbound.message.from_, ctx.config
    assert case is not None
    if sender is None or not sender.email or is_no_reply_sender(sender.email):
        _diary(d, "ack-skipped", "no address to answer")
        return None
    hashed = sender_hash(sender.email, ctx.pepper)
    if state.acks_on(hashed, ctx.now.date().isoformat()) >= config.limits.acks_per_sender_per_day:
        _diary(d, "ack-skipped", "acknowledgement rate limit for this sender reached today")
        return None
    d.ack_to = hashed
    target = case.language if case.language and case.language != "und" else "en"
    lang = target if ctx.renderer.has("ack", target) else "en"
    rendered = ctx.renderer.render("ack", lang, _ack_context(case, inbound, ctx))
    return AckPlan(case.id, sender, rendered, target, inbound.message.message_id)


def _ack_context(case: Case, inbound: Inbound, ctx: Context) -> dict[str, object]:
    config = ctx.config
    return {
        "case": {"id": case.id, "code_name": case.code_name,
                 "received_at": format_time(case.received_at, config)
                 if case.reporter_utc_offset is None
                 else format_at_offset(case.received_at, case.reporter_utc_offset),
                 "subject": case.subject},
        "reporter_name": case.reporter.name,
        "anonymous": case.reporter.anonymous, "escrow": case.escrow,
        "urgent": case.triage.urgent, "on_behalf": case.reporter.on_behalf_of is not None,
        "committee": [m.name for m in config.roster
                      if normalise_email(m.email) not in case.conflicts],
        "committee_name": config.committee_name, "community_name": config.community_name,
        "conduct_address": config.conduct_address,
        "emergency_contact": config.emergency_contact,
        "timeline": config.timeline.model_dump(),
    }


def with_english_below(translated: str, english: str) -> str:
    """A machine-translated mail body: the translation, then the English it came from."""
    return translated.rstrip() + "\n\n" + "-" * 20 + " English " + "-" * 20 + "\n\n" + english


def attach_ack(d: Decision, plan: AckPlan, translation: Translation | None,
               ctx: Context) -> None:
    """Queue the acknowledgement: translated and marked when a translation is at hand."""
    assert d.case is not None
    body, lang = plan.rendered.body, plan.rendered.language
    if plan.wants_translation and translation is not None:
        body = with_english_below(translation.text, ack_translation_source(plan, ctx))
        lang = plan.target_language
    refs = (thread_root(d.case.id, ctx.config.message_id_domain),)
    spec = MailSpec(to=(plan.to,), subject=plan.rendered.subject, body=body,
                    auto_submitted="auto-replied", in_reply_to=plan.in_reply_to,
                    references=refs, language=lang)
    # Keyed: its delivery time goes on the case, and the acknowledgement's SLA counts that.
    mail = outgoing_mail(spec, d.case.id, "ack", ctx, to_reporter=True).model_copy(
        update={"key": ACK_KEY})
    d.outgoing.append(mail)
    d.message_index[mail.id] = d.case.id
    d.case.message_ids.append(mail.id)
    d.case.acknowledged_at = ctx.now  # queued; `delivered[ACK_KEY]` says when it arrived
    d.case.events["ack-keyed"] = ctx.now
    machine = " (machine-translated)" if lang != plan.rendered.language else ""
    fallback = " (English: no translation at hand)" if plan.wants_translation and \
        translation is None else ""
    _diary(d, "acknowledged", f"acknowledgement queued in {lang}{machine}{fallback}")


def ack_translation_source(plan: AckPlan, ctx: Context) -> str:
    """The English text sent for translation: the machine-translation note, then the ack."""
    note = ctx.renderer.render("translated_notice", "en", {
        "language_name": LANGUAGE_NAMES.get(plan.target_language, plan.target_language),
        "original_language_name": "English"})
    return note.body.rstrip() + "\n\n" + plan.rendered.body


def translation_arrived(case: Case, translation: Translation, fields: ReportFields,
                        ctx: Context) -> Decision:
    """A pending translation came in: store it, and raise urgency if the translation shows it.

    Returned as a Decision without an inbound message (key ""): the pipeline commits only its
    case, diary and mail. Members are told again, marked urgent, when urgency appears only now.
    """
    updated = case.model_copy(deep=True)
    updated.translated_text = translation.text
    updated.translation_engine = translation.engine
    updated.translation_pending = False
    d = Decision("", "", None, Outcome.REPORT, Folder.PROCESSED, "translation", case=updated)
    _diary_now(d, ctx, "translated", f"{translation.source} -> {translation.target} by "
                                     f"{translation.engine} (after a delay)")
    newly_urgent = fields.urgent and not case.triage.urgent
    reasons = sorted(set(updated.triage.urgent_reasons) | set(fields.urgent_reasons))
    updated.triage = updated.triage.model_copy(update={
        "urgent": updated.triage.urgent or fields.urgent, "urgent_reasons": reasons,
        "signals": sorted(set(updated.triage.signals) | set(fields.signals)),
        "priority": "P1" if fields.urgent else updated.triage.priority})
    if not updated.reported and fields.reported:
        updated.reported = [ReportedPerson(name=p.name, handle=p.handle, email=p.email,
                                   automatic=p.automatic)
                            for p in fields.reported]
    if newly_urgent:
        _diary_now(d, ctx, "urgent", "urgency found in the translation; members alerted")
        _notices(d, updated, ctx)
        d.diary = [e.model_copy(update={"at": ctx.now}) for e in d.diary]
    return d


def _diary_now(d: Decision, ctx: Context, kind: str, detail: str) -> None:
    assert d.case is not None
    d.diary.append(DiaryEntry(case_id=d.case.id, at=ctx.now, kind=kind, detail=detail))
