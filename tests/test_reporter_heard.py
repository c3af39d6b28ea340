"""What reaches whom around a case, as conversations on the real servers of the suite.

The reporter is always heard: her later messages reach every cleared member at once (never a
conflicted one), a threat in them makes the case urgent, and she gets a receipt. Only she (or
the holder of an anonymous case's key) can add to her case: a stranger who refers to it opens
a new report. Nothing internal reaches her. A member who declared a conflict on an earlier
case about the same person never sees that case inside a later one.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness import imap_mailbox, mail, show, smtp_outgoing, write_config
from libretranslate import LibreTranslateServer
from test_committee_flow import Committee

EN_REPORT = ("I want to report harassment at the Lyon meetup on Saturday. He made sexual "
             "comments about me in front of everyone and followed me to the bar.\n\n"
             "Reported person: Paul Novak (paul.novak@example.com)\n\nSam")


def _committee(dovecot, smtp_server, tmp_path: Path, **extra) -> Committee:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server),
                          auth={"trusted_authserv_ids": ["mx.example.org"]}, **extra)
    return Committee(dovecot, smtp_server, config)


def _texts(c: Committee, address: str) -> str:
    return "\n".join(c.body(m) for m in c.to(address))


def test_a_reporters_follow_up_reaches_the_cleared_members_at_once_and_not_the_conflicted(
        dovecot, smtp_server, tmp_path: Path) -> None:
    c = _committee(dovecot, smtp_server, tmp_path)
    dovecot.append(mail("sam@example.net", "Harassment at the meetup", EN_REPORT,
                        name="Sam Rivera"))
    assert c.run()[0][:2] == ["report", "COC-2026-0001"]
    notice = {m: c.last_to(f"{m}@example.org", "New report") for m in ("alice", "bashir", "chen")}
    c.member_says("alice", "#clear", notice["alice"])
    c.member_says("bashir", "#clear", notice["bashir"])
    c.member_says("chen", "#conflict", notice["chen"])
    c.run()
    disclosure = c.last_to("alice@example.org", "full report")
    c.member_says("alice", "#reply Thank you. Is he still around you at the event?", disclosure)
    c.run()
    asked = c.last_to("sam@example.net", "message")
    smtp_server.clear()

    # Sam answers the committee's question the way any mail client would: a reply on top.
    answer = ("Yes. He knows where I live and said he would be waiting outside my hotel "
              "tonight.\n\nOn Sun, 22 Nov 2026 at 10:00, conduct@example.org wrote:\n"
              "> Thank you. Is he still around you at the event?\n")
    dovecot.append(mail("sam@example.net", f"Re: {asked['Subject']}", answer,
                        in_reply_to=asked["Message-ID"].strip("<>")))
    assert [r[:2] for r in c.run()] == [["followup", "COC-2026-0001"]]

    for member in ("alice", "bashir"):
        relay = c.last_to(f"{member}@example.org", "the reporter wrote again")
        assert "URGENT" in str(relay["Subject"])
        assert "He knows where I live" in c.body(relay)
    assert c.to("chen@example.org") == []  # conflicted: not a word of it
    receipt = c.last_to("sam@example.net", "reached the committee")
    assert "COC-2026-0001" in str(receipt["Subject"])
    assert not {"alice", "bashir", "chen"} & set(c.body(receipt).lower().split())
    record = show(c.config, "COC-2026-0001")
    assert record["triage"]["urgent"] and record["triage"]["priority"] == "P1"
    assert record["followups"][0]["via"] == "address"

    # The full report (#show) carries the follow-up too, for whoever asks later.
    c.member_says("bashir", "#show", disclosure)
    c.run()
    assert "He knows where I live" in c.body(c.last_to("bashir@example.org", "full report"))


def test_a_stranger_who_refers_to_a_case_opens_a_new_report_and_adds_nothing_to_it(
        dovecot, smtp_server, tmp_path: Path) -> None:
    c = _committee(dovecot, smtp_server, tmp_path)
    dovecot.append(mail("sam@example.net", "Harassment at the meetup", EN_REPORT))
    c.run()
    c.member_says("alice", "#clear", c.last_to("alice@example.org", "New report"))
    c.run()
    smtp_server.clear()

    # Mallory guesses the thread root from the case id (it is predictable) and writes in.
    forged = mail("mallory@example.com", "Re: [COC-2026-0001] your report",
                  "It was all a misunderstanding, please drop it. MALLORY-TEXT",
                  headers={"References": "<case.coc-2026-0001@example.org>"})
    dovecot.append(forged)
    assert c.run()[0][:2] == ["report", "COC-2026-0002"]
    first, second = show(c.config, "COC-2026-0001"), show(c.config, "COC-2026-0002")
    assert first["followups"] == []
    assert second["links"] == ["COC-2026-0001"]
    # Alice, cleared on the first case, learns that someone referred to it; nothing of it.
    told = c.last_to("alice@example.org", "update")
    assert "COC-2026-0002" in c.body(told) and "MALLORY-TEXT" not in _texts(c, "alice@example.org")
    assert c.to("sam@example.net") == []  # the reporter hears nothing of Mallory


def test_an_anonymous_reporter_follows_up_from_another_address_with_the_case_key(
        dovecot, smtp_server, tmp_path: Path) -> None:
    c = _committee(dovecot, smtp_server, tmp_path)
    dovecot.append(mail("sam@example.net", "Report",
                        "Please keep me anonymous. " + EN_REPORT.replace("\n\nSam", "")))
    c.run()
    ack = c.last_to("sam@example.net", "")
    assert show(c.config, "COC-2026-0001")["reporter"]["anonymous"]
    smtp_server.clear()
    # From a throwaway address, replying to the acknowledgement: the case key is in its id.
    dovecot.append(mail("throwaway@example.net", f"Re: {ack['Subject']}",
                        "One more thing: a witness, Ana, saw it.",
                        in_reply_to=ack["Message-ID"].strip("<>")))
    assert c.run()[0][:2] == ["followup", "COC-2026-0001"]
    assert show(c.config, "COC-2026-0001")["followups"][0]["via"] == "case-key"
    # A mail that only names the thread root does not carry the key: a new report.
    dovecot.append(mail("throwaway@example.net", "Re: [COC-2026-0001] Report", "And another.",
                        headers={"References": "<case.coc-2026-0001@example.org>"}))
    assert c.run()[0][:2] == ["report", "COC-2026-0002"]


def test_nothing_internal_reaches_the_reporter_and_the_public_line_is_not_relayed(
        dovecot, smtp_server, tmp_path: Path) -> None:
    c = _committee(dovecot, smtp_server, tmp_path)
    dovecot.append(mail("sam@example.net", "Harassment at the meetup", EN_REPORT))
    c.run()
    for m in ("alice", "bashir"):
        c.member_says(m, "#clear", c.last_to(f"{m}@example.org", "New report"))
    c.run()
    about = c.last_to("alice@example.org", "full report")
    c.member_says("alice", "#propose violation=yes consequences=warning A written warning to "
                  "Paul. INTERNAL-REMARK he was warned informally before.", about)
    c.run()
    c.member_says("alice", "#vote yes", about)
    c.member_says("bashir", "#vote yes", about)
    c.run()
    c.member_says("alice", "#close Warning sent CLOSE-SUMMARY\npublic: PUBLIC-LINE a participant "
                  "was warned.", about)
    c.run()
    assert "PUBLIC-LINE" not in c.body(c.last_to("bashir@example.org", ""))  # not relayed
    code = c.confirm_code("alice@example.org")
    c.member_says("alice", f"#confirm {code}", about)
    c.run()
    assert show(c.config, "COC-2026-0001")["status"] == "closed"
    to_sam = _texts(c, "sam@example.net")
    assert "has finished handling your report" in to_sam  # the outcome mail went
    for internal in ("INTERNAL-REMARK", "CLOSE-SUMMARY", "PUBLIC-LINE", "violation=",
                     "consequences=", "written warning to"):
        assert internal not in to_sam, internal


def test_a_conflict_on_an_earlier_case_hides_it_inside_a_later_one(
        dovecot, smtp_server, tmp_path: Path) -> None:
    with LibreTranslateServer() as translator:
        c = _committee(dovecot, smtp_server, tmp_path,
                       translation={"backend": "libretranslate", "url": translator.url})
        dovecot.append(mail("sam@example.net", "Harassment at the meetup", EN_REPORT))
        c.run()
        c.member_says("alice", "#clear", c.last_to("alice@example.org", "New report"))
        c.member_says("bashir", "#clear", c.last_to("bashir@example.org", "New report"))
        c.member_says("chen", "#conflict", c.last_to("chen@example.org", "New report"))
        c.run()
        about = c.last_to("alice@example.org", "full report")
        c.member_says("alice", "#propose violation=yes consequences=warning SECRET-DECISION",
                      about)
        c.run()
        c.member_says("alice", "#vote yes", about)
        c.member_says("bashir", "#vote yes", about)
        c.run()
        assert show(c.config, "COC-2026-0001")["decision"]

        # A second report about the same person, from someone else; Chen has no conflict here.
        dovecot.append(mail("rita@example.net", "Paul again",
                            "Paul Novak (paul.novak@example.com) insulted me in the chat."))
        assert c.run()[0][:2] == ["report", "COC-2026-0002"]
        c.member_says("chen", "#clear", c.last_to("chen@example.org", "New report"))
        c.member_says("alice", "#clear", [m for m in c.to("alice@example.org")
                                          if "COC-2026-0002" in str(m["Subject"])][-1])
        c.run()
    to_chen = c.body(c.last_to("chen@example.org", "full report"))
    assert "an earlier case on which you declared a conflict" in to_chen
    assert "COC-2026-0001" not in to_chen and "SECRET-DECISION" not in to_chen
    assert "Highest consequence" not in to_chen
    to_alice = c.body(c.last_to("alice@example.org", "full report"))
    assert "COC-2026-0001" in to_alice and "Highest consequence so far" in to_alice


def test_escrow_holds_until_a_match_and_the_reporters_yes(tmp_path: Path) -> None:
    from test_committee_more import ESCROW, Box

    box = Box(tmp_path)
    box.send(mail("first@example.net", "Report", ESCROW.replace("Dan Brook", "Dan A. Brook")))
    box.run()
    notice = box.sent("alice@example.org", "New report")[0]
    box.member("alice", "#clear\n#show", notice)
    box.member("bashir", "#clear\n#release", box.sent("bashir@example.org", "New report")[0])
    box.run()
    held = box.text(box.sent("alice@example.org", "your commands")[-1])
    assert "held in escrow: it is not shown" in held
    assert "has not consented" in box.text(box.sent("bashir@example.org", "your commands")[-1])
    assert not box.sent("alice@example.org", "full report")
    assert show(box.config, "COC-2026-0001")["status"] == "escrowed"

    # Someone else reports the same person, middle initial left out, also asking for escrow.
    box.send(mail("second@example.net", "Report", "Please only act if someone else reports "
                  "him too. Dan Brook touched me without consent at the sprint.\n\n"
                  "Reported person: Dan Brook"))
    box.run()
    (asked_first,) = box.sent("first@example.net", "May we act")
    assert len(box.sent("second@example.net", "May we act")) == 1  # both are asked
    assert "second@example.net" not in box.text(asked_first)

    # The first says no for now: still held, and she is told so.
    box.send(mail("first@example.net", f"Re: {asked_first['Subject']}", "No, not yet please.",
                  in_reply_to=asked_first["Message-ID"].strip("<>")))
    box.run()
    assert show(box.config, "COC-2026-0001")["status"] == "escrowed"
    assert ["keep your report" in box.text(m) for m in box.sent("first@example.net", "reached")] \
        == [True]
    # Then yes, in her own words: released, the cleared members told, her answer answered.
    box.send(mail("first@example.net", f"Re: {asked_first['Subject']}",
                  "Yes, you may act on my report.\n\n> May we act on your report too?",
                  in_reply_to=asked_first["Message-ID"].strip("<>")))
    box.run()
    record = show(box.config, "COC-2026-0001")
    assert record["status"] == "investigating" and record["escrow_consent"] is True
    assert sorted("will now act" in box.text(m)
                  for m in box.sent("first@example.net", "reached")) == [False, True]
    assert any("consented" in box.text(m) for m in box.sent("alice@example.org", "update"))
    box.member("alice", "#show", notice)
    box.run()
    assert any("Dan A. Brook" in box.text(m) for m in box.sent("alice@example.org", "full report"))


def test_off_boarding_by_an_alias_removes_every_address_and_restore_brings_them_back(
        tmp_path: Path) -> None:
    from harness import ROSTER, mailproc
    from test_committee_more import TRUSTED, Box

    roster = [dict(m) for m in ROSTER]
    roster[1]["aliases"] = ["b.rahimi@example.net"]  # Bashir's second address
    box = Box(tmp_path)
    box.config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                              auth={"trusted_authserv_ids": ["mx.example.org"]}, roster=roster)
    box.send(mail("sam@example.net", "Report", EN_REPORT))
    box.run()
    notice = box.sent("bashir@example.org", "New report")[0]

    unknown = mailproc(box.config, "members", "remove", "nobody@example.org")
    assert unknown.code == 1 and "not an address of anyone on the roster" in unknown.err
    gone = mailproc(box.config, "members", "remove", "B.Rahimi@example.net")
    assert gone.code == 0 and "bashir@example.org" in gone.out
    listed = mailproc(box.config, "members", "list").out
    assert "Bashir Rahimi REMOVED" in listed and "Alice Moreno (chair)\n" in listed

    # His primary address, and the alias, are both cut off; no new notice reaches him.
    box.member("bashir", "#clear", notice)
    box.send(TRUSTED + mail("b.rahimi@example.net", f"Re: {notice['Subject']}", "#show",
                            in_reply_to=notice["Message-ID"].strip("<>")))
    box.send(mail("rita@example.net", "Another report", "Paul Novak insulted me in the chat."))
    lines = box.run()
    assert [r[3] for r in lines if r[0] == "command"] == ["refused:removed-member"] * 2
    assert len(box.sent("bashir@example.org")) == 1  # the first notice only
    assert "bashir@example.org" not in show(box.config, "COC-2026-0001")["cleared"]

    assert mailproc(box.config, "members", "restore", "bashir@example.org").code == 0
    box.send(mail("tom@example.net", "A third report", "Someone shouted at me at the venue."))
    box.run()
    assert len(box.sent("bashir@example.org", "New report")) == 2


def test_a_members_mail_never_vanishes_without_a_word(tmp_path: Path) -> None:
    from test_committee_more import Box

    box = Box(tmp_path)
    box.send(mail("sam@example.net", "Report", EN_REPORT))
    box.run()
    notice = box.sent("alice@example.org", "New report")[0]
    # An attribution line first (as some phone clients write it), then unquoted new text.
    box.member("alice", "On 12 Nov 2026 at 21:04 Marco wrote:\n#clear\nI can take this one.",
               notice)
    box.run()
    assert "alice@example.org" in show(box.config, "COC-2026-0001")["cleared"]
    # Everything quoted: no command, nothing relayed, and she is told so with what was cut.
    box.member("alice", "> #lead me\n> I can take this one.", notice)
    box.run()
    told = [box.text(m) for m in box.sent("alice@example.org", "your commands")
            if "Nothing new was found" in box.text(m)]
    assert len(told) == 1 and "| > #lead me" in told[0]
    # Plain discussion that was relayed earns no transcript (the relay is the answer).
    box.member("bashir", "#clear", box.sent("bashir@example.org", "New report")[0])
    box.run()
    before = len(box.sent("alice@example.org", "your commands"))
    box.member("alice", "Agreed.", notice)
    box.run()
    assert len(box.sent("alice@example.org", "your commands")) == before
    assert any("Agreed." in box.text(m) for m in box.sent("bashir@example.org", "wrote"))


def test_the_public_line_names_nobody_and_the_statement_follows_the_decision(
        tmp_path: Path) -> None:
    from test_committee_more import Box

    box = Box(tmp_path)
    box.send(mail("sam@example.net", "Report", EN_REPORT, name="Sam Rivera"))
    box.run()
    notice = box.sent("alice@example.org", "New report")[0]
    box.member("alice", "#clear", notice)
    box.member("bashir", "#clear", box.sent("bashir@example.org", "New report")[0])
    box.run()
    box.member("alice", "#propose violation=no consequences=none Not a violation.", notice)
    box.run()
    box.member("alice", "#vote yes", notice)
    box.member("bashir", "#vote yes", notice)
    box.run()
    # The reported person's name, with its accent dropped and in another case: refused.
    box.member("alice", "#close looked into it\npublic: Concerns about paul NOVÁK at a meetup "
               "were reviewed.", notice)
    box.run()
    refused = [box.text(m) for m in box.sent("alice@example.org", "your commands")
               if "names the reported person's name" in box.text(m)]
    assert len(refused) == 1 and "NOVÁK" not in refused[0].split("->", 1)[1]
    assert show(box.config, "COC-2026-0001")["status"] != "closed"
    box.member("alice", "#close looked into it", notice)
    box.run()
    code = [re.search(r"#confirm (\d{6})", box.text(m)) for m in
            box.sent("alice@example.org", "your commands")]
    box.member("alice", f"#confirm {[c for c in code if c][-1].group(1)}", notice)
    box.run()
    assert show(box.config, "COC-2026-0001")["status"] == "closed"
    # A public line added to the closed case in one step, then the statement drafted from it.
    box.member("alice", "#public Concerns raised at a meetup were reviewed.\n#statement", notice)
    box.run()
    assert show(box.config, "COC-2026-0001")["public_summary"].startswith("Concerns raised")
    draft = box.text(box.sent("bashir@example.org", "DRAFT public statement")[0])
    assert "not a violation" in draft and "This was a violation" not in draft
    assert "Not a violation." not in draft  # the motion's own text stays internal


def test_intake_records_the_reporter_named_in_the_typed_report(tmp_path: Path) -> None:
    from test_committee_more import Box

    box = Box(tmp_path)
    box.member("alice", "#intake\n#lead me\nReporter: Nadia Haddad <nadia@example.net>\n"
               "She told me at the venue that a speaker grabbed her arm.\n\n"
               "Reported person: Rex Stone (@rex)")
    box.member("bashir", "#intake\nReporter: Tom (in person, no address)\n"
               "Someone shouted at him in the hallway.")
    assert [r[:2] for r in box.run()] == [["report", "COC-2026-0001"],
                                          ["report", "COC-2026-0002"]]
    nadia = show(box.config, "COC-2026-0001")
    assert nadia["reporter"]["name"] == "Nadia Haddad"
    assert nadia["reporter"]["email"] == "nadia@example.net"
    assert "Reporter:" not in nadia["original_text"]
    assert box.sent("nadia@example.net", "")  # acknowledged, like any reporter
    tom = show(box.config, "COC-2026-0002")
    assert tom["reporter"] == {**tom["reporter"], "name": "Tom", "email": None}
    # #reply reaches Nadia, translated or not, from the conduct address.
    notice = box.sent("alice@example.org", "your commands")[0]
    box.member("alice", "#reply We will talk to the speaker today.", notice)
    box.run()
    assert any("We will talk to the speaker" in box.text(m)
               for m in box.sent("nadia@example.net", ""))


def test_who_may_close_and_reopen_is_configurable_and_reopening_is_confirmed(
        tmp_path: Path) -> None:
    from test_committee_more import Box

    box = Box(tmp_path)
    box.config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                              auth={"trusted_authserv_ids": ["mx.example.org"]},
                              decisions={"close_by": "lead"})
    box.send(mail("sam@example.net", "Report", EN_REPORT))
    box.run()
    notice = box.sent("alice@example.org", "New report")[0]
    box.member("alice", "#clear\n#lead me", notice)
    box.member("bashir", "#clear\n#close done", box.sent("bashir@example.org", "New report")[0])
    box.run()
    assert any("only the case's lead may close" in box.text(m)
               for m in box.sent("bashir@example.org", "your commands"))
    box.member("alice", "#close done", notice)
    box.run()
    code = [re.search(r"#confirm (\d{6})", box.text(m))
            for m in box.sent("alice@example.org", "your commands")]
    box.member("alice", f"#confirm {[c for c in code if c][-1].group(1)}", notice)
    box.run()
    assert show(box.config, "COC-2026-0001")["status"] == "closed"
    box.member("alice", "#reopen", notice)
    box.run()
    assert show(box.config, "COC-2026-0001")["status"] == "closed"  # waits for #confirm
    assert sum("hours to do it" in box.text(m)  # the #close and the #reopen each asked
               for m in box.sent("alice@example.org", "your commands")) == 2


def test_a_member_whose_mail_fails_verification_is_told_once_a_day(tmp_path: Path) -> None:
    from test_committee_more import Box

    box = Box(tmp_path)
    box.send(mail("sam@example.net", "Report", EN_REPORT))
    box.run()
    notice = box.sent("alice@example.org", "New report")[0]
    # Forwarded through a list that broke DMARC: no trusted Authentication-Results.
    for body in ("#clear", "#lead me"):
        box.send(mail("alice@example.org", f"Re: {notice['Subject']}", body,
                      in_reply_to=notice["Message-ID"].strip("<>")))
        box.run()
    warned = box.sent("alice@example.org", "could not be verified")
    assert len(warned) == 1 and "#token" in box.text(warned[0])
    assert "sam@example.net" not in box.text(warned[0]) and "COC-" not in box.text(warned[0])
    assert show(box.config, "COC-2026-0001")["cleared"] == []


def _dsn(original: bytes, recipient: str) -> bytes:
    """A delivery status notification as Postfix writes it, quoting our mail's headers."""
    head = original.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return (b"From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
            b"To: conduct@example.org\nSubject: Undelivered Mail Returned to Sender\n"
            b"Message-ID: <dsn." + recipient.encode() + b"@mx.example.net>\n"
            b"Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
            b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
            b"--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
            b"<" + recipient.encode() + b">: host said: 550 5.1.1 User unknown\n\n"
            b"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net"
            b"\n\nFinal-Recipient: rfc822; " + recipient.encode() + b"\nAction: failed\n"
            b"Status: 5.1.1\n\n--B\nContent-Type: text/rfc822-headers\n\n" + head +
            b"\n\n--B--\n")


def test_our_own_mail_bouncing_is_linked_to_its_case_and_told(tmp_path: Path) -> None:
    from harness import mailproc
    from test_committee_more import Box

    box = Box(tmp_path)
    box.send(mail("sam@example.net", "Report", EN_REPORT))
    box.run()
    notice = box.sent("alice@example.org", "New report")[0]
    box.member("alice", "#clear", notice)
    box.run()
    ack = next((tmp_path / "var" / "outbox").glob("*ack*.eml")).read_bytes()
    box.send(_dsn(ack, "sam@example.net"))
    lines = box.run()
    assert [r[0] for r in lines] == ["dropped"] and lines[0][1] == "COC-2026-0001"
    assert show(box.config, "COC-2026-0001")["unreachable"] == ["sam@example.net"]
    status = mailproc(box.config, "status", "--json")
    assert '"unreachable": [\n    "COC-2026-0001"' in status.out or \
        '"unreachable": ["COC-2026-0001"]' in status.out, status.out
    assert "sam@example.net" not in status.out
    told = [box.text(m) for m in box.sent("alice@example.org", "update")
            if "came back undelivered" in box.text(m)]
    assert len(told) == 1 and "cannot be reached" in told[0]
    assert not box.sent("MAILER-DAEMON@mx.example.net")  # a bounce is never answered
    box.member("alice", "#reply Are you safe?", notice)
    box.run()
    assert any("will probably not reach them" in box.text(m)
               for m in box.sent("alice@example.org", "your commands"))
    # A member's notice bouncing goes to the chair (Alice) and the admin, not the members.
    notice_raw = next(p for p in sorted((tmp_path / "var" / "outbox").glob("*.eml"))
                      if b"To: Chen Wei <chen@example.org>" in p.read_bytes()).read_bytes()
    box.send(_dsn(notice_raw, "chen@example.org"))
    box.run()
    assert any("Chen Wei" in box.text(m) for m in box.sent("admin@example.org", ""))
    assert any("Chen Wei" in box.text(m) and "undelivered" in box.text(m)
               for m in box.sent("alice@example.org", "update"))


def test_names_match_across_middle_names_accents_and_script_and_initials_only_maybe() -> None:
    from mailproc.cases.identity import identifiers, same_person
    from mailproc.model.records import Case, ReportedPerson

    def case(name: str) -> Case:
        made = Case(id=f"COC-2026-{len(name):04d}", code_name="x", received_at=__import__(
            "datetime").datetime(2026, 1, 1), reported=[ReportedPerson(name=name)])
        made.identifiers = identifiers(made, b"pepper")
        return made

    paul = case("Paul Novak")
    assert same_person(paul, case("Paul Andrew Novak")) is True
    assert same_person(paul, case("PAUL NOVÁK")) is True
    assert same_person(case("Pavel Novak"), case("Павел Новак")) is True
    assert same_person(paul, case("P. Novak")) is None  # possibly: the committee judges
    assert same_person(paul, case("Paula Novak")) is None
    assert same_person(paul, case("Rex Stone")) is False


def test_a_possible_escrow_match_is_shown_as_possible_and_asks_nobody(tmp_path: Path) -> None:
    from test_committee_more import ESCROW, Box

    box = Box(tmp_path)
    box.send(mail("first@example.net", "Report", ESCROW))  # about Dan Brook (@dbrook)
    box.run()
    box.member("alice", "#clear", box.sent("alice@example.org", "New report")[0])
    box.run()
    box.send(mail("second@example.net", "Report", "D. Brook made comments about my body at "
                  "the sprint.\n\nReported person: D. Brook"))
    box.run()
    assert not box.sent("first@example.net", "May we act")
    assert show(box.config, "COC-2026-0001")["status"] == "escrowed"
    assert any("may be the same person" in " ".join(box.text(m).split())
               for m in box.sent("alice@example.org", "update"))


def test_members_add_puts_a_member_on_the_roster_at_once_and_the_diaries_say_so(
        tmp_path: Path) -> None:
    from harness import mailproc
    from test_committee_more import Box

    box = Box(tmp_path)
    box.send(mail("sam@example.net", "Report", EN_REPORT))
    box.run()
    missing = mailproc(box.config, "members", "add", "dana@example.org")
    assert missing.code == 1 and "--name" in missing.err
    again = mailproc(box.config, "members", "add", "alice@example.org", "--name", "Alice")
    assert again.code == 1 and "already on the roster" in again.err
    added = mailproc(box.config, "members", "add", "Dana@example.org", "--name", "Dana Ruiz",
                     "--language", "es")
    assert added.code == 0
    assert "dana@example.org                 Dana Ruiz (added)" in \
        mailproc(box.config, "members", "list").out
    box.send(mail("rita@example.net", "Another report", "Paul Novak insulted me in the chat."))
    box.run()
    assert box.sent("dana@example.org", "")  # the next case's notice reaches her, in Spanish
    diary = mailproc(box.config, "diary", "COC-2026-0001").out
    assert "member-added" in diary and "dana@example.org" in diary
    assert mailproc(box.config, "members", "remove", "dana@example.org").code == 0
    assert mailproc(box.config, "members", "restore", "dana@example.org").code == 0
    box.send(mail("tom@example.net", "Third", "Someone shouted at me at the venue."))
    box.run()
    assert "member-restored" in mailproc(box.config, "diary", "COC-2026-0001").out


def test_the_original_mail_is_available_to_cleared_members_by_command(tmp_path: Path) -> None:
    from test_committee_more import Box

    box = Box(tmp_path)
    box.send(mail("sam@example.net", "Harassment at the meetup", EN_REPORT,
                  headers={"X-Client": "ORIGINAL-HEADER"}))
    box.run()
    box.member("alice", "#clear\n#original", box.sent("alice@example.org", "New report")[0])
    box.member("chen", "#original", box.sent("chen@example.org", "New report")[0])
    box.run()
    attached = [part for m in box.sent("alice@example.org", "update")
                for part in m.iter_attachments() if part.get_content_type() == "message/rfc822"]
    assert len(attached) == 1
    assert b"ORIGINAL-HEADER" in attached[0].as_bytes() and b"Paul Novak" in attached[0].as_bytes()
    assert not [m for m in box.sent("chen@example.org") if list(m.iter_attachments())]
    assert any("declare #clear" in box.text(m) for m in box.sent("chen@example.org", "commands"))


def test_a_tagged_reply_address_carries_the_case_key_when_configured(tmp_path: Path) -> None:
    from test_committee_more import Box

    box = Box(tmp_path)
    box.config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                              reply_address_tag=True)
    box.send(mail("sam@example.net", "Report", "Please keep me anonymous. " + EN_REPORT))
    box.run()
    ack = box.sent("sam@example.net", "")[0]
    tagged = str(ack["Reply-To"])
    assert tagged.startswith("conduct+") and tagged.endswith("@example.org")
    # A client that keeps no In-Reply-To, writing to the tagged address from elsewhere.
    box.send(mail("other@example.net", "More", "One more detail.", to=tagged))
    assert box.run()[0][:2] == ["followup", "COC-2026-0001"]
    box.send(mail("mallory@example.net", "More", "Guessing.",
                  to="conduct+0123456789abcdef0123@example.org"))
    assert box.run()[0][:2] == ["report", "COC-2026-0002"]


def test_a_member_who_reports_is_heard_as_the_reporter_on_their_own_case(
        tmp_path: Path) -> None:
    from test_committee_more import Box

    box = Box(tmp_path)
    # Bashir, a committee member, reports something himself: he is its reporter (and is
    # conflicted on it, so he never acts on it as a member).
    box.send(mail("bashir@example.org", "Report", EN_REPORT.replace("Sam", "Bashir")))
    box.run()
    ack = box.sent("bashir@example.org", "")[-1]
    box.member("alice", "#clear", box.sent("alice@example.org", "New report")[0])
    box.run()
    box.send(mail("bashir@example.org", f"Re: {ack['Subject']}", "He wrote to me again.",
                  in_reply_to=ack["Message-ID"].strip("<>")))
    assert box.run()[0][:2] == ["followup", "COC-2026-0001"]
    assert any("He wrote to me again." in box.text(m)
               for m in box.sent("alice@example.org", "the reporter wrote again"))


def test_one_word_replies_urgent_and_escrow_change_the_case_and_say_so(tmp_path: Path) -> None:
    from test_committee_more import Box

    box = Box(tmp_path)
    box.send(mail("lucia@example.net", "Denuncia", "Quiero denunciar acoso en el chat del "
                  "proyecto.\n\nPersona denunciada: Marcos Pérez", name="Lucía"))
    box.run()
    ack = box.sent("lucia@example.net", "")[0]
    assert "URGENTE" in box.text(ack) and "RETENER" in box.text(ack)  # told how to ask
    box.member("alice", "#clear", box.sent("alice@example.org", "New report")[0])
    box.run()
    box.send(mail("lucia@example.net", f"Re: {ack['Subject']}", "¡URGENTE!",
                  in_reply_to=ack["Message-ID"].strip("<>")))
    box.run()
    record = show(box.config, "COC-2026-0001")
    assert record["triage"]["urgent"] and "reporter-asked" in record["triage"]["urgent_reasons"]
    assert any("URGENT" in str(m["Subject"]) for m in box.sent("alice@example.org", "wrote"))
    assert any("urgente" in box.text(m) for m in box.sent("lucia@example.net", "llegó"))
    assert box.sent("bashir@example.org", "now URGENT")  # not cleared: told, without content
    box.send(mail("lucia@example.net", f"Re: {ack['Subject']}", "retener",
                  in_reply_to=ack["Message-ID"].strip("<>")))
    box.run()
    assert show(box.config, "COC-2026-0001")["status"] == "escrowed"
    assert any("hold this report in escrow" in " ".join(box.text(m).split())
               for m in box.sent("alice@example.org", "update"))
    assert any("retenemos tu denuncia" in " ".join(box.text(m).split())
               for m in box.sent("lucia@example.net", "llegó"))
    # The committee can mark urgency itself, too.
    box.send(mail("sam@example.net", "Report", EN_REPORT))
    box.run()
    second = [m for m in box.sent("alice@example.org", "New report")
              if "COC-2026-0002" in str(m["Subject"])]
    box.member("alice", "#clear\n#urgent", second[0])
    box.run()
    assert show(box.config, "COC-2026-0002")["triage"]["priority"] == "P1"
