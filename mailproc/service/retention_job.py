"""Applying the data policy: the daily retention job and `mailproc purge`.

Gather (every case, who is reported in more than one) -> decide (`cases.retention`, pure) ->
execute here: delete raw mail and attachments, rewrite expunged records and re-seal their
diaries, drop the expunged cases' keyed identifiers from the index. Each case's diary records
what kind of purge happened and under which rule, never what was removed.
The daemon runs `daily` every hour and acts once per day (a store flag holds the day), and
`run --once` runs it after the deadline tick, so a cron deployment applies it too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mailproc.cases.retention import (
    Action,
    Kept,
    Purge,
    decide,
    expunged,
    expunged_entry,
    handover,
    without_raw,
)
from mailproc.config.consequences import load_ladder
from mailproc.config.settings import Config
from mailproc.model.records import Case, DiaryEntry
from mailproc.service.logsetup import where
from mailproc.store.export import case_raw_shas
from mailproc.store.store import Store, Transaction

if TYPE_CHECKING:
    from mailproc.service.pipeline import Pipeline

log = logging.getLogger("mailproc.retention")
DAY_FLAG = "retention-day"  # the last day the daily job ran (store flag)
WHAT = {Action.RAW: "raw mail and attachments deleted",
        Action.EXPUNGE: "identifying fields expunged"}


@dataclass
class Plan:
    """What a purge will do (`purge --dry-run` prints it)."""

    purges: list[Purge] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    still_open: list[str] = field(default_factory=list)  # hand-over: left as they are


def plan(store: Store, config: Config, now: datetime, *, for_handover: bool = False) -> Plan:
    cases = store.all_cases()
    if for_handover:
        purges, still_open = handover(cases)
        return Plan(purges, [], still_open)
    purges, kept = decide(cases, config.retention, load_ladder(config.consequences),
                          store.by_identifier, now)
    return Plan(purges, kept)


def apply(store: Store, todo: Plan, now: datetime) -> int:
    """Carry out a plan; returns how many files were deleted."""
    cases = {c.id: c for c in store.all_cases()}
    purged = {p.case_id for p in todo.purges}
    # A blob or raw message another case still refers to stays (content-addressed files).
    shared = {s for c in cases.values() if c.id not in purged
              for s in [c.source_sha256, *(f.sha256 for f in c.followups),
                        *(a.sha256 for a in c.attachments)] if s}
    deleted, expunged_ids = 0, []
    for p in todo.purges:
        case = cases[p.case_id]
        diary = store.diary(case.id)
        if p.action is Action.RAW:
            raw = [s for s in case_raw_shas(store, case, diary) if s not in shared]
            blobs = [a.sha256 for a in case.attachments if a.sha256 and a.sha256 not in shared]
            deleted += store.delete_files(raw, blobs)  # first: a crash then only repeats this
            case = cases[p.case_id] = without_raw(case, now)
            store.commit(Transaction(cases={case.id: case}, diary=[
                _entry(case.id, now, p)]))
        else:
            case = cases[p.case_id] = expunged(case, now)
            store.rewrite_case(case, [expunged_entry(e) for e in diary], _entry(case.id, now, p))
            expunged_ids.append(case.id)
    if expunged_ids:
        gone = set(expunged_ids)
        store.rewrite_logs(None, lambda r: _without_identifiers(r, gone))
    return deleted


def _entry(case_id: str, now: datetime, p: Purge) -> DiaryEntry:
    return DiaryEntry(case_id=case_id, at=now, kind="retention",
                      detail=f"{WHAT[p.action]} ({p.rule})")


def _without_identifiers(rec: dict[str, Any], gone: set[str]) -> dict[str, Any] | None:
    """Index records linking a keyed identifier to an expunged case go: that case no longer
    counts towards anyone's history."""
    return None if rec.get("e") == "id" and rec.get("case") in gone else rec


def daily(pipeline: Pipeline) -> int:
    """The daemon's job: apply the policy once per day; returns how many cases it purged."""
    store, config = pipeline.store, pipeline.config
    now = pipeline.clock()
    today = now.date().isoformat()
    if store.flag(DAY_FLAG) == today or not _policy_set(config):
        return 0
    try:
        todo = plan(store, config, now)
        deleted = apply(store, todo, now)
    except Exception as exc:  # never stop the daemon; the next hour tries again
        log.error("retention failed: %s at %s", type(exc).__name__, where(exc))
        return 0
    store.commit(Transaction(flags={DAY_FLAG: today}))
    touched = len({p.case_id for p in todo.purges})
    if touched:
        log.info("retention: %d case(s) purged, %d file(s) deleted, %d kept by policy",
                 touched, deleted, len(todo.kept))
    return touched


async def daily_job(pipeline: Pipeline) -> None:
    """`daily` for the scheduler (on the daemon's loop, so never beside a batch)."""
    daily(pipeline)


def _policy_set(config: Config) -> bool:
    r = config.retention
    return any(d is not None for d in (r.raw_days, r.expunge_days, r.expunge_upheld_days))


def describe(todo: Plan, cases: dict[str, Case]) -> list[str]:
    """One line per purge and per kept case, for `purge --dry-run` (no names, no content)."""
    lines = []
    for p in todo.purges:
        case = cases.get(p.case_id)
        closed = case.closed_at.date().isoformat() if case and case.closed_at else "-"
        lines.append(f"{p.case_id:<15} closed {closed}  {p.action.value:<11} ({p.rule})")
    lines += [f"{k.case_id:<15} kept: {k.reason}" for k in todo.kept]
    lines += [f"{c:<15} still open: not purged" for c in todo.still_open]
    return lines
