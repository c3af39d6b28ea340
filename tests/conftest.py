"""Shared pytest fixtures: real Dovecot IMAP and aiosmtpd SMTP servers on loopback.

A test that needs Dovecot is skipped, with the reason shown, when it is not installed, but
fails when CI=true (CI must run every integration test). Server helpers live in servers.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from servers import CertPair, DovecotServer, SmtpServer, find_dovecot, make_cert


def missing(what: str) -> None:
    """Skip locally, fail in CI: an integration test must never be silently skipped there."""
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{what} (CI=true: integration tests must run)")
    pytest.skip(what)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that use a Dovecot fixture, so `-m "not dovecot"` can leave them out."""
    for item in items:
        if {"dovecot", "dovecot_tls", "dovecot_oauth2"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.dovecot)


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> CertPair:
    """A self-signed certificate for 127.0.0.1 / localhost (needs the openssl tool)."""
    pair = make_cert(tmp_path_factory.mktemp("tls"))
    if pair is None:
        missing("the openssl tool is not installed (needed for a test certificate)")
    assert pair is not None
    return pair


def _dovecot(monkeypatch: pytest.MonkeyPatch, cert: CertPair | None,
             oauth2_token: str | None = None) -> Iterator[DovecotServer]:
    binary = find_dovecot()
    if binary is None:
        missing("dovecot is not installed (apt-get install dovecot-imapd)")
    assert binary is not None
    server = DovecotServer(binary, cert=cert, oauth2_token=oauth2_token)
    monkeypatch.setenv(server.password_env, server.password)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def dovecot(monkeypatch: pytest.MonkeyPatch) -> Iterator[DovecotServer]:
    """A fresh, empty Dovecot (plain IMAP on loopback); starts in ~30 ms.

    Its password is in the environment variable named by `dovecot.password_env`, which
    `dovecot.imap_config()` uses.
    """
    yield from _dovecot(monkeypatch, None)


@pytest.fixture
def dovecot_tls(monkeypatch: pytest.MonkeyPatch, tls_cert: CertPair) -> Iterator[DovecotServer]:
    """Like `dovecot`, with STARTTLS on `port` and implicit TLS on `tls_port`.

    Clients trust it through `dovecot_tls.cert.client_context()`.
    """
    yield from _dovecot(monkeypatch, tls_cert)


@pytest.fixture
def dovecot_oauth2(monkeypatch: pytest.MonkeyPatch) -> Iterator[DovecotServer]:
    """Like `dovecot`, also offering AUTH=XOAUTH2 (Dovecot's oauth2 passdb).

    Dovecot checks each token with `dovecot_oauth2.oauth2` (a loopback introspection endpoint):
    it accepts the tokens in its `accepted` set (at first only "initial-token") and records
    every token it was asked about in `asked`.
    """
    yield from _dovecot(monkeypatch, None, oauth2_token="initial-token")


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An aiosmtpd server on loopback (plain, no AUTH) that records every message."""
    yield from _running(SmtpServer())


@pytest.fixture
def smtputf8_server() -> Iterator[SmtpServer]:
    """The same, offering SMTPUTF8 (RFC 6531)."""
    yield from _running(SmtpServer(smtputf8=True))


def _running(server: SmtpServer) -> Iterator[SmtpServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()
