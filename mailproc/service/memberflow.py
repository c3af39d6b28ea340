"""Mail from a roster address, the I/O side: gather what the commands need, then decide.

Gathers the reply's new text and commands, the authentication verdict, the case's attachments
(for a disclosure), past cases about the same people, `#reply` texts translated into the
reporter's language, and the member's open cases (`#list`); `committee.handle` decides.
`#intake` opens a case from the rest of the mail, with the member recorded as the taker.
A member writing a fresh mail with no command is treated as anyone else: a report.
"""

from __future__ import annotations

import dataclasses
import re
from email.utils import parseaddr
from typing import Protocol

from mailproc.adapters.mailbox import RawMessage
from mailproc.adapters.translation import GuardedTranslator
from mailproc.cases.commandparse import Command, parse_reply, read_command
from mailproc.cases.commands import MemberMail
from mailproc.cases.committee import auth_warning_counter, handle
from mailproc.cases.intake import attach_ack, open_case
from mailproc.cases.workflow import Context, Decision, Inbound, StateView, thread_case
from mailproc.config.consequences import Ladder
from mailproc.config.settings import Config, Member
from mailproc.mail.authentication import authenticate
from mailproc.model.parsed import Address, CaseStatus, Outcome, Translation, normalise_email
from mailproc.model.records import Case
from mailproc.service.batch import BatchView
from mailproc.service.prepare import Settings, detection_of, read_message
from mailproc.service.reports import ReportReader
from mailproc.store.store import Store


class Desk(Protocol):
    """What member mail is handled with (the pipeline's parts)."""

    config: Config
    store: Store
    translator: GuardedTranslator | None
    ladder: Ladder
    reports: ReportReader
    settings: Settings

DISCLOSING = {"clear", "show", "release", "confirm"}


def member_mail(p: Desk, inbound: Inbound, raw: bytes, member: Member, view: BatchView,
                ctx: Context) -> Decision | None:
    """The decision for a member's mail, or None when it is simply a report from a person."""
    msg = inbound.message
    reply = parse_reply(msg.text)
    case = thread_case(msg, view, p.config)
    if case is None and not reply.commands:
        return None
    if case is not None and case.reporter.email and normalise_email(case.reporter.email) in {
            normalise_email(a) for a in [member.email, *member.aliases]}:
        return None  # a member writing on their own report is its reporter: heard as such
    auth = authenticate(raw, msg, p.config, token=reply.token)
    reclaim = [c for c in reply.commands if c.word == "reclaim"]
    if reclaim and auth.ok:
        return _reclaim(p, inbound, member, view, ctx, reclaim[0].args.strip(), reply.commands)
    intake = [c for c in reply.commands if c.word == "intake"]
    if intake and case is None and auth.ok:
        return _intake(p, inbound, raw, member, view, ctx, _after_intake(msg.text),
                       tuple(c for c in reply.commands if c.word != "intake"))
    mail = MemberMail(
        member=member, case=case, reply=reply, authenticated=auth.ok,
        by_token=auth.method == "token", auth_reason=auth.reason,
        attachments=_attachments(p, case, reply.commands),
        related=tuple(view.store.related_cases(case.identifiers)) if case else (),
        translations=_translations(p, case, reply.commands), ladder=p.ladder,
        member_cases=_member_cases(p, member, reply.commands),
        auth_warned_today=auth.ok or view.counter(auth_warning_counter(member.email, ctx)) > 0,
        original=_original(p, case, reply.commands))
    return handle(inbound, mail, ctx)


def _after_intake(text: str) -> str:
    """The report under the #intake line, a forwarded original included (not cut as a quote)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if line.strip().lower().startswith("#intake")), -1)
    rest = [line for line in lines[start + 1:] if not read_command(line)]
    return "\n".join(rest).strip()


def _attachments(p: Desk, case: Case | None, commands: tuple[Command, ...]) \
        -> dict[str, bytes]:
    if case is None or not DISCLOSING & {c.word for c in commands}:
        return {}
    found = {}
    for att in case.attachments:
        data = p.store.read_blob(att.sha256) if att.sha256 else None
        if data is not None and att.sha256:
            found[att.sha256] = data
    return found


def _original(p: Desk, case: Case | None, commands: tuple[Command, ...]) -> bytes | None:
    """The archived message of the case, for `#original` (None: not asked, or not kept)."""
    if case is None or case.source_sha256 is None or \
            "original" not in {c.word for c in commands}:
        return None
    try:
        return p.store.read_archive(case.source_sha256)
    except OSError:
        return None


def _translations(p: Desk, case: Case | None, commands: tuple[Command, ...]) \
        -> dict[str, Translation | None]:
    """`#reply` texts in the reporter's language (the committee writes in its own)."""
    out: dict[str, Translation | None] = {}
    target = case.language if case else None
    source = p.config.committee_language
    for cmd in commands:
        if cmd.word != "reply" or not target or target in ("und", source) or not cmd.args:
            continue
        out[cmd.args.strip()] = p.translator.translate(cmd.args.strip(), source, target) \
            if p.translator is not None else None
    return out


def _member_cases(p: Desk, member: Member, commands: tuple[Command, ...]) \
        -> tuple[Case, ...]:
    if "list" not in {c.word for c in commands}:
        return ()
    me = normalise_email(member.email)
    return tuple(c for c in p.store.all_cases()
                 if me in c.cleared and c.status is not CaseStatus.CLOSED)


def _reclaim(p: Desk, inbound: Inbound, member: Member, view: BatchView, ctx: Context,
             key: str, commands: tuple[Command, ...]) -> Decision:
    """`#reclaim KEY`: mail a triage rule routed away becomes a case after all."""
    done = p.store.done.get(key)
    lines: list[str]
    decision = None
    prep = None if done is None or done.outcome is not Outcome.ROUTED else \
        read_message(RawMessage(key, p.store.read_archive(done.sha256)), p.settings, done.sha256)
    if prep is None or prep.message is None:
        lines = [f"#reclaim {key}\n   -> error: no routed message has that key (see the digest)"]
    else:
        gathered = p.reports.gather(prep.message, prep.detection, fields=prep.fields)
        decision, plan = open_case(Inbound(key, prep.sha256, prep.message), gathered, view,
                                   ctx)
        if plan is not None:
            attach_ack(decision, plan, None, ctx)
        assert decision.case is not None
        lines = [f"#reclaim {key}\n   -> opened as case {decision.case.id} "
                 f"({decision.case.code_name}); notices sent"]
    reply = dataclasses.replace(parse_reply(""), commands=tuple(
        c for c in commands if c.word != "reclaim"))
    follow = handle(inbound, MemberMail(
        member=member, case=None, reply=reply, authenticated=True, by_token=False,
        auth_reason="", attachments={}, related=(), translations={}, ladder=p.ladder,
        member_cases=()), ctx, preface=lines)
    if decision is None:
        return follow
    decision.key, decision.sha256 = inbound.key, inbound.sha256
    decision.message_id, decision.outcome = inbound.message.message_id, Outcome.COMMAND
    decision.reason, decision.scrub_archive = "reclaim", False
    decision.outgoing += follow.outgoing
    return decision


def _intake(p: Desk, inbound: Inbound, raw: bytes, member: Member, view: StateView,
            ctx: Context, text: str, rest: tuple[Command, ...]) -> Decision:
    """A member files an in-person or proxy report: the rest of the mail is the report."""
    reporter, text = intake_reporter(text)
    msg = dataclasses.replace(inbound.message, text=text, from_=reporter)
    gathered = dataclasses.replace(p.reports.gather(msg, detection_of(msg, p.settings)),
                                   taker=normalise_email(member.email))
    decision, plan = open_case(Inbound(inbound.key, inbound.sha256, msg), gathered, view, ctx)
    assert decision.case is not None
    if plan is not None:  # the reporter gave an address: acknowledged like any reporter
        attach_ack(decision, plan, None, ctx)
    decision.reason = "intake"
    reply = dataclasses.replace(parse_reply(""), commands=rest)
    follow = handle(inbound, MemberMail(
        member=member, case=decision.case, reply=reply, authenticated=True, by_token=False,
        auth_reason="", attachments={}, related=(), translations={}, ladder=p.ladder,
        member_cases=()), ctx, preface=[f"#intake\n   -> case {decision.case.id} "
                                       f"({decision.case.code_name}) opened; you are its "
                                       "taker and cleared on it"])
    decision.case = follow.case
    decision.outgoing += follow.outgoing
    decision.diary += follow.diary
    decision.message_index.update(follow.message_index)
    decision.outcome = Outcome.REPORT
    return decision


_REPORTER_LINE = re.compile(
    r"^[ \t>*-]*(?:reporter|reported\s+by|reporting\s+person|denunciante|quien\s+denuncia"
    r"|personne\s+qui\s+signale|signal[ée]\s+par|meldende\s+person|gemeldet\s+von"
    r"|quem\s+relata|relatado\s+por)\s*:[ \t]*(?P<value>.+)$", re.IGNORECASE | re.MULTILINE)


def intake_reporter(text: str) -> tuple[Address | None, str]:
    """The reporter a member names in a typed report ("Reporter: Name <address>", or a name
    only for someone met in person), and the report without that line."""
    match = _REPORTER_LINE.search(text)
    if match is None:
        return None, text
    name, email = parseaddr(match.group("value").strip())
    if "@" not in email:
        name, email = match.group("value").strip(), ""
    rest = (text[:match.start()] + text[match.end():]).strip()
    name = re.sub(r"\s*\((?:in person|no address)[^)]*\)\s*$", "", name, flags=re.I).strip()
    return Address(name, email), rest
