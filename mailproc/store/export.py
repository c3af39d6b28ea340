"""One case as a zip file (`mailproc export`): for a subject access request, a hand-over to a
lawyer, or an archive a committee keeps elsewhere. Everything comes from the store's readers.

    README.txt            what each file is, and how the diary's chain can be checked
    case.json             the case record (`mailproc show ID --json`)
    diary.json/diary.txt  the diary with its hash chain
    raw/<sha256>.eml      every raw message of the case still kept (report, follow-ups, replies)
    attachments/<n>-<name> the attachments still kept
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime

from mailproc.model.records import Case, DiaryEntry
from mailproc.store.store import Store

README = """\
Case {case_id} ({code_name}), exported {at} by mailproc.

This archive holds personal data about the people named in the case. Keep it where only the
people entitled to it can read it, and delete it when it is no longer needed.

case.json        the case record, as `mailproc show {case_id} --json` printed it
diary.json       every diary entry: when, what kind, who acted, what happened; each entry's
                 "hash" is the SHA-256 of the entry's canonical JSON (sorted keys, "hash"
                 empty) and its "prev_hash" is the hash of the entry before: change one entry
                 and every later hash stops matching. `mailproc verify` checks it in place.
                 Entries of kind "erasure" or "retention" record that text was removed and
                 the chain re-sealed from that point (the old chain head is named there).
diary.txt        the same, one line per entry
raw/             the raw messages of the case still kept, named by their SHA-256
attachments/     the attachments still kept ({missing} listed in case.json are no longer kept)
{notes}"""


# `cases.anonymity.MADE_ANONYMOUS`: the event of a case made anonymous after it arrived.
_MADE_ANONYMOUS = "made-anonymous"
_ANONYMOUS_NOTE = ("The case was made anonymous after it arrived: its raw messages, whose "
                   "headers and text name the reporter, are left out; case.json holds the "
                   "report and follow-ups without the reporter's name and address.")


def case_raw_shas(store: Store, case: Case, diary: list[DiaryEntry]) -> list[str]:
    """Every raw message of a case: the report, follow-ups, members' mail about it, and the
    mail its diary names."""
    shas = [case.source_sha256, *(f.sha256 for f in case.followups),
            *(e.message_sha256 for e in diary), *store.message_shas(case.id)]
    return list(dict.fromkeys(s for s in shas if s))


def export_case(store: Store, case_id: str, at: datetime) -> bytes:
    """The zip archive of one case, as bytes."""
    case = store.get_case(case_id)
    if case is None:
        raise KeyError(case_id)
    diary = store.diary(case_id)
    buffer = io.BytesIO()
    notes: list[str] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("case.json", json.dumps(case.model_dump(mode="json"), ensure_ascii=False,
                                           indent=2) + "\n")
        z.writestr("diary.json", json.dumps([e.model_dump(mode="json") for e in diary],
                                            ensure_ascii=False, indent=2) + "\n")
        z.writestr("diary.txt", "".join(
            f"{e.at.isoformat(timespec='seconds')}  {e.kind:<20} {e.actor:<24} {e.detail}\n"
            for e in diary))
        if _MADE_ANONYMOUS in case.events:
            notes.append(_ANONYMOUS_NOTE)
        for sha in [] if _MADE_ANONYMOUS in case.events else case_raw_shas(store, case, diary):
            try:
                z.writestr(f"raw/{sha}.eml", store.read_archive(sha))
            except FileNotFoundError:
                notes.append(f"raw/{sha}.eml is no longer kept (retention, erasure or "
                             "an anonymous report's scrubbing)")
        missing = 0
        for n, att in enumerate(case.attachments, 1):
            blob = store.read_blob(att.sha256) if att.sha256 else None
            if blob is None:
                missing += 1
                continue
            z.writestr(f"attachments/{n:02d}-{_safe(att.filename)}", blob)
        z.writestr("README.txt", README.format(
            case_id=case.id, code_name=case.code_name, at=at.isoformat(timespec="seconds"),
            missing=missing, notes="".join(f"\n{n}" for n in notes) + ("\n" if notes else "")))
    return buffer.getvalue()


def _safe(name: str) -> str:
    """A file name that stays inside its folder of the zip."""
    cleaned = re.sub(r"[^\w.\- ]", "_", name.replace("/", "_").replace("\\", "_")).strip(". ")
    return cleaned or "attachment"
