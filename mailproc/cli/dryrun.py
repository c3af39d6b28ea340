"""`mailproc triage`: what would happen to these messages, changing nothing anywhere.

Messages come from .eml files, a directory of them, a Maildir, or an IMAP folder (read with
BODY.PEEK, never moved). Each is decided by the real pipeline in dry-run mode over a read-only
view of the store: nothing is archived, stored, sent or moved. A message the store has handled
already is answered "duplicate" (what the daemon would do); `--replay` decides it again with the
rules as they are now, to try edited rules against past mail (e.g. the Processed folder).
`--explain` gives one line per rule: what matched, or the first condition that did not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from mailproc.adapters.mailbox import RawMessage
from mailproc.adapters.maildir import MaildirSource
from mailproc.cases.workflow import Decision
from mailproc.cli.common import open_read_only
from mailproc.config.settings import Config
from mailproc.mail.templates import Renderer
from mailproc.service.app import load_triage, make_translator, utc_now
from mailproc.service.pipeline import Pipeline
from mailproc.store.encryption import unlock
from mailproc.store.indexes import Done
from mailproc.store.store import Store
from mailproc.triage.evaluate import TriageDecision

SHOWN_PATTERN = 60  # characters of a regex shown by --explain
DUPLICATE_HINT = ("already handled: add --replay to decide it again with the rules as they "
                  "are now")


class ReplayStore(Store):
    """A read-only store that has handled no message yet: mail processed before is decided
    anew (cases, threads and everything else stay as they are)."""

    def duplicate_of(self, sha: str, message_id: str | None) -> Done | None:
        return None


def messages_from(paths: list[Path], maildir: Path | None, imap_folder: str | None,
                  config: Config) -> Iterator[RawMessage]:
    """Every message named on the command line, as (label, bytes)."""
    for path in paths:
        files = sorted(path.glob("*.eml")) if path.is_dir() else [path]
        for file in files:
            yield RawMessage(str(file), file.read_bytes())
    if maildir is not None:
        source = MaildirSource(maildir, config.mailbox.maildir_folders)
        source.open()
        yield from source.fetch_new(lambda _key: False, limit=1_000_000)
    if imap_folder is not None:
        yield from _imap_folder(config, imap_folder)


def _imap_folder(config: Config, folder: str) -> Iterator[RawMessage]:
    from mailproc.adapters.imap import ImapSource

    if config.mailbox.imap is None:
        raise SystemExit("mailproc triage: --imap-folder needs an imap: mailbox in the config")
    cfg = config.mailbox.imap
    source = ImapSource(cfg.model_copy(update={
        "folders": cfg.folders.model_copy(update={"inbox": folder})}))
    source.open()
    try:
        yield from source.fetch_new(lambda _key: False, limit=1_000_000)
    finally:
        source.close()


def row(label: str, d: Decision, tri: TriageDecision | None) -> dict[str, Any]:
    case = d.case
    return {
        "message": label, "outcome": d.outcome.value, "reason": d.reason,
        "rule": tri.rule if tri else None, "route": tri.route_name or tri.route if tri else None,
        "category": case.triage.category if case else (tri.category if tri else None),
        "priority": case.triage.priority if case else (tri.priority if tri else None),
        "urgent": case.triage.urgent if case else bool(tri and tri.urgent),
        "language": d.language, "guard": list(tri.guard) if tri else [],
        "trace": [{"rule": t.rule, "matched": t.matched, "why": t.why}
                  for t in (tri.trace if tri else ())],
    }


def first_failing(why: str) -> str:
    """The first condition that failed, of a rule that did not match: "any" lists them all,
    separated by "; " ("all" stops at its first failure already); long regexes shortened."""
    first, _sep, rest = why.partition("; ")
    more = rest.count("; ") + 1 if rest else 0
    first = re.sub(rf"/(.{{{SHOWN_PATTERN - 1}}}).+/", r"/\1…/", first)
    return first + (f" (and {more} more condition(s) not met)" if more else "")


def run_triage(config: Config, raws: Iterator[RawMessage], *, explain: bool, as_json: bool,
               translate: bool, out: TextIO, replay: bool = False) -> int:
    if replay:
        unlock(config)  # storage.encryption: as open_read_only does
        store: Store = ReplayStore(config.data_dir, read_only=True)
        store.open()
    else:
        store = open_read_only(config)
    pipeline = Pipeline(config, store, Renderer(config.templates_dir),
                        make_translator(config) if translate else None, utc_now,
                        __import__("random").Random(0), b"dry-run", load_triage(config),
                        dry_run=True)
    rows = [row(raw.key, *pipeline.decide_one(raw)) for raw in raws]
    if as_json:
        out.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return 0
    for r in rows:
        reason = f"{r['reason']}: {DUPLICATE_HINT}" if r["reason"] == "duplicate" else r["reason"]
        out.write(f"{r['message']}\n  {r['outcome']:<11} rule={r['rule'] or '-'} "
                  f"route={r['route'] or '-'} category={r['category'] or '-'} "
                  f"priority={r['priority'] or '-'} urgent={'yes' if r['urgent'] else 'no'} "
                  f"language={r['language'] or '-'} ({reason})\n")
        if r["guard"]:
            out.write(f"  guard kept it a report: {', '.join(r['guard'])}\n")
        if explain:
            for t in r["trace"]:
                why = t["why"] if t["matched"] else first_failing(t["why"])
                out.write(f"    [{'x' if t['matched'] else ' '}] {t['rule']}: {why}\n")
    return 0
