"""`mailproc check --connect`: every outside part the configuration names, tried for real.

One `Step` per thing tried, in the order the daemon needs them: each secret read from its
source, the IMAP login and the folders the daemon will use, SMTP's connection (EHLO), STARTTLS
and AUTH (and, when asked, a test mail to the admin), and the translation backend, with who
sees report text through it. A step's text says what worked or, in the words of the log and
of `mailproc status`, why not; never a secret's value.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from mailproc.adapters.mailbox import MailboxError
from mailproc.adapters.netfail import explain, tls_context
from mailproc.adapters.oauth import TokenError, read_access_token
from mailproc.adapters.translation import probe_phrase
from mailproc.adapters.translators import TranslationError, build_translator, server_of
from mailproc.config.settings import (
    Config,
    ImapConfig,
    Secret,
    SmtpConfig,
    TlsMode,
    TranslationBackend,
)

THIRD_PARTIES = {"google": "Google", "mymemory": "MyMemory (Translated)", "deepl": "DeepL",
                 "microsoft": "Microsoft"}


@dataclass(frozen=True)
class Step:
    ok: bool
    part: str
    text: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.part:<12} {self.text}"


def secrets_of(config: Config) -> Iterator[tuple[str, Secret]]:
    """Every secret the configuration names, with its key path."""
    imap, smtp = config.mailbox.imap, config.outgoing.smtp
    for key, secret in (("mailbox.imap.password", imap.password if imap else None),
                        ("mailbox.imap.oauth2_token", imap.oauth2_token if imap else None),
                        ("outgoing.smtp.password", smtp.password if smtp else None),
                        ("outgoing.smtp.oauth2_token", smtp.oauth2_token if smtp else None),
                        ("translation.api_key", config.translation.api_key)):
        if secret is not None:
            yield key, secret
    for n, member in enumerate(config.roster):
        if member.token is not None:
            yield f"roster[{n}].token", member.token


def source_of(secret: Secret) -> str:
    if secret.env is not None:
        return f"environment variable {secret.env}"
    if secret.file is not None:
        return f"file {secret.file}"
    assert secret.command is not None
    return f"command {secret.command[0]}"


def probe(config: Config, send_test: bool = False) -> Iterator[Step]:
    """Try everything, one step at a time (the caller prints each as it comes)."""
    for key, secret in secrets_of(config):
        try:
            secret.reveal()
        except ValueError as exc:
            yield Step(False, "secret", f"{key}: {exc}")
        else:
            yield Step(True, "secret", f"{key}: read from {source_of(secret)}")
    if config.mailbox.imap is not None:
        yield from _imap(config.mailbox.imap)
    else:
        yield Step(True, "mailbox", f"Maildir {config.mailbox.maildir} (local: nothing to "
                                    "connect to)")
    if config.outgoing.smtp is not None:
        yield from asyncio.run(_smtp(config, config.outgoing.smtp, send_test))
    else:
        yield Step(True, "outgoing", f"files in {config.outgoing.outbox_dir} (nothing is sent)")
        if send_test:
            yield Step(False, "send-test", "no smtp: server to send a test mail through")
    yield _translation(config)


def _imap(cfg: ImapConfig) -> Iterator[Step]:
    from mailproc.adapters.imap import ImapSource

    source = ImapSource(cfg)
    try:
        source.open()
    except MailboxError as exc:
        yield Step(False, "imap", str(exc))
        return
    try:
        yield Step(True, "imap", f"logged in to {cfg.host}:{cfg.port} (tls {cfg.tls}, auth "
                                 f"{cfg.auth}; {source.mode} mode)")
        names = set(source.folder_names())
        wanted = [cfg.folders.inbox, cfg.folders.processed, cfg.folders.routed,
                  cfg.folders.junk, cfg.folders.quarantine]
        missing = [name for name in wanted if name not in names]
        text = "found " + ", ".join(n for n in wanted if n in names)
        if missing:
            text += "; created at first use: " + ", ".join(missing)
        yield Step(cfg.folders.inbox in names, "imap folders", text)
    except MailboxError as exc:
        yield Step(False, "imap folders", str(exc))
    finally:
        source.close()


async def _smtp(config: Config, cfg: SmtpConfig, send_test: bool) -> list[Step]:
    import aiosmtplib

    steps: list[Step] = []
    where = f"{cfg.host}:{cfg.port}"
    client = aiosmtplib.SMTP(hostname=cfg.host, port=cfg.port,
                             use_tls=cfg.tls is TlsMode.IMPLICIT, start_tls=False,
                             tls_context=tls_context(cfg.ca_file), timeout=cfg.timeout_seconds)
    stage = "connect"
    try:
        await client.connect()
        await client.ehlo()
        steps.append(Step(True, "smtp", f"{where} answered EHLO (tls {cfg.tls})"))
        if cfg.tls is TlsMode.STARTTLS:
            stage = "starttls"
            await client.starttls(tls_context=tls_context(cfg.ca_file))
            steps.append(Step(True, "smtp", "STARTTLS: the certificate and host name check out"))
        if cfg.username:
            stage = "auth"
            await _log_in(client, cfg)
            steps.append(Step(True, "smtp", f"AUTH ({cfg.auth}) accepted"))
        if send_test:
            stage = "send-test"
            steps.append(await _send_test(client, config))
    except (aiosmtplib.SMTPException, OSError, TokenError, ValueError) as exc:
        words = explain(exc, "the SMTP server", cfg.host, cfg.port, cfg.timeout_seconds)
        steps.append(Step(False, "smtp" if stage != "send-test" else "send-test",
                          f"{stage}: {words}" if not isinstance(exc, ValueError) else str(exc)))
    finally:
        client.close()
    return steps


async def _log_in(client: object, cfg: SmtpConfig) -> None:
    import aiosmtplib

    assert isinstance(client, aiosmtplib.SMTP) and cfg.username
    if cfg.auth == "xoauth2":
        if cfg.oauth2_token is None:
            raise ValueError("outgoing.smtp: auth xoauth2 needs oauth2_token:")
        await client.auth_xoauth2(cfg.username, read_access_token(cfg.oauth2_token, "SMTP"))
        return
    if cfg.password is None:
        raise ValueError("outgoing.smtp: username given without password:")
    await client.login(cfg.username, cfg.password.reveal())


async def _send_test(client: object, config: Config) -> Step:
    import aiosmtplib

    assert isinstance(client, aiosmtplib.SMTP)
    if not config.admin_address:
        return Step(False, "send-test", "no admin_address: to send the test mail to")
    msg = EmailMessage()
    msg["From"] = config.conduct_address
    msg["To"] = config.admin_address
    msg["Subject"] = "[mailproc] test mail from mailproc check --connect"
    msg["Message-ID"] = make_msgid(domain=config.message_id_domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("mailproc can send mail through this server: admin alerts and "
                    "acknowledgements will reach their recipients the same way.\n")
    errors, _reply = await client.send_message(msg)
    if errors:
        codes = ", ".join(str(code) for code, _text in errors.values())
        return Step(False, "send-test", f"the server refused the admin address ({codes})")
    return Step(True, "send-test", "a test mail went to the admin address "
                                   f"({msg['Message-ID']})")


def _translation(config: Config) -> Step:
    cfg = config.translation
    if cfg.backend is TranslationBackend.NONE:
        return Step(True, "translation", "off (backend: none): no report text leaves this "
                                         "machine; reports reach the committee as written")
    who = (f"your server at {server_of(cfg.url or '')}"
           if cfg.backend is TranslationBackend.LIBRETRANSLATE
           else f"{THIRD_PARTIES.get(cfg.backend.value, cfg.backend.value)}, a third party")
    try:
        inner = build_translator(cfg, cfg.api_key.reveal() if cfg.api_key else None)
        assert inner is not None
        text, source, target = probe_phrase(config.committee_language)
        _translate_within(inner.translate, text, source, target, cfg.timeout_seconds)
    except (TranslationError, ValueError, TimeoutError) as exc:
        return Step(False, "translation", f"{cfg.backend.value}: {exc}")
    return Step(True, "translation", f"{cfg.backend.value} answered; report text will be "
                                     f"sent to {who}")


def _translate_within(call: object, text: str, source: str, target: str,
                      seconds: float) -> None:
    """deep-translator has no timeout of its own: a hanging server must not hang `check`."""
    import concurrent.futures
    import threading

    assert callable(call)
    result: concurrent.futures.Future[str] = concurrent.futures.Future()

    def run() -> None:
        try:
            result.set_result(call(text, source, target))
        except BaseException as exc:
            result.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    try:
        result.result(timeout=seconds)
    except concurrent.futures.TimeoutError:
        raise TimeoutError(f"no answer within {seconds:g} s (a server that hangs or is "
                           "overloaded)") from None
