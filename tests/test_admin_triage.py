"""Trying edited rules against mail already processed: `mailproc triage --imap-folder
Processed` answers "duplicate" with the way out, and `--replay` decides last month's mail again
with the rules as they are now; `--explain` gives one line per rule, with the first condition
that failed for a rule that did not match. Against a real Dovecot."""

from __future__ import annotations

import re
from pathlib import Path

from admin_helpers import checked_config
from harness import REPO, imap_mailbox, mail, mailproc

GAMES_RULE = """  - name: board-games
    when: {subject: {contains_any: [board game, board games]}}
    route: general
"""


def test_replay_tries_edited_rules_on_processed_mail(dovecot, tmp_path: Path) -> None:
    rules = tmp_path / "triage.yaml"
    shipped = (REPO / "rules" / "triage.yaml").read_text()
    rules.write_text(shipped)
    config = checked_config(tmp_path, mailbox=imap_mailbox(dovecot), triage_rules=str(rules))
    dovecot.append(mail("guest@example.net", "Board games on Friday evening?",
                        "Hello, which room is the board game night in? Thanks."))
    assert mailproc(config, "run", "--once").code == 0
    assert len(dovecot.messages("Processed")) == 1  # a report: no rule knew board games

    again = mailproc(config, "triage", "--imap-folder", "Processed")
    assert "(duplicate: already handled: add --replay to decide it again" in again.out

    rules.write_text(shipped.replace("rules:\n", "rules:\n" + GAMES_RULE, 1))
    replay = mailproc(config, "triage", "--imap-folder", "Processed", "--replay", "--explain")
    assert replay.code == 0, replay.err
    assert re.search(r"routed\s+rule=board-games route=general", replay.out), replay.out
    assert "[x] board-games: subject contains 'board games'" in replay.out
    # Nothing changed: the mail stays where it was, the store still has one case.
    assert len(dovecot.messages("Processed")) == 1 and dovecot.messages("INBOX") == []
    assert mailproc(config, "cases", "--json").out.count('"id"') == 1


def test_explain_is_one_line_per_rule_with_the_first_failing_condition(tmp_path: Path) -> None:
    config = checked_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")})
    eml = tmp_path / "hello.eml"
    eml.write_bytes(mail("guest@example.net", "Lunch on Saturday", "Is lunch included?"))
    run = mailproc(config, "triage", "--explain", str(eml))
    assert run.code == 0, run.err
    lines = [line for line in run.out.splitlines() if line.startswith("    [")]
    names = re.findall(r"^  - name: (\S+)", (REPO / "rules" / "triage.yaml").read_text(), re.M)
    assert [line.split("] ")[1].split(":")[0] for line in lines] == names
    for line in lines:
        assert line.count("contains none of") + line.count("does not match") <= 1, line
        assert len(line) < 300, line
    assert any("more condition(s) not met" in line for line in lines)
