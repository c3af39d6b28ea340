"""A full disk under the data directory: the daemon refuses cleanly, loses nothing, and resumes
when space returns.

The data directory lives on a small tmpfs of its own (mounted here: needs root, skipped with the
reason otherwise, and failed under CI=true like every integration test). The real daemon runs as
a subprocess over a real Dovecot and a real SMTP server. While the filesystem is full, reports
arrive: nothing may be moved off the server, acknowledged, or quarantined for it; the daemon
must stay up. Once space returns, every report is handled exactly once.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import missing
from harness import imap_mailbox, mail, mailproc, smtp_outgoing, write_config
from servers import DovecotServer, SmtpServer

from mailproc.adapters.mailbox import RawMessage
from mailproc.config.settings import load_config
from mailproc.service.app import build_app

REPORTS = 12
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
TEXT = "Someone insulted me at the meetup in front of everyone, and again in the chat."


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 6 MB tmpfs mounted at tmp_path/var (the data directory goes under it)."""
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        missing("mounting a size-limited tmpfs needs root and mount(8)")
    target = tmp_path / "var"
    target.mkdir()
    done = subprocess.run([str(mount), "-t", "tmpfs", "-o", "size=6m,mode=0755", "tmpfs",
                           str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        missing(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def _fill(directory: Path) -> Path:
    """Write a file until the filesystem says ENOSPC; returns it (delete it to free space)."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 16, 512, 1):  # down to the last byte that fits
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def _events(data_dir: Path, kind: str) -> list[dict[str, object]]:
    log = data_dir / "ingest.jsonl"
    out = []
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and rec.get("e") == kind:
            out.append(rec)
    return out


def _wait(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_a_full_disk_refuses_cleanly_loses_nothing_and_resumes(
        small_fs: Path, dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path) -> None:
    mailbox = imap_mailbox(dovecot)
    mailbox["imap"].update(reconnect_max_seconds=1, poll_interval_seconds=1)
    config = write_config(tmp_path, mailbox=mailbox, outgoing=smtp_outgoing(smtp_server))
    data_dir = tmp_path / "var" / "data"
    dovecot.append(mail("first@example.net", "Before the disk filled",
                        "Someone shouted insults at me during the meetup yesterday."))
    log = open(tmp_path / "daemon.log", "ab")  # noqa: SIM115 (the child owns it)
    proc = subprocess.Popen([str(Path(sys.executable).with_name("mailproc")), "--config",
                             str(config), "run"], stdout=subprocess.DEVNULL, stderr=log,
                            start_new_session=True)
    try:
        assert _wait(lambda: len(_events(data_dir, "done")) == 1, 30), "first mail not handled"
        smtp_server.wait_for(4, timeout=10)  # its ack and three notices
        filler = _fill(small_fs)
        reports = [mail(f"reporter{n}@example.net", f"Report {n}",
                        f"Person {n} harassed me in the project chat, repeatedly, last week.")
                   for n in range(REPORTS)]
        dovecot.append_many(reports)
        time.sleep(5)  # several rounds of trying against the full disk (backoff: 1 s)

        # Refused cleanly: still running, nothing moved, acknowledged or quarantined.
        assert proc.poll() is None, (tmp_path / "daemon.log").read_text()[-2000:]
        assert len(dovecot.messages("INBOX")) == REPORTS
        assert len(_events(data_dir, "done")) == 1
        assert len(smtp_server.messages) == 4
        # The admin asking `status` is told the disk is full, whatever status.json says.
        status = mailproc(config, "status", "--json")
        assert status.code == 2, status.out
        assert any(p.startswith("disk: the file system of") and "is full" in p
                   for p in json.loads(status.out)["problems"]), status.out

        filler.unlink()  # space returns
        assert _wait(lambda: len(_events(data_dir, "done")) == 1 + REPORTS, 40), \
            (tmp_path / "daemon.log").read_text()[-3000:]
        smtp_server.wait_for(4 * (1 + REPORTS), timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
    outcomes = [(e["k"], e["outcome"]) for e in _events(data_dir, "done")]
    assert len({k for k, _ in outcomes}) == len(outcomes) == 1 + REPORTS
    assert {o for _, o in outcomes} == {"report"}, outcomes
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Processed")) == 1 + REPORTS
    acks = sorted(r for m in smtp_server.messages for r in m.rcpt_tos
                  if r.startswith("reporter"))
    assert acks == sorted(f"reporter{n}@example.net" for n in range(REPORTS))
    assert mailproc(config, "verify").code == 0
    cases = json.loads(mailproc(config, "cases", "--json").out)
    assert len(cases) == 1 + REPORTS


def _fill_leaving(directory: Path, free: int) -> Path:
    """Fill the filesystem so that about `free` bytes (whole pages) are left."""
    reserve = directory / "reserve"
    reserve.write_bytes(bytes(free))
    filler = _fill(directory)
    reserve.unlink()
    return filler


def test_a_disk_that_fills_at_every_step_of_a_batch_opens_one_case_and_quarantines_nothing(
        small_fs: Path, tmp_path: Path) -> None:
    """The disk full at each step of handling a report in turn (archive, the received log,
    the journal, the commit's application), retried with one more page free each time.

    Two faults this found: a commit whose journal was written but not applied was applied
    only at the next start, after the message had been decided again (a second case and
    acknowledgement, or the wrong outcome); and each failed attempt counted towards
    quarantining the report as a message that kills the daemon."""
    config = load_config(write_config(tmp_path, mailbox={"maildir": str(tmp_path / "mail")},
                                      outgoing={"outbox_dir": str(tmp_path / "outbox")}))
    app = build_app(config, clock=lambda: NOW, rng=random.Random(1), translator=None)
    app.pipeline.handle_batch([RawMessage("k1", mail("first@example.net", "Report", TEXT))])
    report = RawMessage("k2", mail("second@example.net", "Another report", TEXT + " Again."))
    journal = tmp_path / "var" / "data" / "journal"
    failures, left_a_journal = 0, False
    for pages in range(40):
        filler = _fill_leaving(small_fs, pages * 4096)
        try:
            app.pipeline.handle_batch([report])
            break
        except OSError:
            failures += 1
            left_a_journal = left_a_journal or any(journal.glob("*.json"))
        finally:
            filler.unlink()
    assert failures >= 4 and left_a_journal, "the disk never filled inside a commit"
    app.close()
    reopened = build_app(config, clock=lambda: NOW, rng=random.Random(2), translator=None)
    try:
        done = reopened.store.done.get("k2")
        assert done is not None and done.outcome.value == "report", done
        reporters = sorted(c.reporter.email or "" for c in reopened.store.all_cases())
        assert reporters == ["first@example.net", "second@example.net"]
        acks = [m for m in reopened.store.pending_outgoing() if m.purpose == "ack"]
        assert sorted(r for m in acks for r in m.recipients) == reporters
        assert reopened.store.verify() == []
    finally:
        reopened.close()
