"""Exactly-once ingest under SIGKILL: a daemon killed at several points loses and repeats nothing.

40 reports and 40 machine mails wait in a real Dovecot inbox. The daemon (a real subprocess,
IMAP in, SMTP out) is killed with SIGKILL six times at points spread over the work, then
finishes with `run --once`. Afterwards every message has exactly one outcome and sits in exactly
one folder, each report opened exactly one case, and every reporter got their acknowledgement:
possibly delivered twice if the kill fell between SMTP's "250 OK" and our record of it, but then
as the same message (same Message-ID), which mail clients show once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from harness import ROSTER, imap_mailbox, mail, mailproc, smtp_outgoing, write_config

REPORTS = 40


def _inbox() -> list[bytes]:
    messages = []
    for n in range(REPORTS):
        messages.append(mail(f"reporter{n}@example.net", f"Report number {n}",
                             f"Hello, I want to report harassment in the chat by user {n}. "
                             "They insulted me repeatedly in the public channel."))
        messages.append(mail(f"robot{n}@example.com", "Automatic reply", "I am away.",
                             headers={"Auto-Submitted": "auto-replied"}))
    return messages


def _done_keys(root: Path) -> set[str]:
    log = root / "var" / "data" / "ingest.jsonl"
    if not log.exists():
        return set()
    keys = set()
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by the kill
        if record.get("e") == "done":
            keys.add(record["k"])
    return keys


def _spawn(config: Path) -> subprocess.Popen[bytes]:
    log = open(config.parent.parent / "daemon.log", "ab")  # noqa: SIM115 (the child owns it)
    return subprocess.Popen([sys.executable, "-m", "mailproc.cli", "--config", str(config),
                             "run"], stdout=subprocess.DEVNULL, stderr=log,
                            env=dict(os.environ))


@pytest.mark.slow
def test_sigkill_at_any_point_loses_and_repeats_nothing(dovecot, smtp_server,
                                                        tmp_path: Path) -> None:
    dovecot.append_many(_inbox())
    mailbox = imap_mailbox(dovecot)
    mailbox["imap"]["batch_size"] = 4  # many commits, many places to be killed between
    config = write_config(tmp_path, mailbox=mailbox, outgoing=smtp_outgoing(smtp_server))
    rng = random.Random(20261122)
    progress = []
    # Kill points follow the work, not the wall clock: a fast machine must not finish before the
    # first kill. Each run is killed once the ingest log has passed its target, after a further
    # random few milliseconds so that kills land inside batches as well as between them.
    for target in (6, 18, 30, 44, 56, 68):
        proc = _spawn(config)
        deadline = time.monotonic() + 60
        while len(_done_keys(tmp_path)) < target and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        progress.append(len(_done_keys(tmp_path)))
    # The kills must have fallen in the middle of the work, not before or after it.
    print("progress after each kill:", progress)
    assert sum(1 for p in progress if 0 < p < 2 * REPORTS) >= 3, progress
    final = mailproc(config, "run", "--once")
    assert final.code == 0, final.err

    # Every message: one outcome, one folder, nothing left in the inbox.
    assert dovecot.messages("INBOX") == []
    where = {f: len(dovecot.messages(f)) for f in dovecot.folders()}
    reasons = [json.loads(line) for line in
               (tmp_path / "var" / "data" / "ingest.jsonl").read_text().splitlines()
               if '"done"' in line and '"report"' not in line and '"dropped"' not in line]
    errors = [line for line in (tmp_path / "daemon.log").read_text().splitlines()
              if "ERROR" in line]
    assert len(dovecot.messages("Processed")) == REPORTS, (
        where, [r["reason"] for r in reasons], errors)
    assert len(dovecot.messages("Junk")) == REPORTS
    outcomes: dict[str, set[str]] = defaultdict(set)
    for line in (tmp_path / "var" / "data" / "ingest.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["e"] == "done":
            outcomes[record["k"]].add(record["outcome"])
    assert len(outcomes) == 2 * REPORTS
    assert all(len(v) == 1 for v in outcomes.values())
    assert sorted(v.pop() for v in outcomes.values()).count("report") == REPORTS

    # One case per report, and every reporter acknowledged with one distinct message.
    cases = json.loads(mailproc(config, "cases", "--json").out)
    assert len(cases) == REPORTS
    acks: dict[str, set[str]] = defaultdict(set)
    notices: dict[str, set[str]] = defaultdict(set)
    for received in smtp_server.messages:
        msg = received.message
        for rcpt in received.rcpt_tos:
            if rcpt.startswith("reporter"):
                acks[rcpt].add(msg["Message-ID"])
            elif "New report" in str(msg["Subject"]):
                notices[rcpt].add(msg["Message-ID"])
    assert sorted(acks) == sorted(f"reporter{n}@example.net" for n in range(REPORTS))
    assert all(len(ids) == 1 for ids in acks.values()), "a reporter got two different acks"
    for member in ROSTER:
        assert len(notices[member["email"]]) == REPORTS
