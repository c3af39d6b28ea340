"""Removing a person from the files of the data directory (`mailproc forget`), file by file.

A raw message or an attachment that mentions the person is replaced by a scrubbed copy under
its new sha256 (the archive is content-addressed) and the original is deleted; the caller
points the case records at the new copies. Raw mail is scrubbed as bytes (headers, 7bit, 8bit
and quoted-printable text) and then part by part (base64 parts, RFC 2047 encoded headers),
so that a name written as `=?utf-8?q?Luc=C3=ADa?=` goes as well. JSON documents (logs,
queued mail, counters) are rewritten string by string.
Everything is read and written through the store and `store.files`.
"""

from __future__ import annotations

import base64
import email
import email.policy
import quopri
import re
from collections.abc import Callable
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

from mailproc.model.records import ERASED, scrub_strings
from mailproc.store.files import JsonLog
from mailproc.store.store import Store

OTHER_LOGS = ("sent.jsonl", "revoked.jsonl")  # the store's own two logs: Store.rewrite_logs


def byte_pattern(terms: list[str]) -> re.Pattern[bytes]:
    """Every term, case-insensitive, as UTF-8 bytes, on word edges (never inside a base64
    line, whose letters, digits, + and / run on)."""
    return re.compile(b"|".join(rb"(?<![\w+/])" + re.escape(t.encode("utf-8")) + rb"(?![\w+/])"
                                for t in terms), re.IGNORECASE)


def scrub_text(value: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(ERASED, value)




def scrub_mail(raw: bytes, text: re.Pattern[str], data: re.Pattern[bytes]) -> bytes:
    """A raw message without the terms: as bytes first, then in encoded headers and parts."""
    out = data.sub(ERASED.encode(), raw)
    try:
        msg = email.message_from_bytes(out, policy=email.policy.compat32)
        changed = _scrub_parts(msg, text, data)
    except Exception:  # a message the parser cannot take back keeps the byte-level result
        return out
    return msg.as_bytes() if changed else out


def _scrub_parts(msg: Message, text: re.Pattern[str], data: re.Pattern[bytes]) -> bool:
    changed = False
    for part in msg.walk():
        for name, value in list(part.items()):
            decoded = str(make_header(decode_header(str(value))))
            if text.search(decoded):
                part.replace_header(name, text.sub(ERASED, decoded))
                changed = True
        if part.is_multipart():
            continue
        cte = str(part.get("Content-Transfer-Encoding", "")).lower().strip()
        payload = part.get_payload(decode=True)
        if cte not in ("base64", "quoted-printable") or not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            clean = data.sub(ERASED.encode(), text.sub(ERASED, payload.decode(charset))
                             .encode(charset))
        except (LookupError, UnicodeError):
            clean = data.sub(ERASED.encode(), payload)
        if clean != payload:
            part.set_payload(base64.encodebytes(clean).decode("ascii") if cte == "base64"
                             else quopri.encodestring(clean).decode("ascii"))
            changed = True
    return changed


def scrub_archive(store: Store, text: re.Pattern[str],
                  data: re.Pattern[bytes]) -> dict[str, str]:
    """Every raw message that names the person, replaced by a scrubbed copy: old -> new sha."""
    moved: dict[str, str] = {}
    for sha in store.archive_shas():
        raw = store.read_archive(sha)
        if not _names(raw, text, data):
            continue
        moved[sha] = store.archive(scrub_mail(raw, text, data))
        store.delete_files([sha], [])
    return moved


def _names(raw: bytes, text: re.Pattern[str], data: re.Pattern[bytes]) -> bool:
    """Whether the raw bytes or any decoded part or header name the person."""
    if data.search(raw):
        return True
    return scrub_mail(raw, text, data) != raw


def scrub_blobs(store: Store, data: re.Pattern[bytes]) -> dict[str, str]:
    """Attachments whose bytes name the person (text files), scrubbed: old -> new sha."""
    moved: dict[str, str] = {}
    for sha in store.blob_shas():
        blob = store.read_blob(sha)
        if blob is None or not data.search(blob):
            continue
        moved[sha] = store.put_blob(data.sub(ERASED.encode(), blob))
        store.delete_files([], [sha])
    return moved


def rewrite_jsonl(path: Path, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> int:
    """Rewrite a JSON-lines log atomically, record by record (None drops one); how many
    records changed."""
    log = JsonLog(path)
    if not path.exists():
        return 0
    before = list(log.read())
    after = [change(r) for r in before]
    changed = sum(1 for a, b in zip(before, after, strict=True) if a != b)
    if changed:
        log.replace(r for r in after if r is not None)
    return changed


def scrub_other_logs(root: Path, pattern: re.Pattern[str]) -> int:
    """The small logs outside the store's two (sent mail, roster changes)."""
    return sum(rewrite_jsonl(root / name, lambda r: scrub_strings(r, pattern, keys=True))
               for name in OTHER_LOGS)

