"""Encryption at rest (storage.encryption): nothing a reporter wrote is readable on disk.

A whole case runs through the real daemon with a key; afterwards every file under the data
directory is sealed (or one of the few plain ones on purpose) and not one holds a planted
phrase or the reporter's address, while `verify`, `cases`, `show` and `diary` read it all back.
A wrong or missing key is refused at start, naming the setting. The key helpers below every
file are checked one by one.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO, imap_mailbox, mail, mailproc, show, smtp_outgoing, write_config
from libretranslate import LibreTranslateServer
from test_committee_flow import DISCUSSION, OUTCOME, SCREENSHOT, Committee, _conversation

from mailproc.adapters.maildir import deliver
from mailproc.config.settings import load_config
from mailproc.store import sealing
from mailproc.store.encryption import unlock
from mailproc.store.store import Store

PHRASE = "the purple giraffe whispered behind the stage"
REPORTER = "planted.reporter@example.net"
PLAIN_ON_PURPOSE = {"LOCK", "pepper", "encryption.json"}


def key_file(tmp_path: Path, name: str = "data.key") -> Path:
    path = tmp_path / name
    path.write_text(sealing.new_key_text() + "\n")
    path.chmod(0o600)
    return path


def encrypted(path: Path) -> dict[str, object]:
    return {"encryption": {"key": {"file": str(path)}}}


def data_files(data_dir: Path) -> list[Path]:
    """Every file under the data directory but the compiled-template cache."""
    return [p for p in data_dir.rglob("*")
            if p.is_file() and "cache" not in p.relative_to(data_dir).parts]


def assert_sealed_and_silent(data_dir: Path, secrets: list[str | bytes]) -> int:
    """Every file sealed (whole, or every line of a log), and no secret in any file's bytes,
    in any of the forms a file could hold it (UTF-8, JSON escapes, base64)."""
    forms: list[bytes] = []
    for secret in secrets:
        raw = secret.encode() if isinstance(secret, str) else secret
        forms += [raw, json.dumps(raw.decode("utf-8", "replace"))[1:-1].encode(),
                  base64.b64encode(raw)[:24]]
    files = data_files(data_dir)
    for path in files:
        data = path.read_bytes()
        for form in forms:
            assert form not in data, (path, form)
        if path.name in PLAIN_ON_PURPOSE:
            continue
        if path.suffix == ".jsonl":
            lines = data.splitlines()
            assert lines and all(sealing.line_sealed_with(line) for line in lines), path
        else:
            assert sealing.sealed_with(data) is not None, path
    return len(files)


def _encrypted_conversation(  # type: ignore[no-untyped-def]
        dovecot, smtp_server, tmp_path: Path) -> Path:
    """A whole case on an encrypted data directory (report, ack, notices, #clear, discussion,
    votes, outcome, close), then a second report holding PHRASE; the config."""
    key = key_file(tmp_path)
    with LibreTranslateServer() as translator:
        config = write_config(
            tmp_path, mailbox=imap_mailbox(dovecot), outgoing=smtp_outgoing(smtp_server),
            translation={"backend": "libretranslate", "url": translator.url},
            auth={"trusted_authserv_ids": ["mx.example.org"]}, storage=encrypted(key),
            consequences=str(Path(__file__).parent.parent / "rules" / "consequences.yaml"))
        c = Committee(dovecot, smtp_server, config)
        _conversation(c)
        dovecot.append(mail(REPORTER, "Something at the conference",
                            f"I want to report this: {PHRASE}. It scared me.",
                            name="Planted Reporter"))
        assert c.run()[0][:2] == ["report", "COC-2026-0002"]
    return config


def test_a_whole_case_runs_encrypted_and_no_file_holds_a_word_of_it(
        dovecot, smtp_server, tmp_path: Path) -> None:
    config = _encrypted_conversation(dovecot, smtp_server, tmp_path)

    data_dir = tmp_path / "var" / "data"
    assert (data_dir / "status.json").exists() and list((data_dir / "archive").rglob("*.eml"))
    assert list((data_dir / "blobs").rglob("*"))  # the screenshot
    assert_sealed_and_silent(data_dir, [
        PHRASE, REPORTER, "lucia@example.net", "Lucía", "me siguió hasta el hotel", "Marcos",
        DISCUSSION, OUTCOME, "SCREENSHOT-OF-MESSAGES", SCREENSHOT[:40]])

    # Everything reads back through the key.
    assert mailproc(config, "verify").code == 0
    assert [r["id"] for r in json.loads(mailproc(config, "cases", "--json").out)] == [
        "COC-2026-0001", "COC-2026-0002"]
    record = show(config, "COC-2026-0002")
    assert PHRASE in record["original_text"] and record["reporter"]["email"] == REPORTER
    assert show(config, "COC-2026-0001")["status"] == "closed"
    diary = mailproc(config, "diary", "COC-2026-0001", "--json")
    assert diary.code == 0 and len(json.loads(diary.out)) > 10
    status = mailproc(config, "status", "--json")
    assert json.loads(status.out)["templates_version"]  # status.json read through the key


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_queued_mail_quarantine_and_the_reader_process_are_sealed_too(tmp_path: Path) -> None:
    """A real `mailproc run --once` process (its reader process archives), SMTP down: the
    acknowledgement and the notices stay queued in outbox.json; an oversized report is
    quarantined and kept."""
    key = key_file(tmp_path)
    maildir = tmp_path / "var" / "mail"
    config = write_config(tmp_path, mailbox={"maildir": str(maildir)},
                          outgoing={"smtp": {"host": "127.0.0.1", "port": _closed_port(),
                                             "tls": "plain", "timeout_seconds": 2}},
                          limits={"max_message_bytes": 4096}, storage=encrypted(key))
    deliver(maildir, mail(REPORTER, "Report", f"I want to report harassment: {PHRASE}.",
                          name="Planted Reporter"))
    deliver(maildir, mail("big.sender@example.net", "Long report",
                          f"{PHRASE} and more. " + "Details of what happened. " * 300))
    # The console script: it forks the reader before it reads the config (`fork_early`), so
    # the reader is handed the key over its pipe.
    script = Path(sys.executable).parent / "mailproc"
    done = subprocess.run([str(script), "--config", str(config), "run", "--once"],
                          capture_output=True, timeout=120, env=dict(os.environ))
    assert done.returncode in (0, 1), done.stderr.decode()
    assert b"Traceback" not in done.stderr
    assert b"reader process" not in done.stderr  # it did the archiving, without trouble

    data_dir = tmp_path / "var" / "data"
    assert "quarantined" in done.stdout.decode()
    status = json.loads(mailproc(config, "status", "--json").out)
    assert status["outbox"]["pending"] >= 2 and status["mailbox"]["reader"] == "process"
    assert len(list((data_dir / "archive").rglob("*.eml"))) == 2
    assert_sealed_and_silent(data_dir, [PHRASE, REPORTER, "big.sender@example.net"])
    assert show(config, "COC-2026-0001")["reporter"]["email"] == REPORTER


def _maildir_config(tmp_path: Path, **extra: object) -> Path:
    """The config file (rewritten: a test changes its key by calling this again)."""
    return write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")}, **extra)


def _report(tmp_path: Path, n: int) -> None:
    deliver(tmp_path / "var" / "mail",
            mail(f"reporter{n}@example.net", f"Report {n}",
                 f"I want to report harassment at meetup {n}: {PHRASE}.", name=f"Rep {n}"))


@pytest.mark.parametrize("problem", ["wrong", "missing-file", "missing-env", "not-a-key"])
def test_a_wrong_or_missing_key_is_refused_at_start_naming_the_setting(
        tmp_path: Path, problem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key = key_file(tmp_path)
    config = _maildir_config(tmp_path, storage=encrypted(key))
    _report(tmp_path, 1)
    assert mailproc(config, "run", "--once").code == 0
    if problem == "wrong":
        source: dict[str, str] = {"file": str(key_file(tmp_path, "other.key"))}
    elif problem == "missing-file":
        source = {"file": str(tmp_path / "nowhere.key")}
    elif problem == "missing-env":
        monkeypatch.delenv("MAILPROC_TEST_KEY", raising=False)
        source = {"env": "MAILPROC_TEST_KEY"}
    else:
        (tmp_path / "short.key").write_text("too short\n")
        source = {"file": str(tmp_path / "short.key")}
    config = _maildir_config(tmp_path, storage={"encryption": {"key": source}})
    _report(tmp_path, 2)
    for args in (["run", "--once"], ["cases"], ["show", "COC-2026-0001"], ["verify"]):
        run = mailproc(config, *args)
        assert run.code == 2, (args, run.out)
        assert "storage.encryption.key" in run.err and "Traceback" not in run.err, run.err
        assert PHRASE not in run.err and "reporter1@" not in run.err
    check = mailproc(config, "check")
    assert check.code == 2 and "storage.encryption.key" in check.err
    # Nothing was touched: with the right key the second report is still waiting.
    config = _maildir_config(tmp_path, storage=encrypted(key))
    assert [r[:2] for r in mailproc(config, "run", "--once").lines()] == [
        ["report", "COC-2026-0002"]]


def test_a_directory_encrypted_is_refused_without_a_key(tmp_path: Path) -> None:
    config = _maildir_config(tmp_path, storage=encrypted(key_file(tmp_path)))
    _report(tmp_path, 1)
    assert mailproc(config, "run", "--once").code == 0
    plain = _maildir_config(tmp_path)
    run = mailproc(plain, "run", "--once")
    assert run.code == 2 and "storage.encryption.key is not set" in run.err
    assert mailproc(plain, "cases").code == 2
    assert "encryption at rest: off" in mailproc(plain, "check").out or \
        mailproc(plain, "check").code == 2


def _state(config: Path) -> tuple[object, ...]:
    """What the store says, to compare before and after a key change."""
    cases = json.loads(mailproc(config, "cases", "--json").out)
    ids = [c["id"] for c in cases]
    return (cases, [show(config, i) for i in ids],
            [json.loads(mailproc(config, "diary", i, "--json").out) for i in ids])


def test_encrypting_a_plaintext_directory_takes_one_rekey(tmp_path: Path) -> None:
    plain = _maildir_config(tmp_path)
    for n in range(3):
        _report(tmp_path, n)
    assert mailproc(plain, "run", "--once").code == 0
    data_dir = tmp_path / "var" / "data"
    assert any(PHRASE.encode() in p.read_bytes() for p in data_files(data_dir))
    before = _state(plain)

    key = key_file(tmp_path)
    config = _maildir_config(tmp_path, storage=encrypted(key))
    refused = mailproc(config, "run", "--once")
    assert refused.code == 2 and "holds unencrypted data" in refused.err
    assert "mailproc rekey" in refused.err
    rekeyed = mailproc(config, "rekey")
    assert rekeyed.code == 0, rekeyed.err
    assert "encrypted with key id" in rekeyed.out

    assert_sealed_and_silent(data_dir, [PHRASE, "reporter0@example.net"])
    assert _state(config) == before
    assert mailproc(config, "verify").code == 0
    _report(tmp_path, 9)
    assert [r[:2] for r in mailproc(config, "run", "--once").lines()] == [
        ["report", "COC-2026-0004"]]
    assert mailproc(_maildir_config(tmp_path), "cases").code == 2  # no key: refused now


def test_rekey_rotates_the_key_and_the_old_one_is_refused(tmp_path: Path) -> None:
    old = key_file(tmp_path)
    config = _maildir_config(tmp_path, storage=encrypted(old))
    for n in range(3):
        _report(tmp_path, n)
    assert mailproc(config, "run", "--once").code == 0
    before = _state(config)
    new = key_file(tmp_path, "new.key")
    rekeyed = mailproc(config, "rekey", "--new-key-file", str(new))
    assert rekeyed.code == 0, rekeyed.err
    assert "now make storage.encryption in the config name the new key" in rekeyed.out

    refused = mailproc(config, "run", "--once")
    assert refused.code == 2 and "does not open" in refused.err
    config = _maildir_config(tmp_path, storage=encrypted(new))
    assert _state(config) == before
    loaded = load_config(config)
    unlock(loaded)
    store = Store(loaded.data_dir, read_only=True)
    store.open()
    assert store.replayed == 0  # the rekey left a snapshot that fits the re-sealed logs
    _report(tmp_path, 7)
    assert [r[:2] for r in mailproc(config, "run", "--once").lines()] == [
        ["report", "COC-2026-0004"]]
    assert mailproc(config, "verify").code == 0
    old_id = sealing.key_id(sealing.key_from_text(old.read_text())).hex()
    data_dir = tmp_path / "var" / "data"
    assert_sealed_and_silent(data_dir, [PHRASE])
    assert not any(old_id.encode() in p.read_bytes() for p in data_files(data_dir))
    for path in data_files(data_dir):
        data = path.read_bytes()
        kid = sealing.sealed_with(data) or sealing.line_sealed_with(data.split(b"\n")[0])
        assert kid in (None, sealing.key_id(sealing.key_from_text(new.read_text()))), path


class Stop(Exception):
    pass


@pytest.mark.parametrize("stop_after", [1, 5, -1])
def test_an_interrupted_rekey_loses_nothing_and_finishes_when_run_again(
        tmp_path: Path, stop_after: int) -> None:
    from mailproc.store.encryption import rekey

    old = key_file(tmp_path)
    config = _maildir_config(tmp_path, storage=encrypted(old))
    for n in range(4):
        _report(tmp_path, n)
    assert mailproc(config, "run", "--once").code == 0
    before = _state(config)
    new = key_file(tmp_path, "new.key")
    new_key = sealing.key_from_text(new.read_text())
    files = len(data_files(tmp_path / "var" / "data"))
    stop_at = stop_after if stop_after > 0 else files - 4  # near the end

    written: list[Path] = []

    def crash(path: Path) -> None:
        written.append(path)
        if len(written) == stop_at:
            raise Stop  # as if killed between two files

    with pytest.raises(Stop):
        rekey(load_config(config), new_key, on_file=crash)

    # Half the files are under each key now: the daemon refuses, and says what to do.
    for args in (["run", "--once"], ["cases"]):
        run = mailproc(config, *args)
        assert run.code == 2 and "was interrupted" in run.err, run.err
    again = mailproc(config, "rekey", "--new-key-file", str(new))
    assert again.code == 0, again.err
    assert f"{stop_at} were already done" in again.out or stop_after == -1
    config = _maildir_config(tmp_path, storage=encrypted(new))
    assert _state(config) == before
    assert mailproc(config, "verify").code == 0
    assert_sealed_and_silent(tmp_path / "var" / "data", [PHRASE])
    _report(tmp_path, 8)
    assert [r[:2] for r in mailproc(config, "run", "--once").lines()] == [
        ["report", "COC-2026-0005"]]


def test_a_rekey_to_another_key_while_one_is_unfinished_is_refused(tmp_path: Path) -> None:
    from mailproc.store.encryption import rekey

    config = _maildir_config(tmp_path, storage=encrypted(key_file(tmp_path)))
    _report(tmp_path, 1)
    assert mailproc(config, "run", "--once").code == 0
    new = key_file(tmp_path, "new.key")

    def crash(path: Path) -> None:
        raise Stop

    with pytest.raises(Stop):
        rekey(load_config(config), sealing.key_from_text(new.read_text()), on_file=crash)
    other = key_file(tmp_path, "other.key")
    run = mailproc(config, "rekey", "--new-key-file", str(other))
    assert run.code == 2 and "finish it first" in run.err
    assert mailproc(config, "rekey", "--new-key-file", str(new)).code == 0


def test_check_says_whether_encryption_is_on_and_genkey_makes_a_key(tmp_path: Path) -> None:
    (tmp_path / "triage.yaml").write_text("rules: []\n")
    rules = {"triage_rules": str(tmp_path / "triage.yaml"),
             "consequences": str(REPO / "rules" / "consequences.yaml")}
    off = mailproc(_maildir_config(tmp_path, **rules), "check")
    assert off.code == 0 and "encryption at rest: off" in off.out, off.err
    key = tmp_path / "made.key"
    made = mailproc(_maildir_config(tmp_path, **rules), "genkey", str(key))
    assert made.code == 0 and oct(key.stat().st_mode & 0o777) == "0o600"
    assert mailproc(_maildir_config(tmp_path, **rules), "genkey", str(key)).code == 2  # kept
    on = mailproc(_maildir_config(tmp_path, storage=encrypted(key), **rules), "check")
    assert on.code == 0, on.err
    kid = sealing.key_id(sealing.key_from_text(key.read_text())).hex()
    assert f"encryption at rest: on (key id {kid})" in on.out


def test_forget_export_purge_and_reports_work_on_an_encrypted_directory(
        dovecot, smtp_server, tmp_path: Path) -> None:
    """The data's life cycle and the committee's reports read and rewrite through the key:
    files stay sealed, the erased address is in none of them, the diary still verifies."""
    import zipfile

    config = _encrypted_conversation(dovecot, smtp_server, tmp_path)
    data_dir = tmp_path / "var" / "data"

    out = tmp_path / "case.zip"
    assert mailproc(config, "export", "COC-2026-0002", "--out", str(out)).code == 0
    with zipfile.ZipFile(out) as z:  # the export is for a person: decrypted
        assert any(PHRASE.encode() in z.read(n) for n in z.namelist())
    assert mailproc(config, "metrics", "--json").code == 0
    assert mailproc(config, "purge", "--dry-run").code == 0
    forget = mailproc(config, "forget", REPORTER)
    assert forget.code == 0, forget.err
    assert_sealed_and_silent(data_dir, [REPORTER, PHRASE])
    assert mailproc(config, "verify").code == 0
    assert show(config, "COC-2026-0002")["reporter"]["email"] in (None, "", "expunged")
