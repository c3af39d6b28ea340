"""`mailproc check`: the config, every file it names, every secret, rules and templates."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from mailproc.cli.common import EXIT_CONFIG, AddCommand, Handler
from mailproc.config.consequences import load_ladder
from mailproc.config.settings import Config, Secret
from mailproc.config.yamlsource import ConfigError
from mailproc.mail.templates import Renderer
from mailproc.store.encryption import describe, key_problems


def register(command: AddCommand) -> dict[str, Handler]:
    command("check", "validate the config and every template; exit 0 or 2")
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
    return 0


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
    for key, secret in _secrets(config):
        try:
            secret.reveal()
        except (ValueError, OSError) as exc:
            yield f"{where}: {key}: {exc}"
    yield from key_problems(config, where)


def _secrets(config: Config) -> Iterator[tuple[str, Secret]]:
    imap, smtp = config.mailbox.imap, config.outgoing.smtp
    for key, secret in (("mailbox.imap.password", imap.password if imap else None),
                        ("mailbox.imap.oauth2_token", imap.oauth2_token if imap else None),
                        ("outgoing.smtp.password", smtp.password if smtp else None),
                        ("outgoing.smtp.oauth2_token", smtp.oauth2_token if smtp else None),
                        ("translation.api_key", config.translation.api_key)):
        if secret is not None and secret.command is None:  # a command runs at connect only
            yield key, secret
    for n, member in enumerate(config.roster):
        if member.token is not None and member.token.command is None:
            yield f"roster[{n}].token", member.token
