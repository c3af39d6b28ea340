"""Triage rules in the daemon: routing away, the guard, the dry run, check, hot reload.

Uses the shipped rules (rules/triage.yaml) with the routes of the shipped config.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from harness import ADMIN, REPO, imap_mailbox, mail, mailproc, smtp_outgoing, write_config

from mailproc.adapters.maildir import deliver

CORPUS = REPO / "tests" / "data" / "corpus"
ROUTES = {"sponsorship": "sponsors@example.org", "registration": "registration@example.org",
          "travel-grants": "grants@example.org", "speakers": "program@example.org",
          "press": "press@example.org", "general": "info@example.org"}
ES_SPONSOR_REPORT = (
    "Hola, quiero denunciar acoso. El representante de un patrocinador, en el stand del "
    "patrocinador, me hizo comentarios sexuales y me tocó sin permiso durante la conferencia. "
    "Me sentí muy mal.")


def _config(tmp_path: Path, rules: Path | None = None, **extra: Any) -> Path:
    return write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                        routes=ROUTES, triage_rules=str(rules or REPO / "rules" / "triage.yaml"),
                        **extra)


def _outbox(tmp_path: Path, purpose: str) -> list[Any]:
    return [message_from_bytes(p.read_bytes(), policy=default)
            for p in sorted((tmp_path / "var" / "outbox").glob(f"*-{purpose}-mailproc.*.eml"))]


def test_sponsorship_is_routed_and_a_report_mentioning_a_sponsor_stays_a_report(
        tmp_path: Path) -> None:
    config = _config(tmp_path)
    sponsorship = (CORPUS / "other-sponsorship.eml").read_bytes()
    deliver(tmp_path / "var" / "mail", sponsorship)
    deliver(tmp_path / "var" / "mail", mail("ana@example.net", "Denuncia en el stand del "
                                            "patrocinador", ES_SPONSOR_REPORT))
    run = mailproc(config, "run", "--once")
    assert sorted((r[0], r[3]) for r in run.lines()) == [
        ("report", "new-report"), ("routed", "rule:sponsorship")]

    (forward,) = _outbox(tmp_path, "route")
    assert forward["To"].addresses[0].addr_spec == "sponsors@example.org"
    attached = [p for p in forward.iter_attachments() if p.get_content_type() == "message/rfc822"]
    assert len(attached) == 1
    original = attached[0].get_content()
    assert original["Message-ID"] == message_from_bytes(sponsorship)["Message-ID"]
    (reply,) = _outbox(tmp_path, "route-reply")
    assert reply["Auto-Submitted"] == "auto-replied"
    assert "sponsors@example.org" in reply.get_body(("plain",)).get_content()
    # The report was not sent anywhere but to the committee and the reporter.
    for sent in (tmp_path / "var" / "outbox").glob("*.eml"):
        if "-route" in sent.name:
            assert b"patrocinador" not in sent.read_bytes()
    record = json.loads(mailproc(config, "show", "COC-2026-0001", "--json").out)
    assert record["language"] == "es"
    assert record["triage"]["category"] in ("sexual-misconduct", "harassment")
    assert any(s.startswith("guard:") for s in record["triage"]["signals"])
    assert len(list((tmp_path / "var" / "mail" / ".Routed" / "cur").iterdir())) == 1


def test_every_corpus_non_conduct_mail_is_routed_and_every_report_is_kept(tmp_path: Path) -> None:
    config = _config(tmp_path)
    files = sorted(str(p) for p in CORPUS.glob("*.eml"))
    run = mailproc(config, "triage", "--json", "--no-translate", *files)
    assert run.code == 0, run.err
    rows = {Path(r["message"]).name: r for r in json.loads(run.out)}
    for name, row in rows.items():
        if name.startswith("report-"):
            assert row["outcome"] == "report", (name, row)
        elif name.startswith("machine-"):
            assert row["outcome"] == "dropped", (name, row)
    routed = {n: r["route"] for n, r in rows.items() if r["outcome"] == "routed"}
    assert routed["other-sponsorship.eml"] == "sponsorship"
    assert routed["other-press.eml"] == "press"
    assert routed["other-travel-grant.eml"] == "travel-grants"
    assert routed["other-registration-badge.eml"] == "registration"
    assert rows["report-en-urgent-threat.eml"]["urgent"] is True


def test_the_dry_run_changes_nothing(tmp_path: Path) -> None:
    config = _config(tmp_path)
    maildir = tmp_path / "var" / "mail"
    deliver(maildir, (CORPUS / "report-en-harassment.eml").read_bytes())
    before = sorted(p.name for p in maildir.rglob("*") if p.is_file())
    run = mailproc(config, "triage", "--explain", "--maildir", str(maildir))
    assert run.code == 0 and "report" in run.out and "[x] harassment" in run.out
    assert sorted(p.name for p in maildir.rglob("*") if p.is_file()) == before
    data = tmp_path / "var" / "data"
    assert not (data / "ingest.jsonl").exists() and not list(data.rglob("*.eml"))
    assert not (tmp_path / "var" / "outbox").exists()


def test_check_reports_broken_rules_with_file_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "triage.yaml"
    rules.write_text("rules:\n  - name: bad-regex\n    when:\n      subject: {regex: '(unclosed'}"
                     "\n    category: x\n  - name: loop\n    when: always\n"
                     "    route: conduct@example.org\n")
    run = mailproc(_config(tmp_path, rules), "check")
    assert run.code == 2
    assert f"{rules}:4: rules[0].when.subject.regex" in run.err
    assert f"{rules}:8: rules[1].route" in run.err


def test_edited_rules_are_picked_up_and_a_broken_edit_keeps_the_last_good(
        dovecot, smtp_server, tmp_path: Path) -> None:
    rules = tmp_path / "triage.yaml"
    shutil.copy(REPO / "rules" / "triage.yaml", rules)
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server), routes=ROUTES,
                          triage_rules=str(rules), alerts={"check_interval_seconds": 0.5})
    hackathon = "Hello, can I bring my robot to the hackathon on Sunday?"
    proc = subprocess.Popen([sys.executable, "-m", "mailproc.cli", "--config", str(config),
                             "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ))
    status = tmp_path / "var" / "data" / "status.json"
    try:
        _wait(status.exists, 15)
        good = rules.read_text().replace("rules:\n", "rules:\n  - name: hackathon\n    when:\n"
                                         "      body: {contains_any: [hackathon]}\n"
                                         "    route: general\n", 1)
        _replace(rules, good)
        version = hashlib.sha256(good.encode()).hexdigest()[:12]
        _wait(lambda: json.loads(status.read_text())["rules_version"] == version, 15)
        dovecot.append(mail("kim@example.net", "Robot", hackathon))
        _wait(lambda: _to(smtp_server, "info@example.org"), 15)

        _replace(rules, good + "\n  - name: Broken Name\n    when: {nonsense: 1}\n")
        _wait(lambda: _to(smtp_server, ADMIN), 15)  # refused, and the admin told
        dovecot.append(mail("lee@example.net", "Robot too", hackathon))
        _wait(lambda: len(_to(smtp_server, "info@example.org")) == 2, 15)  # old rules in force
        assert json.loads(status.read_text())["rules_version"] == version
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    (alert,) = _to(smtp_server, ADMIN)
    text = alert.message.get_body(("plain",)).get_content()
    assert "triage.yaml" in text and "refused" in text
    assert b"rules refused" in err
    assert out.count(b"rule:hackathon") == 2


def _replace(path: Path, text: str) -> None:
    """Write a file the way editors do, so the watcher never reads half of it."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _to(smtp_server: Any, address: str) -> list[Any]:
    return [m for m in smtp_server.messages if address in m.rcpt_tos]


def _wait(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
