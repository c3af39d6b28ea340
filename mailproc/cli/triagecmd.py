"""`mailproc triage`: a dry run of the pipeline over files, a Maildir or an IMAP folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from mailproc.cli.common import EXIT_CONFIG, AddCommand, Handler
from mailproc.config.settings import Config


def register(command: AddCommand) -> dict[str, Handler]:
    triage = command("triage", "dry run: what would happen to these messages")
    triage.add_argument("paths", nargs="*", type=Path, help=".eml files or directories")
    triage.add_argument("--maildir", type=Path, default=None)
    triage.add_argument("--imap-folder", default=None)
    triage.add_argument("--explain", action="store_true",
                        help="one line per rule: what matched, or the first condition that "
                             "did not")
    triage.add_argument("--replay", action="store_true",
                        help="decide mail handled before again, with the rules as they are "
                             "now (e.g. --imap-folder Processed), instead of 'duplicate'")
    triage.add_argument("--json", action="store_true")
    triage.add_argument("--dry-run", action="store_true", help="(always: it changes nothing)")
    triage.add_argument("--no-translate", action="store_true")
    return {"triage": cmd_triage}


def cmd_triage(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.cli.dryrun import messages_from, run_triage

    if not (args.paths or args.maildir or args.imap_folder):
        print("mailproc triage: give .eml files, a directory, --maildir or --imap-folder",
              file=sys.stderr)
        return EXIT_CONFIG
    raws = messages_from(args.paths, args.maildir, args.imap_folder, config)
    return run_triage(config, raws, explain=args.explain, as_json=args.json,
                      translate=not args.no_translate, out=out, replay=args.replay)
