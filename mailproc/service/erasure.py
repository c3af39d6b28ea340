"""A person's right to erasure (`mailproc forget`) and deleting a test case (`mailproc delete`).

Forget: every case that names the person loses them (`cases.retention.erased_case`), their
diary text is redacted and its hash chain re-sealed with an `erasure` entry saying so (never
what was erased); every raw message and attachment that mentions them is replaced by a
scrubbed copy (`store.erasure`); queued mail to them is dropped and other queued mail, the
logs, the index and the snapshot are rewritten without them.
Delete: one case file, its raw mail and attachments (unless another case refers to them), its
queued mail and its index records go; a content-free `deleted` record stays in index.jsonl.
Both need the data directory's lock: the caller opens the store for writing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailproc.cases.identity import identifiers
from mailproc.cases.retention import (
    erased_case,
    erased_entry,
    mentions,
    person_terms,
    terms_pattern,
)
from mailproc.model.records import Case, DiaryEntry, scrub_strings
from mailproc.store.erasure import (
    byte_pattern,
    scrub_archive,
    scrub_blobs,
    scrub_other_logs,
)
from mailproc.store.export import case_raw_shas
from mailproc.store.store import Store


@dataclass
class Erased:
    """What `forget` changed (counts only: the person is not named again)."""

    cases: list[str]
    raw_copies: int
    attachments: int
    queued_dropped: int


def forget(store: Store, address: str, names: list[str], pepper: bytes,
           now: datetime) -> Erased:
    terms = person_terms(store.all_cases(), address, names)
    text, data = terms_pattern(terms), byte_pattern(terms)
    raw = scrub_archive(store, text, data)
    blobs = scrub_blobs(store, data)
    touched: dict[str, set[str]] = {}  # case id -> its identifiers afterwards
    for case in store.all_cases():
        diary = store.diary(case.id)
        refs = {case.source_sha256, *(f.sha256 for f in case.followups),
                *(a.sha256 for a in case.attachments), *(e.message_sha256 for e in diary)}
        if not mentions(case, diary, text) and not refs & (set(raw) | set(blobs)):
            continue
        clean = _pointed(erased_case(case, address, text), raw, blobs)
        clean.identifiers = identifiers(clean, pepper) if clean.reported != case.reported \
            else clean.identifiers
        redacted = [erased_entry(e, text).model_copy(update={
            "message_sha256": raw.get(e.message_sha256 or "", e.message_sha256)})
            for e in diary]
        store.rewrite_case(clean, redacted, DiaryEntry(
            case_id=case.id, at=now, kind="erasure",
            detail="a person's identifying data was erased (right to erasure)"))
        touched[case.id] = set(clean.identifiers)
    key = address.strip().casefold()
    dropped = store.rewrite_documents(lambda table, doc: _queued(table, doc, key, text))
    store.rewrite_logs(lambda r: scrub_strings(r, text, keys=True),
                       lambda r: _index_record(r, text, touched))
    scrub_other_logs(store.root, text)
    return Erased(sorted(touched), len(raw), len(blobs), dropped)


def _pointed(case: Case, raw: dict[str, str], blobs: dict[str, str]) -> Case:
    """The case's references moved to the scrubbed copies."""
    if case.source_sha256 in raw:
        case.source_sha256 = raw[case.source_sha256]
    case.followups = [f.model_copy(update={"sha256": raw.get(f.sha256, f.sha256)})
                      for f in case.followups]
    case.attachments = [a.model_copy(update={"sha256": blobs.get(a.sha256 or "", a.sha256)})
                        for a in case.attachments]
    return case


def _queued(table: str, doc: dict[str, Any], address: str,
            text: re.Pattern[str]) -> dict[str, Any] | None:
    """Mail queued to the person is not sent; any other document only loses their mentions."""
    if table == "outbox" and any(str(r).casefold() == address for r in doc.get("recipients", [])):
        return None
    scrubbed: dict[str, Any] = scrub_strings(doc, text, keys=True)
    return scrubbed


def _index_record(rec: dict[str, Any], text: re.Pattern[str],
                  touched: dict[str, set[str]]) -> dict[str, Any] | None:
    case = rec.get("case")
    if rec.get("e") == "id" and case in touched and rec.get("h") not in touched[str(case)]:
        return None  # a keyed identifier of the erased person
    out: dict[str, Any] = scrub_strings(rec, text, keys=True)
    return out


def delete(store: Store, case_id: str, now: datetime) -> int:
    """Remove one case entirely; returns how many raw messages and attachments went."""
    case = store.get_case(case_id)
    if case is None:
        raise KeyError(case_id)
    diary = store.diary(case_id)
    shared = {s for c in store.all_cases() if c.id != case_id
              for s in [c.source_sha256, *(f.sha256 for f in c.followups),
                        *(a.sha256 for a in c.attachments)] if s}
    raw = [s for s in case_raw_shas(store, case, diary) if s not in shared]
    blobs = [a.sha256 for a in case.attachments if a.sha256 and a.sha256 not in shared]
    gone = store.delete_files(raw, blobs)
    store.rewrite_documents(
        lambda table, doc: None if table == "outbox" and doc.get("case_id") == case_id
        else doc)
    store.remove_case(case_id)
    store.rewrite_logs(None, lambda r: None if r.get("case") == case_id
                       and r.get("e") in ("mid", "id", "tp", "act", "head") else r)
    store.log_event({"e": "deleted", "case": case_id, "at": now.isoformat()})
    return gone
