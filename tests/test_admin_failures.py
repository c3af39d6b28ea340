"""When the outside world fails, the admin is told the cause: in the log, in `mailproc status
--json` (the failing part, since when, what waits) and in the alert that reaches them by the
second channel (`alerts.command`, here a script that appends its stdin to a file, and a CRIT
journal entry under systemd), never with a secret. Each failure is made for real: a wrong
password at Dovecot, a certificate from another CA, an SMTP server answering 535 or a closed
port, a translation server that hangs, a rules file that does not load.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from admin_helpers import RefusingSmtpServer, alerts_written, checked_config
from harness import ADMIN, imap_mailbox, mail, mailproc, smtp_outgoing
from libretranslate import LibreTranslateServer
from servers import free_port, make_cert

from mailproc.adapters.maildir import deliver

FAST_ALERTS = {"mailbox_unreachable_minutes": 0.01, "outbox_failure_minutes": 0.01,
               "translation_down_minutes": 0.01, "min_interval_minutes": 0.01,
               "check_interval_seconds": 0.5}


@contextmanager
def daemon(config: Path, log: Path, env: dict[str, str] | None = None,
           journal: bool = False) -> Iterator[subprocess.Popen[bytes]]:
    """`mailproc run` with its log (stderr) in a file; `journal`: that file is "the journal
    stream", as systemd sets JOURNAL_STREAM for a service whose stderr goes to the journal."""
    with log.open("wb") as err:
        extra = dict(env or {})
        if journal:
            info = os.fstat(err.fileno())
            extra["JOURNAL_STREAM"] = f"{info.st_dev}:{info.st_ino}"
        proc = subprocess.Popen([sys.executable, "-m", "mailproc.cli", "--config", str(config),
                                 "run"], stdout=subprocess.DEVNULL, stderr=err,
                                env={**os.environ, **extra})
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)


def wait_for_alert(root: Path, kind: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = alerts_written(root)
        if f"Problem:  {kind}" in text:
            return " ".join(text.split())  # the template wraps long lines
        time.sleep(0.1)
    raise AssertionError(f"no {kind} alert within {timeout} s: {alerts_written(root)!r}")


def failing(config: Path, part: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    run = mailproc(config, "status", "--json")
    doc = json.loads(run.out)
    found = [f for f in doc["failing"] if f["part"] == part]
    assert found, doc
    return run.code, doc, found[0]


def test_a_wrong_imap_password_is_said_in_the_log_status_alert_and_journal(
        dovecot, smtp_server, tmp_path: Path) -> None:
    mailbox = imap_mailbox(dovecot)
    mailbox["imap"]["reconnect_max_seconds"] = 1
    config = checked_config(tmp_path, mailbox=mailbox, outgoing=smtp_outgoing(smtp_server),
                            alerts=FAST_ALERTS)
    log = tmp_path / "daemon.log"
    with daemon(config, log, {dovecot.password_env: "not-the-password"}, journal=True):
        alert = wait_for_alert(tmp_path, "mailbox-unreachable")
        code, doc, mailbox_failure = failing(config, "mailbox")
    assert "the IMAP server refused the login: wrong username, password or token" in alert
    assert "AUTHENTICATIONFAILED" in alert
    assert code == 2 and doc["status"] == "down"
    assert "refused the login" in mailbox_failure["cause"] and mailbox_failure["since"]
    assert "new mail stays unread" in mailbox_failure["waiting"]
    text = log.read_text()
    assert "mailbox unavailable (IMAP connect failed: the IMAP server refused the login" in text
    # The journal's CRIT entry: journald reads the <2> prefix as the priority.
    assert "<2>mailproc alert: Problem:  mailbox-unreachable" in text
    # It was mailed too (SMTP works), and no secret went anywhere.
    assert any(ADMIN in m.rcpt_tos for m in smtp_server.messages)
    assert "not-the-password" not in text + alert


def test_a_certificate_from_another_ca_names_ca_file(dovecot_tls, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other = make_cert(tmp_path / "other")
    assert other is not None
    mailbox = imap_mailbox(dovecot_tls)
    mailbox["imap"].update(port=dovecot_tls.tls_port, tls="implicit", ca_file=str(other.cert),
                           reconnect_max_seconds=1)
    config = checked_config(tmp_path, mailbox=mailbox, alerts=FAST_ALERTS)
    log = tmp_path / "daemon.log"
    with daemon(config, log):
        alert = wait_for_alert(tmp_path, "mailbox-unreachable")
        _code, _doc, mailbox_failure = failing(config, "mailbox")
    for said in (alert, mailbox_failure["cause"], log.read_text()):
        assert "certificate is not signed by a CA this machine trusts" in said
        assert "give that CA's certificate as ca_file:" in said


@pytest.mark.parametrize("server", ["refusing login", "closed port"])
def test_failing_smtp_is_told_by_the_second_channel_not_through_the_outbox(
        server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    smtp = RefusingSmtpServer(credentials=("conduct", "right"))
    outgoing = smtp_outgoing(smtp)
    if server == "refusing login":
        smtp.start()
        outgoing["smtp"].update(username="conduct", password={"env": "ADMIN_TEST_SMTP_PW"})
        monkeypatch.setenv("ADMIN_TEST_SMTP_PW", "xyzzy-pw")
    else:
        outgoing["smtp"]["port"] = free_port()
    maildir = tmp_path / "var" / "mail"
    config = checked_config(tmp_path, mailbox={"maildir": str(maildir)}, outgoing=outgoing,
                            alerts=FAST_ALERTS)
    deliver(maildir, mail("sam@example.net", "Report", "He harassed me in the chat."))
    log = tmp_path / "daemon.log"
    try:
        with daemon(config, log):
            alert = wait_for_alert(tmp_path, "outbox-failing")
            code, doc, smtp_failure = failing(config, "smtp")
    finally:
        smtp.stop()
    expected = ("the SMTP server refused the login (535)" if server == "refusing login"
                else f"nothing accepts connections at 127.0.0.1:{outgoing['smtp']['port']}")
    for said in (alert, smtp_failure["cause"], log.read_text()):
        assert expected in said, said
    assert code == 1 and doc["status"] == "degraded"
    assert "1 acknowledgement(s) to reporters" in smtp_failure["waiting"]
    assert smtp.messages == []  # nothing got through, the alert did not try either
    pending = mailproc(config, "status", "--json")
    assert all(m != "admin-alert" for m in pending.out.split('"purpose"'))
    assert "xyzzy-pw" not in log.read_text() + alert


def test_a_hanging_translation_server_makes_status_degraded_and_is_told(
        tmp_path: Path) -> None:
    maildir = tmp_path / "var" / "mail"
    with LibreTranslateServer(mode="hang") as libre:
        config = checked_config(
            tmp_path, mailbox={"maildir": str(maildir)}, alerts=FAST_ALERTS,
            translation={"backend": "libretranslate", "url": libre.url, "timeout_seconds": 1,
                         "ack_wait_seconds": 0.5, "pause_after_failure_seconds": 60})
        deliver(maildir, mail("ana@example.net", "Acoso",
                              "Me acosaron en la conferencia. El ponente me insultó."))
        log = tmp_path / "daemon.log"
        with daemon(config, log):
            alert = wait_for_alert(tmp_path, "translation-down")
            code, doc, translation = failing(config, "translation")
    assert code == 1 and doc["status"] == "degraded" and doc["translation_pending"] == 1
    for said in (alert, translation["cause"], log.read_text()):
        assert "no answer within 0.5 s" in said or "no answer within 1 s" in said, said
    assert "1 report(s) wait for their translation" in translation["waiting"]
    assert "acoso" not in (alert + log.read_text()).lower()  # no report text anywhere


def test_refused_rules_degrade_status_until_the_good_file_is_back_without_sighup(
        tmp_path: Path) -> None:
    rules = tmp_path / "triage.yaml"
    good = (Path(__file__).resolve().parent.parent / "rules" / "triage.yaml").read_text()
    rules.write_text(good)
    config = checked_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                            alerts=FAST_ALERTS, triage_rules=str(rules))
    log = tmp_path / "daemon.log"
    with daemon(config, log):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and mailproc(config, "status").code != 0:
            time.sleep(0.2)  # started, with the good rules
        rules.write_text(good.replace("rules:\n", "rules:\n  - name: broken\n"
                                      "    when: {subject: {regex: '('}}\n    drop: spam\n", 1))
        alert = wait_for_alert(tmp_path, "rules-refused")
        code, _doc, refused = failing(config, "rules")
        assert code == 1 and "the last good rules stay in force" in refused["waiting"]
        assert f"{rules}:" in refused["cause"] and f"{rules}:" in alert
        rules.write_text(good)  # the edit undone: noticed by the file watch, no signal
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and json.loads(
                mailproc(config, "status", "--json").out)["failing"]:
            time.sleep(0.2)
        after = json.loads(mailproc(config, "status", "--json").out)
    assert after["failing"] == [] and after["status"] == "healthy", after
    assert "triage rules file restored to the version in force" in log.read_text()
