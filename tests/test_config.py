"""Configuration: every problem reported as file:line: key.path: message, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import REPO, mailproc

from mailproc.config.settings import load_config
from mailproc.config.yamlsource import ConfigError

GOOD = """\
conduct_address: conduct@example.org
data_dir: var/data
mailbox:
  maildir: var/mail
outgoing:
  outbox_dir: var/outbox
roster:
  - name: Alice
    email: alice@example.org
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    return [str(p) for p in info.value.problems]


def test_the_shipped_config_is_valid_and_paths_resolve_from_the_repository() -> None:
    config = load_config(REPO / "rules" / "config.yaml")
    assert config.mailbox.maildir == REPO / "var" / "mail"
    assert config.outgoing.outbox_dir == REPO / "var" / "outbox"
    assert config.data_dir == REPO / "var" / "data"
    assert config.roster and config.committee_languages[0] == "en"


@pytest.mark.parametrize(("edit", "expected"), [
    (("  maildir: var/mail", "  maildir: var/mail\n  maildri: typo"),
     "config.yaml:5: mailbox.maildri: unknown key"),
    (("    email: alice@example.org", "    email: alice at example"),
     "config.yaml:9: roster[0].email: Value error, 'alice at example' is not an email address"),
    (("conduct_address: conduct@example.org\n", ""),
     "config.yaml:1: conduct_address: required key is missing"),
    (("  maildir: var/mail", "  imap: {host: mail.example.org, port: 143, tls: plain}"),
     "config.yaml:4: mailbox.imap: Value error, tls: plain is allowed only towards a loopback"),
    (("data_dir: var/data", "data_dir: var/data\ncase_prefix: coc"),
     "config.yaml:3: case_prefix: String should match pattern"),
    (("data_dir: var/data", "data_dir: var/data\ntimezone: Mars/Olympus"),
     "config.yaml:3: timezone: Value error, unknown time zone 'Mars/Olympus'"),
    (("  maildir: var/mail", "  maildir: var/mail\n  imap: {host: 127.0.0.1, port: 143}"),
     "config.yaml:3: mailbox: Value error, give exactly one of maildir:"),
])
def test_each_problem_names_file_line_and_key(tmp_path: Path, edit: tuple[str, str],
                                               expected: str) -> None:
    problems = _problems(tmp_path, GOOD.replace(*edit))
    assert any(p.endswith(expected) or expected in p for p in problems), problems
    assert all(p.startswith(str(tmp_path)) for p in problems)


def test_several_problems_are_all_listed(tmp_path: Path) -> None:
    text = GOOD.replace("data_dir: var/data", "data_dir: var/data\nfoo: 1\nbar: 2")
    problems = _problems(tmp_path, text)
    assert len(problems) == 2
    assert problems[0].endswith("config.yaml:3: foo: unknown key (check the spelling; see the "
                                "shipped file for the keys allowed)")
    assert problems[1].split(": ")[0].endswith("config.yaml:4")


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, GOOD.replace("  outbox_dir: var/outbox",
                                                "  outbox_dir: [var/outbox"))
    assert len(problems) == 1
    assert ":7: YAML syntax" in problems[0] or ":8: YAML syntax" in problems[0]


def test_username_without_password_source_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("  maildir: var/mail",
                        "  imap: {host: 127.0.0.1, port: 143, tls: plain, username: u}")
    problems = _problems(tmp_path, text)
    assert "mailbox.imap.password: username given without password" in problems[0]


def test_a_password_in_the_yaml_itself_is_not_accepted(tmp_path: Path) -> None:
    text = GOOD.replace("  maildir: var/mail", "  imap: {host: 127.0.0.1, port: 143, "
                        "tls: plain, username: u, password: hunter2}")
    problems = _problems(tmp_path, text)
    assert any("mailbox.imap.password" in p for p in problems)


def test_secret_is_read_from_the_environment_only_when_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD.replace("  maildir: var/mail", "  imap: {host: 127.0.0.1, port: 143, tls: plain, "
                        "username: u, password: {env: TEST_SECRET_X}}")
    config = load_config(_write(tmp_path, text))
    assert config.mailbox.imap is not None and config.mailbox.imap.password is not None
    with pytest.raises(ValueError, match="TEST_SECRET_X is not set"):
        config.mailbox.imap.password.reveal()
    monkeypatch.setenv("TEST_SECRET_X", "s3cret")
    assert config.mailbox.imap.password.reveal() == "s3cret"


def test_cli_check_exits_2_with_the_problem_on_stderr(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("  maildir: var/mail", "  maildir: var/mail\n  x: 1"))
    run = mailproc(path, "check")
    assert run.code == 2
    assert f"{path}:5: mailbox.x: unknown key" in run.err


def test_cli_check_passes_on_the_shipped_files() -> None:
    run = mailproc(REPO / "rules" / "config.yaml", "check")
    assert run.code == 0, run.err
    assert run.out.startswith("ok:")


def test_the_command_tells_its_version(capsys: pytest.CaptureFixture[str]) -> None:
    from mailproc import __version__
    from mailproc.cli.main import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"mailproc {__version__}"


def test_check_fails_on_every_missing_file_and_unreadable_secret(tmp_path: Path) -> None:
    """`mailproc check` names what the configuration points at and cannot find: the triage
    rules, the consequence ladder, a secret file, an unset variable (never a secret's value)."""
    from harness import mailproc, write_config

    config = write_config(
        tmp_path, mailbox={"imap": {"host": "127.0.0.1", "username": "conduct",
                                    "password": {"file": str(tmp_path / "no-such-secret")}}},
        outgoing={"smtp": {"host": "127.0.0.1", "username": "conduct",
                           "password": {"env": "MAILPROC_TEST_UNSET_VARIABLE"}}})
    run = mailproc(config, "check")
    assert run.code == 2
    lines = run.err.splitlines()
    assert any("triage_rules:" in x and "every human mail would become a report" in x
               for x in lines)
    assert any("consequences:" in x and "event-ban" in x for x in lines)
    assert any("mailbox.imap.password:" in x and "no-such-secret" in x for x in lines)
    assert any("outgoing.smtp.password:" in x and "MAILPROC_TEST_UNSET_VARIABLE" in x
               for x in lines)
