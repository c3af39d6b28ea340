"""Interleaved A/B rounds: two mailproc installations over the same N-message inbox.

    .venv/bin/python bench/ab.py /path/to/other/.venv/bin/mailproc [--n 1000] [--rounds 6]

Each round seeds a fresh Dovecot with the bench mix, times A (this checkout's `mailproc`) then
B (the given script) with `run --once` on fresh data directories, alternating which goes first,
and prints both times and the raw limit measured in the same round. This is how each speed
mechanism's gain in bench/README.md was judged: medians of interleaved rounds on one machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "tests")]

import lab as lab_module  # noqa: E402
from corpus import generate  # noqa: E402
from lab import Lab, disk_quiet, raw_limit, run_mailproc, verify  # noqa: E402
from servers import SmtpServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", help="the B side's mailproc script")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    sides = {"A": lab_module.mailproc_command(), "B": [args.other]}
    samples = generate(args.n, seed=args.n)
    times: dict[str, list[float]] = {"A": [], "B": []}
    smtp = SmtpServer()
    smtp.start()
    lab = Lab(Path(tempfile.mkdtemp(prefix="mailproc-ab-")), smtp)
    try:
        for rnd in range(args.rounds):
            order = ["A", "B"] if rnd % 2 == 0 else ["B", "A"]
            line = []
            for side in order:
                server = lab.dovecot(samples)
                raw = statistics.median(raw_limit(server) for _ in range(3))
                config = lab.config(f"ab{rnd}{side}", server)
                disk_quiet(lab.root / "probe")
                lab_module.mailproc_command = lambda s=sides[side]: s  # type: ignore[misc]
                run = run_mailproc(lab, config, server, timeout=max(120.0, args.n * 0.1))
                problems = verify(lab, config, server, run, samples)
                server.stop()
                times[side].append(run["seconds"])
                line.append(f"{side} {run['seconds']:.2f} s (raw {raw:.0f} msg/s)"
                            f"{' INVALID: ' + '; '.join(problems) if problems else ''}")
            print(f"round {rnd + 1}: " + ", ".join(line), flush=True)
        a, b = statistics.median(times["A"]), statistics.median(times["B"])
        wins = sum(x < y for x, y in zip(times["A"], times["B"], strict=True))
        print(f"median A {a:.2f} s, B {b:.2f} s (B/A {b / a:.2f}); A faster in {wins} of "
              f"{args.rounds} rounds")
    finally:
        lab.close(keep=False)
        smtp.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
