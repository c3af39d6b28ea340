"""`mailproc members`: the committee roster, removals, restorations and additions."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from mailproc.cli.common import AddCommand, Handler
from mailproc.config.settings import Config


def register(command: AddCommand) -> dict[str, Handler]:
    members = command("members", "committee membership")
    members.add_argument("action", choices=["remove", "restore", "add", "list"])
    members.add_argument("email", nargs="?")
    members.add_argument("--name", help="add: the new member's name")
    members.add_argument("--language", action="append", default=None,
                         help="add: a language they read (repeat; default en)")
    return {"members": cmd_members}


def cmd_members(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    """List the roster with removals; remove, restore or add a member (any of their addresses)."""
    from mailproc.config.settings import Member
    from mailproc.model.parsed import normalise_email
    from mailproc.store.encryption import unlock
    from mailproc.store.revocation import Revocations

    unlock(config)  # its log is sealed like every file of an encrypted data directory
    revoked = Revocations(config.data_dir)
    gone = revoked.emails()
    known = {normalise_email(m.email) for m in config.roster}
    added = [Member(name=j["name"], email=j["email"], languages=j["languages"])
             for j in revoked.joined() if j["email"] not in known]
    roster = config.model_copy(update={"roster": [*config.roster, *added]})
    if args.action == "list":
        for m in roster.roster:
            flags = (" (chair)" if m.chair else "") + (" (added)" if m in added else "") + (
                " REMOVED" if normalise_email(m.email) in gone else "")
            also = f" (also {', '.join(m.aliases)})" if m.aliases else ""
            out.write(f"{m.email:<32} {m.name}{flags}{also}\n")
        return 0
    if args.action == "add":
        if not args.email or "@" not in args.email or not args.name:
            print("mailproc members add: give ADDRESS --name NAME [--language xx]",
                  file=sys.stderr)
            return 1
        if roster.member_by_email(args.email) is not None:
            print(f"mailproc members add: {args.email} is already on the roster (removed "
                  "members come back with: mailproc members restore ADDRESS)", file=sys.stderr)
            return 1
        revoked.join(args.email, args.name, args.language or ["en"])
        out.write(f"{args.email} ({args.name}): added now; also add them to the roster in the "
                  "config file\n")
        return 0
    member = roster.member_by_email(args.email) if args.email else None
    if member is None:
        print(f"mailproc members {args.action}: {args.email or '(no address)'} is not an "
              "address of anyone on the roster (see mailproc members list)", file=sys.stderr)
        return 1
    if args.action == "restore":
        revoked.restore(member.email)
        out.write(f"{member.email} ({member.name}): restored now\n")
        return 0
    revoked.remove(member.email)
    aliases = f" and {', '.join(member.aliases)}" if member.aliases else ""
    out.write(f"{member.email}{aliases} ({member.name}): removed now (no more mail, commands "
              "refused); also delete them from the roster in the config file\n")
    return 0
