"""The long kill -9 campaign: `python bench/faults.py --rounds 50 --messages 2000`.

Same campaign as `tests/test_faults_campaign.py` (see `tests/faultkit.py`), run for longer:
a mixed mailbox in a real Dovecot, the real daemon sending to a real aiosmtpd, SIGKILLed at
seeded random moments (a share of them during start-up), checked after every kill, finished
with one `run --once` and checked again. Prints one line per round and a summary, and appends
the summary as JSON to `--append` (default bench/faults.jsonl). A benchmark, not a test: it
exits 1 when a round or the end found a problem, so that a script can notice.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(REPO / "tests")]

from faultkit import Campaign, mixed_mailbox  # noqa: E402
from servers import DovecotServer, SmtpServer, find_dovecot  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--startup-share", type=float, default=0.2,
                        help="share of kills aimed at start-up rather than at work in progress")
    parser.add_argument("--batch", type=int, default=20, help="imap.batch_size of the daemon")
    parser.add_argument("--append", type=Path, default=BENCH / "faults.jsonl")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    binary = find_dovecot()
    if binary is None:
        print("dovecot is not installed (apt-get install dovecot-imapd)", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="mailproc-faults-"))
    dovecot = DovecotServer(binary)
    smtp = SmtpServer()
    import os

    os.environ[dovecot.password_env] = dovecot.password
    dovecot.start()
    smtp.start()
    started = time.monotonic()
    try:
        summary = run(scratch, dovecot, smtp, args)
    finally:
        smtp.stop()
        dovecot.close()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"kept {scratch}")
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(summary))
    with args.append.open("a") as out:
        out.write(json.dumps(summary) + "\n")
    return 0 if summary["survived"] == summary["rounds"] and not summary["end_problems"] else 1


def run(scratch: Path, dovecot: DovecotServer, smtp: SmtpServer,
        args: argparse.Namespace) -> dict[str, Any]:
    samples = mixed_mailbox(args.messages, args.seed)
    campaign = Campaign(scratch, dovecot, smtp, samples, random.Random(args.seed),
                        batch_size=args.batch)
    for number in range(1, args.rounds + 1):
        # Kill points spread over the whole mailbox: on average one round's share of it each.
        step = max(1, len(samples) // args.rounds)
        r = campaign.kill_round(number, startup_share=args.startup_share, step=step)
        print(f"round {number:3}: killed {r.when:<18} done {r.done_before:5} -> "
              f"{r.done_after:5}  resent acks so far {r.resent_acks}  "
              f"{'OK' if not r.violations else '; '.join(r.violations)}", flush=True)
    end = campaign.finish()
    print("end:", "OK" if not end else "; ".join(end))
    kinds: dict[str, int] = {}
    for s in samples:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"), "seed": args.seed, "messages": len(samples),
        "batch_size": args.batch,
        "mix": kinds, "rounds": len(campaign.rounds),
        "survived": sum(1 for r in campaign.rounds if not r.violations),
        "kills_at_startup": sum(1 for r in campaign.rounds if r.when == "start-up"),
        "kills_mid_work": sum(1 for r in campaign.rounds
                              if r.when != "start-up" and r.done_after < len(samples)),
        "resent_acks": campaign.resent_acks(), "collapsed_identical": campaign.collapsed,
        "end_problems": end, "daemon_errors": len(campaign.daemon_errors()),
        "round_problems": [r.violations for r in campaign.rounds if r.violations],
    }


if __name__ == "__main__":
    sys.exit(main())
