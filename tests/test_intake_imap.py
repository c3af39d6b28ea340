"""Intake end to end against a real Dovecot and a real SMTP server, as conversations.

A reporter writes to the conduct address; the daemon (`mailproc run --once`) opens a case,
acknowledges in the reporter's language, tells each committee member without report content,
files the message on the server; machines get no answer; a reply lands on its case.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from harness import (
    ADMIN,
    CONDUCT,
    ROSTER,
    imap_mailbox,
    mail,
    mailproc,
    message_id_of,
    show,
    smtp_outgoing,
    write_config,
)

ES_REPORT = (
    "Hola,\n\nQuiero denunciar un caso de acoso. Durante la charla del sábado en la sala 3, "
    "Marcos Pérez me hizo comentarios sexuales delante de otras personas y luego me siguió "
    "hasta el pasillo. Me sentí muy incómoda y con miedo.\n\nFecha y hora: sábado 21 de "
    "noviembre, 15:30\nLugar: sala 3\nPersona denunciada: Marcos Pérez (@mperez)\n\nGracias,\n"
    "Lucía")
FR_REPORT = (
    "Bonjour,\n\nJe voudrais signaler le comportement d'un participant sur le forum du projet. "
    "Depuis deux semaines, il répond à tous mes messages avec des insultes et des moqueries "
    "sur mon accent. Voici un lien : https://forum.example.net/t/1234\n\nMerci de votre aide,"
    "\nCamille")
EN_REPORT = (
    "Hello,\n\nI want to report something that happened in the project chat yesterday. "
    "A maintainer, Tom Baker, told me that people like me should not be contributing and "
    "kept mocking my pull requests in the public channel.\n\nThanks for reading,\nSam")


def _by_recipient(messages: list[object]) -> dict[str, list[EmailMessage]]:
    out: dict[str, list[EmailMessage]] = {}
    for m in messages:
        for rcpt in m.rcpt_tos:  # type: ignore[attr-defined]
            out.setdefault(rcpt, []).append(m.message)  # type: ignore[attr-defined]
    return out


def test_reports_become_cases_and_are_acknowledged_in_their_language(
        dovecot, smtp_server, tmp_path: Path) -> None:
    es = mail("lucia@example.net", "Denuncia de acoso en la conferencia", ES_REPORT,
              name="Lucía Gómez")
    fr = mail("camille@example.com", "Signalement : insultes sur le forum", FR_REPORT)
    en = mail("sam@example.net", "Report about the project chat", EN_REPORT, name="Sam Lee")
    ooo = mail("bob@example.com", "Out of office", "I am away until Monday.",
               headers={"Auto-Submitted": "auto-replied"})
    spam = mail("win@example.biz", "You won", "Claim your prize", headers={"X-Spam-Flag": "YES"})
    dovecot.append_many([es, fr, en, ooo, spam])
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server))

    run = mailproc(config, "run", "--once")

    assert run.code == 0, run.err
    outcomes = sorted(row[0] for row in run.lines())
    assert outcomes == ["dropped", "dropped", "report", "report", "report"]
    # 3 acks + 3 notices for each of the 3 reports; nothing to the machines.
    received = smtp_server.wait_for(12)
    assert len(received) == 12
    by_rcpt = _by_recipient(received)
    assert "bob@example.com" not in by_rcpt and "win@example.biz" not in by_rcpt

    for reporter, raw, lang in (("lucia@example.net", es, "es"),
                                ("camille@example.com", fr, "fr"),
                                ("sam@example.net", en, "en")):
        (ack,) = by_rcpt[reporter]
        case_id = ack["Subject"].split("[", 1)[1].split("]", 1)[0]
        assert case_id.startswith("COC-2026-")
        assert ack["Content-Language"] == lang
        assert ack["In-Reply-To"].strip("<>") == message_id_of(raw)
        assert message_id_of(raw) in ack["References"]
        assert ack["Auto-Submitted"] == "auto-replied"
        assert ack["X-Mailproc-Loop"] == CONDUCT
        assert ack["From"].addresses[0].addr_spec == CONDUCT
        body = ack.get_body(("plain",)).get_content()
        assert case_id in body
        assert all(m["name"] in body for m in ROSTER)  # who will read the report
        record = show(config, case_id)
        assert record["language"] == lang
        assert record["reporter"]["email"] == reporter
        assert record["acknowledged_at"] is not None
        assert record["status"] == "new"

    # Every member got one notice per case, with no report content.
    for member in ROSTER:
        notices = by_rcpt[member["email"]]
        assert len(notices) == 3
        for notice in notices:
            text = notice.get_body(("plain",)).get_content()
            assert "acoso" not in text and "insultes" not in text and "mocking" not in text
            assert "#clear" in text
    spanish = show(config, by_rcpt["lucia@example.net"][0]["Subject"].split("[")[1][:13])
    assert spanish["reported"][0]["name"] == "Marcos Pérez"
    assert spanish["incident"]["where"] == "sala 3"

    # On the server: the inbox is empty, reports filed as processed, machines as junk.
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Processed")) == 3
    assert len(dovecot.messages("Junk")) == 2
    assert all("\\Seen" not in f for f in dovecot.flags("Processed"))


def test_a_reply_lands_on_its_case_and_is_not_a_new_report(
        dovecot, smtp_server, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server))
    dovecot.append(mail("sam@example.net", "Report about the project chat", EN_REPORT))
    assert mailproc(config, "run", "--once").code == 0
    ack = next(m.message for m in smtp_server.wait_for(4) if "sam@example.net" in m.rcpt_tos)
    case_id = ack["Subject"].split("[", 1)[1].split("]", 1)[0]
    smtp_server.clear()

    reply = mail("sam@example.net", f"Re: {ack['Subject']}",
                 "One more thing: it happened again this morning, screenshot attached.",
                 in_reply_to=ack["Message-ID"].strip("<>"),
                 attachments=[("chat.png", "image/png", b"\x89PNG\r\n\x1a\nfake")])
    by_tag = mail("sam@example.net", f"More about [{case_id}]", "And a witness: Ana.")
    dovecot.append_many([reply, by_tag])
    run = mailproc(config, "run", "--once")

    assert [row[:2] for row in run.lines()] == [["followup", case_id], ["followup", case_id]]
    record = show(config, case_id)
    assert [f["text"].split(":")[0] for f in record["followups"]] == ["One more thing",
                                                                      "And a witness"]
    # No second acknowledgement, but a short receipt for each: nobody cleared yet, so no relay.
    receipts = [m.message for m in smtp_server.messages]
    assert [m.rcpt_tos for m in smtp_server.messages] == [("sam@example.net",)] * 2
    assert all("reached the committee" in r["Subject"] and case_id in r["Subject"]
               for r in receipts)
    assert len(dovecot.messages("Processed")) == 3


def test_subject_tag_from_someone_else_does_not_reach_the_case(
        dovecot, smtp_server, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server))
    dovecot.append(mail("sam@example.net", "Report", EN_REPORT))
    mailproc(config, "run", "--once")
    dovecot.append(mail("mallory@example.com", "About [COC-2026-0001]",
                        "I am the person you are talking about and I want to know who it was."))
    run = mailproc(config, "run", "--once")
    assert run.lines()[0][:2] == ["report", "COC-2026-0002"]
    assert show(config, "COC-2026-0001")["followups"] == []


def test_smtp_down_delays_mail_and_loses_none(dovecot, smtp_server, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server))
    smtp_server.stop()
    dovecot.append(mail("sam@example.net", "Report about the project chat", EN_REPORT))
    first = mailproc(config, "run", "--once")
    # The report is handled; the run says the mail it could not deliver and exits 1.
    assert first.code == 1 and first.lines()[0][0] == "report"
    assert "4 mail(s) not delivered yet" in first.err
    assert show(config, "COC-2026-0001")["id"] == "COC-2026-0001"
    # Queued is not delivered: the acknowledgement's SLA is not met while SMTP is down.
    assert show(config, "COC-2026-0001")["sla"]["acknowledge"]["met_at"] is None

    smtp_server.start()
    second = mailproc(config, "run", "--once")
    assert second.code == 0
    assert show(config, "COC-2026-0001")["delivered"]["acknowledge"]
    delivered = smtp_server.wait_for(4)
    assert sorted(r for m in delivered for r in m.rcpt_tos) == sorted(
        ["sam@example.net"] + [m["email"] for m in ROSTER])
    third = mailproc(config, "run", "--once")  # nothing is sent twice
    assert third.code == 0 and len(smtp_server.messages) == 4


def test_malformed_mail_is_quarantined_kept_and_the_admin_told(
        dovecot, smtp_server, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server))
    broken = b"\x00\x01\x02 this is not a mail at all \xff\xfe\r\n"
    dovecot.append_many([broken, mail("sam@example.net", "Report", EN_REPORT)])
    run = mailproc(config, "run", "--once")
    assert sorted(r[0] for r in run.lines()) == ["quarantined", "report"]
    (kept,) = dovecot.messages("Quarantine")
    assert b"not a mail at all" in kept
    alerts = [m for m in smtp_server.wait_for(5) if ADMIN in m.rcpt_tos]
    assert len(alerts) == 1
    assert b"not a mail at all" not in alerts[0].data
    archived = list((tmp_path / "var" / "data" / "archive").rglob("*.eml"))
    assert any(p.read_bytes() == kept for p in archived)  # byte for byte as the server had it


def test_the_same_mail_delivered_again_is_handled_once(
        dovecot, smtp_server, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server))
    report = mail("sam@example.net", "Report", EN_REPORT)
    dovecot.append(report)
    mailproc(config, "run", "--once")
    # The same mail shows up in the inbox again under a new UID (a re-delivery, a restore).
    dovecot.append(report)
    run = mailproc(config, "run", "--once")
    assert run.lines()[0] == ["report", "COC-2026-0001", "-", "duplicate"]
    assert len([m for m in smtp_server.messages if "sam@example.net" in m.rcpt_tos]) == 1


def test_a_temporary_smtp_failure_is_retried_by_the_same_run_once(
        dovecot, smtp_server, tmp_path: Path) -> None:
    """A `run --once` (cron) retries what was refused for now in its last flush, backoff or
    not: the next chance would be the next run. The daemon's periodic flushes keep the
    backoff (tests/test_outbox_smtp.py)."""
    outgoing = {**smtp_outgoing(smtp_server), "retry_initial_seconds": 60}
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot), outgoing=outgoing)
    smtp_server.fail_next(2)  # the first two deliveries get "451 try again later"
    dovecot.append(mail("sam@example.net", "Report", EN_REPORT))
    run = mailproc(config, "run", "--once")
    assert run.code == 0, run.err
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == sorted(
        ["sam@example.net"] + [m["email"] for m in ROSTER])
    assert '"attempts":' not in (tmp_path / "var" / "data" / "outbox.json").read_text()


def test_an_anonymous_report_leaves_only_its_scrubbed_copy_on_the_server(
        dovecot, smtp_server, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server))
    dovecot.append_many([
        mail("dana.secret@example.net", "Report",
             "I want to stay anonymous. At the conference party on Friday, a speaker kept "
             "touching me after I asked him to stop.\n\nDana Secret", name="Dana Secret"),
        mail("sam@example.net", "Report about the project chat", EN_REPORT)])
    run = mailproc(config, "run", "--once")
    assert sorted(r[0] for r in run.lines()) == ["report", "report"]
    assert dovecot.messages("INBOX") == []
    processed = dovecot.messages("Processed")
    assert len(processed) == 2
    scrubbed = [m for m in processed if b"X-Mailproc-Scrubbed" in m]
    assert len(scrubbed) == 1
    assert b"dana.secret@example.net" not in scrubbed[0] and b"Dana Secret" not in scrubbed[0]
    assert any(b"sam@example.net" in m for m in processed)  # other mail is moved untouched
    again = mailproc(config, "run", "--once")  # nothing is replaced or moved twice
    assert again.code == 0 and len(dovecot.messages("Processed")) == 2
