"""A simulated month of a committee through the real daemon, with only the clock set.

Each step is a separate `mailproc --now TIME run --once` process over a Maildir with the file
outbox (the embedded default), and every mail each run writes is read back: who got it, in
which language, what it says. Three reports: Lucía's (Spanish), led by Bashir from the first
hour; Sam's, which nobody touches for ten days; and one held in escrow. Members answer by mail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from harness import mail, mailproc, write_config

from mailproc.adapters.maildir import deliver

D0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
TRUSTED = b"Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\n"
ALICE, BASHIR, CHEN = "alice@example.org", "bashir@example.org", "chen@example.org"
LUCIA, SAM, KIM = "lucia@example.net", "sam@example.net", "kim@example.net"
ONE_HOURS = re.compile(r"\b1 hours\b")


@dataclass
class Mail:
    purpose: str
    to: str
    language: str
    subject: str
    body: str  # whitespace collapsed: templates wrap lines
    message_id: str


class Month:
    """The committee's mailbox, and what each run of the daemon wrote to the outbox."""

    def __init__(self, root: Path) -> None:
        self.root, self.box = root, root / "var" / "mail"
        self.outbox = root / "var" / "outbox"
        self.config = write_config(
            root, mailbox={"maildir": str(self.box), "reader_process": False},
            auth={"trusted_authserv_ids": ["mx.example.org"]},
            deadlines={"digest": True, "digest_time": "08:00"})
        self.seen: set[str] = set()
        self.all: list[Mail] = []

    def run(self, when: datetime, *, env: bool = False) -> list[Mail]:
        """One `run --once` at `when` (--now, or MAILPROC_NOW); the mail it wrote."""
        moment = when.isoformat()
        args = ["--config", str(self.config), "run", "--once"]
        args = [*args, "--now", moment] if not env else args
        environ = {**os.environ, **({"MAILPROC_NOW": moment} if env else {})}
        done = subprocess.run([sys.executable, "-m", "mailproc.cli", *args], env=environ,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert f"the clock reads {when:%Y-%m-%dT%H:%M}" in done.stdout
        return self._new()

    def _new(self) -> list[Mail]:
        fresh = []
        for path in sorted(self.outbox.glob("*.eml")):
            if path.name in self.seen:
                continue
            self.seen.add(path.name)
            msg = message_from_bytes(path.read_bytes(), policy=default)
            body = msg.get_body(("plain",))
            assert body is not None
            purpose = path.name.split("-", 1)[1].rsplit("-mailproc.", 1)[0]
            fresh.append(Mail(purpose, str(msg["To"]).split("<")[-1].strip(">"),
                              str(msg["Content-Language"] or ""), str(msg["Subject"]),
                              " ".join(body.get_content().split()),
                              str(msg["Message-ID"]).strip("<>")))
        self.all += fresh
        return fresh

    def report(self, sender: str, name: str, subject: str, text: str) -> None:
        deliver(self.box, mail(sender, subject, text, name=name))

    def reply(self, member: str, case_id: str, text: str) -> None:
        """A member answers the notice of a case (authenticated by the receiving server)."""
        notice = next(m for m in self.all if m.purpose == "notice" and m.to == member
                      and case_id in m.subject)
        deliver(self.box, TRUSTED + mail(member, f"Re: {notice.subject}", text,
                                         in_reply_to=notice.message_id))

    def cli(self, when: datetime, *args: str) -> dict[str, object]:
        run = mailproc(self.config, *args, "--json", "--now", when.isoformat())
        assert run.code in (0, 2), run.err  # status exits 2: no daemon is running
        doc: dict[str, object] = json.loads(run.out)
        return doc


def sent(mails: list[Mail]) -> list[tuple[str, str]]:
    return sorted((m.purpose, m.to) for m in mails)


def one(mails: list[Mail], purpose: str, to: str) -> Mail:
    (found,) = [m for m in mails if m.purpose == purpose and m.to == to]
    return found


def at(days: float, hours: float = 0, seconds: float = 0) -> datetime:
    return D0 + timedelta(days=days, hours=hours, seconds=seconds)


def test_a_month_of_deadlines_through_the_daemon(tmp_path: Path) -> None:
    m = Month(tmp_path)
    m.report(LUCIA, "Lucía", "Denuncia", "Quiero denunciar acoso en el chat del proyecto. "
             "No me siento en peligro, pero sus mensajes no paran.")
    first = m.run(at(0))
    assert ("ack", LUCIA) in sent(first)
    assert one(first, "ack", LUCIA).language == "es"
    notice = one(first, "notice", ALICE)
    assert "URGENT" not in notice.subject and "Urgent: no" in notice.body  # "No me siento en…"
    m.report(KIM, "Kim", "Report", "Someone in the project harassed me at the meetup. "
             "Please hold this report until someone else reports him.")
    m.run(at(0, seconds=60), env=True)  # MAILPROC_NOW works as well
    m.reply(BASHIR, "COC-2026-0001", "#clear\n#lead me")
    m.run(at(0, hours=1))
    m.report(SAM, "Sam", "Report", "A speaker insulted me during the workshop on Tuesday.")
    m.run(at(1))

    # Sam's case: nobody clears it. At its first-action deadline the chair alone is told.
    escalated = m.run(at(2, seconds=30))
    assert [k for k in sent(escalated) if k[0] != "digest"] == [
        ("first-action-escalation", ALICE)]
    chair = one(escalated, "first-action-escalation", ALICE)
    assert "Nobody on the committee has cleared the case yet" in chair.body
    assert "Ask the members without a conflict of interest to answer the notice" in chair.body
    assert "less than an hour ago" in chair.body and not ONE_HOURS.search(chair.body)
    assert "Lucía" not in chair.body and LUCIA not in chair.body

    # The chair's digest lists the untouched case as overdue; the escrowed one is nobody's notice.
    digests = m.run(at(3, hours=1))
    digest = one(digests, "digest", ALICE)
    overdue = digest.body.split("Overdue", 1)[1].split("Notices", 1)[0]
    assert "COC-2026-0003" in overdue and "nobody has cleared it yet" in overdue
    assert "25 hours ago" in overdue
    for member in (ALICE, CHEN):
        assert "COC-2026-0002" not in one(digests, "digest", member).body  # held in escrow

    # Lucía's case: the decision reminder to its lead says what is due, not "#clear".
    reminder = one(m.run(at(6, hours=12, seconds=30)), "reminder", BASHIR)
    assert "#clear" not in reminder.body and "#lead" not in reminder.body
    assert "#propose" in reminder.body and "a decision" in reminder.body

    # `due --at` lists what the next tick sends; the tick then sends exactly that.
    preview = m.cli(at(6, hours=13), "due", "--at", at(7, seconds=30).isoformat())
    planned = sorted((str(r["kind"]), str(r["to"])) for r in preview["mails"])  # type: ignore
    week = m.run(at(7, seconds=30))
    assert [("reporter-update", LUCIA) if k == ("reporter-update", "reporter") else k
            for k in planned] == sent(week)
    assert ("reporter-update", LUCIA) in sent(week) and ("escalation", BASHIR) in sent(week)
    update = one(week, "reporter-update", LUCIA)
    assert update.language == "es" and "COC-2026-0001" in update.subject
    lead = one(week, "escalation", BASHIR)
    assert "as the case's lead" in lead.body and "next to the chair (Alice Moreno)" in lead.body

    top = m.run(at(7, hours=12, seconds=120))  # 12 hours after the lead step was queued
    chair = one(top, "escalation", ALICE)
    assert "COC-2026-0001" in chair.subject and "as the committee's chair" in chair.body
    assert "you are the last step" in chair.body and "next to the chair" not in chair.body
    assert "Ask the case's lead (Bashir Rahimi) what the decision is waiting for" in chair.body
    assert len([x for x in m.all if x.purpose == "escalation" and x.to == ALICE
                and "COC-2026-0001" in x.subject]) == 1

    # Sam's decision deadline: nobody cleared it, so its ladder starts (and ends) at the chair.
    sams = m.run(at(8, seconds=30))
    assert [x.subject for x in sams if x.purpose == "escalation"] == [
        "[COC-2026-0003] Overdue: decision"]
    assert one(sams, "reporter-update", SAM).language == "en"

    # The chair joins Lucía's case as its secondary: the ladder does not come back down.
    m.reply(ALICE, "COC-2026-0001", "#clear\n#secondary me")
    m.run(at(8, hours=1))
    m.run(at(9, hours=1))
    assert [x.body.split("receiving this as ")[1].split(".")[0] for x in m.all
            if x.purpose == "escalation" and x.to == ALICE and "COC-2026-0001" in x.subject
            ] == ["the committee's chair"]

    # Eighty hours after Sam's decision deadline Chen takes the lead: no mail crosses it.
    m.reply(CHEN, "COC-2026-0003", "#clear\n#lead me")
    took = m.run(at(11, hours=8, seconds=30))
    assert not [x for x in took if x.to == CHEN and x.purpose.endswith("escalation")]
    assert not [x for x in took if ONE_HOURS.search(x.body)]

    # Bashir closes Lucía's case: the outcome in Spanish, and nothing is due on it any more.
    m.reply(BASHIR, "COC-2026-0001", "#close No violation found\npublic: A chat dispute.")
    closing = m.run(at(12))
    code = one(closing, "transcript", BASHIR).body.split("#confirm ", 1)[1].split()[0]
    m.reply(BASHIR, "COC-2026-0001", f"#confirm {code}")
    closed = m.run(at(12, hours=1))
    assert one(closed, "outcome", LUCIA).language == "es"

    lucia = m.cli(at(12, hours=2), "show", "COC-2026-0001")
    assert lucia["status"] == "closed" and lucia["deadlines"] == {}
    sla = lucia["sla"]["reporter-update"]  # type: ignore[index]
    assert sla["missed"] is False and sla["late"] == []  # delivered 30 s after it was due
    assert lucia["delivered"]["reporter-update:1"].startswith(  # type: ignore[index]
        at(7).strftime("%Y-%m-%dT%H:%M"))
    assert m.cli(at(12, hours=2), "show", "COC-2026-0002")["deadlines"] == {}  # escrowed
    sam = m.cli(at(12, hours=2), "show", "COC-2026-0003")
    assert sam["overdue"] == ["decision"]
    status = m.cli(at(12, hours=2), "status")
    assert status["overdue_deadlines"] == 1
    # Everything the committee got named no reporter, and said hours properly.
    committee = [x for x in m.all if x.to in (ALICE, BASHIR, CHEN)
                 and x.purpose in ("reminder", "escalation", "first-action-escalation",
                                   "digest")]
    assert committee and not [x for x in committee if ONE_HOURS.search(x.body) or "Lucía" in x.body
                              or LUCIA in x.body or SAM in x.body or KIM in x.body]


def test_now_goes_before_or_after_the_command_and_due_previews_in_words(tmp_path: Path) -> None:
    m = Month(tmp_path)
    m.report(SAM, "Sam", "Report", "A speaker insulted me during the workshop on Tuesday.")
    assert mailproc(m.config, "--now", D0.isoformat(), "run", "--once").code == 0
    late = (D0 + timedelta(days=2)).isoformat()
    rows = m.cli(at(2), "cases")
    assert rows[0]["overdue"] == ["first-action"]  # type: ignore[index]
    assert rows[0]["next_deadline"] == "first-action"  # type: ignore[index]
    early = json.loads(mailproc(m.config, "--now", D0.isoformat(), "cases", "--json").out)
    assert early[0]["overdue"] == []
    text = mailproc(m.config, "due", "--now", late, "--at", "+1h")
    assert text.code == 0
    assert text.out.startswith("at 2026-11-04T10:00")
    assert "first-action-escalation" in text.out and ALICE in text.out
    assert "[COC-2026-0003]" not in text.out and "[COC-2026-0001] Overdue: first action" in text.out
    nothing = mailproc(m.config, "--now", D0.isoformat(), "due")
    assert nothing.out.splitlines()[0].endswith(": 0 mail(s) due")
    bad = mailproc(m.config, "--now", "next tuesday", "status")
    assert bad.code == 2 and "not a date and time: 'next tuesday'" in bad.err
    # A preview sends nothing and changes nothing: the next real tick still has it all to do.
    assert [x.purpose for x in m._new() if x.purpose != "digest"] == ["ack"] + ["notice"] * 3
    assert ("first-action-escalation", ALICE) in sent(m.run(at(2, hours=1)))
