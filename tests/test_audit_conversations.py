"""Audit: whole conversations on the real servers, checked for every person who takes part.

Each conversation is driven the way people write: replies on top of a quote with a signature,
an Outlook header block, Spanish, a forward. After each step the test looks at the mails that
arrived at the SMTP test server, recipient by recipient (the reporter, each member, the chair,
a stranger, the admin): which mails they got, and that nothing they must not see is in them.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

from harness import ADMIN, imap_mailbox, mail, mailproc, show, smtp_outgoing, write_config
from servers import RecordedMail
from test_committee_flow import TRUSTED, Committee
from test_reporter_heard import _committee
from test_retention import _at

ALICE, BASHIR, CHEN = "alice@example.org", "bashir@example.org", "chen@example.org"
MEMBERS = (ALICE, BASHIR, CHEN)
SAM = "sam.rivera@example.net"
MALLORY = "mallory@example.com"

REPORT = ("Hi,\n\nI want to report harassment at the Lyon meetup on Saturday. Paul Novak made "
          "sexual comments about me in front of everyone and followed me to the bar.\n\n"
          "Reported person: Paul Novak (paul.novak@example.com)\n\n"
          "Thanks,\nSam Rivera\nsam.rivera@example.net\n")


class Audit:
    """The mails that arrived since a mark, per recipient."""

    def __init__(self, c: Committee) -> None:
        self.c = c
        self.mark = 0

    def new(self) -> list[RecordedMail]:
        """Every mail that arrived since the last call (and moves the mark)."""
        got = self.c.smtp.messages[self.mark:]
        self.mark += len(got)
        return got

    @staticmethod
    def text(m: RecordedMail) -> str:
        """Everything a recipient can read: headers, decoded text parts, attachment names."""
        msg = m.message
        parts = [str(msg["Subject"]), str(msg["From"]), str(msg["To"])]
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                parts.append(str(part.get_content()))
            if part.get_filename():
                parts.append(str(part.get_filename()))
        return "\n".join(parts) + "\n" + m.data.decode("utf-8", "replace")


def who_got(mails: list[RecordedMail]) -> Counter[str]:
    return Counter(r for m in mails for r in m.rcpt_tos)


def to(mails: list[RecordedMail], address: str) -> list[RecordedMail]:
    return [m for m in mails if address in m.rcpt_tos]


def subjects(mails: list[RecordedMail], address: str) -> list[str]:
    return sorted(str(m.message["Subject"]) for m in to(mails, address))


def none_contains(mails: list[RecordedMail], *secrets: str) -> None:
    for m in mails:
        text = Audit.text(m).lower()
        for secret in secrets:
            assert secret.lower() not in text, (secret, m.rcpt_tos, Audit.text(m)[:3000])


def reply(sender: str, about: EmailMessage, body: str, *, name: str = "",
          trusted: bool = False) -> bytes:
    raw = mail(sender, f"Re: {about['Subject']}", body, name=name,
               in_reply_to=str(about["Message-ID"]).strip("<>"))
    return (TRUSTED.encode() if trusted else b"") + raw


def quoted(msg: EmailMessage, c: Committee) -> str:
    return "\n".join("> " + line for line in c.body(msg).splitlines())


def _reported_and_answered(c: Committee, a: Audit) -> dict[str, EmailMessage]:
    """Sam reports; Alice and Bashir #clear (on top of the quote, signed); Chen #conflict
    (Outlook style). Returns each member's notice and the acknowledgement."""
    c.dovecot.append(mail(SAM, "Harassment at the Lyon meetup", REPORT, name="Sam Rivera"))
    assert c.run()[0][:2] == ["report", "COC-2026-0001"]
    first = a.new()
    assert who_got(first) == Counter({SAM: 1, ALICE: 1, BASHIR: 1, CHEN: 1})
    notice = {m: c.last_to(m, "New report") for m in MEMBERS}
    for member in MEMBERS:  # enough to judge a conflict, nothing of the report
        none_contains(to(first, member), "sexual comments", SAM, "Sam Rivera")
    c.dovecot.append(reply(ALICE, notice[ALICE], "#clear\n\nAlice\n-- \nAlice Moreno, CoC chair"
                           f"\n\nOn Sun, 22 Nov 2026 at 10:00, conduct@example.org wrote:\n"
                           f"{quoted(notice[ALICE], c)}\n", trusted=True))
    c.dovecot.append(reply(BASHIR, notice[BASHIR], "#clear\n\nSent from my phone",
                           trusted=True))
    outlook = ("#conflict\n\nI know him from work.\n\n________________________________\n"
               "From: Test Community CoC committee <conduct@example.org>\n"
               "Sent: Sunday, November 22, 2026 10:00 AM\nTo: Chen Wei <chen@example.org>\n"
               f"Subject: {notice[CHEN]['Subject']}\n\n{c.body(notice[CHEN])}\n")
    c.dovecot.append(reply(CHEN, notice[CHEN], outlook, trusted=True))
    assert [r[0] for r in c.run()] == ["command"] * 3
    record = show(c.config, "COC-2026-0001")
    assert record["cleared"] == [ALICE, BASHIR] and record["conflicts"] == [CHEN]
    return notice


def test_anonymous_by_one_word_reply_and_a_stranger_in_the_notice_thread(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Conversation 1. Sam reports; Alice and Bashir clear, Chen declares a conflict; Sam
    answers the acknowledgement "ANONYMOUS" the way a mail client writes it (signature, quote).

    Judgement calls: the word counts when it is all Sam wrote *now* (the quote and signature
    are not what she wrote); she gets exactly one confirmation (the receipt saying the case is
    anonymous, not a receipt and a second notice); the cleared members are told once. After
    that, her name (also her first name alone, as people sign) and address appear in no
    member's mail: relays of her later messages, #show, the updates, the digest. A stranger who
    replies into the notice thread (the notice was forwarded to him) opens a new report, linked,
    and hears nothing of case 1; Chen, conflicted on case 1, is not told that the new report is
    linked to it. The admin gets nothing: nothing failed."""
    c = _committee(dovecot, smtp_server, tmp_path)
    a = Audit(c)
    notice = _reported_and_answered(c, a)
    answered = a.new()
    assert who_got(answered) == Counter({ALICE: 2, BASHIR: 2, CHEN: 1})
    (transcript,) = to(answered, CHEN)
    assert str(transcript.message["Subject"]).endswith("your commands")
    for member in (ALICE, BASHIR):  # the full report names Sam: before anonymity, rightly
        (full,) = [m for m in to(answered, member) if "full report" in str(m.message["Subject"])]
        assert SAM in Audit.text(full) and "sexual comments" in Audit.text(full)
    none_contains(to(answered, CHEN), "sexual comments", SAM, "Sam Rivera")

    ack = c.last_to(SAM, "COC-2026-0001")
    c.dovecot.append(reply(SAM, ack, "ANONYMOUS\n\n-- \nSam Rivera\n\nOn Sun, 22 Nov 2026 at "
                           f"10:00, conduct@example.org wrote:\n{quoted(ack, c)}\n",
                           name="Sam Rivera"))
    assert [r[:2] for r in c.run()] == [["followup", "COC-2026-0001"]]
    made = a.new()
    record = show(c.config, "COC-2026-0001")
    assert record["reporter"]["anonymous"] and record["reporter"]["email"] is None
    (confirmation,) = to(made, SAM)  # exactly one
    assert "is now anonymous" in Audit.text(confirmation)
    assert sorted(m.rcpt_tos for m in made if "asked for anonymity" in Audit.text(m)) == [
        (ALICE,), (BASHIR,)]
    assert who_got(made) == Counter({SAM: 1, ALICE: 2, BASHIR: 2})  # the update, the relay
    assert to(made, CHEN) == [] and to(made, ADMIN) == []
    member_mail = [m for m in made if SAM not in m.rcpt_tos]
    none_contains(member_mail, SAM, "Sam Rivera")

    # Bashir forwarded his notice to a friend; the friend answers into the thread.
    fwd = notice[BASHIR]
    c.dovecot.append(mail(MALLORY, f"Re: Fwd: {fwd['Subject']}",
                          "Paul is a good guy, please drop this. MALLORY-TEXT\n\nMal\n\n"
                          "On Sun, 22 Nov 2026, Bashir Rahimi <bashir@example.org> wrote:\n"
                          "> FYI, see below.\n>\n> A new report has reached the Test Community "
                          "CoC committee.\n",
                          name="Mallory", in_reply_to=str(fwd["Message-ID"]).strip("<>")))
    assert [r[:2] for r in c.run()] == [["report", "COC-2026-0002"]]
    stranger = a.new()
    assert show(c.config, "COC-2026-0002")["links"] == ["COC-2026-0001"]
    assert show(c.config, "COC-2026-0001")["followups"][-1]["text"].startswith("ANONYMOUS")
    (mallory_ack,) = to(stranger, MALLORY)
    assert "COC-2026-0002" in str(mallory_ack.message["Subject"])
    # Her own subject is echoed back to her; nothing else of case 1.
    none_contains([mallory_ack], "sexual comments", "Lyon", SAM, "[anonymous]", "Paul Novak")
    assert "COC-2026-0001" not in c.body(mallory_ack.message).replace(
        f"Re: Fwd: {fwd['Subject']}", "")
    assert who_got(stranger) == Counter({MALLORY: 1, ALICE: 2, BASHIR: 2, CHEN: 1})
    for member in (ALICE, BASHIR):
        told = [m for m in to(stranger, member) if "COC-2026-0001" in str(m.message["Subject"])]
        assert len(told) == 1 and "COC-2026-0002" in Audit.text(told[0])
        none_contains(told, "MALLORY-TEXT")
    (chen_notice,) = to(stranger, CHEN)
    assert "COC-2026-0002" in str(chen_notice.message["Subject"])
    none_contains([chen_notice], "COC-2026-0001", "MALLORY-TEXT", SAM)
    none_contains(stranger, SAM, "Sam Rivera")

    # Sam writes again from her own address, replying to her acknowledgement, and signs.
    c.dovecot.append(reply(SAM, ack, "He messaged me again last night asking who I told.\n\n"
                           "Sam\n\nOn Sun, 22 Nov 2026 at 10:00, Test Community CoC committee "
                           f"<conduct@example.org> wrote:\n{quoted(ack, c)}\n",
                           name="Sam Rivera"))
    assert [r[:2] for r in c.run()] == [["followup", "COC-2026-0001"]]
    again = a.new()
    assert who_got(again) == Counter({SAM: 1, ALICE: 1, BASHIR: 1})
    for member in (ALICE, BASHIR):
        (relay,) = to(again, member)
        assert "He messaged me again last night" in Audit.text(relay)
    none_contains([m for m in again if SAM not in m.rcpt_tos], SAM, "Sam Rivera", "\nSam\n")

    # #show, a discussion, a motion, the votes, the close: nobody's mail names Sam.
    full = c.last_to(ALICE, "full report")
    c.dovecot.append(reply(ALICE, full, "#show\n#lead me\nWe should talk to Paul.\n\nAlice",
                           trusted=True))
    c.run()
    c.dovecot.append(reply(ALICE, full, "#propose violation=yes consequences=warning A warning.",
                           trusted=True))
    c.run()
    c.dovecot.append(reply(ALICE, full, "#vote yes", trusted=True))
    c.dovecot.append(reply(BASHIR, full, "#vote yes", trusted=True))
    c.dovecot.append(reply(CHEN, notice[CHEN], "#show", trusted=True))  # refused
    c.run()
    c.dovecot.append(reply(ALICE, full, "#outcome We spoke with the person.", trusted=True))
    c.run()
    work = a.new()
    shown = [m for m in to(work, ALICE) if "full report" in str(m.message["Subject"])]
    assert len(shown) == 1 and "He messaged me again" in Audit.text(shown[0])
    assert "anonymous" in Audit.text(shown[0])
    assert to(work, SAM) == [] and to(work, MALLORY) == [] and to(work, ADMIN) == []
    chen_work = to(work, CHEN)
    assert len(chen_work) == 1 and "Nothing was done" in Audit.text(chen_work[0])
    none_contains(chen_work, "sexual comments", "He messaged me", "A warning", "talk to Paul")
    none_contains(work, SAM, "Sam Rivera", "\nSam\n")

    # The next morning's digest and reminders.
    write_config(tmp_path, mailbox=imap_mailbox(dovecot), outgoing=smtp_outgoing(smtp_server),
                 auth={"trusted_authserv_ids": ["mx.example.org"]},
                 deadlines={"digest": True, "digest_time": "00:00"})
    assert mailproc(c.config, "--now", _at(2), "run", "--once").code == 0
    morning = a.new()
    assert to(morning, SAM) == [] and to(morning, MALLORY) == []
    none_contains(morning, SAM, "Sam Rivera", "\nSam\n")
    none_contains(to(morning, CHEN), "COC-2026-0001", record["code_name"])
    assert any("COC-2026-0001" in Audit.text(m) for m in to(morning, ALICE))


def test_a_member_makes_a_case_anonymous_after_a_follow_up(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Conversation 2. Sam follows up (her name in the relay: it was not anonymous then), then
    Bashir replies `#anonymous` to that relay.

    Judgement calls, as a privacy officer would expect: mail already delivered is history, but
    everything produced afterwards treats the case as if it had come anonymously. #show, the
    record that `mailproc show` prints and `mailproc export`'s archive (which may go to a
    lawyer or to another team) hold neither her name, her first name, nor her address; the raw
    messages she sent still carry them in their headers, so the export leaves them out and
    says why. Sam gets one mail telling her, and #reply has nowhere to go afterwards."""
    c = _committee(dovecot, smtp_server, tmp_path)
    a = Audit(c)
    _reported_and_answered(c, a)
    a.new()
    ack = c.last_to(SAM, "COC-2026-0001")
    c.dovecot.append(reply(SAM, ack, "Also: he sent me a DM on Sunday. I can forward it.\n\n"
                           "Best,\nSam\n\n> Thank you for writing to us.", name="Sam Rivera"))
    c.run()
    history = a.new()
    assert who_got(history) == Counter({SAM: 1, ALICE: 1, BASHIR: 1})
    relay = c.last_to(BASHIR, "the reporter wrote again")
    assert "he sent me a DM" in c.body(relay)

    c.dovecot.append(reply(BASHIR, relay, "I think she'd want this.\n#anonymous\n\nBashir\n\n"
                           f"On Sun, 22 Nov 2026, conduct@example.org wrote:\n"
                           f"{quoted(relay, c)}", trusted=True))
    c.run()
    made = a.new()
    (told,) = to(made, SAM)
    assert "is now anonymous" in Audit.text(told)
    none_contains([told], "Bashir", "Alice", "Chen", "I think she'd want")
    assert to(made, CHEN) == [] and to(made, ADMIN) == []
    none_contains([m for m in made if SAM not in m.rcpt_tos], SAM, "Sam Rivera", "\nSam\n")

    c.dovecot.append(reply(ALICE, c.last_to(ALICE, "full report"),
                           "#show\n#reply Could you forward the DM?", trusted=True))
    c.run()
    after = a.new()
    assert to(after, SAM) == [] and to(after, CHEN) == []
    (full,) = [m for m in to(after, ALICE) if "full report" in str(m.message["Subject"])]
    assert "he sent me a DM" in Audit.text(full) and "sexual comments" in Audit.text(full)
    transcript = [m for m in to(after, ALICE) if "your commands" in str(m.message["Subject"])]
    assert any("anonymous" in Audit.text(m) for m in transcript)
    none_contains(after, SAM, "Sam Rivera", "\nSam\n")

    printed = mailproc(c.config, "show", "COC-2026-0001", "--json")
    assert printed.code == 0 and "he sent me a DM" in printed.out
    for secret in (SAM, "Sam Rivera", "\\nSam\\n", "Sam,"):
        assert secret not in printed.out, secret
    out = tmp_path / "export.zip"
    exported = mailproc(c.config, "export", "COC-2026-0001", "--out", str(out))
    assert exported.code == 0, exported.err
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        for name in names:
            data = z.read(name).decode("utf-8", "replace")
            for secret in (SAM, "Sam Rivera", "\nSam\n"):
                assert secret not in data, (name, secret)
        assert "he sent me a DM" in z.read("case.json").decode()
        assert "made anonymous" in z.read("README.txt").decode()


SOPHIE = "sophie.martin@example.fr"
DATA = Path(__file__).parent / "data" / "names"


def test_a_correction_of_a_name_found_automatically_reaches_only_who_has_not_answered(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Conversation 3. Sophie's French report names Pierre Dubois only in its text (found
    automatically). Chen knows him and declares a conflict before reading; Alice clears and
    corrects the name with `#reported Pierre Dupont`; Bashir has not answered yet.

    Judgement calls: the correction goes to Bashir only (Alice made it; Chen is out of the
    case, and a corrected name is case content); Chen's conflict stands even though the name
    he reacted to was wrong (a member who declared is never drawn back in by mail: the chair
    can ask him). Sophie hears nothing of the committee's bookkeeping."""
    c = _committee(dovecot, smtp_server, tmp_path)
    a = Audit(c)
    dovecot.append((DATA / "fr_lyon.eml").read_bytes())
    assert c.run()[0][:2] == ["report", "COC-2026-0001"]
    first = a.new()
    assert who_got(first) == Counter({SOPHIE: 1, ALICE: 1, BASHIR: 1, CHEN: 1})
    for member in MEMBERS:
        assert "Pierre Dubois  (found automatically)" in Audit.text(to(first, member)[0])
    none_contains([m for m in first if SOPHIE not in m.rcpt_tos], "remarques sexistes",
                  SOPHIE, "Sophie")
    notice = {m: c.last_to(m, "New report") for m in MEMBERS}
    c.dovecot.append(reply(CHEN, notice[CHEN], "#conflict\n\nChen\nSent from my iPhone",
                           trusted=True))
    c.dovecot.append(reply(ALICE, notice[ALICE], "#clear", trusted=True))
    c.run()
    answered = a.new()
    assert who_got(answered) == Counter({ALICE: 2, CHEN: 1})
    none_contains(to(answered, CHEN), "remarques sexistes", "Camille", SOPHIE)

    full = c.last_to(ALICE, "full report")
    c.dovecot.append(reply(ALICE, full, "Sophie's name for him is wrong in the notice, it is "
                           "Dupont (I checked the meetup page).\n#reported Pierre Dupont\n\n"
                           f"Alice\n\nOn Sun, 22 Nov 2026, conduct@example.org wrote:\n"
                           f"{quoted(full, c)}", trusted=True))
    c.run()
    corrected = a.new()
    assert show(c.config, "COC-2026-0001")["reported"] == [
        {"name": "Pierre Dupont", "handle": None, "email": None, "automatic": False}]
    assert to(corrected, CHEN) == [] and to(corrected, SOPHIE) == []
    assert to(corrected, ADMIN) == []
    (to_bashir,) = to(corrected, BASHIR)
    assert "Pierre Dupont" in Audit.text(to_bashir) and "#conflict" in Audit.text(to_bashir)
    none_contains([to_bashir], "remarques sexistes", SOPHIE, "Camille", "meetup page")
    assert all("Pierre Dupont" in Audit.text(m) for m in to(corrected, ALICE))
    # Bashir clears on the corrected name and reads; Chen's conflict stands.
    c.dovecot.append(reply(BASHIR, to_bashir.message, "#clear", trusted=True))
    c.dovecot.append(reply(CHEN, notice[CHEN], "Oh, Dupont, not Dubois? Then #clear\n#clear",
                           trusted=True))
    c.run()
    last = a.new()
    record = show(c.config, "COC-2026-0001")
    assert record["conflicts"] == [CHEN] and CHEN not in record["cleared"]
    assert any("full report" in str(m.message["Subject"]) for m in to(last, BASHIR))
    chen_last = to(last, CHEN)
    assert len(chen_last) == 1 and "Nothing was done" in Audit.text(chen_last[0])
    none_contains(chen_last, "remarques sexistes", "Camille", SOPHIE, "Pierre Dupont")
    assert to(last, SOPHIE) == []


def test_a_reporter_address_refused_for_good(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Conversation 4. Sam's address is refused with 550 from the start (her acknowledgement is
    given up before anyone cleared); Kim's is refused only after the committee wrote to her.

    Judgement calls: the members who clear after the give-up learn it from the full report
    itself (otherwise nobody would ever tell them: nobody was cleared when it happened); the
    members cleared at the time are told once; the conflicted member learns nothing; a later
    #reply is refused with the reason and nothing is queued; the chair is told as a cleared
    member, the admin not at all (a reporter's address is not the admin's business, only a
    member's is). Three tries, then never again."""
    smtp_server.reject_recipient(SAM)
    c = _committee(dovecot, smtp_server, tmp_path)
    a = Audit(c)
    c.dovecot.append(mail(SAM, "Harassment at the Lyon meetup", REPORT, name="Sam Rivera"))
    codes = [mailproc(c.config, "run", "--once").code for _ in range(4)]
    assert codes[-1] == 0, codes  # given up: nothing waits, nothing retried forever
    first = a.new()
    assert who_got(first) == Counter({ALICE: 1, BASHIR: 1, CHEN: 1})  # the notices
    assert SAM in show(c.config, "COC-2026-0001")["unreachable"]
    notice = {m: c.last_to(m, "New report") for m in MEMBERS}
    c.dovecot.append(reply(ALICE, notice[ALICE], "#clear", trusted=True))
    c.dovecot.append(reply(BASHIR, notice[BASHIR], "#clear", trusted=True))
    c.dovecot.append(reply(CHEN, notice[CHEN], "#conflict", trusted=True))
    c.run()
    answered = a.new()
    assert who_got(answered) == Counter({ALICE: 2, BASHIR: 2, CHEN: 1})
    for member in (ALICE, BASHIR):
        (full,) = [m for m in to(answered, member) if "full report" in str(m.message["Subject"])]
        assert "CANNOT BE REACHED" in Audit.text(full)
    none_contains(to(answered, CHEN), "sexual comments", SAM, "refused", "reached")
    full = c.last_to(ALICE, "full report")
    c.dovecot.append(reply(ALICE, full, "#reply Could you tell us more?", trusted=True))
    codes = [mailproc(c.config, "run", "--once").code for _ in range(4)]
    assert codes[-1] == 0, codes
    (transcript,) = a.new()  # tried three times, given up; nobody told a second time
    assert transcript.rcpt_tos == (ALICE,)
    assert "will probably not reach them" in " ".join(Audit.text(transcript).split())
    diary = mailproc(c.config, "diary", "COC-2026-0001").out
    assert diary.count("was refused for good") == 2  # the acknowledgement, the #reply

    # Kim's case: her address works at first, and is refused for good after the #reply.
    kim = "kim@example.net"
    c.dovecot.append(mail(kim, "Report", "Dan Brook shouted at me in the hallway.\n\nReported "
                          "person: Dan Brook\n\nKim", name="Kim Lee"))
    c.run()
    notice = {m: c.last_to(m, "New report") for m in MEMBERS}
    c.dovecot.append(reply(ALICE, notice[ALICE], "#clear", trusted=True))
    c.dovecot.append(reply(BASHIR, notice[BASHIR], "#clear", trusted=True))
    c.dovecot.append(reply(CHEN, notice[CHEN], "#conflict", trusted=True))
    c.run()
    assert who_got(a.new()) == Counter({kim: 1, ALICE: 3, BASHIR: 3, CHEN: 2})
    smtp_server.reject_recipient(kim)
    full = c.last_to(ALICE, "full report")
    c.dovecot.append(reply(ALICE, full, "#reply When did it happen?", trusted=True))
    codes = [mailproc(c.config, "run", "--once").code for _ in range(4)]
    assert codes[-1] == 0, codes
    given_up = a.new()
    assert kim in show(c.config, "COC-2026-0002")["unreachable"]
    assert who_got(given_up) == Counter({ALICE: 2, BASHIR: 1})  # transcript; told once each
    for member in (ALICE, BASHIR):
        told = [m for m in to(given_up, member) if "cannot be" in Audit.text(m)]
        assert len(told) == 1 and "COC-2026-0002" in str(told[0].message["Subject"])
    c.dovecot.append(reply(BASHIR, full, "#reply Are you safe?", trusted=True))
    assert [mailproc(c.config, "run", "--once").code for _ in range(4)][-1] == 0
    (refused,) = a.new()  # Bashir's transcript; Alice is not told again
    assert refused.rcpt_tos == (BASHIR,)
    assert "will probably not reach them" in " ".join(Audit.text(refused).split())
    assert mailproc(c.config, "run", "--once").code == 0 and a.new() == []  # never again
    queue = (tmp_path / "var" / "data" / "outbox.json").read_text()
    assert kim not in queue and SAM not in queue

    # Sam, who never got our mail, writes from the same address asking for anonymity: her
    # address leaves the record everywhere, the list of unreachable addresses too.
    c.dovecot.append(mail(SAM, "Re: [COC-2026-0001] Harassment at the Lyon meetup",
                          "Anonymous\n\nSam", name="Sam Rivera"))
    assert [mailproc(c.config, "run", "--once").code for _ in range(4)][-1] == 0
    printed = mailproc(c.config, "show", "COC-2026-0001", "--json").out
    assert '"anonymous": true' in printed and SAM not in printed and "Sam Rivera" not in printed
    told = a.new()
    assert who_got(told) == Counter({ALICE: 2, BASHIR: 2})  # her receipt is refused, as ever
    none_contains(told, SAM, "Sam Rivera", "\nSam\n")


def test_a_removed_member_who_replies_to_an_old_notice(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Conversation 5. Bashir cleared and read case 1, then left the committee (`mailproc
    members remove`). He replies to his old full report: `#show`, a remark, `#reply` to Sam.

    Judgement calls: nothing he writes acts on the case or reaches anyone (not the members as
    discussion, not Sam); he gets nothing carrying case content: no full report, no relay of
    Sam's later follow-up, no notice of a new report. The chair and admin need no mail for
    it (the roster change was their own)."""
    c = _committee(dovecot, smtp_server, tmp_path)
    a = Audit(c)
    _reported_and_answered(c, a)
    a.new()
    old = c.last_to(BASHIR, "full report")
    removed = mailproc(c.config, "members", "remove", BASHIR)
    assert removed.code == 0, removed.err
    c.dovecot.append(reply(BASHIR, old, "#show\nI still think he should be banned. BASHIR-TEXT"
                           "\n#reply Sam, please call me. BASHIR-REPLY\n\nBashir\n\n"
                           f"On Sun, 22 Nov 2026, conduct@example.org wrote:\n{quoted(old, c)}",
                           trusted=True))
    ack = c.last_to(SAM, "COC-2026-0001")
    c.dovecot.append(reply(SAM, ack, "He wrote to me again today.", name="Sam Rivera"))
    c.dovecot.append(mail("rita@example.net", "Another report", "Dan Brook insulted me in the "
                          "chat.\n\nReported person: Dan Brook"))
    lines = c.run()
    assert [r[3] for r in lines if r[0] == "command"] == ["refused:removed-member"]
    after = a.new()
    assert to(after, BASHIR) == []
    none_contains(after, "BASHIR-TEXT", "BASHIR-REPLY")
    assert who_got(after) == Counter({SAM: 1, ALICE: 2, "rita@example.net": 1, CHEN: 1})
    record = show(c.config, "COC-2026-0001")
    assert record["status"] == "new" and record["owners"] == {"lead": None, "secondary": None}
    assert all("BASHIR" not in f["text"] for f in record["followups"])
    diary = mailproc(c.config, "diary", "COC-2026-0001").out
    assert "mail from a removed committee member; nothing done" in diary
    assert "BASHIR" not in diary


def test_forget_and_purge_then_show_and_a_new_report_about_the_same_person(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Conversation 6. Sam's case about Paul Novak is decided and closed; she follows up once
    more (signed with her first name). She asks to be forgotten (`mailproc forget`), and later
    the retention purge runs (raw mail deleted after 30 days). Then Rita reports Paul Novak.

    Judgement calls: a member's #show of the closed case, and the full report of Rita's case
    (which lists past cases about the same person), carry no trace of Sam: not her address,
    her full name, nor her first name as she signed; what happened and the decision stay (the
    committee needs the history of the reported person, not of the reporter). Chen, conflicted
    on Sam's case, sees it in Rita's case only as "an earlier case with a conflict"."""
    c = _committee(dovecot, smtp_server, tmp_path, retention={"raw_days": 30},
                   consequences=str(Path(__file__).parent.parent / "rules" /
                                    "consequences.yaml"))
    a = Audit(c)
    _reported_and_answered(c, a)
    ack = c.last_to(SAM, "COC-2026-0001")
    c.dovecot.append(reply(SAM, ack, "He apologised to me in person, for what it's worth.\n\n"
                           "Sam\n\n> Thank you for writing to us.", name="Sam Rivera"))
    c.run()
    full = c.last_to(ALICE, "full report")
    c.dovecot.append(reply(ALICE, full, "#propose violation=yes consequences=warning A warning.",
                           trusted=True))
    c.run()
    c.dovecot.append(reply(ALICE, full, "#vote yes", trusted=True))
    c.dovecot.append(reply(BASHIR, full, "#vote yes", trusted=True))
    c.run()
    c.dovecot.append(reply(ALICE, full, "#close Warning given", trusted=True))
    c.run()
    c.dovecot.append(reply(ALICE, full, f"#confirm {c.confirm_code(ALICE)}", trusted=True))
    c.run()
    assert show(c.config, "COC-2026-0001")["status"] == "closed"
    a.new()

    forgot = mailproc(c.config, "forget", SAM)
    assert forgot.code == 0, forgot.err
    assert SAM not in forgot.out
    purged = mailproc(c.config, "--now", _at(31), "purge")
    assert purged.code == 0, purged.err
    assert a.new() == []  # neither command writes to anyone

    record = mailproc(c.config, "show", "COC-2026-0001", "--json").out
    for secret in (SAM, "Sam Rivera", "\\nSam\\n"):
        assert secret not in record, secret
    assert "He apologised to me" in record and "Paul Novak" in record

    c.dovecot.append(reply(BASHIR, full, "#show", trusted=True))
    c.dovecot.append(mail("rita@example.net", "Paul again", "Paul Novak "
                          "(paul.novak@example.com) insulted me in the chat yesterday.\n\nRita",
                          name="Rita Gomez"))
    c.run()
    shown = a.new()
    (again,) = [m for m in to(shown, BASHIR) if "full report" in str(m.message["Subject"])]
    assert "He apologised to me" in Audit.text(again)
    none_contains(shown, SAM, "Sam Rivera", "\nSam\n")
    notice2 = {m: c.last_to(m, "COC-2026-0002") for m in MEMBERS}
    for member in MEMBERS:
        c.dovecot.append(reply(member, notice2[member], "#clear", trusted=True))
    c.run()
    second = a.new()
    rita_full = {m: [x for x in to(second, m) if "full report" in str(x.message["Subject"])]
                 for m in MEMBERS}
    assert "COC-2026-0001" in Audit.text(rita_full[ALICE][0])
    assert "COC-2026-0001" not in Audit.text(rita_full[CHEN][0])
    assert "an earlier case on which you declared a conflict" in Audit.text(rita_full[CHEN][0])
    none_contains(second, SAM, "Sam Rivera", "\nSam\n")
    assert to(second, SAM) == [] and to(second, ADMIN) == []
