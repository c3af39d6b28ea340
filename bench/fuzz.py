"""The `parse -> decide` fuzz target of tests/test_fuzz_decide.py, run for longer.

`python bench/fuzz.py --seconds 300` draws hostile human mail and structured garbage with
hypothesis (fresh random seeds, not the CI's fixed ones) until the time is up, and prints and
appends to `--append` (default bench/fuzz.jsonl): executions, examples per second, and each
distinct finding (the assertion's first line and the smallest example hypothesis found).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(REPO / "tests")]

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import Flaky  # noqa: E402
from test_fuzz_decide import check_one, fuzz_app, hostile_mail  # noqa: E402
from test_properties import structured_mail  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--chunk", type=int, default=2000, help="examples per hypothesis run")
    parser.add_argument("--append", type=Path, default=BENCH / "fuzz.jsonl")
    args = parser.parse_args(argv)
    app, thread_id = fuzz_app(Path(tempfile.mkdtemp(prefix="mailproc-fuzz-")))
    executions = 0
    findings: dict[str, str] = {}

    def target(raw: bytes) -> None:
        nonlocal executions
        executions += 1
        check_one(app, raw)

    strategy = st.one_of(hostile_mail(thread_id), structured_mail())
    started = time.monotonic()
    runs = 0
    while time.monotonic() - started < args.seconds:
        runs += 1

        @settings(max_examples=args.chunk, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(raw=strategy)
        def run(raw: bytes) -> None:
            target(raw)

        try:
            run()
        except (AssertionError, Flaky, Exception) as exc:  # a finding: keep it, go on
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            findings.setdefault(f"{type(exc).__name__}: {first}", repr(exc)[:2000])
    seconds = time.monotonic() - started
    summary = {"date": time.strftime("%Y-%m-%d %H:%M"), "seconds": round(seconds, 1),
               "executions": executions, "per_second": round(executions / seconds, 1),
               "hypothesis_runs": runs, "findings": sorted(findings)}
    print(json.dumps(summary, ensure_ascii=False))
    for name, detail in findings.items():
        print(f"--- {name}\n{detail}\n")
    with args.append.open("a") as out:
        out.write(json.dumps(summary, ensure_ascii=False) + "\n")
    app.close()
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
