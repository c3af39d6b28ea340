"""The `mailproc` command: check, run, cases, show, status, due, triage, diary, members.

Exit codes: 0 fine; 1 the run hit a mailbox it could not reach or left mail undelivered
(--once); 2 bad configuration, templates, arguments, or a data directory held by another
daemon. Problems with files print one per line as `file:line: key.path: what is wrong`.
The global options (`--config`, `--now`) may also follow the subcommand. `--now` (or
MAILPROC_NOW) sets the clock, a testing and preview aid: `run`, `status`, `cases`, `show`
and `due` then act as if it were that time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from mailproc import __version__
from mailproc.config.consequences import load_ladder
from mailproc.config.settings import Config, Secret, config_path, load_config
from mailproc.config.yamlsource import ConfigError
from mailproc.deadlines.clocks import pending
from mailproc.deadlines.moment import parse_moment
from mailproc.mail.templates import Renderer
from mailproc.model.records import Case
from mailproc.service.logsetup import setup_logging
from mailproc.store.files import DataDirProblem
from mailproc.store.store import Store

EXIT_CONFIG = 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
    handler = {"check": cmd_check, "run": cmd_run, "cases": cmd_cases, "show": cmd_show,
               "status": cmd_status, "triage": cmd_triage, "diary": cmd_diary,
               "verify": cmd_verify, "members": cmd_members, "due": cmd_due}
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


def _now(args: argparse.Namespace) -> datetime:
    clock: Callable[[], datetime] | None = getattr(args, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def _global_options(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument("--config", type=Path, default=default,
                   help="config file (default: $MAILPROC_CONFIG or rules/config.yaml)")
    p.add_argument("--now", metavar="DATETIME", default=default,
                   help="act as if it were this time (ISO 8601, or +3d; default: "
                        "$MAILPROC_NOW, else the real time): a testing and preview aid")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mailproc", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"mailproc {__version__}")
    _global_options(p, None)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, argparse.SUPPRESS)  # after the subcommand too, without resetting
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, parents=[common])

    command("check", "validate the config and every template; exit 0 or 2")
    run = command("run", "run the daemon")
    run.add_argument("--once", action="store_true",
                     help="process everything waiting, deliver the outbox, exit")
    run.add_argument("--demo", action="store_true",
                     help="on first start, put sample mails into an empty Maildir")
    run.add_argument("--log-level", default=None, help="overrides logging.level of the config")
    run.add_argument("--table", action="store_true",
                     help="print the outcome table on stdout even with logging.format: json")
    triage = command("triage", "dry run: what would happen to these messages")
    triage.add_argument("paths", nargs="*", type=Path, help=".eml files or directories")
    triage.add_argument("--maildir", type=Path, default=None)
    triage.add_argument("--imap-folder", default=None)
    triage.add_argument("--explain", action="store_true", help="every rule and why")
    triage.add_argument("--json", action="store_true")
    triage.add_argument("--dry-run", action="store_true", help="(always: it changes nothing)")
    triage.add_argument("--no-translate", action="store_true")
    diary = command("diary", "a case's diary, oldest first")
    diary.add_argument("case_id")
    diary.add_argument("--json", action="store_true")
    command("verify", "check every case diary's hash chain; exit 0 or 1")
    members = command("members", "committee membership")
    members.add_argument("action", choices=["remove", "restore", "add", "list"])
    members.add_argument("email", nargs="?")
    members.add_argument("--name", help="add: the new member's name")
    members.add_argument("--language", action="append", default=None,
                         help="add: a language they read (repeat; default en)")
    status = command("status", "health for monitoring: exit 0 healthy, 1 degraded, 2 down")
    status.add_argument("--json", action="store_true")
    cases = command("cases", "the master log of cases")
    cases.add_argument("--json", action="store_true")
    show = command("show", "one case record")
    show.add_argument("case_id")
    show.add_argument("--json", action="store_true")
    due = command("due", "what the deadline tick would send at a time, without sending it")
    due.add_argument("--at", metavar="DATETIME", default=None,
                     help="when (ISO 8601, or +3d from now; default: now)")
    due.add_argument("--json", action="store_true")
    return p


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


def cmd_run(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.service.reader import start_reader

    setup_logging(args.log_level or config.logging.level, config.logging.format)
    # First of all: forked before any thread, lock or socket exists, and early enough that it
    # has loaded what it needs by the time the first batch is fetched.
    reader = start_reader(config)
    from mailproc.adapters.sources import open_source
    from mailproc.cli.demo import seed_demo
    from mailproc.service.app import build_app
    from mailproc.service.daemon import Daemon

    try:
        clock = getattr(args, "clock", None)
        app = build_app(config, reader_process=reader is not None,
                        **({"clock": clock} if clock is not None else {}))
    except BaseException:
        if reader is not None:
            reader.close()
        raise
    try:
        if args.demo:
            seeded = seed_demo(config)
            if seeded:
                out.write(f"mailproc: first start, put {seeded} sample mails into "
                          f"{config.mailbox.maildir}/new\n")
        if clock is not None:
            out.write(f"mailproc: the clock reads {_now(args).isoformat(timespec='seconds')} "
                      "(--now: for tests and previews only)\n")
        out.write(_banner(config, args.once))
        out.flush()
        daemon = Daemon(app, open_source(config.mailbox), out, once=args.once, reader=reader)
        daemon.table = daemon.table or args.table
        return asyncio.run(daemon.run())
    finally:
        if reader is not None:
            reader.close()
        app.close()


def _banner(config: Config, once: bool) -> str:
    box = config.mailbox
    imap_host = box.imap.host if box.imap else ""
    source = f"Maildir {box.maildir}" if box.maildir else f"IMAP {imap_host}"
    dest = (f"files in {config.outgoing.outbox_dir}" if config.outgoing.outbox_dir
            else f"SMTP {config.outgoing.smtp.host if config.outgoing.smtp else ''}")
    tail = "processing what is waiting" if once else "watching for new mail; Ctrl-C to stop"
    return f"mailproc: reading {source}; outgoing mail to {dest}; {tail}\n" \
           f"{'outcome':<12} {'case':<16} {'lang':<5} reason\n"


def _open_read_only(config: Config) -> Store:
    store = Store(config.data_dir, read_only=True)
    store.open()
    return store


MASTER_LOG_KEYS = ("id", "received_at", "status", "language", "about", "urgent")


def master_log_row(case: Case, config: Config, now: datetime) -> dict[str, object]:
    """One row of the master incident log (seed 002): reporter, about, kind, risk, lead, and
    what is still due (computed at `now` from the case as it is)."""
    about = ", ".join(p.name or p.handle or p.email or "?" for p in case.reported) or "-"
    risk = case.risk
    due = pending(case, config)
    return {"id": case.id, "code_name": case.code_name,
            "received_at": case.received_at.isoformat(), "status": case.status.value,
            "language": case.language, "about": about, "urgent": case.triage.urgent,
            "priority": case.triage.priority, "kind": case.kind,
            "summary": case.summary or case.triage.category,
            "risk": (f"{risk.impact} * {risk.likelihood} = {risk.score}"
                     if risk.score is not None else None),
            "lead": case.owners.lead,
            "reporter": "anonymous" if case.reporter.anonymous else (
                case.reporter.name or case.reporter.email or "-"),
            "next_deadline": min(due, key=lambda name: due[name], default=None),
            "overdue": sorted(name for name, at in due.items() if at <= now)}


def cmd_cases(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    now = _now(args)
    rows = [master_log_row(c, config, now) for c in _open_read_only(config).all_cases()]
    if args.json:
        out.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return 0
    out.write(f"{'id':<15} {'received':<11} {'status':<13} {'lang':<4} {'urgent':<6} "
              f"{'reporter':<18} {'about':<18} {'kind':<12} {'risk':<10} {'lead':<20} "
              f"{'overdue':<24} summary\n")
    for r in rows:
        late = ",".join(r["overdue"]) if isinstance(r["overdue"], list) else ""
        out.write(f"{r['id']!s:<15} {str(r['received_at'])[:10]:<11} {r['status']!s:<13} "
                  f"{r['language'] or '-'!s:<4} {'URGENT' if r['urgent'] else '':<6} "
                  f"{str(r['reporter'])[:18]:<18} {str(r['about'])[:18]:<18} "
                  f"{r['kind'] or '-'!s:<12} {r['risk'] or '-'!s:<10} {r['lead'] or '-'!s:<20} "
                  f"{late or '-':<24} {r['summary'] or '-'}\n")
    return 0


def cmd_show(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    case = _open_read_only(config).get_case(args.case_id.upper())
    if case is None:
        print(f"mailproc: no case {args.case_id}", file=sys.stderr)
        return 1
    record = case.model_dump(mode="json")
    # What is due, from the case as it is now (the stored field is only a copy of the past).
    due = pending(case, config)
    record["deadlines"] = {name: at.isoformat() for name, at in due.items()}
    record["overdue"] = sorted(name for name, at in due.items() if at <= _now(args))
    if args.json:
        out.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        return 0
    for key, value in record.items():
        if key in ("original_text", "translated_text") and value:
            out.write(f"{key}:\n  " + str(value).replace("\n", "\n  ") + "\n")
        elif value not in (None, [], {}, ""):
            out.write(f"{key}: {json.dumps(value, ensure_ascii=False)}\n")
    return 0


def cmd_diary(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    store = _open_read_only(config)
    case_id = args.case_id.upper()
    if store.get_case(case_id) is None:
        print(f"mailproc: no case {args.case_id}", file=sys.stderr)
        return 1
    entries = store.diary(case_id)
    if args.json:
        out.write(json.dumps([e.model_dump(mode="json") for e in entries], indent=2,
                             ensure_ascii=False) + "\n")
        return 0
    for e in entries:
        out.write(f"{e.at.isoformat(timespec='seconds')}  {e.kind:<20} {e.actor:<24} "
                  f"{e.detail}\n")
    return 0


def cmd_verify(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    problems = _open_read_only(config).verify()
    for problem in problems:
        out.write(f"BROKEN {problem}\n")
    if not problems:
        out.write("ok: every case diary's hash chain is intact\n")
    return 1 if problems else 0


def cmd_members(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    """List the roster with removals; remove, restore or add a member (any of their addresses)."""
    from mailproc.config.settings import Member
    from mailproc.model.parsed import normalise_email
    from mailproc.store.revocation import Revocations

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


def cmd_triage(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.cli.dryrun import messages_from, run_triage

    if not (args.paths or args.maildir or args.imap_folder):
        print("mailproc triage: give .eml files, a directory, --maildir or --imap-folder",
              file=sys.stderr)
        return EXIT_CONFIG
    raws = messages_from(args.paths, args.maildir, args.imap_folder, config)
    return run_triage(config, raws, explain=args.explain, as_json=args.json,
                      translate=not args.no_translate, out=out)


def cmd_status(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.service.health import Snapshot, judge
    from mailproc.store.files import DataDirLock

    snapshot = None
    path = config.data_dir / "status.json"
    if path.exists():
        snapshot = Snapshot.from_json(json.loads(path.read_text()))
    alive = DataDirLock(config.data_dir).held_elsewhere()
    store = _open_read_only(config)
    status = judge(snapshot, alive, store.pending_outgoing(), store.quarantined(),
                   store.all_cases(), config, _now(args))
    word = {0: "healthy", 1: "degraded", 2: "down"}[status.code]
    if args.json:
        out.write(json.dumps({"status": word, "code": status.code, "problems": status.problems,
                              **status.report}, indent=2) + "\n")
        return status.code
    out.write(f"mailproc: {word}\n")
    for problem in status.problems:
        out.write(f"  - {problem}\n")
    for key, value in status.report.items():
        out.write(f"{key}: {json.dumps(value)}\n")
    return status.code


def cmd_due(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    """What the deadline tick would queue at --at (default now), given the cases as they are."""
    from mailproc.service.scheduled import preview

    now = _now(args)
    try:
        at = parse_moment(args.at, config.timezone, now) if args.at else now
    except ValueError as exc:
        print(f"mailproc due: --at: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    rows = preview(_open_read_only(config), config, Renderer(config.templates_dir), at)
    if args.json:
        out.write(json.dumps({"at": at.isoformat(), "mails": rows}, ensure_ascii=False,
                             indent=2) + "\n")
        return 0
    out.write(f"at {at.isoformat(timespec='seconds')}: {len(rows)} mail(s) due\n")
    for r in rows:
        out.write(f"{str(r['at'])[:16]:<17} {r['case'] or '-'!s:<15} {r['kind']!s:<24} "
                  f"{r['to']!s:<28} {r['subject']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
