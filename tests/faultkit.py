"""The kill -9 fault campaign, shared by `tests/test_faults_campaign.py` and `bench/faults.py`.

A mailbox of mixed mail (reports in seven languages, bulk, spam, auto-replies, bounces, list
mail, plus exact re-deliveries and broken messages) waits in a real Dovecot; the real daemon
(`mailproc run`, a subprocess with its reader process) sends over SMTP to a real aiosmtpd. Each
round starts the daemon and kills its whole process group with SIGKILL at a seeded random
moment: during start-up, or once the ingest log has passed a random point (then a few more
random milliseconds, so that kills land inside batches, commits, moves and outbox flushes).

After every kill the campaign checks what a restart relies on, with the daemon dead:
no message has two outcomes, no report opened two cases, the diary chains verify
(`mailproc verify`), and no reporter received two *different* acknowledgements. The same
acknowledgement (same Message-ID) delivered again is the documented window (README: a kill
between SMTP's "250" and the record of it resends, and clients show one message): it is
counted, not failed. At the end one `run --once` finishes the work and every message must
have exactly one outcome, in the folder that outcome says, and every reporter exactly one
acknowledgement.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

from harness import ROSTER, imap_mailbox, mailproc, smtp_outgoing, write_config
from servers import DovecotServer, SmtpServer

from mailproc.store.store import Store

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from corpus import Sample, generate  # noqa: E402

# Where each kind of message must end.
EXPECTED = {"report": "report", "newsletter": "dropped", "spam": "dropped",
            "autoreply": "dropped", "bounce": "dropped", "list": "dropped",
            "garbage": "quarantined"}
FOLDER_OF = {"report": "Processed", "dropped": "Junk", "quarantined": "Quarantine"}


def garbage(n: int, depth: int = 160) -> bytes:
    """Mail that cannot be read: multiparts nested deeper than the parser goes (quarantined)."""
    head = (f"From: deep{n}@example.com\r\nTo: conduct@example.org\r\nSubject: deep {n}\r\n"
            f"Message-ID: <deep.{n}@example.com>\r\nMIME-Version: 1.0\r\n")
    parts = [f'Content-Type: multipart/mixed; boundary="b{d}"\r\n\r\n--b{d}\r\n'
             for d in range(depth)]
    return (head + "".join(parts) + "Content-Type: text/plain\r\n\r\nhello\r\n").encode()


def mixed_mailbox(count: int, seed: int) -> list[Sample]:
    """`count` messages: the benchmark's public-address mix (10% reports), about 2% of them
    delivered twice (same bytes: the second is a duplicate, with the first's outcome), 1%
    broken beyond reading."""
    rng = random.Random(seed)
    twice = max(1, count // 50)
    broken = max(1, count // 100)
    samples = generate(count - twice - broken, seed, report_share=0.10)
    samples += [Sample("garbage", None, garbage(n)) for n in range(broken)]
    samples += [rng.choice(samples[:len(samples) - broken]) for _ in range(twice)]
    rng.shuffle(samples)
    return samples


@dataclass
class RoundResult:
    """What one kill left behind."""

    number: int
    when: str  # "start-up" or "after N done"
    done_before: int
    done_after: int
    violations: list[str]
    resent_acks: int


@dataclass
class Campaign:
    """One mailbox, one data directory, many kills (see the module docstring)."""

    root: Path
    dovecot: DovecotServer
    smtp: SmtpServer
    samples: list[Sample]
    rng: random.Random
    batch_size: int = 50  # small batches: many commits, many places to be killed between
    mailproc_bin: str = ""
    rounds: list[RoundResult] = field(default_factory=list)
    collapsed: int = 0  # identical re-deliveries found once in their folder
    config: Path = field(init=False)

    def __post_init__(self) -> None:
        mailbox = imap_mailbox(self.dovecot)
        mailbox["imap"]["batch_size"] = self.batch_size
        self.config = write_config(self.root, mailbox=mailbox,
                                   outgoing=smtp_outgoing(self.smtp))
        if not self.mailproc_bin:
            self.mailproc_bin = str(Path(sys.executable).with_name("mailproc"))
        self.dovecot.append_many([s.data for s in self.samples])

    # ------------------------------------------------------------ reading what happened

    @property
    def data_dir(self) -> Path:
        return self.root / "var" / "data"

    def done_records(self) -> list[dict[str, Any]]:
        log = self.data_dir / "ingest.jsonl"
        if not log.exists():
            return []
        out = []
        for line in log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by the kill
            if isinstance(record, dict) and record.get("e") == "done":
                out.append(record)
        return out

    def done_count(self) -> int:
        return len({r["k"] for r in self.done_records()})

    def acks(self) -> dict[str, list[str]]:
        """Reporter address -> Message-IDs of every acknowledgement delivered to it."""
        got: dict[str, list[str]] = defaultdict(list)
        for received in self.smtp.messages:
            for rcpt in received.rcpt_tos:
                if rcpt.startswith("reporter"):
                    got[rcpt].append(str(message_from_bytes(received.data)["Message-ID"]))
        return got

    # ------------------------------------------------------------ one round

    def spawn(self) -> subprocess.Popen[bytes]:
        log = open(self.root / "daemon.log", "ab")  # noqa: SIM115 (the child owns it)
        return subprocess.Popen([self.mailproc_bin, "--config", str(self.config), "run"],
                                stdout=subprocess.DEVNULL, stderr=log, env=dict(os.environ),
                                start_new_session=True)

    def kill_round(self, number: int, startup_share: float = 0.2, step: int = 0,
                   timeout: float = 30.0) -> RoundResult:
        """Start the daemon, SIGKILL its process group at a random moment, check.

        `step`: at most this many messages done before the kill (default: an eighth).
        """
        before = self.done_count()
        total = len(self.samples)
        proc = self.spawn()
        if self.rng.random() < startup_share or before >= total:
            # Start-up: journal replay, snapshot load, login, the first fetch.
            when = "start-up"
            time.sleep(self.rng.uniform(0.05, 1.2))
        else:
            target = min(total, before + self.rng.randint(1, step or max(1, total // 8)))
            when = f"after {target} done"
            deadline = time.monotonic() + timeout
            while self.done_count() < target and time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                time.sleep(0.005)
            time.sleep(self.rng.uniform(0.0, 0.08))
        with _suppress_gone():
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        result = RoundResult(number, when, before, self.done_count(), self.violations(),
                             self.resent_acks())
        self.rounds.append(result)
        return result

    def resent_acks(self) -> int:
        """Acknowledgements delivered again with the same Message-ID (the documented window)."""
        return sum(len(ids) - len(set(ids)) for ids in self.acks().values())

    def violations(self) -> list[str]:
        """What must hold after any kill (the daemon is dead while this runs)."""
        problems = []
        outcomes: dict[str, set[str]] = defaultdict(set)
        for record in self.done_records():
            outcomes[record["k"]].add(record["outcome"])
        twice = [k for k, v in outcomes.items() if len(v) > 1]
        if twice:
            problems.append(f"{len(twice)} message(s) with two outcomes")
        verify = mailproc(self.config, "verify")
        if verify.code != 0:
            problems.append(f"mailproc verify failed: {verify.out.strip()[:300]}")
        store = Store(self.data_dir, read_only=True)
        store.open()
        per_reporter = Counter(c.reporter.email or c.id for c in store.all_cases())
        doubled = [r for r, n in per_reporter.items() if n > 1]
        if doubled:
            problems.append(f"{len(doubled)} report(s) opened two cases")
        different = [r for r, ids in self.acks().items() if len(set(ids)) > 1]
        if different:
            problems.append(f"{len(different)} reporter(s) got two different acknowledgements")
        return problems

    # ------------------------------------------------------------ the end

    def finish(self) -> list[str]:
        """One `run --once` to finish; then every message must be where its outcome says."""
        final = mailproc(self.config, "run", "--once")
        problems = [] if final.code == 0 else [f"final run --once exited {final.code}"]
        problems += self.violations()
        by_key: dict[str, set[str]] = defaultdict(set)
        for record in self.done_records():
            by_key[record["k"]].add(record["outcome"])
        if len(by_key) != len(self.samples):
            problems.append(f"{len(by_key)} of {len(self.samples)} messages have an outcome")
        wanted = Counter(EXPECTED[s.kind] for s in self.samples)
        got = Counter(next(iter(v)) for v in by_key.values() if len(v) == 1)
        if got != wanted:
            problems.append(f"outcomes {dict(got)} != expected {dict(wanted)}")
        left = len(self.dovecot.messages("INBOX"))
        if left:
            problems.append(f"{left} message(s) left in the INBOX")
        for outcome, folder in FOLDER_OF.items():
            problems += self._folder_problems(folder, [s for s in self.samples
                                                       if EXPECTED[s.kind] == outcome])
        reporters = {_sender(s.data) for s in self.samples if s.kind == "report"}
        acks = self.acks()
        if set(acks) != reporters:
            problems.append(f"{len(reporters - set(acks))} reporter(s) never acknowledged")
        notices = Counter(rcpt for m in self.smtp.messages for rcpt in m.rcpt_tos
                          if "New report" in str(m.message["Subject"]))
        for member in ROSTER:
            if notices[member["email"]] < len(reporters):
                problems.append(f"a member got {notices[member['email']]} notices for "
                                f"{len(reporters)} reports")
        return problems

    def _folder_problems(self, folder: str, meant: list[Sample]) -> list[str]:
        """Every message meant for `folder` is there, nothing else is, and nothing twice.

        A byte-identical re-delivery may be there once instead of twice: a move retried
        after a kill looks for its copy by SHA-256 and takes the first delivery's copy for
        its own (README, known limits). Counted in `collapsed`, not failed.
        """
        stored = Counter(_crlf_sha(m) for m in self.dovecot.messages(folder))
        wanted = Counter(_crlf_sha(s.data) for s in meant)
        problems = []
        missing = [sha for sha in wanted if stored[sha] == 0]
        if missing:
            problems.append(f"{len(missing)} message(s) missing from {folder}")
        extra = [sha for sha in stored if stored[sha] > wanted[sha]]
        if extra:
            problems.append(f"{len(extra)} message(s) in {folder} too often or not meant there")
        self.collapsed += sum(wanted[sha] - stored[sha] for sha in wanted if stored[sha] > 0)
        return problems

    def daemon_errors(self) -> list[str]:
        """ERROR lines the daemon logged over the whole campaign (crashes show here)."""
        path = self.root / "daemon.log"
        if not path.exists():
            return []
        return [line for line in path.read_text(errors="replace").splitlines()
                if "ERROR" in line or "Traceback" in line]


def _crlf_sha(raw: bytes) -> str:
    """SHA-256 of a message as Dovecot stores it (CRLF line ends)."""
    return hashlib.sha256(re.sub(rb"\r?\n", b"\r\n", raw)).hexdigest()


def _sender(raw: bytes) -> str:
    from email.utils import parseaddr

    return parseaddr(str(message_from_bytes(raw)["From"]))[1]


class _suppress_gone:
    """A process group already gone is fine to kill again."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: object, tb: object) -> bool:
        return isinstance(exc, ProcessLookupError)
