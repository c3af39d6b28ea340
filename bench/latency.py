"""Ack latency: the daemon idles on IMAP IDLE; one report is APPENDed at a time from another
session, and we time APPEND done -> the acknowledgement's DATA accepted by the SMTP helper.

Dovecot tells idling sessions about new mail ~500 ms after the APPEND (a fixed delay in its
source), so that much of every sample is the server's. Between samples the daemon is left idle
for 1-1.5 s so that each report really arrives during IDLE, as a real one would.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import time
from email import message_from_bytes
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from corpus import REPORT_LANGS, report
from lab import NOTICES_PER_REPORT, Lab, mailproc_command

START_TIMEOUT = 30.0
MAIL_TIMEOUT = 20.0


def nearest_rank(values: list[float], q: float) -> float:
    """The q-quantile by nearest rank (p95 of 30 samples is the 29th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _wait_for_log(path: Path, needle: str, proc: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        text = path.read_text(errors="replace") if path.exists() else ""
        if needle in text:
            return str(text)
        time.sleep(0.05)
    raise RuntimeError(f"daemon did not log {needle!r} within {START_TIMEOUT:.0f} s "
                       f"(exit code {proc.poll()})")


def _reports(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    langs = list(REPORT_LANGS)
    return [report(rng, 3_000_000 + i, langs[i % len(langs)]) for i in range(count)]


def ack_latency(lab: Lab, samples: int, name: str, data: Path | None = None,
                seed: int = 30) -> dict[str, Any]:
    """p50/p95 of APPEND -> ack at the SMTP server over `samples` reports; `data` is a data
    directory to run on (moved into place), else the store starts empty."""
    server = lab.dovecot([])
    config = lab.config(name, server)
    if data is not None:
        target = lab.data_dir(config)
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(data, target)
    env = {**os.environ, server.password_env: server.password}
    err = config.parent / "daemon.err"
    lab.smtp.clear()
    with open(config.parent / "daemon.out", "w") as out, open(err, "w") as errf:
        proc = subprocess.Popen([*mailproc_command(), "--config", str(config), "run"],
                                stdout=out, stderr=errf, env=env, start_new_session=True)
    acks: list[float] = []
    every: list[float] = []
    problems: list[str] = []
    try:
        log = _wait_for_log(err, "IMAP connected", proc)
        if "idle mode" not in log:
            problems.append("the daemon is not in IDLE mode")
        time.sleep(1.0)
        pause = random.Random(seed)
        with server.client() as imap:
            for i, raw in enumerate(_reports(samples, seed)):
                reporter = parseaddr(str(message_from_bytes(raw)["From"]))[1]
                base = i * (1 + NOTICES_PER_REPORT)
                imap.append("INBOX", raw)
                appended = time.monotonic()
                for k in range(base + 1, base + 2 + NOTICES_PER_REPORT):
                    got = lab.smtp.wait_for(k, timeout=MAIL_TIMEOUT)
                    if reporter in got[k - 1].rcpt_tos:
                        acks.append(time.monotonic() - appended)
                every.append(time.monotonic() - appended)
                time.sleep(1.0 + pause.uniform(0, 0.5))
        if len(acks) != samples:
            problems.append(f"{len(acks)} acks for {samples} reports")
        if server.messages("INBOX"):
            problems.append("reports left in INBOX")
    except (AssertionError, RuntimeError) as exc:
        problems.append(str(exc))
    finally:
        rss = peak_rss_mb(proc.pid)
        _stop(proc)
        server.close()
    result: dict[str, Any] = {"samples": samples, "acks": acks, "problems": problems, **rss}
    if acks:
        result.update(p50=statistics.median(acks), p95=nearest_rank(acks, 0.95),
                      max=max(acks), all_p50=statistics.median(every),
                      all_p95=nearest_rank(every, 0.95))
    lab.log(f"  {name}: ack latency over {len(acks)} reports: p50 {result.get('p50', 0):.3f} s, "
            f"p95 {result.get('p95', 0):.3f} s; peak RSS daemon {rss['rss_daemon_mb']:.0f} MB, "
            f"reader {rss['rss_reader_mb']:.0f} MB"
            f"{'  INVALID: ' + '; '.join(problems) if problems else ''}")
    return result


def peak_rss_mb(pid: int) -> dict[str, float]:
    """Peak resident memory (VmHWM) of the daemon and of its reader process, in MB (0: gone)."""
    def hwm(one: int) -> float:
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            return 0.0
        kb = next((line.split()[1] for line in status.splitlines()
                   if line.startswith("VmHWM:")), "0")
        return int(kb) / 1024

    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return {"rss_daemon_mb": hwm(pid),
            "rss_reader_mb": max((hwm(int(c)) for c in children), default=0.0)}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM our daemon (it finishes its round and exits), SIGKILL it if it does not."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
