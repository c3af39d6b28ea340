"""The `mailproc` command: check, run, cases, show, status, due, triage, diary, members.

Exit codes: 0 fine; 1 the run hit a mailbox it could not reach or left mail undelivered
(--once); 2 bad configuration, templates, arguments, or a data directory held by another
daemon. Problems with files print one per line as `file:line: key.path: what is wrong`.
The global options (`--config`, `--now`) may also follow the subcommand. `--now` (or
MAILPROC_NOW) sets the clock, a testing and preview aid: `run`, `status`, `cases`, `show`
and `due` then act as if it were that time.

Each subcommand lives in its own module with a `register(command)` that adds its parser and
returns its handlers; a new subcommand is a new module added to COMMAND_MODULES.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from mailproc import __version__
from mailproc.cli import (
    caseviews,
    checking,
    datacmds,
    keycmds,
    reportcmds,
    roster,
    running,
    statusview,
    triagecmd,
)
from mailproc.cli.common import EXIT_CONFIG, Handler
from mailproc.config.settings import Config, config_path, load_config
from mailproc.config.yamlsource import ConfigError
from mailproc.deadlines.moment import parse_moment
from mailproc.store.files import DataDirProblem

COMMAND_MODULES: tuple[ModuleType, ...] = (
    checking, running, triagecmd, caseviews, roster, statusview, datacmds, reportcmds,
    keycmds)

def main(argv: list[str] | None = None) -> int:
    parser, handler = _parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(config_path(args.config))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    try:
        args.clock = _clock(args.now or os.environ.get("MAILPROC_NOW"), config)
    except ValueError as exc:
        print(f"mailproc: --now: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return handler[args.command](config, args, sys.stdout)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except DataDirProblem as exc:
        print(f"mailproc: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def _clock(text: str | None, config: Config) -> Callable[[], datetime] | None:
    """The clock `--now` / MAILPROC_NOW sets (None: the real one)."""
    if not text:
        return None
    from mailproc.service.app import shifted_clock

    return shifted_clock(parse_moment(text, config.timezone, datetime.now(UTC)))


def _global_options(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument("--config", type=Path, default=default,
                   help="config file (default: $MAILPROC_CONFIG or rules/config.yaml)")
    p.add_argument("--now", metavar="DATETIME", default=default,
                   help="act as if it were this time (ISO 8601, or +3d; default: "
                        "$MAILPROC_NOW, else the real time): a testing and preview aid")


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    p = argparse.ArgumentParser(prog="mailproc", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"mailproc {__version__}")
    _global_options(p, None)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, argparse.SUPPRESS)  # after the subcommand too, without resetting
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, parents=[common])

    handlers: dict[str, Handler] = {}
    for module in COMMAND_MODULES:
        handlers.update(module.register(command))
    return p, handlers


if __name__ == "__main__":
    sys.exit(main())
