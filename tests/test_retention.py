"""Retention (issue 16 point 4): what a committee's data policy leaves of closed cases.

A real data directory, made by the real daemon from a real conversation: Sam reports Paul
Novak with a screenshot, the committee finds no violation and closes; Lucía reports Dan Brook,
the committee bans him and closes; Kim's report stays open. Then time passes (`--now`), and
the daily job, `mailproc purge` and a team hand-over act on it. After each, `mailproc verify`.
The policy's rules themselves are a table over case records (`decide`, pure).
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from harness import mail, mailproc, show, write_config
from test_committee_more import Box

from mailproc.cases.retention import Action, decide, handover
from mailproc.config.consequences import load_ladder
from mailproc.config.settings import RetentionConfig
from mailproc.model.parsed import CaseStatus
from mailproc.model.records import Case, Motion, ReportedPerson
from mailproc.store.files import DataDirLock

REPO = Path(__file__).resolve().parent.parent
SAM, LUCIA, KIM = "sam@example.net", "lucia@example.net", "kim@example.net"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
SAM_REPORT = ("At the sprint on Tuesday Paul Novak kept mocking my accent in front of everyone."
              "\n\nReported person: Paul Novak (@pnovak)")
LUCIA_REPORT = ("Dan Brook followed me to my hotel after the meetup and would not leave."
                "\n\nReported person: Dan Brook (@dbrook)")


class Committee(Box):
    """The conduct mailbox of `Box`, with retention configured and the clock settable."""

    def __init__(self, tmp_path: Path, retention: dict[str, Any] | None = None,
                 **extra: Any) -> None:
        self.root = tmp_path
        self.data = tmp_path / "var" / "data"
        self.config = write_config(
            tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail"),
                               "reader_process": False},
            auth={"trusted_authserv_ids": ["mx.example.org"]},
            consequences=str(REPO / "rules" / "consequences.yaml"),
            retention=retention or {}, **extra)

    def run_at(self, days: float) -> list[list[str]]:
        result = mailproc(self.config, "--now", _at(days), "run", "--once")
        assert result.code == 0, result.err
        return result.lines()

    def notice(self, case_id: str, who: str = "alice") -> EmailMessage:
        return next(m for m in self.sent(f"{who}@example.org", "New report")
                    if case_id in str(m["Subject"]))

    def decide_and_close(self, case_id: str, motion: str) -> None:
        """Alice and Bashir clear, vote a motion through, and Alice closes (confirmed)."""
        alice, bashir = self.notice(case_id), self.notice(case_id, "bashir")
        self.member("alice", "#clear\n#lead me", alice)
        self.member("bashir", "#clear", bashir)
        self.run()
        self.member("alice", f"#propose {motion}", alice)
        self.run()
        self.member("alice", "#vote yes", alice)
        self.member("bashir", "#vote yes", bashir)
        self.run()
        earlier = {m["Message-ID"] for m in self.sent("alice@example.org", "your commands")}
        self.member("alice", "#close looked into it", alice)
        self.run()
        (code,) = [found.group(1) for m in self.sent("alice@example.org", "your commands")
                   if m["Message-ID"] not in earlier
                   and (found := re.search(r"#confirm (\d{6})", self.text(m)))]
        self.member("alice", f"#confirm {code}", alice)
        self.run()
        assert show(self.config, case_id)["status"] == "closed"

    def files(self) -> dict[str, bytes]:
        """Every file under the data directory, by path (what a privacy officer would grep)."""
        return {str(p.relative_to(self.data)): p.read_bytes()
                for p in sorted(self.data.rglob("*")) if p.is_file()}

    def verify(self) -> None:
        result = mailproc(self.config, "verify")
        assert result.code == 0, result.out + result.err


def _at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def conversation(tmp_path: Path, retention: dict[str, Any] | None = None,
                 **extra: Any) -> Committee:
    """Three reports through the daemon: COC-2026-0001 closed as not upheld, -0002 closed with
    a ban (rank 5), -0003 open."""
    c = Committee(tmp_path, retention, **extra)
    c.send(mail(SAM, "Report", SAM_REPORT, name="Sam Rivera",
                attachments=[("screenshot.png", "image/png", PNG)]))
    c.send(mail(LUCIA, "Report", LUCIA_REPORT, name="Lucía Pérez"))
    c.run()
    c.decide_and_close("COC-2026-0001", "violation=no consequences=none Not a violation.")
    c.decide_and_close("COC-2026-0002", "violation=yes consequences=event-ban Ban him.")
    c.send(mail(KIM, "Report", "Someone shouted at me in the hallway.", name="Kim Lee"))
    c.run()
    return c


@contextlib.contextmanager
def daemon(c: Committee) -> Iterator[subprocess.Popen[str]]:
    """A real `mailproc run` holding the data directory, stopped with SIGTERM afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", "mailproc.cli", "--config", str(c.config),
                             "run"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        while not DataDirLock(c.data).held_elsewhere():
            assert proc.poll() is None and time.monotonic() < deadline, "daemon did not start"
            time.sleep(0.05)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_the_daily_job_deletes_raw_mail_then_expunges_and_keeps_the_ban(tmp_path: Path) -> None:
    c = conversation(tmp_path, {"raw_days": 30, "expunge_days": 90, "keep_rank_above": 2})
    before = show(c.config, "COC-2026-0001")
    diary_before = json.loads(mailproc(c.config, "diary", "COC-2026-0001", "--json").out)
    source = before["source_sha256"]
    shot = before["attachments"][0]["sha256"]
    assert (c.data / "archive" / source[:2] / f"{source}.eml").exists()

    # The chair looks first: nothing is due yet a day after, and the dry run changes nothing.
    assert mailproc(c.config, "--now", _at(1), "purge", "--dry-run").out == "nothing to purge\n"
    preview = mailproc(c.config, "--now", _at(31), "purge", "--dry-run").out
    assert re.search(r"COC-2026-0001 +closed \S+ +delete-raw +\(raw_days: 30\)", preview)
    assert re.search(r"COC-2026-0002 +kept: upheld with a consequence of rank 5", preview)
    assert "COC-2026-0003" not in preview and SAM not in preview and "Sam" not in preview
    assert (c.data / "archive" / source[:2] / f"{source}.eml").exists()

    # A month after closing, the daemon's daily job deletes the raw mail and the screenshot.
    c.run_at(31)
    after = show(c.config, "COC-2026-0001")
    assert not (c.data / "archive" / source[:2] / f"{source}.eml").exists()
    assert not (c.data / "blobs" / shot[:2] / shot).exists()
    assert after["attachments"][0]["sha256"] is None
    assert after["reporter"]["email"] == SAM  # the record itself stays until expunge_days
    diary = mailproc(c.config, "diary", "COC-2026-0001").out.splitlines()
    assert "retention" in diary[-1] and "raw mail and attachments deleted (raw_days: 30)" in \
        diary[-1]
    banned = show(c.config, "COC-2026-0002")["source_sha256"]
    assert (c.data / "archive" / banned[:2] / f"{banned}.eml").exists()
    c.verify()
    c.run_at(32)  # once a day, and only once: nothing more happens the next day
    assert len(mailproc(c.config, "diary", "COC-2026-0001").out.splitlines()) == len(diary)

    # After 90 days the case closed as not upheld keeps statistics only.
    out = mailproc(c.config, "--now", _at(91), "purge")
    assert out.code == 0 and "COC-2026-0001" in out.out and "expunge" in out.out
    gone = show(c.config, "COC-2026-0001")
    assert gone["reporter"]["email"] is None and gone["reporter"]["name"] == "expunged"
    assert gone["original_text"] == "expunged" and gone["subject"] == "expunged"
    assert [p["name"] for p in gone["reported"]] == ["expunged"]
    assert gone["identifiers"] == [] and gone["attachments"][0]["filename"] == "expunged"
    for key in ("status", "received_at", "acknowledged_at", "closed_at", "language", "triage",
                "sla", "risk", "code_name"):
        assert gone[key] == before[key], key
    assert [(m["violation"], m["consequences"], m["status"]) for m in gone["motions"]] == \
        [(False, ["none"], "passed")]
    diary_after = json.loads(mailproc(c.config, "diary", "COC-2026-0001", "--json").out)
    kinds = [e["kind"] for e in diary_after]
    assert kinds[:len(diary_before)] == [e["kind"] for e in diary_before]
    assert kinds[len(diary_before):] == ["retention", "retention"]
    assert "identifying fields expunged (expunge_days: 90)" in diary_after[-1]["detail"]
    assert "re-sealed" in diary_after[-1]["detail"]
    assert all(e["detail"] in ("", "expunged") for e in diary_after[:len(diary_before)])
    case_file = (c.data / "cases" / "COC-2026-0001.json").read_bytes()
    assert b"Paul Novak" not in case_file and SAM.encode() not in case_file
    assert b"mocking my accent" not in case_file
    # The ban and the open case are as they were.
    assert show(c.config, "COC-2026-0002")["reporter"]["email"] == LUCIA
    assert show(c.config, "COC-2026-0003")["reporter"]["email"] == KIM
    c.verify()


def test_a_handover_leaves_the_next_team_statistics_only(tmp_path: Path) -> None:
    c = conversation(tmp_path)  # no retention configured: the daily job does nothing
    c.run_at(400)
    assert show(c.config, "COC-2026-0001")["reporter"]["email"] == SAM
    plan = mailproc(c.config, "purge", "--handover", "--dry-run").out
    assert "COC-2026-0002" in plan and "COC-2026-0003 " in plan and "still open" in plan
    refused = mailproc(c.config, "purge", "--handover")
    assert refused.code == 2 and "--confirm handover" in refused.err
    assert show(c.config, "COC-2026-0002")["reporter"]["email"] == LUCIA

    done = mailproc(c.config, "purge", "--handover", "--confirm", "handover")
    assert done.code == 0, done.err
    for case_id in ("COC-2026-0001", "COC-2026-0002"):  # the ban too: seed 003
        record = show(c.config, case_id)
        assert record["reporter"]["email"] is None and record["original_text"] == "expunged"
        assert record["status"] == "closed" and record["motions"][0]["consequences"]
        diary = mailproc(c.config, "diary", case_id).out
        assert "identifying fields expunged (handover)" in diary
    assert show(c.config, "COC-2026-0003")["reporter"]["email"] == KIM  # still open
    closed_files = b"".join(v for k, v in c.files().items() if "COC-2026-0003" not in k
                            and not k.startswith("archive/"))
    assert b"Dan Brook" not in closed_files and LUCIA.encode() not in closed_files
    assert not any(b"Dan Brook" in v for k, v in c.files().items() if k.startswith("archive/"))
    c.verify()


def test_purge_refuses_while_the_daemon_holds_the_data_directory(tmp_path: Path) -> None:
    c = conversation(tmp_path, {"raw_days": 0, "keep_rank_above": 6})
    before = c.files()
    with daemon(c):
        refused = mailproc(c.config, "purge")
        assert refused.code == 2 and "daemon is running" in refused.err
        assert "COC-2026-0001" in mailproc(c.config, "purge", "--dry-run").out  # reads only
        for name in ("cases/COC-2026-0001.json", "cases/COC-2026-0002.json"):
            assert c.files()[name] == before[name]
    c.verify()


# ----------------------------------------------------------------------------- the rules


def _case(n: int, *, closed_days_ago: float | None, upheld: bool = False,
          consequences: tuple[str, ...] = (), ids: tuple[str, ...] = ()) -> Case:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    motion = Motion(number=1, text="x", proposed_by="a@example.org", at=now, status="passed",
                    violation=upheld, consequences=list(consequences))
    return Case(id=f"COC-2026-{n:04d}", code_name=f"case {n}", received_at=now,
                status=CaseStatus.CLOSED if closed_days_ago is not None else CaseStatus.NEW,
                closed_at=now - timedelta(days=closed_days_ago)
                if closed_days_ago is not None else None,
                motions=[motion], identifiers=list(ids),
                reported=[ReportedPerson(name="Someone Else")])


POLICY = RetentionConfig(raw_days=30, expunge_days=90, expunge_upheld_days=365,
                         keep_rank_above=2)
NOW = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("case", "others", "expected"), [
    (_case(1, closed_days_ago=10), [], []),
    (_case(1, closed_days_ago=31), [], [Action.RAW]),
    (_case(1, closed_days_ago=91), [], [Action.RAW, Action.EXPUNGE]),
    (_case(1, closed_days_ago=None), [], []),  # open cases are never purged
    (_case(1, closed_days_ago=91, upheld=True, consequences=("warning",)), [], [Action.RAW]),
    (_case(1, closed_days_ago=400, upheld=True, consequences=("warning",)), [],
     [Action.RAW, Action.EXPUNGE]),
    (_case(1, closed_days_ago=400, upheld=True, consequences=("event-ban",)), [], "kept"),
    (_case(1, closed_days_ago=91, ids=("h1",)), [_case(2, closed_days_ago=None, ids=("h1",))],
     "kept"),  # reported in another case: a repeat history
    (_case(1, closed_days_ago=91, ids=("possible:h1",)),
     [_case(2, closed_days_ago=None, ids=("possible:h1",))], [Action.RAW, Action.EXPUNGE]),
])
def test_the_policy_over_case_records(case: Case, others: list[Case],
                                      expected: list[Action] | str) -> None:
    ladder = load_ladder(REPO / "rules" / "consequences.yaml")
    index: dict[str, set[str]] = {}
    for c in [case, *others]:
        for ident in c.identifiers:
            index.setdefault(ident, set()).add(c.id)
    purges, kept = decide([case, *others], POLICY, ladder, index, NOW)
    if expected == "kept":
        assert purges == [] and [k.case_id for k in kept] == [case.id]
    else:
        assert [p.action for p in purges] == expected and kept == []


def test_a_handover_purges_every_closed_case_and_leaves_open_ones() -> None:
    ban = _case(1, closed_days_ago=1, upheld=True, consequences=("event-ban",))
    purges, still_open = handover([ban, _case(2, closed_days_ago=None)])
    assert [(p.case_id, p.action) for p in purges] == [
        ("COC-2026-0001", Action.RAW), ("COC-2026-0001", Action.EXPUNGE)]
    assert still_open == ["COC-2026-0002"]


def test_the_example_config_documents_every_retention_key() -> None:
    text = (REPO / "deploy" / "config.example.yaml").read_text()
    for key in RetentionConfig.model_fields:
        assert f"{key}:" in text, key
