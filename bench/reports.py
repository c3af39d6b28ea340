"""`mailproc metrics` and `mailproc transparency` over a store of 10,000 cases.

The store is filled the way bench/ingest.py fills its big one (`seedstore.populate`: template
cases from the real pipeline, cloned and written through the Store API). Raw limits, measured
in the same run and interleaved with the commands (so that drift hits both alike): opening
the store read-only and loading every case (what transparency must read), and loading every
case and its diary (what metrics must read). Each command runs in-process through
`mailproc.cli.main`, as a chair would run it, output to a file. Prints a Markdown section;
`--append` adds it to bench/RESULTS.md. Figures, not a pass or fail.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(REPO / "tests")]  # lab imports the test harness

from lab import machine_description  # noqa: E402
from seedstore import populate  # noqa: E402

from mailproc.cli.main import main as mailproc  # noqa: E402
from mailproc.store.store import Store  # noqa: E402


def write_config(root: Path) -> Path:
    doc = {"conduct_address": "conduct@example.org", "data_dir": str(root / "data"),
           "templates_dir": str(REPO / "templates"),
           "triage_rules": str(REPO / "rules" / "triage.yaml"),
           "consequences": str(REPO / "rules" / "consequences.yaml"),
           "routes": {"sponsorship": "s@example.org", "registration": "r@example.org",
                      "travel-grants": "t@example.org", "speakers": "p@example.org",
                      "press": "x@example.org", "general": "i@example.org"},
           "mailbox": {"maildir": str(root / "mail"), "reader_process": False},
           "outgoing": {"outbox_dir": str(root / "outbox")},
           "roster": [{"name": "Alice Moreno", "email": "alice@example.org", "chair": True},
                      {"name": "Bashir Rahimi", "email": "bashir@example.org"}],
           "translation": {"backend": "none"}, "logging": {"level": "ERROR"}}
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def load_cases(data: Path) -> int:
    store = Store(data, read_only=True)
    store.open()
    return len(store.all_cases())


def load_cases_and_diaries(data: Path) -> int:
    store = Store(data, read_only=True)
    store.open()
    return sum(len(store.diary(c.id)) for c in store.all_cases())


def command(config: Path, *args: str) -> Callable[[], int]:
    def run() -> int:
        with contextlib.redirect_stdout(io.StringIO()) as out, \
                contextlib.redirect_stderr(io.StringIO()) as err:
            code = mailproc(["--config", str(config), *args])
        if code != 0:
            raise RuntimeError(f"{args[0]} exited {code}: {err.getvalue()[-500:]}"
                               f"{out.getvalue()[-200:]}")
        return code
    return run


def measure(steps: dict[str, Callable[[], object]], trials: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in steps}
    for trial in range(trials):
        order = list(steps.items())
        for name, step in order if trial % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - started)
            print(f"  trial {trial + 1} {name}: {times[name][-1]:.2f} s", file=sys.stderr)
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=10_000)
    p.add_argument("--trials", type=int, default=3)
    p.add_argument("--append", action="store_true", help="append the section to RESULTS.md")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        root = Path(tmp)
        config = write_config(root)
        seeded = populate(config, args.cases)
        print(f"seeded {args.cases} cases in {seeded['populate_s']:.0f} s", file=sys.stderr)
        data, year = root / "data", time.gmtime().tm_year
        period = ("--from", f"{year}-01-01", "--to", f"{year}-12-31")
        steps: dict[str, Callable[[], object]] = {
            "load cases": lambda: load_cases(data),
            "load cases + diaries": lambda: load_cases_and_diaries(data),
            "metrics --json": command(config, "metrics", "--json"),
            "transparency (md)": command(config, "transparency", *period, "--out",
                                         str(root / "report.md")),
            "transparency (html)": command(config, "transparency", *period, "--format",
                                           "html", "--out", str(root / "report.html")),
        }
        times = measure(steps, args.trials)
        section = render(times, args.cases, args.trials, seeded["populate_s"])
    print(section)
    if args.append:
        with (BENCH / "RESULTS.md").open("a") as out:
            out.write("\n" + section)
    return 0


def render(times: dict[str, list[float]], cases: int, trials: int, seeding: float) -> str:
    med = {name: statistics.median(t) for name, t in times.items()}
    limits = {"metrics --json": "load cases + diaries"}
    machine = machine_description()
    lines = [f"# Reports benchmark (`bench/reports.py`): {cases:,} cases",
             "",
             f"Machine: {machine.get('cpu', '?')}; {machine.get('mailproc', '?')}. Store "
             f"seeded in {seeding:.0f} s (`seedstore.populate`). Median of {trials} "
             "interleaved trials; each command in-process, output to a file. Ratio: the "
             "command's time over its raw limit (the reading it cannot avoid), same run.",
             "",
             "| step | median s | (all trials) | raw limit | ratio |",
             "|---|--:|--:|---|--:|"]
    for name, t in times.items():
        limit = limits.get(name, "load cases") if not name.startswith("load") else ""
        ratio = f"**{med[name] / med[limit]:.2f}**" if limit else ""
        lines.append(f"| {name} | {med[name]:.2f} | {', '.join(f'{x:.2f}' for x in t)} | "
                     f"{limit or '(raw limit)'} | {ratio} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
