"""`mailproc check`: the config, every file it names, every secret, rules and templates.

`--connect` then tries the outside world for real (`service.probe`): IMAP login and folders,
SMTP EHLO/STARTTLS/AUTH (`--send-test`: a test mail to the admin), the translation backend and
who sees report text through it; one line per step, exit 1 when any step fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from mailproc.cli.common import EXIT_CONFIG, AddCommand, Handler
from mailproc.config.consequences import load_ladder
from mailproc.config.settings import Config
from mailproc.config.yamlsource import ConfigError
from mailproc.mail.templates import Renderer
from mailproc.store.encryption import describe, key_problems


def register(command: AddCommand) -> dict[str, Handler]:
    check = command("check", "validate the config and every template; exit 0 or 2 "
                             "(--connect: 1 when a server fails)")
    check.add_argument("--connect", action="store_true",
                       help="also log in to IMAP and SMTP and reach the translation backend")
    check.add_argument("--send-test", action="store_true",
                       help="with --connect: send a test mail to admin_address")
    return {"check": cmd_check}


def cmd_check(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.service.app import load_triage

    problems: list[object] = list(_missing_files(config))
    try:
        load_triage(config)
    except ConfigError as exc:
        problems += exc.problems
    try:
        problems += Renderer(config.templates_dir).check()
    except ConfigError as exc:
        problems += exc.problems
    try:
        if config.consequences.exists():
            load_ladder(config.consequences)
    except ConfigError as exc:
        problems += exc.problems
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return EXIT_CONFIG
    out.write(f"ok: {config.source}, {config.triage_rules} and templates in "
              f"{config.templates_dir}\n")
    out.write(describe(config) + "\n")
    if args.connect or args.send_test:
        return _connect(config, args.send_test, out)
    return 0


def _connect(config: Config, send_test: bool, out: TextIO) -> int:
    from mailproc.service.probe import probe

    failed = 0
    for step in probe(config, send_test):
        out.write(step.line() + "\n")
        out.flush()
        failed += not step.ok
    out.write(f"{failed} step(s) failed\n" if failed else "every connection works\n")
    return 1 if failed else 0


def _missing_files(config: Config) -> Iterator[str]:
    """What the configuration names but cannot be found: files, and secrets that cannot be
    read now (named by where they come from, never by their value)."""
    where = config.source or Path("config.yaml")
    for key, path in (("triage_rules", config.triage_rules),
                      ("consequences", config.consequences),
                      ("templates_dir", config.templates_dir)):
        if not path.exists():
            yield f"{where}: {key}: {path} does not exist" + (
                " (every human mail would become a report)" if key == "triage_rules" else
                " (the built-in ladder would refuse consequences such as event-ban)"
                if key == "consequences" else "")
    for key, endpoint in (("mailbox.imap", config.mailbox.imap),
                          ("outgoing.smtp", config.outgoing.smtp)):
        if endpoint is not None and endpoint.ca_file is not None \
                and not endpoint.ca_file.is_file():
            yield f"{where}: {key}.ca_file: {endpoint.ca_file} does not exist"
    from mailproc.service.probe import secrets_of

    for key, secret in secrets_of(config):
        if secret.command is not None:  # a command runs at connect only (--connect)
            continue
        try:
            secret.reveal()
        except (ValueError, OSError) as exc:
            yield f"{where}: {key}: {exc}"
    yield from key_problems(config, where)
