"""The triage benchmark's figures: the machine, the load while measuring, and RESULTS-triage.md.

Plain data in (`DryFigures`, `compare.Filed`), one Markdown file out; nothing here measures.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from compare import Filed
from equivalent import LIMITS
from triage_mix import Item

REPO = Path(__file__).resolve().parent.parent
ROUTED_KINDS = ("sponsorship", "registration", "travel-grants", "speakers", "press",
                "recruiting-and-sales")
STEP_NOTES = {
    "envelope_of": "headers-only parse (machine-mail check, dedup)",
    "parse_message": "full parse: MIME walk, decoding, HTML to text",
    "detect_language": "langdetect on subject + body",
    "evaluate": "`triage.evaluate` (rules + routing guard)",
    "rule_outcome": "routed mail: forward and sender reply composed",
    "extract_report": "report fields extracted",
    "open_case": "case built, committee notice composed",
    "attach_ack": "acknowledgement rendered and composed",
}

# Written from profiles of this benchmark (cProfile of decide_one and of `run --once`, and
# scratch experiments on the same mix), 2026-11-22 at commit fe2aebc; the tables are regenerated.
ANALYSIS = """\
## Where the time goes, and what would change it

Run: `.venv/bin/python bench/triage.py [--quick] [--count N] [--no-imap] [--keep]`.

**The rules are not what is slow.** `evaluate` is about an eighth of a dry-run decision:

1. **Language detection** (langdetect) is the largest step, ~5 ms whatever the length (cutting
   the text to 500 characters changed nothing). A faster detector (NOTES-libraries: lingua
   0.4 ms), or fewer langdetect trials, would save a third of a decision.
2. **Composing mail a dry run never sends**: the forward with the original attached and the
   sender's reply (`rule_outcome`), the committee notice (`open_case`) and the acknowledgement
   (`attach_ack`) are ~5 ms together, mostly `email.message` header objects. The dry run needs
   only the decision: stop at the `MailSpec`s when `dry_run` is set (and, for the daemon, the
   string builder recommended in the ingest analysis).
3. **`evaluate` itself** (1.7 ms with 16 rules, ~4 ms with 200): ~75% is `re.search`. Each
   contains_any list is one regex starting with a lookbehind, which `re` tries at every position
   of the text; the 184 added rules cost ~15 µs each. Three cheap fixes: (a) with no
   translation `text` is the body, and most shipped rules test subject, body **and** text, so
   the body is scanned twice: skipping `text` when it is the body took the shipped rules from
   1.86 to 1.38 ms (-26%); (b) compile contains_any into sets of words and phrases and tokenise
   subject and body once per message: tokenising plus 200 set checks took 0.33 ms per message
   against ~3 ms of regex scans (prefix terms such as `sponsor*` need a sorted list and bisect);
   (c) format the `why` texts only for `--explain` (`_few` and `repr` for every rule that did
   not match: ~12% of evaluate with 200 rules). The routing guard (`guard.scan`, ~0.67 ms) runs
   only for mail a rule would route or drop, i.e. half of this mix.
4. **`run --once` through IMAP** costs the dry-run decision plus ~3 ms per message of IMAP,
   archive, commit and outbox (batched since commit 0107f97). A cProfile of a 1,000-message
   run: language detection 32%, composing mail 25%, store commit 9%, evaluate 6%, outbox
   delivery to files 6%. Items 1 and 2 are therefore what would make filing faster too; here the
   mails are really sent, so composing has to get cheaper (a string builder), not be skipped.

**imapfilter's time is Dovecot's**: one OR-SEARCH per rule with 100-160 substring keys costs
Dovecot about 1.3 ms per message for each category rule (it decodes and scans every message per
search), and `match_body` downloads every body once, one FETCH per message.
"""


@dataclass
class DryFigures:
    label: str
    rules: int
    count: int
    seconds: float  # (b) every decide_one + output row
    evaluated: int  # messages that reached the rules
    alone: float  # (a) evaluate over the same inputs, tight loop
    steps: dict[str, float]  # seconds inside each pipeline step during (b)
    good: int  # decisions as the message was written to get
    outcomes: list[tuple[str, str | None]]
    busy: float


@dataclass
class Results:
    date: datetime
    machine: dict[str, str]
    items: list[Item]
    dry: list[DryFigures]
    filed: dict[str, Filed]
    wall: float


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not installed"
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"


def machine() -> dict[str, str]:
    """CPU, cores, RAM and the versions that matter."""
    info = Path("/proc/cpuinfo").read_text()
    model = next((ln.split(":", 1)[1].strip() for ln in info.splitlines()
                  if ln.startswith("model name")), platform.processor())
    kb = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
              if ln.startswith("MemTotal"))
    return {"cpu": f"{model}, {os.cpu_count()} cores", "ram": f"{kb / 1024**2:.0f} GB",
            "python": platform.python_version(),
            "dovecot": _version(["/usr/sbin/dovecot", "--version"]),
            "imapfilter": _version(["imapfilter", "-V"]).split("  ")[0],
            "commit": _version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])}


def describe(items: list[Item]) -> str:
    kinds = Counter(i.kind for i in items)
    langs = Counter(i.language for i in items if i.kind == "report")
    sizes = sorted(len(i.data) for i in items)
    return (", ".join(f"{k} {v}" for k, v in kinds.most_common())
            + f"; reports by language: {', '.join(f'{k} {v}' for k, v in langs.most_common())}"
            f"; {sum(1 for i in items if i.cue)} reports with an urgent/category cue, "
            f"{sum(i.guard for i in items)} of them with a sponsor/badge subject (guard); "
            f"size median {sizes[len(sizes) // 2]:,} B, mean {sum(sizes) // len(sizes):,} B")


def _dry_table(dry: list[DryFigures]) -> list[str]:
    out = ["| rules | (b) dry-run decision: `Pipeline.decide_one` + output row | (a) "
           "`triage.evaluate` alone | as intended | busy cores (1.0 = the bench alone) |",
           "|---|--:|--:|--:|--:|"]
    for d in dry:
        out.append(f"| {d.label} ({d.rules}) | **{d.count / d.seconds:,.0f}/s** "
                   f"({d.seconds / d.count * 1e3:.2f} ms) | **{d.evaluated / d.alone:,.0f}/s** "
                   f"({d.alone / d.evaluated * 1e3:.3f} ms) | {d.good:,}/{d.count:,} | "
                   f"{d.busy:.2f} |")
    same = sum(a == b for a, b in zip(dry[0].outcomes, dry[-1].outcomes, strict=True))
    out += ["", f"Same (outcome, rule) under both rule files: {same:,} of {dry[0].count:,}."]
    return out


def _steps_table(d: DryFigures) -> list[str]:
    out = [f"| step ({d.label}) | ms per message | share | what |", "|---|--:|--:|---|"]
    other = d.seconds - sum(d.steps.values())
    for name, spent in [*sorted(d.steps.items(), key=lambda kv: -kv[1]), ("other", other)]:
        out.append(f"| `{name}` | {spent / d.count * 1e3:.2f} | {spent / d.seconds:.0%} | "
                   f"{STEP_NOTES.get(name, 'decision objects, output row, the rest')} |")
    return out


def _want(item: Item) -> str:
    return "Routed" if item.kind in ROUTED_KINDS else "Processed"


def _intended(filed: Filed, items: list[Item]) -> int:
    return sum(filed.folders.get(i.message_id) == _want(i) for i in items)


def _misfiled(name: str, filed: Filed, items: list[Item]) -> str | None:
    """Which kinds of message a run filed elsewhere than intended (no content)."""
    wrong = Counter(
        f"{i.kind} ({i.language}{', ' + i.cue if i.cue else ''}"
        f"{', sponsor/badge subject' if i.guard else ''}) to {filed.folders.get(i.message_id)}"
        for i in items if filed.folders.get(i.message_id) != _want(i))
    if not wrong:
        return None
    return f"- {name} misfiled: " + "; ".join(f"{n} × {what}" for what, n in wrong.most_common(8))


def _imap_table(filed: dict[str, Filed], items: list[Item]) -> list[str]:
    what = {"imapfilter": "equivalent Lua config (bench/imapfilter/triage.lua): server-side "
                          "SEARCH per rule, PCRE for regexes, keywords, COPY + delete",
            "rules-only": "mailproc's parser and rules in-process: FETCH 200 at a time, "
                          "`parse_message`, `evaluate`, UID MOVE per folder",
            "mailproc": "`mailproc run --once` (subprocess): archive, store, language, rules, "
                        "cases, acks, notices, forwards to the file outbox, moves"}
    out = ["| run | what | msg/s | seconds | filed as intended | valid | busy cores (client "
           "+ Dovecot) |",
           "|---|---|--:|--:|--:|---|--:|"]
    n = len(items)
    for name, f in filed.items():
        out.append(f"| {name} | {what[name]} | **{n / f.seconds:,.1f}** | {f.seconds:.1f} | "
                   f"{_intended(f, items):,}/{n:,} | {'yes' if f.ok else 'NO: ' + f.note} | "
                   f"{f.busy:.2f} |")
    if "imapfilter" in filed:
        base = filed["imapfilter"].seconds
        out.append("")
        for name in ("mailproc", "rules-only"):
            if name in filed:
                out.append(f"- **{name} / imapfilter = {base / filed[name].seconds:.2f}** "
                           "(messages per second, >1 means mailproc is faster)")
        out += [line for name, f in filed.items() if (line := _misfiled(name, f, items))]
        if "mailproc" in filed:
            a, b = filed["imapfilter"].folders, filed["mailproc"].folders
            agree = sum(a.get(mid) == b.get(mid) for mid in b)
            out.append(f"- imapfilter and mailproc put {agree:,} of {n:,} messages in the "
                       "same folder")
    return out


def write_results(r: Results, path: Path) -> None:
    """RESULTS-triage.md: the run's figures, the breakdown and what differs between tools."""
    m = r.machine
    lines = [
        "# Triage benchmark results", "",
        f"Written by `bench/triage.py` on {r.date:%Y-%m-%d %H:%M} UTC, commit {m['commit']}, "
        f"whole run {r.wall:.0f} s. Machine: {m['cpu']}, {m['ram']} RAM, Python "
        f"{m['python']}, Dovecot {m['dovecot']}, {m['imapfilter']}.", "",
        f"**Mix** ({len(r.items):,} messages, bench/triage_mix.py, every one reaches the "
        f"rules): {describe(r.items)}.", "",
        "## Dry-run decisions per second (in process, translation off)", "",
        *_dry_table(r.dry), "", "Where a dry-run decision's time goes (time inside each "
        "pipeline step during (b), measured in place):", "", *_steps_table(r.dry[0]), "",
    ]
    if r.filed:
        lines += ["## Filing one Dovecot INBOX: imapfilter against mailproc", "",
                  f"Same {len(r.items):,} messages, a freshly seeded Dovecot for each run "
                  "(MULTIAPPEND, 500 per command), timed from start to exit; \"filed as "
                  "intended\" counts Routed for the routing kinds and Processed for reports.", "",
                  *_imap_table(r.filed, r.items), "", "What differs:", "",
                  *[f"- {limit}." for limit in LIMITS], ""]
    lines.append(ANALYSIS)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

