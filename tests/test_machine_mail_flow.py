"""The whole daemon on real-world mail: the reporters are answered, the machines are not.

Golden messages (tests/data/eai/, tests/data/machine/) are delivered into a Maildir and
`mailproc run --once` runs as its own process, reader process included, as an admin would
start it. What went out, and to whom, is read from the file outbox.
"""

from __future__ import annotations

import os
import subprocess
import sys
from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from harness import CONDUCT, ROSTER, Run, mail, mailproc, write_config

from mailproc.adapters.maildir import deliver

DATA = Path(__file__).parent / "data"
EAI = ["report-zh-idn-domain.eml", "report-de-umlaut-address.eml",
       "report-latin1-raw-headers.eml", "report-broken-headers.eml"]
REPORTERS = ["用户@例子.广告", "jörg@müller.de", "zoe.lefevre@example.fr", "kim@example.net"]
# The eight kinds of machine mail the issue found answered, and a subject-only bounce.
MACHINE = {
    "bounce-gateway-mail-could-not-be-delivered.eml": "bounce",
    "bounce-subject-en.eml": "bounce-subject",
    "autoreply-apple-vacation.eml": "vendor-auto-reply",
    "autoreply-notes-auto.eml": "vendor-auto-reply",
    "report-arf-feedback.eml": "abuse-report",
    "autoreply-exchange-fr-rules-loop.eml": "vendor-auto-reply",
    "autoreply-subject-out-of-office.eml": "auto-reply-subject",
    "bounce-notes-delivery-failure.eml": "bounce",
}


def _run_daemon(config: Path) -> Run:
    """`mailproc run --once` in a process of its own (it forks its reader, as in production)."""
    proc = subprocess.run([sys.executable, "-m", "mailproc.cli", "--config", str(config), "run",
                           "--once"], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))
    return Run(proc.returncode, proc.stdout, proc.stderr)


def _sent(tmp_path: Path, purpose: str = "*") -> list[EmailMessage]:
    """The mail in the file outbox; `purpose` as in its file name (ack, notice, …)."""
    out = []
    for path in sorted((tmp_path / "var" / "outbox").glob(f"*-{purpose}-mailproc.*.eml")):
        # UTF-8 headers (RFC 6532) read as text: the stdlib keeps raw bytes as escapes
        msg = message_from_string(path.read_text(encoding="utf-8"), policy=default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def _to(msg: EmailMessage) -> list[str]:
    return [a.addr_spec for a in msg["To"].addresses]


def test_eai_reporters_are_acknowledged_and_machine_mail_is_not(tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")})
    maildir = tmp_path / "var" / "mail"
    for name in EAI:
        deliver(maildir, (DATA / "eai" / name).read_bytes())
    for name in MACHINE:
        deliver(maildir, (DATA / "machine" / name).read_bytes())

    run = _run_daemon(config)
    assert run.code == 0, run.err
    rows = run.lines()
    assert sorted(r[0] for r in rows) == ["dropped"] * len(MACHINE) + ["report"] * len(EAI)
    assert sorted(r[-1] for r in rows if r[0] == "dropped") == sorted(MACHINE.values())
    assert "quarantined" not in run.out and "internal error" not in run.err

    acks = _sent(tmp_path, "ack")
    assert sorted(a for m in acks for a in _to(m)) == sorted(REPORTERS)
    members = {m["email"] for m in ROSTER}
    # Every other mail is a notice to a committee member: nothing for any machine sender.
    others = [m for m in _sent(tmp_path) if m["Message-ID"] not in {a["Message-ID"] for a in acks}]
    assert others and {a for m in others for a in _to(m)} <= members
    zh = next(m for m in acks if _to(m) == ["用户@例子.广告"])
    assert zh["In-Reply-To"] == "<20261123.094105.a7f3@例子.广告>"  # threads in their client
    assert zh["To"].addresses[0].display_name == "李用户"
    # The logs name no reporter.
    for reporter in REPORTERS:
        assert reporter not in run.err and reporter.split("@")[1] not in run.err


def test_an_autoresponder_without_any_signal_is_answered_at_most_the_daily_limit(
        tmp_path: Path) -> None:
    """The last guard: a loop that no header, subject or body gives away still costs at most
    `limits.acks_per_sender_per_day` answers; its mails are all kept as reports."""
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                          limits={"acks_per_sender_per_day": 2})
    for n in range(5):
        deliver(tmp_path / "var" / "mail", mail(
            "desk@vendor.example", f"Re: Your message (ticket {4000 + n})",
            "Thank you for contacting us. Your request has been received and will be "
            "handled as soon as possible."))
    run = mailproc(config, "run", "--once")
    assert [r[0] for r in run.lines()] == ["report"] * 5
    assert [_to(m) for m in _sent(tmp_path, "ack")] == [["desk@vendor.example"]] * 2


def test_our_own_acknowledgement_to_an_eai_reporter_coming_back_is_dropped(
        tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")})
    deliver(tmp_path / "var" / "mail", (DATA / "eai" / "report-zh-idn-domain.eml").read_bytes())
    assert mailproc(config, "run", "--once").code == 0
    (ack,) = [p for p in (tmp_path / "var" / "outbox").glob("*-ack-*.eml")]
    deliver(tmp_path / "var" / "mail", ack.read_bytes())  # a forwarder sends it back
    run = mailproc(config, "run", "--once")
    assert [(r[0], r[-1]) for r in run.lines()] == [("dropped", "own-loop")]
    assert CONDUCT in ack.read_text(encoding="utf-8")
