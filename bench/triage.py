"""Triage benchmark: dry-run decisions per second, and filing a Dovecot INBOX against imapfilter.

In process, with the shipped rules and with 200: (a) `triage.evaluate` alone, (b) the whole
dry-run decision (`Pipeline.decide_one`, translation off). On Dovecot (imapfilter/compare.py):
imapfilter, mailproc's rules alone, `mailproc run --once`. Writes bench/RESULTS-triage.md.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(BENCH / "imapfilter"), str(REPO / "tests")]

import compare  # noqa: E402
from compare import Watch  # noqa: E402
from equivalent import lua_config  # noqa: E402
from servers import DovecotServer  # noqa: E402
from triage_mix import Item, generate  # noqa: E402
from triage_report import DryFigures, Results, machine, write_results  # noqa: E402
from triage_rules200 import write_rules200  # noqa: E402

import mailproc.service.pipeline as pipeline_module  # noqa: E402
from mailproc.adapters.mailbox import RawMessage  # noqa: E402
from mailproc.cli.dryrun import row  # noqa: E402
from mailproc.config.settings import Config, load_config  # noqa: E402
from mailproc.mail.templates import Renderer  # noqa: E402
from mailproc.service.pipeline import Pipeline  # noqa: E402
from mailproc.store.store import Store  # noqa: E402
from mailproc.triage.evaluate import RuleSet, TriageInput, evaluate, load_rules  # noqa: E402

SHIPPED = REPO / "rules" / "triage.yaml"
RESULTS = BENCH / "RESULTS-triage.md"
ROUTES = {"sponsorship": "sponsors@example.org", "registration": "registration@example.org",
          "travel-grants": "grants@example.org", "speakers": "program@example.org",
          "press": "press@example.org", "general": "info@example.org"}
FIXED = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)  # the dry run's clock: same output every run
# Pipeline steps timed in place during the dry run (module globals of mailproc.service.pipeline).
STEPS = ("envelope_of", "parse_message", "detect_language", "evaluate", "rule_outcome",
         "extract_report", "open_case", "attach_ack")
PASSWORD_ENV = "BENCH_IMAP_PASSWORD"


def write_config(root: Path, rules: Path, mailbox: dict[str, Any]) -> Path:
    """A bench config: translation off, one committee member, outbox to files."""
    doc = {"conduct_address": "conduct@example.org", "admin_address": "admin@example.org",
           "data_dir": str(root / "data"), "templates_dir": str(REPO / "templates"),
           "triage_rules": str(rules), "mailbox": mailbox,
           "outgoing": {"outbox_dir": str(root / "outbox")},
           "roster": [{"name": "Alice Moreno", "email": "alice@example.org",
                       "languages": ["en", "es"], "chair": True}],
           "translation": {"backend": "none"}, "routes": ROUTES}
    root.mkdir(parents=True, exist_ok=True)
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def dry_pipeline(config: Config, rules: RuleSet) -> Pipeline:
    """The pipeline as `mailproc triage --no-translate` builds it, with the clock fixed."""
    store = Store(config.data_dir, read_only=True)
    store.open()
    return Pipeline(config, store, Renderer(config.templates_dir), None, lambda: FIXED,
                    random.Random(0), b"dry-run", rules, dry_run=True)


class Steps:
    """Wall time spent inside each of STEPS during a run, and every TriageInput evaluated."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STEPS, 0.0)
        self.facts: list[TriageInput] = []

    def _timed(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if name == "evaluate":
                self.facts.append(args[1])
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
        return timed

    @contextmanager
    def installed(self) -> Iterator[Steps]:
        """Wrap the steps for the duration (about a microsecond per call), then restore them."""
        saved = {name: getattr(pipeline_module, name) for name in STEPS}
        for name, func in saved.items():
            setattr(pipeline_module, name, self._timed(name, func))
        try:
            yield self
        finally:
            for name, func in saved.items():
                setattr(pipeline_module, name, func)


def intended(item: Item, r: dict[str, Any]) -> bool:
    """Whether a dry-run row is what the message was written to get."""
    if item.kind in ("report", "other"):
        fired = {t["rule"] for t in r["trace"] if t["matched"]}
        return bool(r["outcome"] == "report" and (item.cue is None or item.cue in fired)
                    and (not item.guard or r["guard"]))
    return bool(r["outcome"] == "routed" and r["rule"] == item.kind)


def decide_all(pipe: Pipeline, items: list[Item]) -> tuple[float, list[dict[str, Any]], Steps,
                                                             float]:
    """(b): (seconds, output rows, time per step, busy cores) for every message's decision."""
    for item in items[:20]:  # langdetect loads its profiles on first use: not a decision
        pipe.decide_one(RawMessage(item.message_id, item.data))
    watch = Watch()
    with Steps().installed() as steps:
        start = time.perf_counter()
        rows = [row(i.message_id, *pipe.decide_one(RawMessage(i.message_id, i.data)))
                for i in items]
        seconds = time.perf_counter() - start
    return seconds, rows, steps, watch.busy_cores()


def dry_run(config: Config, rules: RuleSet, items: list[Item], label: str) -> DryFigures:
    """(b) every message through decide_one, then (a) evaluate alone over the same inputs."""
    seconds, rows, steps, busy = decide_all(dry_pipeline(config, rules), items)
    start = time.perf_counter()
    for fact in steps.facts:
        evaluate(rules, fact)
    alone = time.perf_counter() - start
    good = sum(intended(i, r) for i, r in zip(items, rows, strict=True))
    print(f"  {label}: dry run {len(items) / seconds:,.0f} decisions/s; evaluate alone "
          f"{len(steps.facts) / alone:,.0f}/s; as intended {good}/{len(items)}", flush=True)
    return DryFigures(label, len(rules.rules), len(items), seconds, len(steps.facts), alone,
                      dict(steps.seconds), good, [(r["outcome"], r["rule"]) for r in rows], busy)


def imap_trials(items: list[Item], root: Path, rules: RuleSet) -> dict[str, compare.Filed]:
    """The same INBOX filed by imapfilter, by mailproc's rules alone, and by mailproc itself."""
    messages = [i.data for i in items]
    runs: dict[str, Callable[[DovecotServer], compare.Filed]] = {
        "imapfilter": lambda s: compare.run_imapfilter(s, SHIPPED, root / "imapfilter"),
        "rules-only": lambda s: compare.run_rules_only(s, rules),
        "mailproc": lambda s: compare.run_mailproc(s, write_config(
            root / "once", SHIPPED, {"imap": {
                "host": s.host, "port": s.port, "tls": "plain", "username": s.user,
                "password": {"env": PASSWORD_ENV}}}), PASSWORD_ENV),
    }
    filed = {}
    for name, run in runs.items():
        f = filed[name] = compare.trial(messages, run)
        print(f"  {name}: {len(items) / f.seconds:,.1f} msg/s ({f.seconds:.1f} s)"
              f"{'' if f.ok else ' INVALID: ' + f.note}", flush=True)
    return filed


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 only when a measured run was broken."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1,000 messages instead of 10,000")
    p.add_argument("--count", type=int, default=None, help="messages (overrides --quick)")
    p.add_argument("--no-imap", action="store_true", help="skip the Dovecot comparison")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--results", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    count = args.count or (1_000 if args.quick else 10_000)
    began = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="mailproc-bench-triage-"))
    try:
        items = generate(count)
        config = load_config(write_config(root / "dry", SHIPPED, {"maildir": str(root / "md")}))
        write_rules200(SHIPPED, root / "rules200.yaml")
        shipped = load_rules(SHIPPED, ROUTES, config.conduct_address)
        many = load_rules(root / "rules200.yaml", ROUTES, config.conduct_address)
        print(f"triage bench: {count:,} messages, {machine()['cpu']}", flush=True)
        dry = [dry_run(config, shipped, items, "shipped rules"),
               dry_run(config, many, items, "200 rules")]
        lua = BENCH / "imapfilter" / "triage.lua"  # the equivalent config, for people to read
        if not lua.exists() or lua.read_text(encoding="utf-8") != lua_config(SHIPPED):
            lua.write_text(lua_config(SHIPPED), encoding="utf-8")
        filed = {} if args.no_imap else imap_trials(items, root, shipped)
        results = Results(datetime.now(UTC), machine(), items, dry, filed,
                          time.monotonic() - began)
        write_results(results, args.results)
        print(f"wrote {args.results} ({results.wall:.0f} s)")
        return 0 if all(f.ok for f in filed.values()) else 1
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
