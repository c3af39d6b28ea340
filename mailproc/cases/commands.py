"""The committee's commands (pure): one registry, one small handler each.

A handler gets the session (the case being changed, who is acting, what was gathered) and the
arguments, changes the case, queues what must be mailed (as requests the committee module
turns into mail), and returns the line for the sender's transcript. It raises CommandError
with an explanation when the command cannot be done. Who may run what (roster, conflicts,
authentication, confirmation of destructive commands) is checked before, in `committee`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from mailproc.cases.anonymity import MADE_ANONYMOUS, make_anonymous, tell_reporter
from mailproc.cases.commandparse import ParsedReply
from mailproc.cases.leaks import leaks
from mailproc.cases.motions import MotionError, propose, vote
from mailproc.cases.workflow import Context, Decision, case_brief, outgoing_mail, thread_root
from mailproc.config.consequences import Ladder
from mailproc.config.settings import Member
from mailproc.mail.compose import MailSpec
from mailproc.model.parsed import Address, CaseStatus, Translation, normalise_email
from mailproc.model.records import Case, DiaryEntry, ReportedPerson

LEVELS = {"low": 1, "medium": 2, "high": 3}
STATUSES = ("investigating", "searching", "awaiting-reported", "decided")
KINDS = ("enforcement", "conflict-resolution")
# Seed 003's risk/impact matrix (after Audrey Eschright); medium counts as high (caution).
RESPONSES = {(False, False): "verbal warning",
             (False, True): "take notes, follow up later",
             (True, False): "public apology, remove the person from the event",
             (True, True): "coordinated whole-team response"}


class CommandError(ValueError):
    """The command was refused; the message explains why (it goes to the transcript)."""


@dataclass(frozen=True)
class MemberMail:
    """What the pipeline gathered for one authenticated-or-not mail from a roster member."""

    member: Member
    case: Case | None
    reply: ParsedReply
    authenticated: bool
    by_token: bool
    auth_reason: str
    attachments: dict[str, bytes]
    related: tuple[Case, ...]
    translations: dict[str, Translation | None]
    ladder: Ladder
    member_cases: tuple[Case, ...]
    auth_warned_today: bool = True  # the member was already told today that mail failed checks
    original: bytes | None = None  # the archived message, gathered for `#original`


@dataclass
class Session:
    mail: MemberMail
    ctx: Context
    decision: Decision
    case: Case | None
    member: str  # normalised email of the acting member
    disclose: list[str] = field(default_factory=list)  # members to send the full report
    replies: list[str] = field(default_factory=list)  # texts for the reporter
    announce: list[str] = field(default_factory=list)  # lines for every cleared member
    statement: bool = False  # draft the public statement for the cleared members
    original: bool = False  # mail the acting member the archived original (`#original`)

    def diary(self, kind: str, detail: str = "") -> None:
        assert self.case is not None
        self.decision.diary.append(DiaryEntry(case_id=self.case.id, at=self.ctx.now, kind=kind,
                                              actor=self.member, detail=detail))

    def need_case(self) -> Case:
        if self.case is None:
            raise CommandError("this command needs a case: reply to a mail about the case")
        return self.case


Handler = Callable[[Session, str], str]


@dataclass(frozen=True)
class Spec:
    run: Handler
    usage: str
    help: str
    needs_case: bool = True
    needs_clear: bool = True  # only after the member declared no conflict
    destructive: bool = False  # needs a token, or a #confirm round trip
    check: Handler | None = None  # refuses (CommandError) before a confirmation is asked


def _releasable(s: Session, _args: str) -> str:
    case = s.need_case()
    if case.status is not CaseStatus.ESCROWED:
        raise CommandError("the case is not in escrow")
    if not case.escrow_consent:
        raise CommandError("the reporter has not consented: she is asked when another report "
                           "names the same person, and her yes releases the case by itself")
    return ""


def _member_named(s: Session, who: str) -> str:
    """A cleared member by `me`, email, or (a unique prefix of) their name."""
    case = s.need_case()
    if who.strip().lower() in ("me", "myself", ""):
        return s.member
    wanted = who.strip().lower()
    found = [normalise_email(m.email) for m in s.ctx.config.roster
             if normalise_email(m.email) == wanted or m.name.lower().startswith(wanted)]
    if len(found) != 1:
        raise CommandError(f"no single committee member matches {who.strip()!r}")
    if found[0] not in case.cleared:
        raise CommandError("only a member who declared no conflict (#clear) can own a case")
    return found[0]


def _clear(s: Session, _args: str) -> str:
    case = s.need_case()
    if s.member in case.conflicts:
        raise CommandError("you declared a conflict of interest on this case")
    if s.member not in case.cleared:
        case.cleared.append(s.member)
        case.events.setdefault("first-cleared", s.ctx.now)
        s.diary("cleared", "declared no conflict of interest")
    if case.status is CaseStatus.ESCROWED:
        return "noted: no conflict. This report is held in escrow and is not disclosed unless " \
               "another report names the same person or the committee releases it (#release)."
    s.disclose.append(s.member)
    return "noted: no conflict. The full report follows in a separate mail."


def _conflict(s: Session, _args: str) -> str:
    case = s.need_case()
    if s.member not in case.conflicts:
        case.conflicts.append(s.member)
    if s.member in case.cleared:
        case.cleared.remove(s.member)
    for role in ("lead", "secondary"):
        if getattr(case.owners, role) == s.member:
            setattr(case.owners, role, None)
    s.diary("conflict", "declared a conflict of interest; removed from the case")
    return "noted: conflict of interest. You will get nothing more about this case."


def _owner(role: str) -> Handler:
    def run(s: Session, args: str) -> str:
        case, who = s.need_case(), _member_named(s, args)
        setattr(case.owners, role, who)
        if role == "lead":
            case.events["lead-named"] = s.ctx.now
        s.diary(role, f"{role} owner: {who}")
        s.announce.append(f"{who} is now the {role} owner.")
        return f"{who} is now the {role} owner"
    return run


def _note(s: Session, args: str) -> str:
    if not args.strip():
        raise CommandError("usage: #note TEXT")
    s.diary("note", args.strip())
    return "noted in the diary (not relayed)"


def _choice(attr: str, allowed: tuple[str, ...]) -> Handler:
    def run(s: Session, args: str) -> str:
        value = args.strip().lower()
        if value not in allowed:
            raise CommandError(f"use one of: {', '.join(allowed)}")
        target = s.need_case() if attr == "kind" else s.need_case().triage
        setattr(target, "kind" if attr == "kind" else attr, value.upper()
                if attr == "priority" else value)
        s.diary(attr, value)
        return f"{attr} set to {value.upper() if attr == 'priority' else value}"
    return run


def _category(s: Session, args: str) -> str:
    value = args.strip().lower()
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", value):
        raise CommandError("usage: #category NAME (kebab-case, e.g. harassment)")
    s.need_case().triage.category = value
    s.diary("category", value)
    return f"category set to {value}"


def _risk(s: Session, args: str) -> str:
    found = dict(re.findall(r"(impact|likelihood)\s*=\s*(low|medium|high)", args.lower()))
    if set(found) != {"impact", "likelihood"}:
        raise CommandError("usage: #risk impact=low|medium|high likelihood=low|medium|high")
    case = s.need_case()
    impact, likelihood = LEVELS[found["impact"]], LEVELS[found["likelihood"]]
    case.risk.impact, case.risk.likelihood = impact, likelihood
    case.risk.score = impact * likelihood
    response = RESPONSES[(impact >= 2, likelihood >= 2)]
    s.diary("risk", f"impact {impact} x likelihood {likelihood} = {case.risk.score}")
    return f"risk = {impact} x {likelihood} = {case.risk.score}; suggested response: {response}"


def _reported(s: Session, args: str) -> str:
    email = next(iter(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", args)), None)
    handle = next(iter(re.findall(r"(?<![\w@])@([\w.-]+)", args)), None)
    rest = re.sub(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<![\w@])@[\w.-]+|[(),]", " ", args)
    name = " ".join(rest.split()) or None
    if not (email or handle or name):
        raise CommandError("usage: #reported NAME [email] [@handle]")
    case = s.need_case()
    person = ReportedPerson(name=name, email=email, handle=f"@{handle}" if handle else None)
    # A member's word replaces what was only found automatically in the text (a guess).
    guesses = sum(p.automatic for p in case.reported)
    case.reported = [*(p for p in case.reported if not p.automatic), person]
    replaced = f" (replacing {guesses} found automatically)" if guesses else ""
    s.diary("reported", f"reported person corrected{replaced}")
    told = _tell_unanswered(s, case, person)
    return (f"reported person recorded{replaced}; {told} member(s) who have not answered the "
            "notice are told")


def _tell_unanswered(s: Session, case: Case, person: ReportedPerson) -> int:
    """Members who have answered neither #clear nor #conflict learn who is reported, so that
    they can still declare a conflict; those who answered already are not asked again."""
    details = ", ".join(x for x in (person.name, person.handle, person.email) if x)
    told = 0
    for member in s.ctx.config.roster:
        email = normalise_email(member.email)
        if email in case.cleared or email in case.conflicts or email == case.taker:
            continue
        rendered = s.ctx.renderer.render("committee_update", "en", {
            "member_name": member.name, "committee_name": s.ctx.config.committee_name,
            "case": case_brief(case, s.ctx.config), "lines": [
                f"A committee member named the reported person on this case: {details}.",
                "If you have a conflict of interest with this person, reply #conflict; "
                "otherwise reply #clear to receive the report."]})
        spec = MailSpec(to=(Address(member.name, member.email),), subject=rendered.subject,
                        body=rendered.body,
                        references=(thread_root(case.id, s.ctx.config.message_id_domain),))
        mail = outgoing_mail(spec, case.id, "reported-correction", s.ctx)
        s.decision.outgoing.append(mail)
        s.decision.message_index[mail.id] = case.id
        told += 1
    return told


def _status(s: Session, args: str) -> str:
    value = args.strip().lower()
    if value == "closed":
        raise CommandError("use #close SUMMARY to close a case")
    if value not in STATUSES:
        raise CommandError(f"use one of: {', '.join(STATUSES)}")
    case = s.need_case()
    case.status = CaseStatus(value)
    case.events["status-since"] = s.ctx.now
    s.diary("status", value)
    s.announce.append(f"status is now {value}.")
    return f"status set to {value}"


def _reply(s: Session, args: str) -> str:
    case = s.need_case()
    if not args.strip():
        raise CommandError("usage: #reply TEXT (the text goes to the reporter)")
    if case.reporter.anonymous or not case.reporter.email:
        raise CommandError("the reporter is anonymous: there is no address to write to")
    s.replies.append(args.strip())
    case.events["last-reporter-update"] = s.ctx.now  # a personal answer counts as an update
    s.diary("reply", f"message to the reporter queued ({len(args.strip())} characters)")
    if normalise_email(case.reporter.email) in case.unreachable:
        return "queued for the reporter, but earlier mail to their address came back " \
               "undelivered: this will probably not reach them either"
    return "sent to the reporter from the conduct address (your name is not shown)"


def _propose(s: Session, args: str) -> str:
    case = s.need_case()
    try:
        motion = propose(case, args, s.member, s.ctx.now, s.mail.ladder)
    except MotionError as exc:
        raise CommandError(str(exc)) from exc
    s.diary("motion", f"motion {motion.number} proposed")
    s.announce.append(f"Motion {motion.number} proposed: {motion.text}\n"
                      "Vote with #vote yes, #vote no or #vote abstain.")
    return f"motion {motion.number} put to the cleared members"


def _vote(s: Session, args: str) -> str:
    case, rules = s.need_case(), s.ctx.config.decisions
    try:
        on_roster = {normalise_email(m.email) for m in s.ctx.config.roster}
        motion, tally = vote(case, s.member, args, s.ctx.now, rules.rule, rules.quorum,
                             [m for m in case.cleared if m in on_roster])
    except MotionError as exc:
        raise CommandError(str(exc)) from exc
    counted = f"yes {tally.yes}, no {tally.no}, abstain {tally.abstain} of {tally.electorate}"
    s.diary("vote", f"motion {motion.number}: {args.strip().lower()}")
    if tally.status == "passed":
        case.decision = motion.text
        case.status = CaseStatus.DECIDED
        s.diary("decision", f"motion {motion.number} passed ({counted}, rule {rules.rule})")
        s.announce.append(f"Motion {motion.number} PASSED ({counted}): {motion.text}")
    elif tally.status == "failed":
        s.diary("decision", f"motion {motion.number} failed ({counted}, rule {rules.rule})")
        s.announce.append(f"Motion {motion.number} FAILED ({counted}).")
    return f"vote recorded on motion {motion.number} ({counted}; {tally.status})"


def _urgent(s: Session, _args: str) -> str:
    """`#urgent`: the committee marks the case urgent (P1) and every cleared member is told."""
    case = s.need_case()
    if case.triage.urgent:
        return "the case is already urgent"
    case.triage.urgent, case.triage.priority = True, "P1"
    case.triage.urgent_reasons = sorted({*case.triage.urgent_reasons, "committee"})
    s.diary("urgent", "marked urgent by a member; priority P1")
    s.announce.append("the case is now URGENT (priority P1).")
    return "marked urgent (P1); the cleared members are told"


def _anonymous(s: Session, _args: str) -> str:
    """`#anonymous`: the reporter's name and address leave the case; the reporter is told."""
    case = s.need_case()
    if case.reporter.anonymous:
        return "the case is already anonymous"
    address = case.reporter.email
    if address:
        tell_reporter(s.decision, case, s.ctx, address)
    make_anonymous(s.decision, case, s.ctx, s.member)
    s.announce.append("the case is now anonymous: the reporter's name and address were removed "
                      "from it.")
    told = "; the reporter is told" if address else ""
    return f"the reporter's name and address were removed from the case{told}"


def _escrow(s: Session, _args: str) -> str:
    case = s.need_case()
    if case.status is not CaseStatus.ESCROWED:
        case.escrow_periods.append([s.ctx.now, None])  # the clocks pause
    case.status, case.escrow = CaseStatus.ESCROWED, True
    s.diary("escrow", "held in escrow")
    s.announce.append("the case is now held in escrow.")
    return "the case is held in escrow"


def _release(s: Session, _args: str) -> str:
    case = s.need_case()
    _releasable(s, _args)
    case.status, case.escrow = CaseStatus.INVESTIGATING, False
    if case.escrow_periods and case.escrow_periods[-1][1] is None:
        case.escrow_periods[-1][1] = s.ctx.now  # the clocks run again
    s.diary("release", "released from escrow")
    s.disclose.extend(m for m in case.cleared if m not in case.disclosed)
    s.announce.append("the case was released from escrow; the full report follows.")
    return "released from escrow"


def _link(s: Session, args: str) -> str:
    other = args.strip().upper()
    if not re.fullmatch(rf"{re.escape(s.ctx.config.case_prefix)}-\d{{4}}-\d{{4,}}", other):
        raise CommandError("usage: #link CASE-ID")
    case = s.need_case()
    if other not in case.links and other != case.id:
        case.links.append(other)
    s.diary("link", f"linked to {other}")
    return f"linked to {other}"


def _guard_public(case: Case, public: str | None) -> None:
    """A public line that names anyone the case knows is refused, saying who (not the name)."""
    found = leaks(public, [case]) if public else []
    if found:
        raise CommandError(f"the public line names {found[0][1]}: write it so that nobody "
                           "involved can be identified")


def _may_close(s: Session, case: Case) -> None:
    """`decisions.close_by`: the lead only, anyone after a passed motion, or anyone cleared."""
    rule = s.ctx.config.decisions.close_by
    if rule == "lead" and case.owners.lead != s.member:
        raise CommandError("only the case's lead may close or reopen it (decisions.close_by)")
    if rule == "motion" and not any(m.status == "passed" for m in case.motions):
        raise CommandError("a motion must pass before the case is closed (decisions.close_by)")


def _closable(s: Session, args: str) -> str:
    case = s.need_case()
    if case.status is CaseStatus.CLOSED:
        raise CommandError("the case is already closed (set its public line with #public TEXT)")
    _may_close(s, case)
    _guard_public(case, split_public(args + "\n" + s.mail.reply.discussion)[1])
    return ""


def _public(s: Session, args: str) -> str:
    """`#public TEXT`: the case's line in the transparency report, at any time."""
    case, text = s.need_case(), args.strip()
    if not text:
        raise CommandError("usage: #public TEXT (one generalised line, naming nobody)")
    _guard_public(case, text)
    case.public_summary = text
    s.diary("public", "the public summary line was set")
    return "the public summary line is set (nothing is published)"


def _close(s: Session, args: str) -> str:
    case = s.need_case()
    _closable(s, args)
    summary, public = split_public(args + "\n" + s.mail.reply.discussion)
    case.status, case.closed_at = CaseStatus.CLOSED, s.ctx.now
    case.summary = summary or case.summary
    case.public_summary = public or case.public_summary
    s.diary("closed", "closed" + (" with a public summary" if public else ""))
    s.announce.append(f"the case was closed: {case.summary or '(no summary)'}")
    if case.reporter_outcome or case.reporter.anonymous or not case.reporter.email:
        return "case closed"
    return "case closed; no #outcome was set, so the reporter gets the general closing " \
           "message (it says a decision was made, not which)"


def split_public(text: str) -> tuple[str, str | None]:
    """(summary, the `public:` line for the transparency report) from #close's text."""
    found = re.search(r"^\s*public:\s*(.+)$", text, re.MULTILINE | re.IGNORECASE)
    summary = re.sub(r"^\s*public:.*$", "", text, flags=re.MULTILINE | re.IGNORECASE)
    return " ".join(summary.split()), found.group(1).strip() if found else None


def _reopenable(s: Session, _args: str) -> str:
    case = s.need_case()
    if case.status is not CaseStatus.CLOSED:
        raise CommandError("the case is not closed")
    if s.ctx.config.decisions.close_by == "lead" and case.owners.lead != s.member:
        raise CommandError("only the case's lead may close or reopen it (decisions.close_by)")
    return ""


def _reopen(s: Session, _args: str) -> str:
    case = s.need_case()
    _reopenable(s, _args)
    case.status, case.closed_at = CaseStatus.INVESTIGATING, None
    s.diary("reopened")
    s.announce.append("the case was reopened.")
    return "case reopened"


def _statement(s: Session, _args: str) -> str:
    case = s.need_case()
    if case.status is not CaseStatus.CLOSED:
        raise CommandError("a public statement is drafted for a closed case (#close first)")
    if not case.public_summary:
        raise CommandError("the case has no public summary: set one with #public TEXT")
    s.statement = True
    s.diary("statement", "public statement drafted for the cleared members")
    return "a draft statement goes to the cleared members (nothing is published)"


def _outcome(s: Session, args: str) -> str:
    """`#outcome TEXT`: what the reporter is told when the case closes, in the committee's own
    words for them (never the motion text). Runs only after `#confirm` (see `COMMANDS`)."""
    case, text = s.need_case(), args.strip()
    if not text:
        raise CommandError("usage: #outcome TEXT (what the reporter is told when the case closes)")
    if "outcome" in case.sent:
        raise CommandError("the outcome mail was already sent to the reporter; write to them "
                           "with #reply")
    case.reporter_outcome = text
    s.diary("outcome", "the message to the reporter about the outcome was set")
    s.announce.append(f"The outcome message to the reporter is now:\n{text}")
    return "set: the reporter gets this text when the case is closed"


def _show(s: Session, _args: str) -> str:
    if s.need_case().status is CaseStatus.ESCROWED:
        raise CommandError("the report is held in escrow: it is not shown to anyone until "
                           "another report names the same person and its reporter consents")
    s.disclose.append(s.member)
    return "the case record follows in a separate mail"


def _original(s: Session, _args: str) -> str:
    """`#original`: the message as it was received (scrubbed for an anonymous report)."""
    if s.need_case().status is CaseStatus.ESCROWED:
        raise CommandError("the report is held in escrow: it is not shown to anyone until "
                           "another report names the same person and its reporter consents")
    if s.mail.original is None:
        raise CommandError("the original message is no longer kept (retention)")
    if MADE_ANONYMOUS in s.need_case().events:
        raise CommandError("the case was made anonymous after it arrived: the original message "
                           "still carries the reporter's address, so it is not sent")
    s.original = True
    return "the original message follows in a separate mail, attached as it was received"


def _list(s: Session, _args: str) -> str:
    rows = [f"{c.id} {c.code_name} {c.status.value}" for c in s.mail.member_cases]
    return "open cases you are cleared on:\n" + ("\n".join(f"      {r}" for r in rows)
                                                  or "      (none)")


def _help(_s: Session, _args: str) -> str:
    return "commands:\n" + "\n".join(f"      {spec.usage:<44} {spec.help}"
                                     for spec in COMMANDS.values())


COMMANDS: dict[str, Spec] = {
    "clear": Spec(_clear, "#clear", "no conflict of interest: get the report", needs_clear=False),
    "conflict": Spec(_conflict, "#conflict", "conflict of interest: leave the case for good",
                     needs_clear=False),
    "lead": Spec(_owner("lead"), "#lead NAME|me", "name the lead owner"),
    "secondary": Spec(_owner("secondary"), "#secondary NAME|me", "name the secondary owner"),
    "note": Spec(_note, "#note TEXT", "a diary note, not relayed"),
    "kind": Spec(_choice("kind", KINDS), "#kind enforcement|conflict-resolution", "the kind"),
    "category": Spec(_category, "#category NAME", "the category"),
    "priority": Spec(_choice("priority", ("p1", "p2", "p3", "p4")), "#priority P1..P4",
                     "the priority"),
    "risk": Spec(_risk, "#risk impact=L|M|H likelihood=L|M|H", "risk = impact x likelihood"),
    "reported": Spec(_reported, "#reported NAME [email] [@handle]", "correct who is reported"),
    "status": Spec(_status, "#status " + "|".join(STATUSES), "the status"),
    "reply": Spec(_reply, "#reply TEXT", "write to the reporter (translated)"),
    "propose": Spec(_propose, "#propose violation=yes|no consequences=K PLAN", "a motion"),
    "vote": Spec(_vote, "#vote yes|no|abstain", "vote on the open motion"),
    "urgent": Spec(_urgent, "#urgent", "mark the case urgent (P1)"),
    "anonymous": Spec(_anonymous, "#anonymous",
                      "remove the reporter's name and address from the case (they are told)"),
    "escrow": Spec(_escrow, "#escrow", "hold the case in escrow"),
    "release": Spec(_release, "#release", "release it from escrow (the reporter consented)",
                    destructive=True, check=_releasable),
    "link": Spec(_link, "#link CASE-ID", "link a related case"),
    "outcome": Spec(_outcome, "#outcome TEXT", "what the reporter is told at the close",
                    destructive=True),
    "close": Spec(_close, "#close SUMMARY (and a line public: TEXT)", "close the case",
                  destructive=True, check=_closable),
    "public": Spec(_public, "#public TEXT", "the case's line in the transparency report"),
    "reopen": Spec(_reopen, "#reopen", "reopen a closed case", destructive=True,
                   check=_reopenable),
    "show": Spec(_show, "#show", "mail me the case record"),
    "original": Spec(_original, "#original", "mail me the report as received (raw mail)"),
    "statement": Spec(_statement, "#statement", "draft the public statement (closed cases)"),
    "reclaim": Spec(lambda _s, _a: "", "#reclaim KEY", "open routed mail as a case (digest)",
                    needs_case=False, needs_clear=False),
    "list": Spec(_list, "#list", "open cases I am cleared on", needs_case=False,
                 needs_clear=False),
    "help": Spec(_help, "#help", "this list", needs_case=False, needs_clear=False),
}
