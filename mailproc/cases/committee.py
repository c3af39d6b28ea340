"""Mail from committee members (pure): authentication, conflicts, commands, discussion relay.

Order: unauthenticated mail is refused and not answered (it may be forged); a member with a
conflict on the case is refused and told nothing about it; then each command runs (after
`#clear` for anything touching the case; destructive ones need a token or a `#confirm` round
trip); new text from a cleared member is recorded and relayed to the other cleared members;
the sender gets a transcript. Nothing from here reaches the reporter except `#reply`, which is
sent from the conduct address without the member's name.
"""

from __future__ import annotations

from datetime import timedelta

from mailproc.cases.commands import COMMANDS, CommandError, MemberMail, Session, Spec, split_public
from mailproc.cases.identity import same_person
from mailproc.cases.workflow import (
    Context,
    Decision,
    Inbound,
    case_brief,
    outgoing_mail,
    sender_hash,
    thread_root,
)
from mailproc.deadlines.contexts import statement_context
from mailproc.mail.compose import MailSpec
from mailproc.model.parsed import Address, Folder, Outcome, normalise_email
from mailproc.model.records import Case, Confirmation, DiaryEntry

CONFIRM_HOURS = 24


def handle(inbound: Inbound, mail: MemberMail, ctx: Context,
           preface: list[str] | None = None) -> Decision:
    """The decision for one mail from a roster address."""
    case = mail.case.model_copy(deep=True) if mail.case is not None else None
    member = normalise_email(mail.member.email)
    d = Decision(inbound.key, inbound.sha256, inbound.message.message_id, Outcome.COMMAND,
                 Folder.PROCESSED, "committee-mail",
                 related_case=case.id if case is not None else None)
    s = Session(mail, ctx, d, case, member)
    if not mail.authenticated:
        d.reason = "refused:unauthenticated"
        if case is not None:
            s.diary("refused", f"mail from a roster address failed authentication "
                               f"({mail.auth_reason}); nothing done, not answered")
            d.case = case
        if not mail.auth_warned_today:
            _warn_unverified(s, member)
        return d
    if case is not None and member in case.conflicts:
        d.reason = "refused:conflict"
        s.diary("refused", "mail from a member with a conflict of interest; nothing done")
        d.case = case
        _transcript(s, ["Nothing was done: you declared a conflict of interest on this case."])
        return d
    lines = list(preface or [])
    lines += [_run(s, c.word, c.args, c.line) for c in mail.reply.commands]
    lines += [f"{line}\n   -> ignored (after #end or over the 20-command limit)"
              for line in mail.reply.ignored]
    discussed = _discussion(s)
    _deliver(s)
    if case is not None:
        d.case = case
        if inbound.message.message_id:
            d.message_index[inbound.message.message_id] = case.id
    if not (lines or mail.reply.discussion.strip()):
        lines = [_nothing_new(inbound.message.text)]  # never dropped without a word
    elif lines or discussed != RELAYED:
        lines += [discussed] if discussed else []
    # Discussion that was simply relayed earns no transcript: the relay is the answer.
    if lines:
        _transcript(s, lines)
    return d


def _nothing_new(text: str) -> str:
    """What a member is told when their mail held no new text: the start of what was cut."""
    cut = [line for line in text.splitlines() if line.strip()][:3]
    shown = "\n".join(f"      | {line[:70]}" for line in cut) or "      (the mail was empty)"
    return ("Nothing new was found in your mail: everything in it read as quoted or old "
            "text, so no command ran and nothing was passed on. It began:\n" + shown +
            "\n   Write your text or #commands above the quoted part, without '>' marks.")


def auth_warning_counter(member_email: str, ctx: Context) -> str:
    """The counter that marks "told today" for a member's failing mail (no address in it)."""
    return f"auth-warning:{sender_hash(member_email, ctx.pepper)}:{ctx.now.date().isoformat()}"


def _warn_unverified(s: Session, member: str) -> None:
    """Mail from a roster address failed the checks: the member learns it at their roster
    address (never the From of the failing mail, which may be forged), once a day at most,
    with the reason and what to do. Nothing about any case is in it."""
    config = s.ctx.config
    found = config.member_by_email(member)
    if found is None:
        return
    rendered = s.ctx.renderer.render("auth_failed", "en", {
        "member_name": found.name, "reason": s.mail.auth_reason,
        "conduct_address": config.conduct_address, "committee_name": config.committee_name})
    spec = MailSpec(to=(Address(found.name, found.email),), subject=rendered.subject,
                    body=rendered.body)
    s.decision.outgoing.append(outgoing_mail(spec, None, "auth-warning", s.ctx))
    s.decision.counters[auth_warning_counter(found.email, s.ctx)] = 1


def _run(s: Session, word: str, args: str, line: str) -> str:
    if word == "confirm":
        return f"{line}\n   -> {_confirm(s, args)}"
    spec = COMMANDS.get(word)
    if spec is None:
        return f"{line}\n   -> unknown command (#help lists them)"
    problem = _may_run(s, word, spec)
    if problem:
        return f"{line}\n   -> refused: {problem}"
    if _destructive(s, word, spec) and not s.mail.by_token:
        try:
            if spec.check is not None:
                spec.check(s, args)
        except CommandError as exc:
            return f"{line}\n   -> error: {exc}"
        return f"{line}\n   -> {_ask_confirmation(s, word, args)}"
    try:
        return f"{line}\n   -> {spec.run(s, args)}"
    except CommandError as exc:
        return f"{line}\n   -> error: {exc}"


def _may_run(s: Session, word: str, spec: Spec) -> str | None:
    if spec.needs_case and s.case is None:
        return "this command needs a case: reply to a mail about the case"
    if spec.needs_clear and s.case is not None and s.member not in s.case.cleared:
        return "declare #clear (no conflict of interest) first"
    return None


def _destructive(s: Session, word: str, spec: Spec) -> bool:
    overriding = word == "conflict" and s.case is not None and s.member in s.case.cleared
    return spec.destructive or overriding


def _ask_confirmation(s: Session, word: str, args: str) -> str:
    case = s.need_case()
    code = f"{s.ctx.rng.randrange(10**6):06d}"
    if word == "close":  # keep the public: line, which sits outside the command line
        public = split_public(s.mail.reply.discussion)[1]
        args = f"{args}\npublic: {public}" if public else args
    case.confirmations.append(Confirmation(
        code=code, member=s.member, command=word, args=args,
        expires=s.ctx.now + timedelta(hours=CONFIRM_HOURS)))
    s.diary("confirmation-asked", f"#{word} waits for confirmation")
    draft = f"the reporter will be told, when the case is closed:\n\n{args.strip()}\n\n" \
        if word == "outcome" else "this changes the case for good: "
    return f"{draft}reply with  #confirm {code}  within {CONFIRM_HOURS} hours to do it"


def _confirm(s: Session, code: str) -> str:
    case = s.case
    if case is None:
        return "error: #confirm needs a case"
    found = next((c for c in case.confirmations if c.code == code.strip()
                  and c.member == s.member and c.expires > s.ctx.now), None)
    if found is None:
        return "error: no such confirmation code from you, or it expired"
    case.confirmations.remove(found)
    try:
        return f"confirmed #{found.command}: {COMMANDS[found.command].run(s, found.args)}"
    except CommandError as exc:
        return f"error: {exc}"


RELAYED = "Your text was recorded and passed to the other cleared members."


def _discussion(s: Session) -> str | None:
    """The member's new text to the other cleared members; the transcript line, if any."""
    text = s.mail.reply.discussion.strip()
    if any(c.word == "close" for c in s.mail.reply.commands):
        text = split_public(text)[0].strip()  # the public: line belongs to the close, not here
    case = s.case
    if not text or case is None:
        return None
    if s.member not in case.cleared:
        return "Your text was not passed on: declare #clear first."
    s.diary("discussion", text)
    # For the digest's summary line (a relayed text earns no transcript): the last few only.
    case.relayed[s.member] = [*case.relayed.get(s.member, [])[-19:], s.ctx.now]
    others = [m for m in case.cleared if m != s.member]
    name = s.mail.member.name
    for email in others:
        _mail_member(s, email, "relay", {"from_name": name, "text": text},
                     from_name=f"{name} via mailproc")
    return RELAYED if others else "Your text was recorded in the diary; no other member " \
                                  "is cleared on the case yet, so nobody else received it."


def _deliver(s: Session) -> None:
    case = s.case
    if case is None:
        return
    for email in dict.fromkeys(s.disclose):
        _disclose(s, case, email)
    for text in s.replies:
        _reply_to_reporter(s, case, text)
    if s.announce:
        for email in case.cleared:
            _mail_member(s, email, "committee_update", {"lines": list(s.announce)})
    if s.statement:
        for email in case.cleared:
            _mail_member(s, email, "statement", statement_context(case, s.ctx.config))
    if s.original and s.mail.original is not None:
        _mail_member(s, s.member, "committee_update", {"lines": [
            "The report as it was received is attached (for an anonymous report, the copy "
            "without the reporter's name and address). Keep it confidential."]},
                     attach_message=s.mail.original)


def _case_context(case: Case, s: Session) -> dict[str, object]:
    return case_brief(case, s.ctx.config)


def _mail_member(s: Session, email: str, template: str, extra: dict[str, object],
                 from_name: str = "", attachments: tuple[tuple[str, str, bytes], ...] = (),
                 attach_message: bytes | None = None) -> None:
    case = s.need_case()
    member = s.ctx.config.member_by_email(email)
    if member is None or email in case.conflicts:
        return  # never to a removed or conflicted member
    rendered = s.ctx.renderer.render(template, "en", {
        "member_name": member.name, "case": _case_context(case, s), **extra,
        "committee_name": s.ctx.config.committee_name})
    spec = MailSpec(to=(Address(member.name, member.email),), subject=rendered.subject,
                    body=rendered.body, from_name=from_name,
                    references=(thread_root(case.id, s.ctx.config.message_id_domain),),
                    attachments=attachments, attach_message=attach_message)
    mail = outgoing_mail(spec, case.id, template, s.ctx)
    s.decision.outgoing.append(mail)
    s.decision.message_index[mail.id] = case.id


def _disclose(s: Session, case: Case, email: str) -> None:
    """The full report to a cleared member: text, translation, fields, files, past cases."""
    files = tuple((a.filename, a.content_type, s.mail.attachments[a.sha256])
                  for a in case.attachments if a.sha256 and a.sha256 in s.mail.attachments)
    related = [c for c in s.mail.related if c.id != case.id]
    # A past case this member declared a conflict on shows as that and nothing more: not its
    # id, its outcome, nor its consequence in "highest so far" (DESIGN.md rule 2).
    visible = [c for c in related if email not in c.conflicts]
    highest = s.mail.ladder.highest([k for c in visible if same_person(case, c)
                                     for m in c.motions if m.status == "passed"
                                     for k in m.consequences])
    _mail_member(s, email, "disclosure", {
        "report": case.model_dump(mode="json"),
        "related": {"count": len(related),
                    "outcomes": [f"{c.id}: {c.status.value}"
                                 + (f" ({c.decision})" if c.decision else "")
                                 + (" - possibly the same person (similar names)"
                                    if same_person(case, c) is None else "")
                                 for c in visible],
                    "conflicted": len(related) - len(visible),
                    "highest": highest.label if highest else None}},
        attachments=files)
    if email not in case.disclosed:
        case.disclosed.append(email)
    s.decision.diary.append(DiaryEntry(case_id=case.id, at=s.ctx.now, kind="disclosed",
                                       actor=email, detail="full report sent"))


def _reply_to_reporter(s: Session, case: Case, text: str) -> None:
    """`#reply`: from the conduct address, in the reporter's language, never naming the member."""
    assert case.reporter.email is not None
    translation = s.mail.translations.get(text)
    lang = case.language or "en"
    template_lang = lang if s.ctx.renderer.has("committee_reply", lang) else "en"
    rendered = s.ctx.renderer.render("committee_reply", template_lang, {
        "case": {"id": case.id}, "text": translation.text if translation else text,
        "original": text if translation else None,
        "committee_name": s.ctx.config.committee_name})
    spec = MailSpec(to=(Address(case.reporter.name or "", case.reporter.email),),
                    subject=rendered.subject, body=rendered.body,
                    references=(thread_root(case.id, s.ctx.config.message_id_domain),),
                    language=lang if translation else template_lang)
    mail = outgoing_mail(spec, case.id, "reply", s.ctx, to_reporter=True)
    s.decision.outgoing.append(mail)
    s.decision.message_index[mail.id] = case.id


def _transcript(s: Session, lines: list[str]) -> None:
    member = s.mail.member
    case = s.case
    rendered = s.ctx.renderer.render("transcript", "en", {
        "member_name": member.name, "case": _case_context(case, s) if case else None,
        "lines": lines, "committee_name": s.ctx.config.committee_name})
    refs = (thread_root(case.id, s.ctx.config.message_id_domain),) if case else ()
    spec = MailSpec(to=(Address(member.name, member.email),), subject=rendered.subject,
                    body=rendered.body, references=refs)
    mail = outgoing_mail(spec, case.id if case else None, "transcript", s.ctx)
    s.decision.outgoing.append(mail)
    if case is not None:  # a reply to the transcript is about the case too
        s.decision.message_index[mail.id] = case.id
