"""`mailproc check --connect` against the real servers of the test suite.

An admin runs it before the first start: each step is one line, says what worked or why not in
words that name the setting to change, and the exit code is 1 when anything failed. Secrets
never appear in what it prints.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from admin_helpers import RefusingSmtpServer, cert_for, checked_config
from conftest import missing
from harness import ADMIN, imap_mailbox, mailproc, smtp_outgoing
from libretranslate import LibreTranslateServer
from servers import DovecotServer, SmtpServer, find_dovecot, free_port, make_cert


def lines_of(out: str, part: str) -> list[str]:
    return [line for line in out.splitlines() if line[5:].startswith(part)]


def test_everything_reachable_each_step_says_ok_and_who_sees_report_text(
        dovecot, tmp_path: Path) -> None:
    smtp = SmtpServer(credentials=("conduct", "s3cret-smtp"))
    smtp.start()
    try:
        outgoing = smtp_outgoing(smtp)
        outgoing["smtp"].update(username="conduct", password={"env": "ADMIN_TEST_SMTP_PW"})
        with LibreTranslateServer() as libre:
            config = checked_config(tmp_path, mailbox=imap_mailbox(dovecot), outgoing=outgoing,
                                    translation={"backend": "libretranslate", "url": libre.url})
            with pytest.MonkeyPatch.context() as env:
                env.setenv("ADMIN_TEST_SMTP_PW", "s3cret-smtp")
                run = mailproc(config, "check", "--connect", "--send-test")
    finally:
        smtp.stop()
    assert run.code == 0, run.out + run.err
    assert "FAIL" not in run.out
    assert lines_of(run.out, "secret")[0].endswith(
        f"mailbox.imap.password: read from environment variable {dovecot.password_env}")
    assert "logged in to 127.0.0.1" in lines_of(run.out, "imap ")[0]
    (folders,) = lines_of(run.out, "imap folders")
    assert "found INBOX" in folders and "created at first use: Processed" in folders
    assert any("answered EHLO" in line for line in lines_of(run.out, "smtp"))
    assert any("AUTH (password) accepted" in line for line in lines_of(run.out, "smtp"))
    (sent,) = [m for m in smtp.messages if ADMIN in m.rcpt_tos]
    assert "check --connect" in sent.message["Subject"]
    (translation,) = lines_of(run.out, "translation")
    assert "report text will be sent to your server at http://127.0.0.1" in translation
    assert dovecot.password not in run.out + run.err and "s3cret-smtp" not in run.out + run.err


def test_wrong_password_closed_port_and_535_each_fail_with_their_cause(
        dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(dovecot.password_env, "not-the-password")
    smtp = RefusingSmtpServer(credentials=("conduct", "right"))
    smtp.start()
    try:
        outgoing = smtp_outgoing(smtp)
        outgoing["smtp"].update(username="conduct", password={"env": "ADMIN_TEST_SMTP_PW"})
        monkeypatch.setenv("ADMIN_TEST_SMTP_PW", "xyzzy-pw")
        config = checked_config(tmp_path, mailbox=imap_mailbox(dovecot), outgoing=outgoing,
                                translation={"backend": "libretranslate",
                                             "url": f"http://127.0.0.1:{free_port()}/"})
        run = mailproc(config, "check", "--connect")
    finally:
        smtp.stop()
    assert run.code == 1, run.out
    (imap,) = lines_of(run.out, "imap")
    assert imap.startswith("FAIL") and "refused the login" in imap
    assert "AUTHENTICATIONFAILED" in imap  # the server's own words stay, after ours
    smtp_lines = lines_of(run.out, "smtp")
    assert smtp_lines[-1].startswith("FAIL") and "auth: the SMTP server refused the login (535)" \
        in smtp_lines[-1]
    (translation,) = lines_of(run.out, "translation")
    assert translation.startswith("FAIL") and "cannot connect" in translation
    assert run.out.rstrip().endswith("3 step(s) failed")
    assert "not-the-password" not in run.out and "xyzzy-pw" not in run.out + run.err


def test_nothing_listening_names_host_and_port(tmp_path: Path) -> None:
    port = free_port()
    config = checked_config(tmp_path, mailbox={"imap": {
        "host": "127.0.0.1", "port": port, "tls": "plain", "username": "conduct",
        "password": {"env": "HOME"}, "timeout_seconds": 5}})
    run = mailproc(config, "check", "--connect")
    assert run.code == 1
    (imap,) = lines_of(run.out, "imap")
    assert f"nothing accepts connections at 127.0.0.1:{port}" in imap, imap


def test_a_missing_secret_and_ca_file_fail_check_without_connecting(tmp_path: Path) -> None:
    config = checked_config(tmp_path, mailbox={"imap": {
        "host": "127.0.0.1", "port": 993, "username": "conduct",
        "password": {"file": str(tmp_path / "imap-pasword")},
        "ca_file": str(tmp_path / "no-ca.pem")}})
    run = mailproc(config, "check")
    assert run.code == 2
    assert "mailbox.imap.password: cannot read secret file" in run.err
    assert "mailbox.imap.ca_file:" in run.err and "no-ca.pem does not exist" in run.err


@pytest.fixture
def tls_dovecot(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """A Dovecot with implicit TLS whose certificate is for imap.example.org only."""
    binary = find_dovecot()
    if binary is None:
        missing("dovecot is not installed (apt-get install dovecot-imapd)")
    cert = cert_for(tmp_path_factory.mktemp("named"), "imap.example.org")
    if cert is None:
        missing("the openssl tool is not installed (needed for a test certificate)")
    assert binary is not None and cert is not None
    server = DovecotServer(binary, cert=cert)
    monkeypatch.setenv(server.password_env, server.password)
    server.start()
    try:
        yield server
    finally:
        server.close()


def _tls_imap(server: DovecotServer, ca_file: Path | None, host: str = "127.0.0.1",
              **extra: object) -> dict[str, object]:
    box = imap_mailbox(server)
    box["imap"].update(host=host, port=server.tls_port, tls="implicit", **extra)
    if ca_file is not None:
        box["imap"]["ca_file"] = str(ca_file)
    return box


def test_certificates_another_ca_a_host_mismatch_and_tls_on_the_plain_port(
        tls_dovecot: DovecotServer, tmp_path: Path) -> None:
    (tmp_path / "other-ca").mkdir()
    other = make_cert(tmp_path / "other-ca")
    assert other is not None and tls_dovecot.cert is not None
    cases = {
        "not trusted": _tls_imap(tls_dovecot, None),  # the system's trust store
        "another CA": _tls_imap(tls_dovecot, other.cert),
        "host mismatch": _tls_imap(tls_dovecot, tls_dovecot.cert.cert),
        "plain port": {"imap": {**_tls_imap(tls_dovecot, tls_dovecot.cert.cert)["imap"],
                                "port": tls_dovecot.port}},
    }
    said = {}
    for name, mailbox in cases.items():
        root = tmp_path / name.replace(" ", "-")
        said[name] = lines_of(mailproc(checked_config(root, mailbox=mailbox), "check",
                                       "--connect").out, "imap")[0]
    for name in ("not trusted", "another CA"):
        assert "not signed by a CA this machine trusts" in said[name], said[name]
        assert "give that CA's certificate as ca_file:" in said[name]
    assert "certificate is not for the host name '127.0.0.1'" in said["host mismatch"]
    assert "did not answer with TLS" in said["plain port"], said["plain port"]


def test_ca_file_lets_a_private_ca_in_with_the_host_name_checked(tmp_path: Path) -> None:
    """A private CA (here a self-signed certificate for 127.0.0.1 and localhost) named as
    ca_file is trusted, and the host name is still checked: reached as `localhost`, it works."""
    (tmp_path / "good").mkdir()
    good = make_cert(tmp_path / "good")
    assert good is not None
    binary = find_dovecot()
    if binary is None:
        missing("dovecot is not installed (apt-get install dovecot-imapd)")
    assert binary is not None
    server = DovecotServer(binary, cert=good)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(server.password_env, server.password)
        server.start()
        try:
            config = checked_config(tmp_path, mailbox=_tls_imap(server, good.cert,
                                                                host="localhost"))
            run = mailproc(config, "check", "--connect")
        finally:
            server.close()
    assert run.code == 0, run.out
    assert "logged in to localhost" in lines_of(run.out, "imap")[0]
