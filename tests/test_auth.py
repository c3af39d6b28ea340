"""Committee mail authentication (`mail.authentication`): who may give commands, and who may not.

Mail is signed for real with dkimpy and a fresh RSA key; the public key is served by a fake
`dnsfunc`, so dkimpy's whole verification runs without DNS. Authentication-Results headers are
written the way a receiving server adds them (on top) and the way a forger would (anywhere).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import dkim
import pytest
from conftest import missing
from dkimkeys import DkimKey, FakeDns, make_key, sign, sign_without_from

from mailproc.config.settings import Config
from mailproc.mail.authentication import AuthResult, authenticate
from mailproc.mail.parse import parse_message

ALICE = "Alice Moreno <alice@example.org>"
BASHIR = "Bashir Rahimi <bashir@example.org>"
CHEN = "Chen Wei <chen@lists.example.org>"  # a subdomain of the domain that signs for her
TRUSTED = "mx.conduct.example"
ALICE_TOKEN = "s3cret-alice-9f2c4e7d1a"
BASHIR_TOKEN = "s3cret-bashir-0b8e31f6aa"


@pytest.fixture(scope="session")
def key(tmp_path_factory: pytest.TempPathFactory) -> DkimKey:
    made = make_key(tmp_path_factory.mktemp("dkim"))
    if made is None:
        missing("the openssl tool is not installed (needed for a DKIM test key)")
    assert made is not None
    return made


@pytest.fixture
def dns(key: DkimKey) -> FakeDns:
    """DNS as the world would answer: example.org and evil.example both publish a key."""
    fake = FakeDns()
    fake.publish(key, "example.org")
    fake.publish(key, "evil.example")
    return fake


def make_config(tmp_path: Path, roster: list[dict[str, object]] | None = None,
                **auth: object) -> Config:
    members = roster if roster is not None else [
        {"name": "Alice Moreno", "email": "alice@example.org",
         "aliases": ["A.Moreno@Personal.example", "@alice_m"],
         "token": {"env": "TEST_ALICE_TOKEN"}},
        {"name": "Bashir Rahimi", "email": "bashir@example.org",
         "token": {"env": "TEST_BASHIR_TOKEN"}},
        {"name": "Chen Wei", "email": "chen@lists.example.org"},
    ]
    return Config.model_validate({
        "conduct_address": "conduct@conduct.example",
        "mailbox": {"maildir": str(tmp_path / "maildir")},
        "outgoing": {"outbox_dir": str(tmp_path / "outbox")},
        "roster": members,
        "auth": {"trusted_authserv_ids": [TRUSTED], **auth},
    })


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    monkeypatch.setenv("TEST_ALICE_TOKEN", ALICE_TOKEN)
    monkeypatch.setenv("TEST_BASHIR_TOKEN", BASHIR_TOKEN)
    yield make_config(tmp_path)


def mail(sender: str = ALICE, body: str = "#clear\n",
         headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A member's reply as their mail client would send it (CRLF line ends)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = "conduct@conduct.example"
    msg["Subject"] = "Re: [COC-2026-0007] new case: amber-falcon"
    msg["Date"] = "Tue, 03 Mar 2026 10:00:00 +0000"
    msg["Message-ID"] = "<reply-1@example.org>"
    for name, value in headers:
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def on_top(raw: bytes, *lines: str) -> bytes:
    """Header lines added above the message, as each server on the way adds its own."""
    return "".join(line + "\r\n" for line in lines).encode() + raw


def check(raw: bytes, config: Config, dns: FakeDns | None = None,
          token: str | None = None) -> AuthResult:
    return authenticate(raw, parse_message(raw), config, token=token, dnsfunc=dns)


def refused(result: AuthResult, why: str) -> bool:
    return not result.ok and result.method is None and result.member is None and \
        why in result.reason


# --------------------------------------------------------------------------- (c) our own DKIM


def test_mail_signed_by_the_members_domain_counts(config: Config, key: DkimKey,
                                                  dns: FakeDns) -> None:
    result = check(sign(mail(), key, "example.org"), config, dns)
    assert result == AuthResult(True, "dkim", "alice@example.org", "")
    assert dns.queries == ["test._domainkey.example.org."]


def test_a_subdomain_sender_signed_by_the_parent_domain_counts(config: Config, key: DkimKey,
                                                               dns: FakeDns) -> None:
    result = check(sign(mail(CHEN), key, "example.org"), config, dns)
    assert result == AuthResult(True, "dkim", "chen@lists.example.org", "")


def test_body_changed_after_signing_is_refused(config: Config, key: DkimKey,
                                               dns: FakeDns) -> None:
    signed = sign(mail(body="#conflict\n"), key, "example.org")
    tampered = signed.replace(b"#conflict", b"#close    ")
    assert tampered != signed
    assert refused(check(tampered, config, dns), "dkim fail")


def test_from_changed_to_another_member_after_signing_is_refused(config: Config, key: DkimKey,
                                                                 dns: FakeDns) -> None:
    # Same domain, so alignment holds: only the signature itself can catch this.
    signed = sign(mail(ALICE), key, "example.org")
    forged = signed.replace(b"alice@example.org", b"bashir@example.org")
    assert check(signed, config, dns).ok
    assert refused(check(forged, config, dns), "dkim fail")


@pytest.mark.parametrize("oversign", [True, False], ids=["from-oversigned", "from-signed-once"])
def test_a_second_from_added_after_signing_is_refused(config: Config, key: DkimKey, dns: FakeDns,
                                                      oversign: bool) -> None:
    signed = sign(mail(ALICE), key, "example.org",
                  include_headers=None if oversign else [b"from", b"to", b"subject"])
    forged = signed.replace(b"From: ", b"From: " + BASHIR.encode() + b"\r\nFrom: ", 1)
    assert refused(check(forged, config, dns), "several From headers")


def test_signed_by_another_domain_is_refused_without_asking_its_dns(
        config: Config, key: DkimKey, dns: FakeDns) -> None:
    result = check(sign(mail(), key, "evil.example"), config, dns)
    assert refused(result, "dkim not aligned")
    assert dns.queries == []


@pytest.mark.parametrize("signer", ["org", "ample.org", "lists.example.org"])
def test_signers_that_do_not_align(tmp_path: Path, key: DkimKey, signer: str) -> None:
    fake = FakeDns()
    fake.publish(key, signer)
    result = check(sign(mail(ALICE), key, signer), make_config(tmp_path), fake)
    assert refused(result, "dkim not aligned")


def test_a_valid_signature_that_leaves_from_out_is_refused(config: Config, key: DkimKey,
                                                           dns: FakeDns) -> None:
    raw = sign_without_from(mail(), key, "example.org")
    assert dkim.verify(raw, dnsfunc=dns)  # dkimpy alone would accept it
    assert refused(check(raw, config, dns), "dkim does not cover From")


def test_a_list_signature_on_top_does_not_hide_the_members_own(config: Config, key: DkimKey,
                                                               dns: FakeDns) -> None:
    both = sign(sign(mail(), key, "example.org"), key, "evil.example")
    assert check(both, config, dns) == AuthResult(True, "dkim", "alice@example.org", "")


def test_a_body_length_limit_is_refused_because_anything_can_be_appended(
        config: Config, key: DkimKey, dns: FakeDns) -> None:
    signed = sign(mail(body="Thanks, see you Tuesday.\n"), key, "example.org", length=True)
    appended = signed + b"#close nothing happened\r\n"
    assert refused(check(appended, config, dns), "dkim body length limit")


def test_dkim_off_in_config_means_signatures_are_not_checked(tmp_path: Path, key: DkimKey,
                                                             dns: FakeDns) -> None:
    config = make_config(tmp_path, verify_dkim=False)
    assert not check(sign(mail(), key, "example.org"), config, dns).ok
    assert dns.queries == []


def test_without_a_dnsfunc_dkimpys_own_resolver_is_asked(config: Config, key: DkimKey,
                                                         dns: FakeDns,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dkim, "get_txt", dns)  # dkimpy's resolver, answered without a network
    raw = sign(mail(), key, "example.org")
    assert authenticate(raw, parse_message(raw), config).method == "dkim"
    assert dns.queries == ["test._domainkey.example.org."]


def test_no_published_key_or_a_failing_dns_refuses_without_raising(config: Config,
                                                                   key: DkimKey) -> None:
    signed = sign(mail(), key, "example.org")
    assert refused(check(signed, config, FakeDns()), "dkim fail")

    def broken(name: bytes, timeout: float = 5) -> bytes:
        raise OSError("resolver exploded")

    assert refused(authenticate(signed, parse_message(signed), config, dnsfunc=broken),
                   "dkim fail")


def test_a_garbled_signature_header_is_refused(config: Config, dns: FakeDns) -> None:
    raw = on_top(mail(), "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=test; b=;;=")
    assert refused(check(raw, config, dns), "dkim fail")


def test_unsigned_mail_without_anything_else_is_refused(config: Config, dns: FakeDns) -> None:
    result = check(mail(), config, dns)
    assert refused(result, "no DKIM signature")
    assert "no token" in result.reason and "no trusted Authentication-Results" in result.reason


# --------------------------------------------------------------------------- who it claims to be


def test_a_stranger_with_perfect_dkim_is_refused(config: Config, key: DkimKey,
                                                 dns: FakeDns) -> None:
    result = check(sign(mail("Eve <eve@example.org>"), key, "example.org"), config, dns)
    assert refused(result, "not a roster address")
    assert dns.queries == []


def test_a_removed_member_is_refused(tmp_path: Path, key: DkimKey, dns: FakeDns) -> None:
    config = make_config(tmp_path, roster=[{"name": "Alice", "email": "alice@example.org"}])
    assert refused(check(sign(mail(BASHIR), key, "example.org"), config, dns),
                   "not a roster address")


def test_a_roster_alias_counts_as_the_member(config: Config, key: DkimKey) -> None:
    fake = FakeDns()
    fake.publish(key, "personal.example")
    raw = sign(mail("Alice <a.moreno@personal.example>"), key, "personal.example")
    assert check(raw, config, fake) == AuthResult(True, "dkim", "alice@example.org", "")


def test_address_case_does_not_matter(config: Config, key: DkimKey, dns: FakeDns) -> None:
    raw = sign(mail("Alice <ALICE@Example.ORG>"), key, "example.org")
    assert check(raw, config, dns) == AuthResult(True, "dkim", "alice@example.org", "")


@pytest.mark.parametrize("sender", [
    '"Moreno, Alice" <alice@example.org>',
    "=?utf-8?q?Moreno=2C_Al=C3=AFce?= <alice@example.org>",
    "Alïce Moreno <alice@example.org>",  # raw UTF-8 (RFC 6532)
    "alice@example.org (Alice)",
    "<alice@example.org>",
])
def test_ordinary_from_headers_of_mail_clients_count(config: Config, key: DkimKey, dns: FakeDns,
                                                     sender: str) -> None:
    raw = mail().replace(b"From: " + ALICE.encode(), b"From: " + sender.encode())
    assert check(sign(raw, key, "example.org"), config, dns).method == "dkim"


@pytest.mark.parametrize(("sender", "why"), [
    (f"{ALICE}, {BASHIR}", "not exactly one From address"),
    ("alice@example.org <eve@evil.example>", "not exactly one From address"),
    ("alice@example.org@evil.example", "not exactly one From address"),
    ("undisclosed-recipients:;", "not exactly one From address"),
    (f"{ALICE}, undisclosed-recipients:;", "not exactly one From address"),
])
def test_from_headers_that_are_not_one_clear_address(config: Config, key: DkimKey, dns: FakeDns,
                                                     sender: str, why: str) -> None:
    raw = mail().replace(b"From: " + ALICE.encode(), b"From: " + sender.encode())
    assert refused(check(sign(raw, key, "example.org"), config, dns), why)


def test_a_sender_header_other_than_from_is_refused(config: Config, key: DkimKey,
                                                    dns: FakeDns) -> None:
    other = sign(mail(headers=(("Sender", "list-bounces@example.org"),)), key, "example.org")
    same = sign(mail(headers=(("Sender", "ALICE@example.org"),)), key, "example.org")
    assert refused(check(other, config, dns), "Sender differs from From")
    assert check(same, config, dns).ok


def test_two_members_claiming_one_alias_means_nobody(tmp_path: Path, key: DkimKey,
                                                     dns: FakeDns) -> None:
    config = make_config(tmp_path, roster=[
        {"name": "Alice", "email": "alice@example.org", "aliases": ["shared@example.org"]},
        {"name": "Bashir", "email": "bashir@example.org", "aliases": ["Shared@example.org"]},
    ])
    raw = sign(mail("shared@example.org"), key, "example.org")
    assert refused(check(raw, config, dns), "not a roster address")


# ----------------------------------------------------------------- (a) Authentication-Results


@pytest.mark.parametrize(("sender", "header", "method"), [
    (ALICE, f"{TRUSTED}; spf=pass smtp.mailfrom=example.org; dmarc=pass header.from=example.org",
     "authres-dmarc"),
    (ALICE, f"{TRUSTED}; dkim=pass header.d=example.org header.s=test", "authres-dkim"),
    (ALICE, f"{TRUSTED}; dkim=pass header.i=@example.org", "authres-dkim"),
    (CHEN, f"{TRUSTED}; dkim=pass (good signature) header.d=example.org", "authres-dkim"),
    (ALICE, "MX.Conduct.Example 1; dmarc=pass (p=reject) header.from=EXAMPLE.org",
     "authres-dmarc"),
    (ALICE, f"{TRUSTED}; dkim=fail header.d=evil.example; dkim=pass header.d=example.org",
     "authres-dkim"),
    (ALICE, f"{TRUSTED};\r\n\tdmarc=none header.from=example.org;\r\n\tdkim=pass "
            "header.d=example.org", "authres-dkim"),
])
def test_the_receiving_servers_pass_counts(config: Config, dns: FakeDns, sender: str,
                                           header: str, method: str) -> None:
    result = check(on_top(mail(sender), f"Authentication-Results: {header}"), config, dns)
    assert result.ok and result.method == method and result.reason == ""
    assert dns.queries == []  # the server's word is enough: no DNS of our own


@pytest.mark.parametrize(("header", "why"), [
    ("dkim=pass", "authres dkim pass not aligned"),  # bare pass: proves nothing
    ("dkim=pass header.d", "authres dkim pass not aligned"),  # authres drops the broken part
    ("dkim=pass header.d=", "authres dkim pass not aligned"),
    ("dkim=pass header.d=evil.example", "authres dkim pass not aligned"),
    ("dkim=pass header.d=org", "authres dkim pass not aligned"),
    ("dkim=pass header.d=ample.org", "authres dkim pass not aligned"),
    ("dkim=pass header.d=example.org header.d=evil.example", "authres dkim pass not aligned"),
    ("dkim=pass header.d=@@@", "malformed Authentication-Results"),
    ("dkim=pass header.d=example.org; junk junk", "malformed Authentication-Results"),
    ("dkim=fail header.d=example.org", "authres dkim fail"),
    ("dkim=fail (dkim=pass header.d=example.org) header.d=example.org", "authres dkim fail"),
    ("dmarc=pass header.from=evil.example", "authres has no dmarc or dkim pass"),
    ("dmarc=pass", "authres has no dmarc or dkim pass"),
    ("spf=pass smtp.mailfrom=alice@example.org", "authres has no dmarc or dkim pass"),
    ("dmarc=fail header.from=example.org; dkim=pass header.d=example.org", "dmarc fail"),
    ("none", "authres has no dmarc or dkim pass"),
])
def test_what_the_receiving_server_says_that_does_not_count(config: Config, dns: FakeDns,
                                                            header: str, why: str) -> None:
    raw = on_top(mail(), f"Authentication-Results: {TRUSTED}; {header}")
    assert refused(check(raw, config, dns), why)


def test_an_untrusted_authserv_id_is_ignored(config: Config, dns: FakeDns) -> None:
    raw = on_top(mail(), "Authentication-Results: mx.elsewhere.example; dmarc=pass "
                         "header.from=example.org")
    assert refused(check(raw, config, dns), "no trusted Authentication-Results")


def test_no_trusted_id_configured_means_no_header_counts(tmp_path: Path, dns: FakeDns) -> None:
    config = make_config(tmp_path, trusted_authserv_ids=[])
    raw = on_top(mail(), f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=example.org")
    assert refused(check(raw, config, dns), "no trusted Authentication-Results")


def test_a_forged_pass_below_the_servers_real_fail_is_refused(config: Config,
                                                              dns: FakeDns) -> None:
    # The forger wrote a "pass" in their own mail; our server added its verdict on top.
    forged = on_top(mail(), f"Authentication-Results: {TRUSTED}; dmarc=pass "
                            "header.from=example.org; dkim=pass header.d=example.org")
    real = on_top(forged, f"Authentication-Results: {TRUSTED}; dkim=none; dmarc=fail "
                          "header.from=example.org")
    assert refused(check(real, config, dns), "dmarc fail")


def test_a_trusted_pass_under_another_servers_header_is_refused(config: Config,
                                                                dns: FakeDns) -> None:
    # Decision: only the very first A-R header may count. When another server has put its own
    # header on top, we cannot tell whether the trusted-looking one below is real or forged.
    below = on_top(mail(), f"Authentication-Results: {TRUSTED}; dmarc=pass "
                           "header.from=example.org")
    raw = on_top(below, "Authentication-Results: mx.elsewhere.example; dmarc=pass "
                        "header.from=example.org")
    assert refused(check(raw, config, dns), "no trusted Authentication-Results")


def test_other_headers_above_the_servers_verdict_do_not_matter(config: Config,
                                                               dns: FakeDns) -> None:
    raw = on_top(mail(), "Received: from mx.conduct.example by imap.conduct.example",
                 "X-Spam-Status: No",
                 f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=example.org")
    raw = on_top(raw, "Delivered-To: conduct@conduct.example")
    assert check(raw, config, dns).method == "authres-dmarc"


def test_a_passing_verdict_for_a_stranger_is_still_refused(config: Config, dns: FakeDns) -> None:
    raw = on_top(mail("Eve <eve@example.org>"),
                 f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=example.org")
    assert refused(check(raw, config, dns), "not a roster address")


# --------------------------------------------------------------------------- (b) token


def test_the_members_token_in_the_header_counts(config: Config, dns: FakeDns) -> None:
    raw = mail(headers=(("X-Mailproc-Token", ALICE_TOKEN),))
    assert check(raw, config, dns) == AuthResult(True, "token", "alice@example.org", "")
    assert dns.queries == []


def test_the_members_token_on_a_hash_token_line_counts(config: Config, dns: FakeDns) -> None:
    raw = mail(body=f"#token {ALICE_TOKEN}\n#clear\n")
    assert check(raw, config, dns, token=ALICE_TOKEN) == \
        AuthResult(True, "token", "alice@example.org", "")


def test_the_token_header_name_is_configurable(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ALICE_TOKEN", ALICE_TOKEN)
    config = make_config(tmp_path, token_header="X-Committee-Key")
    assert check(mail(headers=(("X-Committee-Key", ALICE_TOKEN),)), config).method == "token"
    assert not check(mail(headers=(("X-Mailproc-Token", ALICE_TOKEN),)), config).ok


@pytest.mark.parametrize("presented", ["wrong-token", ALICE_TOKEN[:-1], ALICE_TOKEN + "x",
                                       BASHIR_TOKEN, "ålice-ünicode"])
def test_a_wrong_token_is_refused(config: Config, dns: FakeDns, presented: str) -> None:
    assert refused(check(mail(headers=(("X-Mailproc-Token", presented),)), config, dns),
                   "token mismatch")
    assert refused(check(mail(), config, dns, token=presented), "token mismatch")


def test_a_member_without_a_token_cannot_use_anothers(config: Config, dns: FakeDns) -> None:
    raw = mail(CHEN, headers=(("X-Mailproc-Token", ALICE_TOKEN),))
    assert refused(check(raw, config, dns), "no token configured for this member")


def test_an_unset_or_empty_token_secret_never_matches(tmp_path: Path, dns: FakeDns,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(tmp_path)
    monkeypatch.delenv("TEST_ALICE_TOKEN", raising=False)
    assert refused(check(mail(), config, dns, token=ALICE_TOKEN), "member token unavailable")
    monkeypatch.setenv("TEST_ALICE_TOKEN", "  ")
    assert refused(check(mail(), config, dns, token=""), "no token")
    assert refused(check(mail(), config, dns, token="anything"), "member token unavailable")


def test_several_token_headers_are_refused(config: Config, dns: FakeDns) -> None:
    raw = mail(headers=(("X-Mailproc-Token", "guess-1"), ("X-Mailproc-Token", ALICE_TOKEN)))
    assert refused(check(raw, config, dns), "several token headers")


# ------------------------------------------------------------------ never raise, never leak


def test_bytes_that_are_not_mail_are_refused_without_raising(config: Config,
                                                             dns: FakeDns) -> None:
    msg = parse_message(mail())
    for raw in (b"", b"\x00\xff\xfe garbage", b"From: \xff\xfe\r\n\r\nbody"):
        result = authenticate(raw, msg, config, dnsfunc=dns)
        assert not result.ok and result.member is None


def test_a_parsed_from_that_disagrees_with_the_bytes_is_refused(config: Config, key: DkimKey,
                                                                dns: FakeDns) -> None:
    signed = sign(mail(ALICE), key, "example.org")
    other = parse_message(mail(BASHIR))
    assert refused(authenticate(signed, other, config, dnsfunc=dns), "parsed From disagrees")


def test_logs_carry_no_address_and_no_token(config: Config, key: DkimKey, dns: FakeDns,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="dkimpy")  # what dkimpy would say, if it could
    check(sign(mail(), key, "example.org"), config, dns)
    check(sign(mail(), key, "evil.example"), config, dns)
    check(sign(mail(body="#clear\n"), key, "example.org").replace(b"#clear", b"#close"),
          config, dns)
    check(mail(headers=(("X-Mailproc-Token", "wrong-" + ALICE_TOKEN),)), config, dns)
    check(mail("Eve <eve@example.org>"), config, dns, token=ALICE_TOKEN)
    assert caplog.records  # the outcomes are logged ...
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("alice", "eve@", "example.org", ALICE_TOKEN):  # ... without who or what
        assert secret not in text
