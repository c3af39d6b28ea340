"""Hostile content, end to end over a real Dovecot and a real SMTP server.

Golden mail written for this project (tests/data/hostile/, outcomes in expected.json):
header injection through the display name and the subject (encoded CR/LF + Bcc:), template
injection through the subject and the report text (Jinja2 `{{ }}`, `{% %}`, `{# #}`), HTML
with scripts, styles and event handlers, multiparts nested 40 deep. Built here because they
are big: 1,000 MIME parts, multiparts nested 1,300 deep, a 50 MB attachment, a zip bomb.

What a user would check: every mail that went out, to whom (nobody but the reporter and the
committee, never an address smuggled into a header), with only the headers we write; the
report text reaching the members literally; no script text in what they read; the big and
deep ones ending with a clear outcome, kept, and never crashing the run.
"""

from __future__ import annotations

import json
import time
import zipfile
import zlib
from email.message import EmailMessage
from email.utils import getaddresses
from io import BytesIO
from pathlib import Path

import pytest
from harness import ADMIN, ROSTER, imap_mailbox, mail, mailproc, show, smtp_outgoing, write_config
from servers import DovecotServer, RecordedMail, SmtpServer
from test_committee_flow import Committee
from test_fuzz_decide import ALLOWED_HEADERS

DATA = Path(__file__).parent / "data" / "hostile"
EXPECTED = json.loads((DATA / "expected.json").read_text())
MEMBERS = {m["email"] for m in ROSTER}


def _config(tmp_path: Path, dovecot: DovecotServer, smtp: SmtpServer) -> Path:
    return write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                        outgoing=smtp_outgoing(smtp),
                        auth={"trusted_authserv_ids": ["mx.example.org"]})


def _well_formed(sent: RecordedMail, allowed: set[str]) -> None:
    """Only our headers; envelope recipients are exactly those named in To:/Cc:; no address
    outside the reporters and the committee."""
    msg = sent.message
    assert {k.lower() for k in msg} <= ALLOWED_HEADERS, set(msg)
    named = {a.lower() for _, a in getaddresses([str(v) for k in ("To", "Cc")
                                                 for v in msg.get_all(k, [])])}
    assert {r.lower() for r in sent.rcpt_tos} <= named <= allowed, (sent.rcpt_tos, named)
    head = sent.data.partition(b"\r\n\r\n")[0].lower()
    # A smuggled name may show as text inside a quoted display name, never as a header line.
    assert not [line for line in head.split(b"\r\n") if line.startswith(b"bcc")]


def _full_report(c: Committee, case: str) -> EmailMessage:
    return next(m for m in c.to("alice@example.org")
                if "full report" in str(m["Subject"]) and case in str(m["Subject"]))


def test_golden_hostile_mail_has_its_expected_outcome(tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "mail")})
    run = mailproc(config, "triage", "--json", str(DATA))
    got = {Path(r["message"]).name: r["outcome"] for r in json.loads(run.out)}
    assert got == EXPECTED


@pytest.mark.slow
def test_injected_headers_and_templates_reach_nobody_and_text_stays_literal(
        dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path) -> None:
    c = Committee(dovecot, smtp_server, _config(tmp_path, dovecot, smtp_server))
    dovecot.append_many([(DATA / n).read_bytes() for n in ("injection-report.eml",
                                                           "html-script.eml")])
    assert [r[0] for r in c.run()] == ["report", "report"]
    # The reporter's acknowledgement goes to the reporter only, subject on one line.
    ack = [m for m in smtp_server.messages if "mallory@example.net" in m.rcpt_tos]
    assert len(ack) == 1 and ack[0].rcpt_tos == ("mallory@example.net",)
    assert "\n" not in str(ack[0].message["Subject"])
    for case in ("COC-2026-0001", "COC-2026-0002"):
        notice = next(m for m in c.to("alice@example.org") if case in str(m["Subject"]))
        c.member_says("alice", "#clear", notice)
    c.run()
    injected = c.body(_full_report(c, "COC-2026-0001"))
    for literal in ("{{ 7*7 }}", "{{ config.items() }}",
                    "{% for x in range(3) %}LOOP{% endfor %}",
                    "{{ case.reporter.email }}", "{# a comment #}"):
        assert literal in injected, literal
    assert "LOOPLOOP" not in injected and "49" not in injected
    assert show(c.config, "COC-2026-0001")["subject"].endswith("{{ config }} [{% raw %}]")
    html = c.body(_full_report(c, "COC-2026-0002"))
    assert "harassed me in the hallway" in html
    for planted in ("SCRIPT-TEXT", "ONLOAD-TEXT", "ONERROR-TEXT", "STYLE-TEXT",
                    "document.cookie", "<script", "<a href"):
        assert planted not in html, planted
    # A link's target is evidence: shown as text in a text/plain mail, never as a link.
    assert "click (javascript:alert('HREF-TEXT'))" in " ".join(html.split())
    allowed = MEMBERS | {"mallory@example.net", "htmlperson@example.net"}
    for sent in smtp_server.messages:
        _well_formed(sent, allowed)


def _many_parts(count: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Parts <parts@example.net>", "x@y", "many parts"
    msg.set_content("Someone insulted me in the project chat; the logs are attached.")
    for n in range(count):
        msg.add_attachment(f"log line {n}\n".encode(), maintype="text", subtype="plain",
                           filename=f"log{n}.txt")
    return msg.as_bytes().replace(b"To: x@y", b"To: conduct@example.org")


def _deep(depth: int) -> bytes:
    head = (b"From: deep@example.net\r\nTo: conduct@example.org\r\nSubject: deep\r\n"
            b"MIME-Version: 1.0\r\n")
    parts = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (d, d)
                     for d in range(depth))
    return head + parts + b"Content-Type: text/plain\r\n\r\nhello\r\n"


def _zip_bomb(expanded: int = 256 << 20) -> bytes:
    """One entry of `expanded` zero bytes, deflated (about 1/1000 of it)."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("evidence.txt")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as entry:
            zeros = bytes(1 << 20)
            for _ in range(expanded >> 20):
                entry.write(zeros)
    return buffer.getvalue()


@pytest.mark.slow
def test_huge_deep_and_bombed_mail_end_with_an_outcome_and_are_kept(
        dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path) -> None:
    config = _config(tmp_path, dovecot, smtp_server)
    bomb = _zip_bomb()
    assert len(bomb) < 1 << 20 and zlib.crc32(bomb)  # small on the wire, 256 MB unpacked
    big = mail("big@example.net", "Video of the incident", "The video is attached.",
               attachments=[("video.mp4", "video/mp4", bytes(50 * 1000 * 1000))])
    dovecot.append_many([
        _many_parts(1000), _deep(1300),
        mail("zip@example.net", "Screenshots", "Screenshots of the chat are in the zip.",
             attachments=[("screens.zip", "application/zip", bomb)]),
        big])
    started = time.monotonic()
    run = mailproc(config, "run", "--once")
    took = time.monotonic() - started
    assert run.code == 0, run.err
    rows = {r[3] if r[0] == "quarantined" else r[0]: r for r in run.lines()}
    outcomes = sorted(r[0] for r in run.lines())
    assert outcomes == ["quarantined", "quarantined", "report", "report"], run.out
    assert took < 60, took
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Quarantine")) == 2  # kept on the server, for a human
    reasons = " ".join(" ".join(r[3:]) for r in run.lines() if r[0] == "quarantined")
    assert "nesting too deep" in reasons and "larger than the size limit" in reasons, rows
    # The 1,000 parts and the zip are reports; the zip is stored as sent, never unpacked.
    cases = {c["id"]: show(config, c["id"]) for c in
             json.loads(mailproc(config, "cases", "--json").out)}
    zipped = next(c for c in cases.values() if c["attachments"]
                  and c["attachments"][0]["filename"] == "screens.zip")
    assert zipped["attachments"][0]["size"] == len(bomb)
    many = next(c for c in cases.values() if c["id"] != zipped["id"])
    assert len(many["attachments"]) <= 1000
    # The admin hears of the quarantined mail; nothing goes to anyone else.
    allowed = MEMBERS | {"parts@example.net", "zip@example.net", ADMIN}
    for sent in smtp_server.messages:
        _well_formed(sent, allowed)
    assert any(ADMIN in m.rcpt_tos for m in smtp_server.messages)
