"""Reading the cases: `cases` (the master log, with the chair's filters), `show`, `diary`,
`verify`, `due`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, time
from typing import TextIO
from zoneinfo import ZoneInfo

from mailproc.cli.common import (
    EXIT_CONFIG,
    AddCommand,
    Handler,
    day_argument,
    now_of,
    open_read_only,
)
from mailproc.config.settings import Config
from mailproc.deadlines.clocks import pending
from mailproc.deadlines.moment import parse_moment
from mailproc.mail.templates import Renderer
from mailproc.model.parsed import CaseStatus
from mailproc.model.records import Case


def register(command: AddCommand) -> dict[str, Handler]:
    cases = command("cases", "the master log of cases (filters combine: all must hold)")
    cases.add_argument("--json", action="store_true")
    cases.add_argument("--open", action="store_true", help="only cases not closed")
    cases.add_argument("--overdue", action="store_true",
                       help="only cases with a deadline already passed")
    cases.add_argument("--urgent", action="store_true", help="only urgent (or P1) cases")
    cases.add_argument("--status", default=None, choices=[s.value for s in CaseStatus])
    cases.add_argument("--lead", default=None, metavar="NAME",
                       help="only cases this member leads (name or address, any part)")
    cases.add_argument("--since", type=day_argument, default=None, metavar="DATE",
                       help="only cases received on or after this day (YYYY-MM-DD)")
    show = command("show", "one case record")
    show.add_argument("case_id")
    show.add_argument("--json", action="store_true")
    diary = command("diary", "a case's diary, oldest first")
    diary.add_argument("case_id")
    diary.add_argument("--json", action="store_true")
    command("verify", "check every case diary's hash chain; exit 0 or 1")
    due = command("due", "what the deadline tick would send at a time, without sending it")
    due.add_argument("--at", metavar="DATETIME", default=None,
                     help="when (ISO 8601, or +3d from now; default: now)")
    due.add_argument("--json", action="store_true")
    return {"cases": cmd_cases, "show": cmd_show, "diary": cmd_diary, "verify": cmd_verify,
            "due": cmd_due}


MASTER_LOG_KEYS = ("id", "received_at", "status", "language", "about", "urgent")



def cut(text: str, width: int) -> str:
    """`text` on one line, cut at a word to fit `width` with "…" (a lone long word is cut
    inside)."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    head = flat[: width - 1]
    if flat[width - 1] != " " and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:.-") + "…"


def age(received: datetime, now: datetime) -> str:
    """How long ago, short: 45m, 7h, 3d, 12w."""
    minutes = max(0, int((now - received).total_seconds() // 60))
    for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60)):
        if minutes >= 2 * size or (unit == "h" and minutes >= size):
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def _lead_matches(lead: str | None, wanted: str, config: Config) -> bool:
    if lead is None:
        return False
    member = config.member_by_email(lead)
    names = [lead, *((member.name, *member.aliases) if member else ())]
    return any(wanted.casefold() in n.casefold() for n in names)


def selected(case: Case, row: dict[str, object], args: argparse.Namespace, config: Config
             ) -> bool:
    """Whether a case passes every filter given on the command line."""
    if args.open and case.status is CaseStatus.CLOSED:
        return False
    if args.overdue and not row["overdue"]:
        return False
    if args.urgent and not (case.triage.urgent or case.triage.priority == "P1"):
        return False
    if args.status and case.status.value != args.status:
        return False
    if args.lead and not _lead_matches(case.owners.lead, args.lead, config):
        return False
    since = (datetime.combine(args.since, time(0), ZoneInfo(config.timezone))
             if args.since else None)
    return since is None or case.received_at >= since


def master_log_row(case: Case, config: Config, now: datetime) -> dict[str, object]:
    """One row of the master incident log (seed 002): reporter, about, kind, risk, lead, and
    what is still due (computed at `now` from the case as it is)."""
    about = ", ".join(p.name or p.handle or p.email or "?" for p in case.reported) or "-"
    risk = case.risk
    due = pending(case, config)
    next_at = min(due.values(), default=None)
    return {"id": case.id, "code_name": case.code_name,
            "received_at": case.received_at.isoformat(), "status": case.status.value,
            "language": case.language, "about": about, "urgent": case.triage.urgent,
            "priority": case.triage.priority, "kind": case.kind,
            "category": case.triage.category, "summary": case.summary,
            "age": age(case.received_at, now),
            "risk": (f"{risk.impact} * {risk.likelihood} = {risk.score}"
                     if risk.score is not None else None),
            "lead": case.owners.lead,
            "reporter": "anonymous" if case.reporter.anonymous else (
                case.reporter.name or case.reporter.email or "-"),
            "next_deadline": min(due, key=lambda name: due[name], default=None),
            "next_deadline_at": next_at.isoformat() if next_at else None,
            "overdue": sorted(name for name, at in due.items() if at <= now)}


def cmd_cases(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    now = now_of(args)
    rows = []
    for case in open_read_only(config).all_cases():
        row = master_log_row(case, config, now)
        if selected(case, row, args, config):
            rows.append(row)
    if args.json:
        out.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return 0
    out.write(f"{'id':<15} {'received':<11} {'age':>4} {'status':<13} {'pri':<3} {'lang':<4} "
              f"{'urgent':<6} {'reporter':<18} {'about':<18} {'kind':<12} {'risk':<10} "
              f"{'lead':<20} "
              f"{'next deadline':<28} {'overdue':<24} summary\n")
    for r in rows:
        late = ",".join(r["overdue"]) if isinstance(r["overdue"], list) else ""
        nxt = (f"{r['next_deadline']} {str(r['next_deadline_at'])[5:16].replace('T', ' ')}"
               if r["next_deadline"] else "-")
        out.write(f"{r['id']!s:<15} {str(r['received_at'])[:10]:<11} {r['age']!s:>4} "
                  f"{r['status']!s:<13} {r['priority']!s:<3} {r['language'] or '-'!s:<4} "
                  f"{'URGENT' if r['urgent'] else '':<6} {cut(str(r['reporter']), 18):<18} "
                  f"{cut(str(r['about']), 18):<18} {r['kind'] or '-'!s:<12} "
                  f"{r['risk'] or '-'!s:<10} {cut(str(r['lead'] or '-'), 20):<20} "
                  f"{cut(nxt, 28):<28} {cut(late or '-', 24):<24} "
                  f"{cut(str(r['summary'] or '-'), 60)}\n")
    return 0


def cmd_show(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    case = open_read_only(config).get_case(args.case_id.upper())
    if case is None:
        print(f"mailproc: no case {args.case_id}", file=sys.stderr)
        return 1
    record = case.model_dump(mode="json")
    # What is due, from the case as it is now (the stored field is only a copy of the past).
    due = pending(case, config)
    record["deadlines"] = {name: at.isoformat() for name, at in due.items()}
    record["overdue"] = sorted(name for name, at in due.items() if at <= now_of(args))
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
    store = open_read_only(config)
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
    problems = open_read_only(config).verify()
    for problem in problems:
        out.write(f"BROKEN {problem}\n")
    if not problems:
        out.write("ok: every case diary's hash chain is intact\n")
    return 1 if problems else 0


def cmd_due(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    """What the deadline tick would queue at --at (default now), given the cases as they are."""
    from mailproc.service.scheduled import preview

    now = now_of(args)
    try:
        at = parse_moment(args.at, config.timezone, now) if args.at else now
    except ValueError as exc:
        print(f"mailproc due: --at: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    rows = preview(open_read_only(config), config, Renderer(config.templates_dir), at)
    if args.json:
        out.write(json.dumps({"at": at.isoformat(), "mails": rows}, ensure_ascii=False,
                             indent=2) + "\n")
        return 0
    out.write(f"at {at.isoformat(timespec='seconds')}: {len(rows)} mail(s) due\n")
    for r in rows:
        out.write(f"{str(r['at'])[:16]:<17} {r['case'] or '-'!s:<15} {r['kind']!s:<24} "
                  f"{r['to']!s:<28} {r['subject']}\n")
    return 0
