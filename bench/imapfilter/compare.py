"""Filing one Dovecot INBOX three ways: imapfilter, `mailproc run --once`, mailproc's rules alone.

Each trial gets a fresh Dovecot seeded with the same messages (MULTIAPPEND in chunks), is timed
from start to exit, and is checked afterwards: INBOX empty, and every message's folder (by
Message-ID) compared with the folder it was written to end in (Routed or Processed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from equivalent import lua_config
from servers import DovecotServer, find_dovecot

from mailproc.cases.routing import triage_input
from mailproc.mail.parse import parse_message
from mailproc.triage.evaluate import RuleSet, evaluate

APPEND_CHUNK = 500  # one MULTIAPPEND per chunk: seeding at thousands of messages a second
BATCH = 200  # mailproc's default IMAP batch size, used by the rules-only run as well
TIMEOUT = 1800.0  # seconds any one filing run may take before the bench gives up on it


@dataclass(frozen=True)
class Filed:
    """One timed filing run and what it left on the server."""

    seconds: float
    folders: dict[str, str]  # Message-ID -> folder it ended in
    left_in_inbox: int
    ok: bool  # exit code 0 and nothing left in INBOX
    note: str = ""
    busy: float = 0.0  # cores busy machine-wide during the run


class Watch:
    """Cores busy machine-wide (from /proc/stat) between creation and `busy_cores()`."""

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    def busy_cores(self) -> float:
        busy, total = self._sample()
        return (busy - self.start[0]) / max(total - self.start[1], 1) * (os.cpu_count() or 1)


def fresh_server(messages: list[bytes]) -> DovecotServer:
    """A new Dovecot whose INBOX holds `messages` in order, dirty pages written out."""
    binary = find_dovecot()
    if binary is None:
        raise SystemExit("dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer(binary)
    server.start()
    for i in range(0, len(messages), APPEND_CHUNK):
        server.append_many(messages[i:i + APPEND_CHUNK])
    os.sync()  # writeback of the seed must not slow the run measured next
    time.sleep(0.5)
    return server


def folders_of(server: DovecotServer) -> tuple[dict[str, str], int]:
    """(Message-ID -> folder for every message outside INBOX, messages left in INBOX)."""
    where: dict[str, str] = {}
    left = 0
    with server.client() as imap:
        for _, _, name in imap.list_folders():
            imap.select_folder(name, readonly=True)
            uids = imap.search(["ALL"])
            if name == "INBOX":
                left = len(uids)
                continue
            got = imap.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
            for data in got.values():
                raw = data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode(errors="replace")
                where[raw.partition("<")[2].partition(">")[0]] = str(name)
    return where, left


def _finish(server: DovecotServer, seconds: float, code: int, note: str = "") -> Filed:
    folders, left = folders_of(server)
    return Filed(seconds, folders, left, code == 0 and left == 0, note)


def run_imapfilter(server: DovecotServer, rules_file: Path, workdir: Path) -> Filed:
    """imapfilter with the equivalent config, as a subprocess, start to exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "triage.lua"
    config.write_text(lua_config(rules_file), encoding="utf-8")
    env = dict(os.environ, HOME=str(workdir), BENCH_IMAP_HOST=server.host,
               BENCH_IMAP_PORT=str(server.port), BENCH_IMAP_USER=server.user,
               BENCH_IMAP_PASSWORD=server.password)
    start = time.perf_counter()
    done = subprocess.run(["imapfilter", "-c", str(config)], env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)
    seconds = time.perf_counter() - start
    errors = [ln for ln in done.stderr.splitlines() if "TRYCREATE" not in ln]
    return _finish(server, seconds, done.returncode, "; ".join(errors[:3]))


def run_mailproc(server: DovecotServer, config: Path, password_env: str) -> Filed:
    """`mailproc run --once` as a subprocess (start-up, filing and delivery), start to exit."""
    script = Path(sys.executable).parent / "mailproc"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mailproc.cli"]
    env = dict(os.environ, **{password_env: server.password})
    start = time.perf_counter()
    done = subprocess.run([*command, "--config", str(config), "run", "--once"], env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    seconds = time.perf_counter() - start
    return _finish(server, seconds, done.returncode, done.stderr.strip()[-300:]
                   if done.returncode else "")


def run_rules_only(server: DovecotServer, rules: RuleSet) -> Filed:
    """mailproc's parser and rules doing imapfilter's job: fetch, parse, evaluate, UID MOVE.

    No language detection, store, archive, outgoing mail or guard beyond what `evaluate` does;
    batches of 200 as the daemon fetches them, one MOVE per destination per batch.
    """
    start = time.perf_counter()
    with server.client() as imap:
        for folder in ("Routed", "Processed"):
            imap.create_folder(folder)
        imap.select_folder("INBOX")
        uids = sorted(imap.search(["ALL"]))
        for i in range(0, len(uids), BATCH):
            batch = uids[i:i + BATCH]
            got = imap.fetch(batch, ["BODY.PEEK[]"])
            moves: dict[str, list[int]] = {"Routed": [], "Processed": []}
            for uid in batch:
                raw = got[uid][b"BODY[]"]
                msg = parse_message(raw)
                decision = evaluate(rules, triage_input(msg, len(raw), "und", None))
                moves["Routed" if decision.route else "Processed"].append(uid)
            for folder, chosen in moves.items():
                if chosen:
                    imap.move(chosen, folder)
    return _finish(server, time.perf_counter() - start, 0)


def trial(messages: list[bytes], run: Callable[[DovecotServer], Filed]) -> Filed:
    """One filing run on a freshly seeded server (closed afterwards), with the machine's load."""
    server = fresh_server(messages)
    try:
        watch = Watch()
        filed = run(server)
        return replace(filed, busy=watch.busy_cores())
    finally:
        server.close()
