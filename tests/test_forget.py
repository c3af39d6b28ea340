"""`mailproc forget ADDRESS` (issue 16 point 5): a person's right to erasure.

Sam reports (with a screenshot and a text file named after her address), follows up, is
named by a member in a note and as a witness in Lucía's report; one mail to her is still
queued when she asks to be forgotten. Afterwards no file under the data directory holds her
address or her name (grep over the bytes of every file), the diaries say an erasure happened
and still verify, and what others wrote about other people is all still there.
"""

from __future__ import annotations

from pathlib import Path

from harness import mail, mailproc, show, write_config
from test_retention import LUCIA, SAM, Committee, daemon

NOTES = b"Notes by Sam Rivera (sam@example.net): he said it twice.\n"


def sams_cases(tmp_path: Path) -> Committee:
    c = Committee(tmp_path)
    c.send(mail(SAM, "Report", "At the sprint Paul Novak kept mocking my accent.\n\n"
                "Reported person: Paul Novak (@pnovak)", name="Sam Rivera",
                attachments=[("notes-sam@example.net.txt", "text/plain", NOTES)]))
    c.run()
    c.send(mail(LUCIA, "Report", "Dan Brook shouted at me in the hallway. Sam Rivera "
                "(sam@example.net) saw it.\n\nReported person: Dan Brook", name="Lucía Pérez"))
    c.run()
    notice = c.notice("COC-2026-0001")
    c.member("alice", "#clear\n#note Called SAM@example.net, she confirmed it.", notice)
    c.run()
    ack = c.sent(SAM, "COC-2026-0001")[0]
    c.send(mail(SAM, f"Re: {ack['Subject']}", "One more thing: he did it again today.",
                name="Sam Rivera", in_reply_to=ack["Message-ID"].strip("<>")))
    c.run()
    # The mail server goes away: the receipt of her next follow-up stays queued.
    write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail"),
                                    "reader_process": False},
                 auth={"trusted_authserv_ids": ["mx.example.org"]},
                 outgoing={"smtp": {"host": "127.0.0.1", "port": 9, "tls": "plain",
                                    "timeout_seconds": 1}})
    c.send(mail(SAM, f"Re: {ack['Subject']}", "Please also know he messaged me.",
                name="Sam Rivera", in_reply_to=ack["Message-ID"].strip("<>")))
    assert mailproc(c.config, "run", "--once").code == 1  # mail left undelivered
    return c


def traces(c: Committee, *needles: bytes) -> list[str]:
    return sorted(name for name, data in c.files().items()
                  if any(n.lower() in data.lower() for n in needles))


def test_forget_leaves_no_trace_of_the_address_in_any_file(tmp_path: Path) -> None:
    c = sams_cases(tmp_path)
    before = traces(c, SAM.encode())
    assert {"cases/COC-2026-0001.json", "cases/COC-2026-0002.json", "outbox.json"} <= set(
        before) and any(n.startswith("archive/") for n in before)
    assert any(n.startswith("blobs/") for n in before)  # the text attachment
    lucia_before = show(c.config, "COC-2026-0002")
    dan = show(c.config, "COC-2026-0002")["reported"]

    with daemon(c):
        refused = mailproc(c.config, "forget", SAM)
        assert refused.code == 2 and "daemon is running" in refused.err
    assert traces(c, SAM.encode()) == before

    done = mailproc(c.config, "forget", SAM)
    assert done.code == 0, done.err
    assert "COC-2026-0001" in done.out and "COC-2026-0002" in done.out and SAM not in done.out
    assert traces(c, SAM.encode(), b"Sam Rivera") == []

    mine = show(c.config, "COC-2026-0001")
    assert mine["reporter"]["email"] is None and mine["reporter"]["name"] == "[erased]"
    assert "mocking my accent" in mine["original_text"]  # what happened stays; who is gone
    assert [a["filename"] for a in mine["attachments"]] == ["notes-[erased].txt"]
    assert mine["reported"][0]["name"] == "Paul Novak"
    lucia = show(c.config, "COC-2026-0002")
    assert lucia["reporter"] == lucia_before["reporter"] and lucia["reported"] == dan
    assert "[erased]" in lucia["original_text"] and "Dan Brook shouted" in lucia["original_text"]
    for case_id in ("COC-2026-0001", "COC-2026-0002"):
        diary = mailproc(c.config, "diary", case_id).out.splitlines()
        assert "erasure" in diary[-1] and "right to erasure" in diary[-1]
    c.verify()
    # The daemon works on with what is left; nothing queued goes to the erased address.
    assert mailproc(c.config, "status").code in (0, 1, 2)
    assert mailproc(c.config, "run", "--once").code in (0, 1)
    assert traces(c, SAM.encode(), b"Sam Rivera") == []
    c.verify()
    # The re-sealed chain still shows any later edit, including of the erasure entry itself.
    path = c.data / "cases" / "COC-2026-0001.json"
    path.write_bytes(path.read_bytes().replace(b"right to erasure", b"right to forget"))
    broken = mailproc(c.config, "verify")
    assert broken.code == 1 and "COC-2026-0001" in broken.out
