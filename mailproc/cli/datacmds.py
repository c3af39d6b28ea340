"""The data's life cycle: `purge` (retention), `export`, `forget`, `delete`, `quarantine`.

Everything that changes the data directory takes its lock, so it refuses to run while a daemon
holds it (the daemon applies the retention policy itself, every day); `purge --dry-run`,
`quarantine list` and `quarantine show` only read and work beside a running daemon.
Output names case ids, hashes and counts, never a person.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from mailproc.cli.common import EXIT_CONFIG, AddCommand, Handler, now_of, open_read_only
from mailproc.config.settings import Config
from mailproc.store.encryption import unlock
from mailproc.store.files import DataDirLock
from mailproc.store.store import Store


def register(command: AddCommand) -> dict[str, Handler]:
    purge = command("purge", "apply the retention policy now (or hand over: --handover)")
    purge.add_argument("--dry-run", action="store_true", help="list what it would do")
    purge.add_argument("--handover", action="store_true",
                       help="a new team takes over: every closed case keeps statistics only")
    purge.add_argument("--confirm", metavar="WORD", help="--handover needs --confirm handover")
    export = command("export", "one case as a zip file: record, diary, raw mail, attachments")
    export.add_argument("case_id")
    export.add_argument("--out", type=Path, required=True, metavar="FILE.zip")
    forget = command("forget", "erase a person (by address) from every case and file")
    forget.add_argument("address")
    forget.add_argument("--name", action="append", default=[],
                        help="also erase this name wherever it is written (repeat)")
    delete = command("delete", "delete a case entirely (test cases)")
    delete.add_argument("case_id")
    delete.add_argument("--confirm", metavar="CASE", help="the case id again")
    quarantine = command("quarantine", "quarantined mail: list, show ID, release ID")
    quarantine.add_argument("action", choices=["list", "show", "release"])
    quarantine.add_argument("ident", nargs="?", metavar="ID",
                            help="the message's sha256 (8 characters or more) or key")
    return {"purge": cmd_purge, "export": cmd_export, "forget": cmd_forget,
            "delete": cmd_delete, "quarantine": cmd_quarantine}


class Refused(Exception):
    """A daemon holds the data directory."""


@contextmanager
def writable(config: Config, what: str) -> Iterator[Store]:
    """The store opened for writing, with its lock; refused while a daemon runs."""
    if DataDirLock(config.data_dir).held_elsewhere():
        raise Refused(f"mailproc {what}: a mailproc daemon is running on {config.data_dir}; "
                      "stop it first (nothing was changed)")
    unlock(config)  # storage.encryption: every file it rewrites is sealed again
    store = Store(config.data_dir)
    store.open()
    try:
        yield store
    finally:
        store.close()


def _refused(exc: Refused) -> int:
    print(exc, file=sys.stderr)
    return EXIT_CONFIG


def cmd_purge(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.service.retention_job import apply, describe, plan

    now = now_of(args)
    if args.handover and not args.dry_run and args.confirm != "handover":
        print("mailproc purge --handover removes every name, address, text and raw message of "
              "every closed case; run it with --dry-run first, then add --confirm handover",
              file=sys.stderr)
        return EXIT_CONFIG
    if args.dry_run:
        store = open_read_only(config)
        todo = plan(store, config, now, for_handover=args.handover)
        lines = describe(todo, {c.id: c for c in store.all_cases()})
        out.write("".join(f"{line}\n" for line in lines) or "nothing to purge\n")
        return 0
    try:
        with writable(config, "purge") as store:
            todo = plan(store, config, now, for_handover=args.handover)
            lines = describe(todo, {c.id: c for c in store.all_cases()})
            deleted = apply(store, todo, now)
    except Refused as exc:
        return _refused(exc)
    out.write("".join(f"{line}\n" for line in lines))
    out.write(f"purged {len({p.case_id for p in todo.purges})} case(s), deleted {deleted} "
              "file(s)\n")
    return 0


def cmd_export(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.store.export import export_case

    target: Path = args.out
    if target.resolve().is_relative_to(config.data_dir.resolve()):
        print("mailproc export: write the zip outside the data directory", file=sys.stderr)
        return EXIT_CONFIG
    try:
        with writable(config, "export") as store:
            case_id = args.case_id.upper()
            if store.get_case(case_id) is None:
                print(f"mailproc export: no case {args.case_id}", file=sys.stderr)
                return 1
            data = export_case(store, case_id, now_of(args))
    except Refused as exc:
        return _refused(exc)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)  # the caller's file, outside the data directory
    target.chmod(0o600)
    out.write(f"{case_id}: exported to {target} ({len(data)} bytes)\n")
    return 0


def cmd_forget(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.service.app import load_pepper
    from mailproc.service.erasure import forget

    if "@" not in args.address:
        print("mailproc forget: give the person's email address", file=sys.stderr)
        return EXIT_CONFIG
    try:
        with writable(config, "forget") as store:
            done = forget(store, args.address, args.name, load_pepper(config.data_dir),
                          now_of(args))
    except Refused as exc:
        return _refused(exc)
    out.write(f"erased from {len(done.cases)} case(s) ({', '.join(done.cases) or '-'}); "
              f"{done.raw_copies} raw message(s) and {done.attachments} attachment(s) "
              f"replaced by scrubbed copies; {done.queued_dropped} queued mail(s) changed or "
              "dropped. Mail already sent, and the mail server's folders, are not touched.\n")
    return 0


def cmd_delete(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.service.erasure import delete

    case_id = args.case_id.upper()
    if (args.confirm or "").upper() != case_id:
        print(f"mailproc delete: this removes {case_id} and its mail for good; repeat the case "
              f"id: mailproc delete {case_id} --confirm {case_id}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        with writable(config, "delete") as store:
            if store.get_case(case_id) is None:
                print(f"mailproc delete: no case {args.case_id}", file=sys.stderr)
                return 1
            gone = delete(store, case_id, now_of(args))
    except Refused as exc:
        return _refused(exc)
    out.write(f"{case_id}: deleted, with {gone} raw message(s) and attachment(s)\n")
    return 0


def cmd_quarantine(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.service import quarantine as q

    if args.action == "list":
        rows = q.quarantined(open_read_only(config))
        for d in rows:
            out.write(f"{d.sha256[:12]}  {d.at.isoformat(timespec='seconds')}  {d.reason}\n")
        out.write(f"{len(rows)} message(s) in quarantine\n")
        return 0
    if not args.ident:
        print(f"mailproc quarantine {args.action}: give the message's ID (see: mailproc "
              "quarantine list)", file=sys.stderr)
        return EXIT_CONFIG
    if args.action == "show":
        store = open_read_only(config)
        done = q.find(store, args.ident)
        if done is None:
            return _unknown(args.ident)
        seen = q.inspect(store, config, done)
        out.write(f"id:       {done.sha256}\nkey:      {done.key}\n"
                  f"received: {done.at.isoformat(timespec='seconds')}\nreason:   {done.reason}\n"
                  f"size:     {seen.size} bytes\n")
        out.write("".join(f"{name}: {value}\n" for name, value in seen.headers))
        out.write(f"now:      {seen.now}\n")
        return 0
    return _release(config, args, out)


def _release(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.service import quarantine as q
    from mailproc.service.app import build_app

    if DataDirLock(config.data_dir).held_elsewhere():
        return _refused(Refused("mailproc quarantine release: a mailproc daemon is running on "
                                f"{config.data_dir}; stop it first (nothing was changed)"))
    clock = getattr(args, "clock", None)
    app = build_app(config, translator="config", **({"clock": clock} if clock else {}))
    try:
        done = q.find(app.store, args.ident)
        if done is None:
            return _unknown(args.ident)
        after = q.release(app, done, app.clock())
    finally:
        app.close()
    case = f" {after.case_id}" if after.case_id else ""
    out.write(f"{done.sha256[:12]}: released; now {after.outcome.value}{case} "
              f"({after.reason}); its mail goes out with the daemon's next delivery\n")
    return 1 if after.outcome.value == "quarantined" else 0


def _unknown(ident: str) -> int:
    print(f"mailproc quarantine: no quarantined message {ident} (see: mailproc quarantine "
          "list)", file=sys.stderr)
    return 1
