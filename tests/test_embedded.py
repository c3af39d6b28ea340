"""The embedded default (Maildir in, file outbox out): what `make run` shows a newcomer.

The demo samples are processed on first start; a mail dropped into var/mail/new while the
daemon runs is acknowledged within seconds; SIGTERM stops it cleanly; a second daemon on the
same data directory is refused.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from harness import mail, mailproc, show, write_config

from mailproc.adapters.maildir import deliver
from mailproc.store.files import DataDirLock


def _config(tmp_path: Path) -> Path:
    return write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail"),
                                           "poll_interval_seconds": 0.2})


def _outbox(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "var" / "outbox").glob("*.eml"))


def test_first_start_seeds_samples_and_handles_them(tmp_path: Path) -> None:
    config = _config(tmp_path)
    run = mailproc(config, "run", "--once", "--demo")
    assert run.code == 0, run.err
    assert "sample mails" in run.out
    outcomes = [row[0] for row in run.lines()]
    assert outcomes.count("report") >= 3
    assert "dropped" in outcomes  # the out-of-office and the bounce
    acks = [message_from_bytes(p.read_bytes(), policy=default) for p in _outbox(tmp_path)
            if "-ack-" in p.name]
    assert len(acks) == outcomes.count("report")
    assert len({a["Content-Language"] for a in acks}) >= 3  # several languages answered
    assert not list((tmp_path / "var" / "mail" / "new").iterdir())
    # A second start does not seed again.
    again = mailproc(config, "run", "--once", "--demo")
    assert "sample mails" not in again.out and again.lines() == []


def test_daemon_picks_up_a_new_mail_within_seconds_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = _config(tmp_path)
    (tmp_path / "var" / "mail").mkdir(parents=True)
    proc = subprocess.Popen([sys.executable, "-m", "mailproc.cli", "--config", str(config),
                             "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ))
    try:
        time.sleep(1.0)
        deliver(tmp_path / "var" / "mail",
                mail("sam@example.net", "Report", "I want to report harassment at the "
                     "meetup yesterday by a speaker who insulted me.", name="Sam"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any("-ack-" in p.name
                                                      for p in _outbox(tmp_path)):
            time.sleep(0.1)
        assert any("-ack-" in p.name for p in _outbox(tmp_path)), "no ack within 15 s"
        assert show(config, "COC-2026-0001")["reporter"]["name"] == "Sam"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err.decode()
    assert b"report" in out and b"COC-2026-0001" in out
    assert b"sam@example.net" not in err  # logs carry no addresses


def test_a_second_daemon_on_the_same_data_directory_is_refused(tmp_path: Path) -> None:
    config = _config(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "mailproc.cli", "--config", str(config),
                             "run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ))
    try:
        # Wait for the first daemon to hold the lock (a fixed sleep fails on a loaded machine).
        lock = DataDirLock(tmp_path / "var" / "data")
        deadline = time.monotonic() + 60
        while not lock.held_elsewhere() and time.monotonic() < deadline:
            assert proc.poll() is None, "the first daemon exited"
            time.sleep(0.1)
        second = mailproc(config, "run", "--once")
        assert second.code == 2
        assert "in use by another mailproc" in second.err
        # Reading is still possible while the daemon runs.
        assert mailproc(config, "cases").code == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


@pytest.mark.parametrize("junk", [
    {"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"}, {"List-Id": "<x.example.com>"},
    {"X-Spam-Flag": "YES"}, {"X-Autoreply": "yes"}, {"X-Auto-Response-Suppress": "All"},
])
def test_machine_mail_is_never_answered(tmp_path: Path, junk: dict[str, str]) -> None:
    config = _config(tmp_path)
    deliver(tmp_path / "var" / "mail", mail("someone@example.com", "Re: hello",
                                            "Harassment report? no, automatic.", headers=junk))
    run = mailproc(config, "run", "--once")
    assert [row[0] for row in run.lines()] == ["dropped"]
    assert _outbox(tmp_path) == []
    assert len(list((tmp_path / "var" / "mail" / ".Junk" / "cur").iterdir())) == 1


def test_acknowledgements_per_sender_are_rate_limited_but_reports_kept(tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                          limits={"acks_per_sender_per_day": 2})
    for n in range(4):
        deliver(tmp_path / "var" / "mail",
                mail("flood@example.net", f"Report {n}", f"Report number {n} about harassment."))
    run = mailproc(config, "run", "--once")
    assert [row[0] for row in run.lines()] == ["report"] * 4
    acks = [p for p in _outbox(tmp_path) if "-ack-" in p.name]
    assert len(acks) == 2


def test_anonymous_report_keeps_no_identity(tmp_path: Path) -> None:
    config = _config(tmp_path)
    raw = mail("dana.secret@example.net", "Report",
               "I want to stay anonymous. At the conference party on Friday, a speaker kept "
               "touching me after I asked him to stop.\n\nDana Secret", name="Dana Secret")
    deliver(tmp_path / "var" / "mail", raw)
    run = mailproc(config, "run", "--once")
    assert run.lines()[0][0] == "report"
    record = show(config, "COC-2026-0001")
    assert record["reporter"] == {"name": None, "email": None, "anonymous": True,
                                  "on_behalf_of": None, "contact": None}
    data_dir = tmp_path / "var" / "data"
    for path in data_dir.rglob("*"):
        if path.is_file() and path.name != "pepper":
            content = path.read_bytes()
            assert b"dana.secret@example.net" not in content, path
            assert b"Dana Secret" not in content, path
    # The one acknowledgement still reached the reporter, saying no follow-up is possible.
    (ack,) = [p for p in _outbox(tmp_path) if "-ack-" in p.name]
    assert b"dana.secret@example.net" in ack.read_bytes()
    # The mailbox, too, keeps only the scrubbed copy: the report is there, the identity not.
    maildir = tmp_path / "var" / "mail"
    kept = [p for p in maildir.rglob("*") if p.is_file() and p.parent.name in ("new", "cur")]
    assert len(kept) == 1 and kept[0].parent.parent.name == ".Processed"
    content = kept[0].read_bytes()
    assert b"dana.secret@example.net" not in content and b"Dana Secret" not in content
    assert b"kept touching me" in content.replace(b"=\n", b"")


def test_attachments_are_kept_by_hash_and_an_oversize_one_is_noted_not_dropped(
        tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                          limits={"max_attachment_bytes": 1000})
    small, big = b"\x89PNG\r\n\x1a\n" + b"a" * 200, b"%PDF-1.4\n" + b"b" * 5000
    deliver(tmp_path / "var" / "mail", mail(
        "sam@example.net", "Report with evidence", "Screenshots of the harassment attached.",
        attachments=[("chat.png", "image/png", small), ("log.pdf", "application/pdf", big)]))
    mailproc(config, "run", "--once")
    atts = {a["filename"]: a for a in show(config, "COC-2026-0001")["attachments"]}
    import hashlib

    assert atts["chat.png"]["size"] == len(small)
    assert atts["chat.png"]["sha256"] == hashlib.sha256(small).hexdigest()
    blob = tmp_path / "var" / "data" / "blobs" / atts["chat.png"]["sha256"][:2] / \
        atts["chat.png"]["sha256"]
    assert blob.read_bytes() == small
    assert atts["log.pdf"]["sha256"] is None and atts["log.pdf"]["size"] == len(big)
    assert "over the 1000-byte limit" in atts["log.pdf"]["note"]
    archived = list((tmp_path / "var" / "data" / "archive").rglob("*.eml"))
    assert len(archived) == 1 and b"JVBERi0xLjQK" in archived[0].read_bytes()  # the PDF, kept


def test_only_a_message_that_repeatedly_dies_alone_is_quarantined(tmp_path: Path) -> None:
    """Kills in the middle of batches never blame a message; dying alone 4 times does."""
    import json as _json

    config = _config(tmp_path)
    maildir = tmp_path / "var" / "mail"
    victim = deliver(maildir, mail("a@example.net", "Report", "Harassment at the meetup."))
    poison = deliver(maildir, mail("b@example.net", "Report", "Harassment in the chat."))
    log = tmp_path / "var" / "data" / "ingest.jsonl"
    log.parent.mkdir(parents=True, mode=0o700)
    # As if earlier runs died: both were in batches five times; one also died alone 4 times.
    lines = [{"e": "recv", "k": k, "sha": "0" * 64, "at": "2026-11-22T09:00:00+00:00"}
             for k in (victim, poison) for _ in range(5)]
    lines += [{"e": "try", "k": poison, "sha": "0" * 64, "at": "2026-11-22T09:00:00+00:00"}
              for _ in range(4)]
    log.write_text("".join(_json.dumps(line) + "\n" for line in lines))
    run = mailproc(config, "run", "--once")
    assert sorted((r[0], r[-1]) for r in run.lines()) == [
        ("quarantined", "repeatedly"), ("report", "new-report")]
