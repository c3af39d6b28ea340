"""`mailproc export` and `mailproc delete` (issue 16 point 5) on a data directory made by the
real daemon (the conversation of test_retention), each followed by `mailproc verify`."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from harness import cases, mail, mailproc, show
from test_retention import PNG, SAM, conversation, daemon

from mailproc.model.records import DiaryEntry
from mailproc.store.store import diary_hash


def test_export_puts_record_diary_raw_mail_and_attachments_in_one_zip(tmp_path: Path) -> None:
    c = conversation(tmp_path)
    out = tmp_path / "sar" / "COC-2026-0001.zip"
    run = mailproc(c.config, "export", "coc-2026-0001", "--out", str(out))
    assert run.code == 0, run.err
    z = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
    names = z.namelist()
    assert {"README.txt", "case.json", "diary.json", "diary.txt"} <= set(names)
    record = json.loads(z.read("case.json"))
    shown = show(c.config, "COC-2026-0001")
    assert {k: v for k, v in record.items() if k != "deadlines"} == \
        {k: v for k, v in shown.items() if k not in ("deadlines", "overdue")}
    # The report exactly as it arrived, and the screenshot byte for byte.
    report = z.read(f"raw/{record['source_sha256']}.eml")
    assert SAM.encode() in report and b"Paul Novak" in report
    assert z.read("attachments/01-screenshot.png") == PNG
    # Every member's reply about the case is there too (the diary names its raw message).
    raw = [n for n in names if n.startswith("raw/")]
    assert len(raw) > 4
    # The diary's chain can be checked from the zip alone, as the README says.
    entries = [DiaryEntry.model_validate(e) for e in json.loads(z.read("diary.json"))]
    prev = None
    for entry in entries:
        assert entry.prev_hash == prev
        assert entry.hash == diary_hash(entry.model_copy(update={"hash": None}))
        prev = entry.hash
    readme = z.read("README.txt").decode()
    assert "COC-2026-0001" in readme and "prev_hash" in readme and "personal data" in readme
    assert out.stat().st_mode & 0o077 == 0
    c.verify()


def test_export_refuses_inside_the_data_directory_and_beside_a_daemon(tmp_path: Path) -> None:
    c = conversation(tmp_path)
    inside = mailproc(c.config, "export", "COC-2026-0001", "--out", str(c.data / "x.zip"))
    assert inside.code == 2 and not (c.data / "x.zip").exists()
    assert mailproc(c.config, "export", "COC-2026-0009", "--out",
                    str(tmp_path / "x.zip")).code == 1
    with daemon(c):
        refused = mailproc(c.config, "export", "COC-2026-0001", "--out", str(tmp_path / "y.zip"))
        assert refused.code == 2 and "daemon is running" in refused.err
        assert not (tmp_path / "y.zip").exists()


def test_delete_removes_a_test_case_and_nothing_else(tmp_path: Path) -> None:
    c = conversation(tmp_path)
    c.send(mail("tester@example.net", "TEST please ignore", "A test report from the chair."))
    c.run()
    test_case = show(c.config, "COC-2026-0004")
    source = test_case["source_sha256"]
    others = {i: show(c.config, i) for i in ("COC-2026-0001", "COC-2026-0002", "COC-2026-0003")}

    unconfirmed = mailproc(c.config, "delete", "COC-2026-0004")
    assert unconfirmed.code == 2 and "--confirm COC-2026-0004" in unconfirmed.err
    wrong = mailproc(c.config, "delete", "COC-2026-0004", "--confirm", "COC-2026-0003")
    assert wrong.code == 2 and show(c.config, "COC-2026-0004")["id"] == "COC-2026-0004"
    with daemon(c):
        refused = mailproc(c.config, "delete", "COC-2026-0004", "--confirm", "COC-2026-0004")
        assert refused.code == 2 and "daemon is running" in refused.err
    assert show(c.config, "COC-2026-0004")["id"] == "COC-2026-0004"

    done = mailproc(c.config, "delete", "COC-2026-0004", "--confirm", "COC-2026-0004")
    assert done.code == 0, done.err
    assert mailproc(c.config, "show", "COC-2026-0004").code == 1
    assert [r["id"] for r in cases(c.config)] == ["COC-2026-0001", "COC-2026-0002",
                                                  "COC-2026-0003"]
    assert not (c.data / "archive" / source[:2] / f"{source}.eml").exists()
    files = c.files()
    assert not any(b"tester@example.net" in v or b"A test report" in v for v in files.values())
    for case_id, record in others.items():
        assert show(c.config, case_id) == record  # nothing else lost
    c.verify()
    # The id is never reused, and the daemon goes on as before.
    c.send(mail("next@example.net", "Report", "Someone was rude to me in the chat."))
    c.run()
    assert show(c.config, "COC-2026-0005")["reporter"]["email"] == "next@example.net"
    c.verify()
