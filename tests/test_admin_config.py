"""Config mistakes a new admin makes, and what `mailproc check` answers: the nearest key for a
misspelt one, and where a secret goes when a password is typed into the file (never echoing
it). The example configuration's own commands name the config they check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from harness import REPO, mailproc

BASE = (REPO / "rules" / "config.yaml").read_text()


def check(tmp_path: Path, text: str) -> str:
    (tmp_path / "rules").mkdir(exist_ok=True)
    path = tmp_path / "rules" / "config.yaml"
    path.write_text(text)
    run = mailproc(path, "check")
    assert run.code == 2, run.out
    return run.err


@pytest.mark.parametrize(("edit", "expected"), [
    (("timezone: UTC", "timezon: UTC"), ":14: timezon: unknown key; did you mean timezone?"),
    (("  poll_interval_seconds: 2", "  poll_intervall_seconds: 2"),
     "mailbox.poll_intervall_seconds: unknown key; did you mean poll_interval_seconds?"),
    (("  ack_wait_seconds: 2", "  ack_wait_second: 2"),
     "translation.ack_wait_second: unknown key; did you mean ack_wait_seconds?"),
    (("    chair: true", "    chiar: true"), "roster[0].chiar: unknown key; did you mean chair?"),
])
def test_an_unknown_key_gets_the_nearest_allowed_one(tmp_path: Path, edit: tuple[str, str],
                                                     expected: str) -> None:
    assert edit[0] in BASE
    assert expected in check(tmp_path, BASE.replace(*edit, 1))


def test_a_key_like_nothing_lists_what_is_allowed(tmp_path: Path) -> None:
    err = check(tmp_path, BASE.replace("timeline:\n", "timeline:\n  zzz: 1\n", 1))
    assert "timeline.zzz: unknown key (allowed here: acknowledge_hours, follow_up_days, " \
           "update_every_days)" in err


def test_a_plain_text_password_is_answered_with_where_secrets_go(tmp_path: Path) -> None:
    text = BASE.replace("outgoing:\n  outbox_dir: var/outbox\n", (
        "outgoing:\n  smtp:\n    host: smtp.example.org\n    username: conduct@example.org\n"
        "    password: Tr0ub4dor&3\n"), 1)
    err = check(tmp_path, text)
    assert "outgoing.smtp.password: a secret is never written in this file: name where it is " \
           "read from, {env: VARIABLE} or {file: /path/to/file}" in err
    assert "Tr0ub4dor" not in err and "valid dictionary" not in err


def test_the_example_configs_commands_name_the_config() -> None:
    """A command run against /etc/mailproc/config.yaml must say so (the default is the
    repository's rules/config.yaml, which would check the wrong file)."""
    text = (REPO / "deploy" / "config.example.yaml").read_text()
    commands = [line for line in text.splitlines() if re.search(r"bin/mailproc \S", line)]
    assert commands
    for line in commands:
        assert "--config /etc/mailproc/config.yaml" in line, line
