"""The committee works by email: a whole case as a conversation, then a sweep of every mail.

Lucía reports in Spanish with a screenshot. Alice and Bashir declare no conflict and get the
full report; Chen declares a conflict and gets nothing more. Alice and Bashir discuss (relayed
to each other only), take the lead and secondary roles, assess risk, propose and vote; Alice
writes to Lucía (translated, without her name); the case is closed after a confirmation round
trip. Forged and conflicted commands, and commands in quoted text, do nothing.
"""

from __future__ import annotations

import base64
import json
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from harness import imap_mailbox, mail, mailproc, show, smtp_outgoing, write_config
from libretranslate import LibreTranslateServer

TRUSTED = "Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\n"
REPORT = ("Hola. Quiero denunciar acoso: me hizo comentarios sexuales en la cena del sábado y "
          "me siguió hasta el hotel. Tengo una captura.\n\nPersona denunciada: Marcos Pérez "
          "(@mperez)\n\nLucía")
SCREENSHOT = b"\x89PNG\r\n\x1a\n" + b"SCREENSHOT-OF-MESSAGES" * 20
DISCUSSION = "I think we should talk to him before the next meetup."


class Committee:
    def __init__(self, dovecot: Any, smtp: Any, config: Path) -> None:
        self.dovecot, self.smtp, self.config = dovecot, smtp, config

    def run(self) -> list[list[str]]:
        result = mailproc(self.config, "run", "--once")
        assert result.code == 0, result.err
        return result.lines()

    def to(self, address: str) -> list[EmailMessage]:
        return [m.message for m in self.smtp.messages if address in m.rcpt_tos]

    def last_to(self, address: str, purpose_word: str = "") -> EmailMessage:
        found = [m for m in self.to(address) if purpose_word in str(m["Subject"])]
        return found[-1]

    def member_says(self, who: str, body: str, about: EmailMessage,
                    authenticated: bool = True) -> None:
        raw = mail(f"{who}@example.org", f"Re: {about['Subject']}", body,
                   in_reply_to=about["Message-ID"].strip("<>"))
        self.dovecot.append((TRUSTED.encode() if authenticated else b"") + raw)

    def confirm_code(self, address: str) -> str:
        """The code in the newest transcript that asks for one (a flush's mails may arrive
        in any order over parallel SMTP connections)."""
        codes = [re.search(r"#confirm (\d{6})", self.body(m)) for m in self.to(address)
                 if "your commands" in str(m["Subject"])]
        return [found for found in codes if found][-1].group(1)

    def body(self, msg: EmailMessage) -> str:
        part = msg.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


def test_a_whole_case_by_email(dovecot, smtp_server, tmp_path: Path) -> None:
    with LibreTranslateServer() as translator:
        config = write_config(
            tmp_path, mailbox=imap_mailbox(dovecot), outgoing=smtp_outgoing(smtp_server),
            translation={"backend": "libretranslate", "url": translator.url},
            auth={"trusted_authserv_ids": ["mx.example.org"]},
            consequences=str(Path(__file__).parent.parent / "rules" / "consequences.yaml"))
        c = Committee(dovecot, smtp_server, config)
        _conversation(c)
    _sweep(c)


OUTCOME = ("We found that what you reported broke our code of conduct, and the person "
           "has received a written warning.")


def _conversation(c: Committee) -> None:
    c.dovecot.append(mail("lucia@example.net", "Denuncia de acoso", REPORT, name="Lucía Gómez",
                          attachments=[("captura.png", "image/png", SCREENSHOT)]))
    assert c.run()[0][:2] == ["report", "COC-2026-0001"]
    notice = {m: c.last_to(f"{m}@example.org", "New report") for m in ("alice", "bashir", "chen")}
    assert "Marcos" in c.body(notice["alice"])  # enough to judge a conflict of interest
    assert "acoso" not in c.body(notice["alice"])  # but no report content

    c.member_says("alice", "#clear", notice["alice"])
    c.member_says("bashir", "#clear", notice["bashir"])
    c.member_says("chen", "#conflict", notice["chen"])
    assert [r[0] for r in c.run()] == ["command"] * 3
    disclosure = c.last_to("alice@example.org", "full report")
    assert "acoso" in c.body(disclosure) and "lucia@example.net" in c.body(disclosure)
    assert [p.get_filename() for p in disclosure.iter_attachments()] == ["captura.png"]
    assert "[en] Hola" in c.body(disclosure)  # the translation is there too
    assert not [m for m in c.to("chen@example.org") if "full report" in str(m["Subject"])]

    c.member_says("alice", f"{DISCUSSION}\n#lead me", disclosure)
    c.member_says("bashir", "#secondary me\n#risk impact=high likelihood=medium",
                  c.last_to("bashir@example.org", "full report"))
    c.run()
    relay = c.last_to("bashir@example.org", "Alice Moreno wrote")
    assert DISCUSSION in c.body(relay)
    assert relay["From"].addresses[0].display_name == "Alice Moreno via mailproc"
    assert relay["From"].addresses[0].addr_spec == "conduct@example.org"
    risk = c.last_to("bashir@example.org", "your commands")
    assert "risk = 3 x 2 = 6" in c.body(risk) and "coordinated whole-team" in c.body(risk)

    c.member_says("alice", "#propose violation=yes consequences=warning A written warning "
                  "and no direct messages to the reporter.", relay)
    c.run()
    c.member_says("alice", "#vote yes", relay)
    c.member_says("bashir", "#vote yes", relay)
    c.member_says("chen", "#vote no\n#show", notice["chen"])  # conflicted: refused
    c.run()
    update = c.last_to("bashir@example.org", "update")
    assert "Motion 1 PASSED (yes 2, no 0, abstain 0 of 2)" in c.body(update)
    refused = c.last_to("chen@example.org", "your commands")
    assert "Nothing was done: you declared a conflict" in c.body(refused)

    # What the reporter will be told is written for her, seen in the transcript, confirmed.
    c.member_says("alice", f"#outcome {OUTCOME}", relay)
    c.run()
    asked = c.body(c.last_to("alice@example.org", "your commands"))
    assert OUTCOME in " ".join(asked.split()) and "the reporter will be told" in asked
    code = re.search(r"#confirm (\d{6})", asked).group(1)
    c.member_says("alice", f"#confirm {code}", relay)
    c.run()
    assert show(c.config, "COC-2026-0001")["reporter_outcome"] == OUTCOME
    c.member_says("alice", "#reply Thank you for your patience. We have decided on a "
                  "response.", relay)
    c.member_says("alice", "#close Warning issued\npublic: A participant received a warning "
                  "for harassment at a community dinner.", relay)
    c.run()
    to_lucia = c.last_to("lucia@example.net", "mensaje")
    assert "[es] Thank you for your patience" in c.body(to_lucia)
    assert to_lucia["Content-Language"] == "es"
    code = c.confirm_code("alice@example.org")
    assert show(c.config, "COC-2026-0001")["status"] == "decided"  # not closed yet

    forged = mail("alice@example.org", "Re: x", f"#confirm {code}",
                  in_reply_to=relay["Message-ID"].strip("<>"))
    c.dovecot.append(forged)  # no trusted Authentication-Results: refused, unanswered
    quoted = (f"Agreed.\n\nOn Mon, 23 Nov 2026 at 10:00, Alice <alice@example.org> wrote:\n"
              f"> #confirm {code}\n> #reopen\n")
    c.member_says("bashir", quoted, relay)
    before = len(c.smtp.messages)
    c.run()
    assert show(c.config, "COC-2026-0001")["status"] == "decided"
    # The relay to Alice (no transcript for a relay), and one notice to Alice's roster address
    # that mail in her name failed verification; nothing about the case in it.
    new = c.smtp.messages[before:]
    assert sorted(str(m.message["Subject"]).split(":")[-1].strip() for m in new) == [
        "Bashir Rahimi wrote", "Your mail to the committee could not be verified"]
    warning = next(m for m in new if "verified" in str(m.message["Subject"]))
    assert warning.rcpt_tos == ("alice@example.org",) and "COC-" not in c.body(warning.message)

    c.member_says("alice", f"#confirm {code}", relay)
    c.run()
    record = show(c.config, "COC-2026-0001")
    assert record["status"] == "closed"
    assert record["public_summary"].startswith("A participant received a warning")
    assert record["owners"] == {"lead": "alice@example.org", "secondary": "bashir@example.org"}
    assert record["risk"] == {"impact": 3, "likelihood": 2, "score": 6}
    assert record["cleared"] == ["alice@example.org", "bashir@example.org"]
    assert record["conflicts"] == ["chen@example.org"]
    assert record["motions"][0]["status"] == "passed"


def _sweep(c: Committee) -> None:
    """Over every mail the SMTP server received: what the conflicted and the reporter saw."""
    secrets = ["acoso", "Marcos Pérez"[:6] + "s", "lucia@example.net", "Lucía", DISCUSSION,
               "SCREENSHOT-OF-MESSAGES",
               base64.b64encode(SCREENSHOT)[:40].decode()]
    for received in c.smtp.messages:
        if "chen@example.org" in received.rcpt_tos:
            text = received.data.decode("utf-8", "replace")
            decoded = received.message.get_body(("plain",)).get_content()
            for secret in secrets:
                assert secret not in text and secret not in decoded, (secret, decoded)
            assert "The full report" not in decoded
        if "lucia@example.net" in received.rcpt_tos:
            data = received.data.decode("utf-8", "replace")
            body = received.message.get_body(("plain",)).get_content()
            is_ack = received.message["Auto-Submitted"] == "auto-replied"
            # The acknowledgement names who will read the report (seed 004); nothing sent to
            # the reporter ever says which member wrote or did what, nor any member address.
            names = () if is_ack else ("Alice", "Bashir", "Chen")
            for who in (*names, "alice@", "bashir@", "chen@"):
                assert who not in body, (who, body)
            assert "via mailproc" not in data
    # The acknowledgement, the #reply, and the outcome after #close: nothing else.
    to_lucia = [m for m in c.smtp.messages if "lucia@example.net" in m.rcpt_tos]
    assert len(to_lucia) == 3
    outcome = to_lucia[-1].message.get_body(("plain",)).get_content()
    # In Spanish (machine-translated by the test server: "[es] ..."), the committee's own words
    # below it.
    flat = " ".join(outcome.split())
    assert f"[es] {OUTCOME}" in flat and flat.count(OUTCOME) == 2
    # Never the public line, the motion, the close summary or command syntax.
    for internal in ("A participant received a warning", "no direct messages", "Warning issued",
                     "violation=", "consequences="):
        assert internal not in outcome, internal
    log = json.loads(mailproc(c.config, "show", "COC-2026-0001", "--json").out)
    assert log["id"] == "COC-2026-0001"

