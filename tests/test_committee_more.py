"""Escrow matching, the diary's hash chain, off-boarding, #intake and the master log.

On the embedded Maildir with the file outbox; members authenticate with the receiving
server's Authentication-Results (a trusted authserv-id).
"""

from __future__ import annotations

import json
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from harness import mail, mailproc, show, write_config

from mailproc.adapters.maildir import deliver

TRUSTED = b"Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\n"


class Box:
    def __init__(self, tmp_path: Path, **extra: object) -> None:
        self.root = tmp_path
        self.config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                                   auth={"trusted_authserv_ids": ["mx.example.org"]}, **extra)

    def send(self, raw: bytes) -> None:
        deliver(self.root / "var" / "mail", raw)

    def member(self, who: str, body: str, about: EmailMessage | None = None) -> None:
        subject = f"Re: {about['Subject']}" if about is not None else "Committee"
        reply_to = about["Message-ID"].strip("<>") if about is not None else None
        self.send(TRUSTED + mail(f"{who}@example.org", subject, body, in_reply_to=reply_to))

    def run(self) -> list[list[str]]:
        result = mailproc(self.config, "run", "--once")
        assert result.code == 0, result.err
        return result.lines()

    def sent(self, to: str, subject_part: str = "") -> list[EmailMessage]:
        out = []
        for path in sorted((self.root / "var" / "outbox").glob("*.eml")):
            msg: Any = message_from_bytes(path.read_bytes(), policy=default)
            if to in str(msg["To"]) and subject_part in str(msg["Subject"]):
                out.append(msg)
        return out

    def text(self, msg: EmailMessage) -> str:
        return str(msg.get_body(("plain",)).get_content())  # type: ignore[union-attr]


ESCROW = ("Please only act if someone else reports them too. At the sprint, a volunteer "
          "kept making comments about my body.\n\nReported person: Dan Brook (@dbrook)")


def test_escrowed_reports_match_across_reporters_but_not_the_same_reporter(
        tmp_path: Path) -> None:
    box = Box(tmp_path)
    box.send(mail("first@example.net", "Report", ESCROW))
    box.run()
    assert show(box.config, "COC-2026-0001")["status"] == "escrowed"
    notice = box.sent("alice@example.org", "New report")[0]
    box.member("alice", "#clear", notice)
    box.run()
    held = box.sent("alice@example.org", "your commands")[-1]
    assert "held in escrow" in box.text(held)
    assert not box.sent("alice@example.org", "full report")  # escrowed: not disclosed

    box.send(mail("first@example.net", "Again", "He did it again. Reported person: @dbrook"))
    box.run()  # the same reporter: no match
    assert show(box.config, "COC-2026-0002")["escrow_matches"] == []
    assert not box.sent("first@example.net", "May we act")

    box.send(mail("second@example.net", "Report", "At the sprint Dan Brook (@dbrook) "
                  "touched me without consent.\n\nReported person: Dan Brook (@dbrook)"))
    box.run()
    assert show(box.config, "COC-2026-0003")["escrow_matches"] == ["COC-2026-0001"]
    (consent,) = box.sent("first@example.net", "May we act")
    assert "COC-2026-0003" not in box.text(consent)  # nothing about the other report
    told = box.sent("alice@example.org", "update")
    assert any("COC-2026-0003" in box.text(m) for m in told)
    assert not box.sent("bashir@example.org", "update")  # only members cleared on it
    diary = mailproc(box.config, "diary", "COC-2026-0001").out
    assert "escrow-match" in diary


def test_the_diary_is_a_hash_chain_and_verify_finds_an_edit(tmp_path: Path) -> None:
    box = Box(tmp_path)
    box.send(mail("sam@example.net", "Report", "Harassment in the chat by @troll."))
    box.run()
    notice = box.sent("alice@example.org", "New report")[0]
    box.member("alice", "#clear\n#note spoke to the reporter by phone", notice)
    box.run()
    entries = json.loads(mailproc(box.config, "diary", "COC-2026-0001", "--json").out)
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "received" and "cleared" in kinds and "note" in kinds
    assert all(e["hash"] and e["prev_hash"] == (entries[i - 1]["hash"] if i else None)
               for i, e in enumerate(entries))
    assert mailproc(box.config, "verify").code == 0

    path = tmp_path / "var" / "data" / "cases" / "COC-2026-0001.json"
    doc = json.loads(path.read_text())
    for row in doc["diary"].values():
        if row["kind"] == "note":
            row["detail"] = "nothing happened"  # someone rewrites history
    path.write_text(json.dumps(doc))
    broken = mailproc(box.config, "verify")
    assert broken.code == 1 and "COC-2026-0001: diary entry" in broken.out


def test_a_removed_member_is_cut_off_at_once(tmp_path: Path) -> None:
    box = Box(tmp_path)
    box.send(mail("sam@example.net", "Report", "Harassment in the chat by @troll."))
    box.run()
    notices = {m: box.sent(f"{m}@example.org", "New report")[0] for m in ("alice", "bashir")}
    box.member("alice", "#clear\n#lead me", notices["alice"])
    box.member("bashir", "#clear", notices["bashir"])
    box.run()
    assert show(box.config, "COC-2026-0001")["owners"]["lead"] == "alice@example.org"

    assert mailproc(box.config, "members", "remove", "alice@example.org").code == 0
    box.member("alice", "#close done\n#vote yes", notices["alice"])
    box.send(mail("sam@example.net", "More", "It happened again.",
                  in_reply_to=box.sent("sam@example.net")[0]["Message-ID"].strip("<>")))
    before = len(box.sent("alice@example.org"))
    lines = box.run()
    assert ["command", "COC-2026-0001", "-", "refused:removed-member"] in lines
    record = show(box.config, "COC-2026-0001")
    assert record["status"] != "closed" and record["owners"]["lead"] is None
    assert len(box.sent("alice@example.org")) == before  # no further mail to her
    assert any("left the committee" in box.text(m) for m in box.sent("bashir@example.org",
                                                                       "update"))


def test_a_member_removed_after_clearing_no_longer_blocks_a_consensus(tmp_path: Path) -> None:
    """Consensus needs every cleared member's vote; one who has left the committee cannot
    vote any more, so the remaining cleared members decide."""
    box = Box(tmp_path, decisions={"rule": "consensus"})
    box.send(mail("sam@example.net", "Report", "Harassment in the chat by @troll."))
    box.run()
    notices = {m: box.sent(f"{m}@example.org", "New report")[0]
               for m in ("alice", "bashir", "chen")}
    for member in ("alice", "bashir", "chen"):
        box.member(member, "#clear", notices[member])
    box.run()
    box.member("alice", "#propose violation=yes consequences=warning A written warning.",
               notices["alice"])
    box.run()
    assert mailproc(box.config, "members", "remove", "chen@example.org").code == 0
    box.member("alice", "#vote yes", notices["alice"])
    box.member("bashir", "#vote yes", notices["bashir"])
    box.run()
    record = show(box.config, "COC-2026-0001")
    assert record["motions"][0]["status"] == "passed", record["motions"]
    assert record["status"] == "decided"


def test_intake_files_a_report_taken_in_person(tmp_path: Path) -> None:
    box = Box(tmp_path)
    box.member("alice", "#intake\n#lead me\nA participant told me at the venue that a "
               "speaker grabbed her arm.\n\nReported person: Rex Stone (@rex)\nWhere: hall B")
    lines = box.run()
    assert lines[0][:2] == ["report", "COC-2026-0001"]
    record = show(box.config, "COC-2026-0001")
    assert record["taker"] == "alice@example.org"
    assert record["cleared"] == ["alice@example.org"]
    assert record["owners"]["lead"] == "alice@example.org"
    assert record["reported"][0]["name"] == "Rex Stone"
    assert "grabbed her arm" in record["original_text"]
    assert not box.sent("alice@example.org", "New report")  # the taker needs no notice
    assert box.sent("bashir@example.org", "New report")
    assert "opened" in box.text(box.sent("alice@example.org", "your commands")[0])


def test_master_log_has_the_columns_of_seed_002(tmp_path: Path) -> None:
    box = Box(tmp_path)
    box.send(mail("sam@example.net", "Report", "Insults in the chat.\n\nReported person: "
                  "Olivia Hart", name="Sam Lee"))
    box.run()
    notice = box.sent("alice@example.org", "New report")[0]
    box.member("alice", "#clear\n#lead me\n#kind conflict-resolution\n"
               "#risk impact=medium likelihood=low", notice)
    box.run()
    (row,) = json.loads(mailproc(box.config, "cases", "--json").out)
    assert row["reporter"] == "Sam Lee" and row["about"] == "Olivia Hart"
    assert row["kind"] == "conflict-resolution" and row["risk"] == "2 * 1 = 2"
    assert row["lead"] == "alice@example.org"
    table = mailproc(box.config, "cases").out
    assert "conflict-resolution" in table and "2 * 1 = 2" in table
