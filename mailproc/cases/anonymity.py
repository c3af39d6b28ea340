"""Making an open case anonymous (pure): the reporter's ANONYMOUS reply, or `#anonymous`.

Seed 001's anonymous report: the reporter's name and contact details are not recorded. A case
made anonymous after it arrived loses them the same way: name, address, contact and UTC offset
leave the record, and the sender's name and address are scrubbed from every stored text, so no
later notice, `#show` or digest can carry them. The reporter is told once, at the address the
request came from (or, for `#anonymous`, the address on record, just before it is removed); from
then on only mail that refers to one of ours (the case key) reaches the case, and `#reply` has
nowhere to write, as the acknowledgement warned. The archived original still carries the
headers, so `#original` refuses such a case (`MADE_ANONYMOUS`).
"""

from __future__ import annotations

import re

from mailproc.cases.workflow import Context, Decision, outgoing_mail, thread_root
from mailproc.mail.compose import MailSpec
from mailproc.mail.scrub import PLACEHOLDER, scrub_text
from mailproc.model.parsed import Address
from mailproc.model.records import Case, DiaryEntry, Followup, Reporter

MADE_ANONYMOUS = "made-anonymous"


def scrub_reporter(text: str, sender: Address) -> str:
    """`scrub_text`, and each word of the sender's name alone too: people sign with their first
    name, and quote our mails that greet them by name."""
    text = scrub_text(text, sender)
    for word in sender.name.split():
        if len(word) >= 3:
            text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", PLACEHOLDER, text,
                          flags=re.IGNORECASE)
    return text


def scrub_followup(note: Followup, sender: Address) -> None:
    """A follow-up to an anonymous case without its writer's name and address (in place)."""
    note.text = scrub_reporter(note.text, sender)
    if note.translated_text is not None:
        note.translated_text = scrub_reporter(note.translated_text, sender)


def make_anonymous(d: Decision, case: Case, ctx: Context, actor: str) -> bool:
    """Remove the reporter's identity from `case` (in place); False when it already was."""
    if case.reporter.anonymous:
        return False
    sender = Address(case.reporter.name or "", case.reporter.email or "")
    if sender.email or sender.name:
        case.original_text = scrub_reporter(case.original_text, sender)
        case.subject = scrub_reporter(case.subject, sender)
        if case.translated_text is not None:
            case.translated_text = scrub_reporter(case.translated_text, sender)
        case.incident.description = scrub_reporter(case.incident.description, sender)
        for note in case.followups:
            scrub_followup(note, sender)
    if sender.email:  # nor in the list of addresses our mail could not reach
        case.unreachable = [a for a in case.unreachable
                            if a.casefold() != sender.email.casefold()]
    case.reporter = Reporter(anonymous=True, on_behalf_of=case.reporter.on_behalf_of)
    case.reporter_utc_offset = None
    case.events[MADE_ANONYMOUS] = ctx.now
    d.diary.append(DiaryEntry(case_id=case.id, at=ctx.now, kind="anonymous", actor=actor,
                              detail="made anonymous: the reporter's name and address were "
                                     "removed from the case"))
    return True


def tell_reporter(d: Decision, case: Case, ctx: Context, to: str) -> None:
    """The `anonymous` mail to the reporter, in the case's language where it is shipped."""
    lang = case.language if case.language and ctx.renderer.has("anonymous", case.language) \
        else "en"
    rendered = ctx.renderer.render("anonymous", lang, {
        "case": {"id": case.id}, "committee_name": ctx.config.committee_name,
        "conduct_address": ctx.config.conduct_address})
    spec = MailSpec(to=(Address("", to),), subject=rendered.subject, body=rendered.body,
                    language=lang,
                    references=(thread_root(case.id, ctx.config.message_id_domain),))
    mail = outgoing_mail(spec, case.id, "anonymous", ctx, to_reporter=True)
    d.outgoing.append(mail)
    d.message_index[mail.id] = case.id
