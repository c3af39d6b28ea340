"""`mailproc quarantine list|show|release` (issue 16 point 6), with messages the real daemon
quarantined: a report too big for the configured limit (the admin raises the limit: the fix)
and a message nested too deep for any parser (no fix: released, it stays in quarantine)."""

from __future__ import annotations

import re
from pathlib import Path

from harness import mail, mailproc, show, write_config
from test_retention import Committee, daemon

BIG = bytes(range(256)) * 12  # a 3 KB attachment: over a 1 KB limit


def nested(depth: int) -> bytes:
    head = b"From: deep@example.net\nTo: conduct@example.org\nSubject: Report\n" \
           b"Message-ID: <deep@example.net>\n"
    body = b"Content-Type: text/plain\n\nhello\n"
    for n in range(depth):
        body = (f"Content-Type: multipart/mixed; boundary=b{n}\n\n--b{n}\n".encode() + body
                + f"\n--b{n}--\n".encode())
    return head + b"MIME-Version: 1.0\n" + body


def configure(c: Committee, limit: int) -> None:
    write_config(c.root, mailbox={"maildir": str(c.root / "var" / "mail"),
                                  "reader_process": False},
                 auth={"trusted_authserv_ids": ["mx.example.org"]},
                 limits={"max_message_bytes": limit})


def test_an_admin_lists_shows_and_releases_quarantined_mail_after_a_fix(tmp_path: Path) -> None:
    c = Committee(tmp_path)
    c.send(nested(150))
    assert [line[0] for line in c.run()] == ["quarantined"]
    configure(c, 1024)
    c.send(mail("noor@example.net", "Report", "The organiser insulted me at the booth.",
                name="Noor", attachments=[("photo.png", "image/png", BIG)]))
    assert [line[0] for line in c.run()] == ["quarantined"]
    alert = c.sent("admin@example.org")
    assert len(alert) == 2 and "insulted" not in c.text(alert[0])

    listed = mailproc(c.config, "quarantine", "list").out
    assert "2 message(s) in quarantine" in listed
    assert "message larger than the size limit" in listed and "unparseable: nesting too deep" \
        in listed
    big_id = re.search(r"^(\w{12}) .* larger than the size limit", listed, re.M)
    deep_id = re.search(r"^(\w{12}) .* nesting too deep", listed, re.M)
    assert big_id and deep_id

    shown = mailproc(c.config, "quarantine", "show", big_id.group(1)).out
    assert "From:" in shown and "noor@example.net" in shown and "Subject: Report" in shown
    assert "insulted" not in shown  # the body is not printed
    assert "now:      still over limits.max_message_bytes" in shown

    # The fix: a bigger limit. `show` now says release would handle it.
    configure(c, 1024 * 1024)
    assert "readable now: release would handle it" in mailproc(
        c.config, "quarantine", "show", big_id.group(1)).out
    with daemon(c):
        refused = mailproc(c.config, "quarantine", "release", big_id.group(1))
        assert refused.code == 2 and "daemon is running" in refused.err
        assert "2 message(s)" in mailproc(c.config, "quarantine", "list").out  # reads only

    released = mailproc(c.config, "quarantine", "release", big_id.group(1))
    assert released.code == 0, released.err
    assert "released; now report COC-2026-0001" in released.out
    case = show(c.config, "COC-2026-0001")
    assert case["reporter"]["email"] == "noor@example.net"
    assert [a["filename"] for a in case["attachments"]] == ["photo.png"]
    diary = mailproc(c.config, "diary", "COC-2026-0001").out
    assert "quarantine-release" in diary and "released by the admin" in diary
    c.run()  # the next run delivers the acknowledgement
    assert c.sent("noor@example.net", "COC-2026-0001")
    assert c.sent("alice@example.org", "New report")

    # No fix exists for the other one: released, it is quarantined again and says so.
    again = mailproc(c.config, "quarantine", "release", deep_id.group(1))
    assert again.code == 1 and "now quarantined" in again.out
    listed = mailproc(c.config, "quarantine", "list").out
    assert "1 message(s) in quarantine" in listed and deep_id.group(1) in listed
    assert big_id.group(1) not in listed
    assert mailproc(c.config, "quarantine", "show", "ffffffffffff").code == 1
    c.verify()
