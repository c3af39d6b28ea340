"""The one seam of the speed machinery: a message read as far as it goes without the store.

Archiving the raw bytes, reading the headers for machine mail, parsing, language detection and
field extraction need nothing but the message and the configuration. `read_message` does that
for one message and `Prepared` is its result: the only input `Pipeline` decides from, whoever
made it. The reader process (`mailproc.service.reader`) makes them for a whole batch on a second
core (`prepare_batch`); the pipeline makes them itself, with the same function, for whatever
has none (dry runs, tests, a reader that is gone or failed on that message).

The parser, the detector and the extractor are imported here, where they are used, and nowhere
else in the daemon: with a reader process, the daemon never loads them (its start-up was
1.2-1.6 s with them, 0.6-0.85 s without, for an empty `run --once`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailproc.adapters.mailbox import RawMessage
from mailproc.mail.machine import Envelope, machine_reason, read_envelope
from mailproc.model.parsed import ParsedMessage, ReportFields
from mailproc.reading.detect import UNKNOWN, Detection
from mailproc.store.files import archive_path, sha256_hex, sync_filesystem, write_once

if TYPE_CHECKING:  # the reader process never loads the configuration models
    from mailproc.config.settings import Config


@dataclass(frozen=True)
class Settings:
    """The part of the configuration preparation reads (picklable, for the worker)."""

    conduct_address: str
    committee_languages: tuple[str, ...]
    max_message_bytes: int
    translating: bool  # a translator is configured: foreign reports are extracted after it


def settings_for(config: Config) -> Settings:
    """What `read_message` needs of the configuration."""
    return Settings(config.conduct_address, tuple(config.committee_languages),
                    config.limits.max_message_bytes,
                    translating=config.translation.backend.value != "none")


@dataclass(frozen=True)
class Prepared:
    """One message as far as it can be taken without the store; a message over the size
    limit is not read at all (the pipeline quarantines it by its size)."""

    key: str
    sha256: str
    message_id: str | None = None
    machine: str | None = None  # why it is machine mail (never answered), if it is
    message: ParsedMessage | None = None
    unparseable: str | None = None  # why it could not be parsed, if it could not
    language: str | None = None  # detected, with `probability`
    probability: float = 0.0
    fields: ReportFields | None = None  # extracted without a translation (None: none needed yet)
    failed: bool = False  # something raised in the reader: the pipeline reads it again

    @property
    def detection(self) -> Detection:
        return Detection(self.language or UNKNOWN, self.probability)


def envelope_of(raw: bytes) -> tuple[Envelope, str | None]:
    """Headers only (fast, lenient), for machine-mail checks and de-duplication."""
    return read_envelope(raw)


def needs_translation(language: str, text: str, committee_languages: Sequence[str]) -> bool:
    """Whether a report in `language` is translated for the committee."""
    return bool(text.strip()) and language not in (UNKNOWN, *committee_languages)


def detection_of(msg: ParsedMessage, settings: Settings) -> Detection:
    """The language of a parsed message (subject and text)."""
    from mailproc.reading.detect import detect_language

    return detect_language(f"{msg.subject}\n{msg.text}", settings.committee_languages)


def report_fields(msg: ParsedMessage, translated: str | None, language: str,
                  conduct_address: str) -> ReportFields:
    """The report fields of a message (our own address and the sender's are nobody reported).

    A mail forwarded as an attachment (message/rfc822: "I got this, see attached") is read for
    danger too: a threat in it makes the report urgent. Only urgency: who wrote the attached
    mail and who is named in it is for the committee to read, not to guess."""
    return extract_fields(msg.text, translated, language,
                          [conduct_address, msg.from_.email if msg.from_ else None],
                          (msg.from_.name,) if msg.from_ and msg.from_.name else (),
                          _attached_texts(msg))


ATTACHED_MAIL_READ = 3  # attached mails read for danger, at most (each under 1 MB)


def _attached_texts(msg: ParsedMessage) -> list[str]:
    from mailproc.mail.parse import UnparseableMessage, parse_message

    texts = []
    mails = [a for a in msg.attachments if a.content_type in ("message/rfc822", "message/global")
             and a.size < 1 << 20]
    for attachment in mails[:ATTACHED_MAIL_READ]:
        try:
            inner = parse_message(attachment.payload)
        except UnparseableMessage:
            continue
        texts.append(f"{inner.subject}\n{inner.text}")
    return texts


def extract_fields(text: str, translated: str | None, language: str,
                   ignore: Sequence[str | None], writers: Sequence[str] = (),
                   evidence: Sequence[str] = ()) -> ReportFields:
    """The report fields of a text and its translation; `ignore`: addresses of nobody reported;
    `writers`: the sender's display name (never a reported person); `evidence`: attached mails'
    text, read for danger only."""
    from mailproc.reading.extract import extract_report

    return extract_report(text, translated, language, ignore_emails=[e for e in ignore if e],
                          writers=writers, evidence=evidence)


def read_message(raw: RawMessage, settings: Settings, sha: str | None = None) -> Prepared:
    """Everything stateless about one message; raises what its parts raise."""
    from mailproc.mail.parse import UnparseableMessage, parse_message

    sha = sha or sha256_hex(raw.data)
    if len(raw.data) > settings.max_message_bytes:
        return Prepared(raw.key, sha)
    env, mid = envelope_of(raw.data)
    reason = machine_reason(env, settings.conduct_address)
    if reason is not None:
        return Prepared(raw.key, sha, mid, machine=reason)
    try:
        msg = parse_message(raw.data)
    except UnparseableMessage as exc:
        return Prepared(raw.key, sha, mid, unparseable=exc.reason)
    detection = detection_of(msg, settings)
    fields = None
    if not settings.translating or not needs_translation(
            detection.language, msg.text, settings.committee_languages):
        fields = report_fields(msg, None, detection.language, settings.conduct_address)
    return Prepared(raw.key, sha, mid, message=msg, language=detection.language,
                    probability=detection.probability, fields=fields)


def prepare(raw: RawMessage, settings: Settings, sha: str | None = None) -> Prepared:
    """`read_message` for the reader process: never raises (see `Prepared.failed`)."""
    sha = sha or sha256_hex(raw.data)
    try:
        return read_message(raw, settings, sha)
    except Exception:  # the pipeline reads it again, where the error is reported
        return Prepared(raw.key, sha, failed=True)


def prepare_batch(raws: Sequence[RawMessage], settings: Settings,
                  archive_root: Path) -> list[Prepared]:
    """Archive a batch durably (one filesystem sync), then prepare each message."""
    shas = [sha256_hex(r.data) for r in raws]
    for raw, sha in zip(raws, shas, strict=True):
        write_once(archive_path(archive_root, sha), raw.data, sync=False)
    if raws:
        sync_filesystem(archive_root / "archive")
    return [prepare(raw, settings, sha) for raw, sha in zip(raws, shas, strict=True)]
