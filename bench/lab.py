"""The bench's workbench: fresh servers and configs, the raw limit, timed mailproc runs, checks.

`Lab` owns a temporary directory, the aiosmtpd helper and every Dovecot it starts (each one
stopped by its own object, never by name). `run_mailproc` times `mailproc run --once` as a
subprocess; `verify` refuses a figure from a broken run (inbox not empty, cases or mails missing).
"""

from __future__ import annotations

import email
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from email import policy
from pathlib import Path
from typing import Any

from corpus import Sample
from harness import imap_mailbox, smtp_outgoing, write_config
from servers import DovecotServer, SmtpServer, find_dovecot

APPEND_CHUNK = 500  # messages per MULTIAPPEND: seeding at ~2,500 msg/s instead of ~110
FETCH_BATCH = 200  # mailproc's default IMAP batch size; the raw limit uses the same
NOTICES_PER_REPORT = 3  # the roster in tests/harness.py: one notice per member
OUTCOMES = ("report", "followup", "command", "routed", "dropped", "quarantined")


class Lab:
    """Temporary directory, SMTP helper and Dovecot servers of one benchmark run."""

    def __init__(self, root: Path, smtp: SmtpServer) -> None:
        self.root, self.smtp = root, smtp
        self._servers: list[DovecotServer] = []
        binary = find_dovecot()
        if binary is None:
            raise SystemExit("dovecot is not installed (apt-get install dovecot-imapd)")
        self.binary = binary

    def log(self, line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def dovecot(self, samples: list[Sample]) -> DovecotServer:
        """A fresh Dovecot whose INBOX holds `samples`, in order (MULTIAPPEND in chunks)."""
        server = DovecotServer(self.binary)
        self._servers.append(server)
        server.start()
        for i in range(0, len(samples), APPEND_CHUNK):
            server.append_many([s.data for s in samples[i:i + APPEND_CHUNK]])
        settle()
        return server

    def config(self, name: str, server: DovecotServer) -> Path:
        """A config (as tests/harness.py writes it) with its own data directory."""
        return Path(write_config(self.root / name, mailbox=imap_mailbox(server),
                                 outgoing=smtp_outgoing(self.smtp)))

    def data_dir(self, config: Path) -> Path:
        return config.parent.parent / "var" / "data"

    def close(self, keep: bool) -> None:
        """Delete every server's and run's files, only now: this disk is mounted with online
        discard, and deleting a trial's 10,000 files slows creating files ~10x for ~20 s, which
        would fall on the next trial's mailproc run (it archives every message) and not on the
        raw limit (it only reads)."""
        for server in self._servers:
            if keep:
                server.stop()
            else:
                server.close()
        if keep:
            self.log(f"kept {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


class CpuWatch:
    """CPU seconds used by processes outside the bench's own tree, sampled from /proc.

    Other work on the machine (another test suite, say) slows every figure here; this says how
    much there was. A process is ours when its parent chain leads to this process.
    """

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._ours: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-watch", daemon=True)
        self.started = time.monotonic()
        self._thread.start()

    def _sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        parents: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended meanwhile
            pid = int(entry.name)
            parents[pid] = int(fields[1])
            cpu = (int(fields[11]) + int(fields[12])) / tick
            self._first.setdefault(pid, cpu)
            self._last[pid] = cpu
        for pid in parents:
            chain, p = [], pid
            while p > 1 and p not in self._ours and p != os.getpid():
                chain.append(p)
                p = parents.get(p, 0)
            if p == os.getpid() or p in self._ours:
                self._ours.update(chain)
        self._ours.add(os.getpid())

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def others(self) -> tuple[float, float]:
        """(CPU seconds used by other processes, the same as an average number of cores)."""
        self._stop.set()
        self._thread.join()
        used = sum(self._last[p] - self._first[p] for p in self._last if p not in self._ours)
        return used, used / max(time.monotonic() - self.started, 1e-9)


QUIET_FILE_US = 150.0  # creating a small file (write + rename) takes less than this when quiet
QUIET_MAX_WAIT = 30.0


def disk_quiet(scratch: Path, files: int = 50) -> float:
    """Wait (at most QUIET_MAX_WAIT s) until creating files is as fast as usual; returns the wait.

    After a large delete this disk (ext4, online discard) creates files ~10x slower for ~20 s.
    mailproc archives every message in a file and the raw limit writes nothing, so a run of
    (b) that starts in such a spell would be charged for work done before it (a test suite,
    the previous benchmark).
    """
    started = time.monotonic()
    payload = b"x" * 3000
    while True:
        # A new directory each time, deleted with the lab at the end: deleting the probe's
        # files now would itself slow the run that follows.
        probe = scratch / f"{time.monotonic_ns()}"
        probe.mkdir(parents=True)
        t = time.perf_counter()
        for i in range(files):
            tmp = probe / f".probe{i}.tmp"
            tmp.write_bytes(payload)
            os.replace(tmp, probe / f"probe{i}")
        per_file = (time.perf_counter() - t) / files * 1e6
        waited = time.monotonic() - started
        if per_file < QUIET_FILE_US or waited > QUIET_MAX_WAIT:
            return waited
        time.sleep(2.0)


def settle() -> None:
    """Write dirty pages out now, so that writeback of what was just seeded does not slow
    the fsyncs of the run that is measured next."""
    os.sync()
    time.sleep(0.5)


def mailproc_command() -> list[str]:
    """The installed `mailproc` script next to this Python, else `python -m mailproc.cli`."""
    script = Path(sys.executable).parent / "mailproc"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mailproc.cli"]


def raw_limit(server: DovecotServer) -> float:
    """(a) messages/s: log in, list, FETCH BODY.PEEK[] in batches, parse each (policy.default)."""
    started = time.perf_counter()
    count = 0
    with server.client() as imap:
        imap.select_folder("INBOX", readonly=True)
        uids = sorted(imap.search(["ALL"]))
        for i in range(0, len(uids), FETCH_BATCH):
            batch = uids[i:i + FETCH_BATCH]
            got = imap.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                email.message_from_bytes(got[uid][b"BODY[]"], policy=policy.default)
                count += 1
    return count / (time.perf_counter() - started)


def deadline_tick(config: Path) -> tuple[float, float]:
    """Seconds of the daemon's deadline tick on this store: the first one after start, and the
    next (what every minute costs); run in-process with mailproc's own App, as the daemon does."""
    from mailproc.config.settings import load_config
    from mailproc.service.app import build_app
    from mailproc.service.scheduled import tick

    app = build_app(load_config(config))
    try:
        times = []
        for _ in range(2):
            started = time.perf_counter()
            tick(app.pipeline)
            times.append(time.perf_counter() - started)
        return times[0], times[1]
    finally:
        app.close()


def _case_files(lab: Lab, config: Path) -> int:
    cases = lab.data_dir(config) / "cases"
    return sum(1 for _ in cases.glob("*.json")) if cases.is_dir() else 0


def run_mailproc(lab: Lab, config: Path, server: DovecotServer, *,
                 timeout: float) -> dict[str, Any]:
    """Time one `mailproc --config X run --once` (a subprocess, default log level)."""
    env = {**os.environ, server.password_env: server.password}
    out, err = config.parent / "run.out", config.parent / "run.err"
    cases_before = _case_files(lab, config)
    lab.smtp.clear()
    started = time.perf_counter()
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.run([*mailproc_command(), "--config", str(config), "run", "--once"],
                              stdout=stdout, stderr=stderr, env=env, timeout=timeout,
                              check=False)
    seconds = time.perf_counter() - started
    outcomes = Counter(line.split()[0] for line in out.read_text().splitlines()
                       if line.split() and line.split()[0] in OUTCOMES)
    return {"seconds": seconds, "code": proc.returncode, "outcomes": outcomes,
            "cases_created": _case_files(lab, config) - cases_before,
            "mails_sent": len(lab.smtp.messages), "stderr": err}


def verify(lab: Lab, config: Path, server: DovecotServer, run: dict[str, Any],
           samples: list[Sample]) -> list[str]:
    """What is wrong with a finished run, as short phrases; [] when it did its whole job."""
    reports = sum(1 for s in samples if s.kind == "report")
    problems = []
    if run["code"] != 0:
        problems.append(f"exit code {run['code']} (see {run['stderr']})")
    left = len(server.messages("INBOX"))
    if left:
        problems.append(f"{left} messages left in INBOX")
    expected = Counter({"report": reports, "dropped": len(samples) - reports})
    if run["outcomes"] != expected:
        problems.append(f"outcomes {dict(run['outcomes'])}, expected {dict(expected)}")
    if run["cases_created"] != reports:
        problems.append(f"{run['cases_created']} cases created, expected {reports}")
    mails = reports * (1 + NOTICES_PER_REPORT)
    if run["mails_sent"] != mails:
        problems.append(f"{run['mails_sent']} mails reached SMTP, expected {mails}")
    return problems


def machine_description() -> dict[str, str]:
    """Cores, CPU model, RAM, OS, Python, Dovecot and library versions, for the table."""
    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    dovecot = _run(find_dovecot() or "dovecot", "--version")
    repo = str(Path(__file__).resolve().parent.parent)
    commit = _run("git", "-C", repo, "rev-parse", "--short", "HEAD")
    if _run("git", "-C", repo, "status", "--porcelain", "--", "mailproc") not in ("", "?"):
        commit += " + uncommitted changes in mailproc/"
    cpu = _cpuinfo()
    mem_kb = first("/proc/meminfo", "MemTotal").split()[0]
    virt = ", ".join(f"{kind}: {_run('systemd-detect-virt', '--' + kind)}"
                     for kind in ("vm", "container"))
    from importlib.metadata import version

    return {
        "cpu": f"{os.cpu_count()} cores, {cpu.get('model name', '?')} (family "
               f"{cpu.get('cpu family', '?')} model {cpu.get('model', '?')}, "
               f"{float(cpu.get('cpu MHz', 0)):.0f} MHz)",
        "ram": f"{int(mem_kb) / 1024 / 1024:.1f} GiB" if mem_kb.isdigit() else "?",
        "virtualisation": virt,
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": platform.python_version(),
        "dovecot": dovecot,
        "libraries": ", ".join(f"{p} {version(p)}" for p in (
            "imapclient", "aiosmtpd", "aiosmtplib", "tinydb", "langdetect", "pydantic")),
        "mailproc": f"{version('mailproc')} (commit {commit})",
        "disk": _filesystem(Path(os.environ.get("TMPDIR", "/tmp"))),
    }


def _cpuinfo() -> dict[str, str]:
    """The fields of the first processor in /proc/cpuinfo."""
    fields: dict[str, str] = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _run(*command: str) -> str:
    """First line of a command's output, or "?" when it is missing or fails."""
    if shutil.which(command[0]) is None:
        return "?"
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return (done.stdout.strip().splitlines() or ["?"])[0]


def _filesystem(path: Path) -> str:
    best = ("?", "?")
    for line in Path("/proc/mounts").read_text().splitlines():
        dev, mount, fstype = line.split()[:3]
        if str(path.resolve()).startswith(mount) and len(mount) >= len(best[0]):
            best = (mount, f"{fstype} on {dev}")
    return best[1]
