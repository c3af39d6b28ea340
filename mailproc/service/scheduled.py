"""Carrying out what the clocks say is due: reporter updates, reminders, escalations, digests.

Run every minute by the daemon (APScheduler). Nothing is kept in the scheduler: `deadlines.due`
derives what is due from each case's state, and every mail queued here records its key (and
the ladder's marks of who was told) in `case.sent` in the same commit, so after a restart or a
week of downtime each overdue action happens once. Each queued mail carries its key, so that
the store writes its delivery time on the case (`case.delivered`, what the SLA counts).
Reminders and escalations are rendered per member: what they can do depends on where they
stand. Reporter mail is in the reporter's language (the English template machine-translated
and marked when there is no template in it, within the short budget).
Only the store's active cases are read (`Store.active_cases`: all but those closed with their
outcome sent), so a tick costs what the open cases cost, however many were ever closed.
`preview` is the same decision without sending: `mailproc due --at`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from mailproc.cases.intake import LANGUAGE_NAMES, with_english_below
from mailproc.cases.workflow import Context, outgoing_mail, thread_root
from mailproc.config.settings import Config
from mailproc.deadlines.clocks import Due, pending, sla
from mailproc.deadlines.due import digest_context, digest_due, due, mail_context
from mailproc.mail.compose import MailSpec
from mailproc.mail.templates import Renderer
from mailproc.model.parsed import Address, normalise_email
from mailproc.model.records import Case, DiaryEntry, Outgoing
from mailproc.store.indexes import is_active
from mailproc.store.store import Store, Transaction

if TYPE_CHECKING:
    from mailproc.service.pipeline import Pipeline

REPORTER_TEMPLATES = {"update", "searching", "outcome"}


def tick(p: Pipeline) -> int:
    """Queue everything due now in one commit; returns how many mails were queued."""
    ctx = p.context()
    cases = _active(p.store)
    txn = Transaction()
    for item in due(cases.values(), p.config, ctx.now):
        case = cases[item.case_id]
        mails = _mails(p, item, case, ctx)
        case.sent.update(dict.fromkeys((item.key, *item.marks), ctx.now))
        txn.outgoing += mails
        txn.message_index.update({m.id: case.id for m in mails})
        txn.diary.append(DiaryEntry(case_id=case.id, at=ctx.now, kind=item.kind,
                                    detail=f"{item.template} ({item.deadline}) to "
                                           f"{_audience(item)}"))
        txn.cases[case.id] = case
    for case in cases.values():
        record = sla(case, p.config, ctx.now)
        if record != case.sla:
            case.sla = record
            txn.cases[case.id] = case
    for case in txn.cases.values():
        # Only refreshed when the case is written anyway: readers compute it (`pending`).
        case.deadlines = dict(pending(case, p.config))
    _digests(p, list(cases.values()), ctx, txn)
    p.store.commit(txn)
    return len(txn.outgoing)


def _active(store: Store) -> dict[str, Case]:
    # Every case but those closed with their outcome sent, from the store's index: the case
    # files of closed cases are not read (the digest leaves closed cases out as well).
    return {c.id: c.model_copy(deep=True) for c in store.active_cases() if is_active(c)}


def _audience(item: Due) -> str:
    return "the reporter" if "reporter" in item.to else f"{len(item.to)} member(s)"


def _mails(p: Pipeline, item: Due, case: Case, ctx: Context) -> list[Outgoing]:
    refs = (thread_root(case.id, p.config.message_id_domain),)
    if item.template in REPORTER_TEMPLATES:
        if not case.reporter.email or case.reporter.anonymous:
            return []
        context = mail_context(item, case, p.config, ctx.now)
        lang = case.language or "en"
        if item.template == "outcome" and context["outcome"]:
            context = _outcome_in(p, lang, context)
        subject, body, lang = _localized(p, item.template, lang, context)
        spec = MailSpec(to=(Address(case.reporter.name or "", case.reporter.email),),
                        subject=subject, body=body, language=lang, references=refs)
        return [_keyed(outgoing_mail(spec, case.id, item.kind, ctx, to_reporter=True), item)]
    out = []
    for email in item.to:
        member = p.config.member_by_email(email)
        if member is None or normalise_email(email) in case.conflicts:
            continue  # never to a removed or conflicted member
        context = mail_context(item, case, p.config, ctx.now, member.email)
        rendered = ctx.renderer.render(item.template, "en", context)
        spec = MailSpec(to=(Address(member.name, member.email),), subject=rendered.subject,
                        body=rendered.body, references=refs)
        out.append(_keyed(outgoing_mail(spec, case.id, item.kind, ctx), item))
    return out


def _keyed(mail: Outgoing, item: Due) -> Outgoing:
    return mail.model_copy(update={"key": item.key})


def _outcome_in(p: Pipeline, lang: str, context: dict[str, object]) -> dict[str, object]:
    """The committee's #outcome text in the reporter's language (machine-translated, its own
    words kept below), when the reporter's language has templates and is not the committee's.
    For other languages the whole mail is translated (`_localized`)."""
    source = p.config.committee_language
    if lang in ("und", source) or p.translator is None or not p.renderer.has("outcome", lang):
        return context
    text = str(context["outcome"])
    done = p.translator.translate(text, source, lang,
                                  timeout=p.config.translation.ack_wait_seconds)
    if done is None:
        return context
    return {**context, "outcome": done.text, "outcome_original": text}


def _localized(p: Pipeline, template: str, lang: str,
               context: dict[str, object]) -> tuple[str, str, str]:
    """(subject, body, language): a template in the language, or English machine-translated."""
    renderer = p.renderer
    if renderer.has(template, lang):
        rendered = renderer.render(template, lang, context)
        return rendered.subject, rendered.body, lang
    english = renderer.render(template, "en", context)
    if p.translator is None or lang in ("en", "und"):
        return english.subject, english.body, "en"
    note = renderer.render("translated_notice", "en", {
        "language_name": LANGUAGE_NAMES.get(lang, lang), "original_language_name": "English"})
    source = note.body.rstrip() + "\n\n" + english.body
    translation = p.translator.translate(source, "en", lang,
                                         timeout=p.config.translation.ack_wait_seconds)
    if translation is None:
        return english.subject, english.body, "en"
    return _subject_in(p, english.subject, lang), with_english_below(translation.text, source), \
        lang


def _subject_in(p: Pipeline, subject: str, lang: str) -> str:
    """A subject machine-translated like its body, the case tag kept as it is."""
    tag, _, words = subject.partition("] ") if subject.startswith("[") else ("", "", subject)
    done = p.translator.translate(words, "en", lang,
                                  timeout=p.config.translation.ack_wait_seconds) \
        if p.translator is not None and words else None
    if done is None:
        return subject
    return f"{tag}] {done.text}" if tag else done.text


def _digests(p: Pipeline, cases: list[Case], ctx: Context, txn: Transaction) -> None:
    """The daily digest, once a day per member at the configured time."""
    if not p.config.deadlines.digest:
        return
    for member in p.config.roster:
        email = normalise_email(member.email)
        flag = p.store.flag(f"digest:{email}")
        last = datetime.fromisoformat(flag) if flag else None
        if not digest_due(email, last, p.config, ctx.now):
            continue
        context = digest_context(email, cases, p.store.routed_since(last), p.config, ctx.now)
        txn.flags[f"digest:{email}"] = ctx.now.isoformat()
        if context is None:
            continue
        rendered = ctx.renderer.render("digest", "en", context)
        spec = MailSpec(to=(Address(member.name, member.email),), subject=rendered.subject,
                        body=rendered.body)
        txn.outgoing.append(outgoing_mail(spec, None, "digest", ctx))


def preview(store: Store, cfg: Config, renderer: Renderer, at: datetime) -> list[dict[str, object]]:
    """What a tick at `at` would queue, given the cases as they are now (as if no tick ran in
    between), without queueing anything: one row per mail, with its subject. Reporter mail
    is shown in its template's language, never sent for translation."""
    cases = _active(store)
    rows: list[dict[str, object]] = []
    for item in due(cases.values(), cfg, at):
        case = cases[item.case_id]
        for who in item.to:
            member = cfg.member_by_email(who) if who != "reporter" else None
            if who != "reporter" and member is None:
                continue
            context = mail_context(item, case, cfg, at, member.email if member else "")
            lang = (case.language or "en") if who == "reporter" else "en"
            lang = lang if renderer.has(item.template, lang) else "en"
            rows.append({"at": item.at.isoformat(), "case": case.id, "kind": item.kind,
                         "deadline": item.deadline, "key": item.key,
                         "to": "reporter" if member is None else member.email,
                         "language": lang,
                         "subject": renderer.render(item.template, lang, context).subject})
    if cfg.deadlines.digest:
        rows += _digest_preview(store, cfg, renderer, list(cases.values()), at)
    return rows


def _digest_preview(store: Store, cfg: Config, renderer: Renderer, cases: list[Case],
                    at: datetime) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for member in cfg.roster:
        flag = store.flag(f"digest:{normalise_email(member.email)}")
        last = datetime.fromisoformat(flag) if flag else None
        if not digest_due(member.email, last, cfg, at):
            continue
        context = digest_context(member.email, cases, store.routed_since(last), cfg, at)
        if context is not None:
            rows.append({"at": at.isoformat(), "case": None, "kind": "digest",
                         "deadline": None, "key": None, "to": member.email, "language": "en",
                         "subject": renderer.render("digest", "en", context).subject})
    return rows
