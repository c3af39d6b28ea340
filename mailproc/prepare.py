"""What can be worked out about a message before the store is consulted, anywhere.

Archiving the raw bytes, reading the headers for machine mail, parsing, language detection and
field extraction need nothing but the message and the configuration. `prepare_batch` does that
part of a batch; the daemon runs it in a worker process (`mailproc.prepworker`) while the store,
the decisions and the mail stay in the daemon's own process, and `Pipeline` runs the very same
functions inline whenever no preparation is at hand (dry runs, tests, a worker that is gone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr
from pathlib import Path

from mailproc.classify import Envelope, machine_reason
from mailproc.detect import UNKNOWN
from mailproc.mailbox import RawMessage
from mailproc.parsed import ParsedMessage, ReportFields, normalise_email
from mailproc.storage import archive_path, sha256_hex, sync_filesystem, write_once


@dataclass(frozen=True)
class Settings:
    """The part of the configuration preparation reads (picklable, for the worker)."""

    conduct_address: str
    committee_languages: tuple[str, ...]
    max_message_bytes: int
    translating: bool  # a translator is configured: foreign reports are extracted after it


@dataclass(frozen=True)
class Prepared:
    """One message as far as it can be taken without the store. Only what `Pipeline` would
    have computed itself, with the same functions; a failed step leaves its fields None."""

    key: str
    sha256: str
    message_id: str | None = None
    machine: str | None = None  # why it is machine mail (never answered), if it is
    message: ParsedMessage | None = None
    unparseable: str | None = None  # why it could not be parsed, if it could not
    language: str | None = None  # detected, with `probability`
    probability: float = 0.0
    fields: ReportFields | None = None  # extracted without a translation (None: none needed yet)
    failed: bool = False  # something raised: the pipeline does it again inline and reports it


def envelope_of(raw: bytes) -> tuple[Envelope, str | None]:
    """Headers only (fast, lenient), for machine-mail checks and de-duplication."""
    head = BytesHeaderParser(policy=compat32).parsebytes(raw)
    from_values = head.get_all("From") or []
    from_email = normalise_email(parseaddr(str(from_values[0]))[1]) if from_values else ""

    def get(name: str) -> list[str]:
        return [str(v) for v in head.get_all(name) or []]

    mid = (head.get("Message-ID") or "").strip().strip("<>").strip() or None
    return Envelope(get, head.get_content_type().lower(), from_email), mid


def needs_translation(language: str, text: str, committee_languages: Sequence[str]) -> bool:
    """Whether a report in `language` is translated for the committee."""
    return bool(text.strip()) and language not in (UNKNOWN, *committee_languages)


def report_fields(msg: ParsedMessage, translated: str | None, language: str,
                  conduct_address: str) -> ReportFields:
    """The report fields of a message (our own address and the sender's are nobody reported)."""
    from mailproc.extract import extract_report

    ignore = [conduct_address] + ([msg.from_.email] if msg.from_ else [])
    return extract_report(msg.text, translated, language, ignore_emails=ignore)


def prepare(raw: RawMessage, settings: Settings, sha: str | None = None) -> Prepared:
    """Everything stateless about one message; never raises (see `Prepared.failed`)."""
    sha = sha or sha256_hex(raw.data)
    if len(raw.data) > settings.max_message_bytes:
        return Prepared(raw.key, sha)  # not even read: the pipeline quarantines it by its size
    try:
        return _prepare(raw, sha, settings)
    except Exception:  # the pipeline repeats the step inline, where the error is reported
        return Prepared(raw.key, sha, failed=True)


def _prepare(raw: RawMessage, sha: str, settings: Settings) -> Prepared:
    from mailproc.detect import detect_language
    from mailproc.parse import UnparseableMessage, parse_message

    env, mid = envelope_of(raw.data)
    reason = machine_reason(env, settings.conduct_address)
    if reason is not None:
        return Prepared(raw.key, sha, mid, machine=reason)
    try:
        msg = parse_message(raw.data)
    except UnparseableMessage as exc:
        return Prepared(raw.key, sha, mid, unparseable=exc.reason)
    detection = detect_language(f"{msg.subject}\n{msg.text}", settings.committee_languages)
    fields = None
    if not settings.translating or not needs_translation(
            detection.language, msg.text, settings.committee_languages):
        fields = report_fields(msg, None, detection.language, settings.conduct_address)
    return Prepared(raw.key, sha, mid, message=msg, language=detection.language,
                    probability=detection.probability, fields=fields)


def prepare_batch(raws: Sequence[RawMessage], settings: Settings,
                  archive_root: Path) -> list[Prepared]:
    """Archive a batch durably (one filesystem sync), then prepare each message."""
    shas = [sha256_hex(r.data) for r in raws]
    for raw, sha in zip(raws, shas, strict=True):
        write_once(archive_path(archive_root, sha), raw.data, sync=False)
    if raws:
        sync_filesystem(archive_root / "archive")
    return [prepare(raw, settings, sha) for raw, sha in zip(raws, shas, strict=True)]
