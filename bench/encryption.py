"""Encryption at rest: the daemon's time per message with storage.encryption on against off.

    .venv/bin/python bench/encryption.py [--n 1000] [--rounds 6] [--profile]

Each round seeds two fresh Dovecot inboxes with the same N-message bench mix (`corpus.py`) and
times `mailproc run --once` (the real daemon, a subprocess, as `ingest.py` does) once with
encryption off and once with it on, on fresh data directories, alternating which goes first;
the ratio on/off is taken per round (both see the same machine load), then the median; the
same for the CPU seconds the two processes used (steadier on a shared machine). Every
run is checked as `ingest.py` checks its runs (`lab.verify`); the encrypted one also for a
data directory with no plain file. `--profile` runs the encrypted daemon once in-process
under cProfile and prints where its time goes. Prints figures; appends nothing by itself
(the figures in RESULTS.md were copied from its output).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "tests")]

from corpus import generate  # noqa: E402
from harness import imap_mailbox, smtp_outgoing, write_config  # noqa: E402
from lab import Lab, disk_quiet, raw_limit, run_mailproc, verify  # noqa: E402
from servers import DovecotServer, SmtpServer  # noqa: E402

from mailproc.store import sealing  # noqa: E402

PLAIN_ON_PURPOSE = {"LOCK", "pepper", "encryption.json"}


def config(lab: Lab, name: str, server: DovecotServer, key: Path | None) -> Path:
    extra = {"storage": {"encryption": {"key": {"file": str(key)}}}} if key else {}
    return Path(write_config(lab.root / name, mailbox=imap_mailbox(server),
                             outgoing=smtp_outgoing(lab.smtp), **extra))


def plain_files(data_dir: Path) -> list[Path]:
    """Files of an encrypted data directory that are not sealed (there should be none)."""
    found = []
    for path in data_dir.rglob("*"):
        if not path.is_file() or path.name in PLAIN_ON_PURPOSE or "cache" in path.parts:
            continue
        data = path.read_bytes()
        lines = data.splitlines() if path.suffix == ".jsonl" else []
        if (path.suffix == ".jsonl" and not all(map(sealing.line_sealed_with, lines))) or (
                path.suffix != ".jsonl" and sealing.sealed_with(data) is None):
            found.append(path)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    samples = generate(args.n, seed=args.n)
    smtp = SmtpServer()
    smtp.start()
    lab = Lab(Path(tempfile.mkdtemp(prefix="mailproc-crypt-")), smtp)
    key = lab.root / "data.key"
    key.write_text(sealing.new_key_text() + "\n")
    key.chmod(0o600)
    times: dict[str, list[float]] = {"off": [], "on": []}
    cpu: dict[str, list[float]] = {"off": [], "on": []}
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    broken = False
    try:
        if args.profile:
            return profile(lab, samples, key)
        for rnd in range(args.rounds):
            order = ["off", "on"] if rnd % 2 == 0 else ["on", "off"]
            line = []
            for side in order:
                server = lab.dovecot(samples)
                raw = statistics.median(raw_limit(server) for _ in range(3))
                path = config(lab, f"r{rnd}-{side}", server, key if side == "on" else None)
                disk_quiet(lab.root / "probe")
                before = _children_cpu()
                run = run_mailproc(lab, path, server, timeout=max(120.0, args.n * 0.1))
                cpu[side].append(_children_cpu() - before)
                problems = verify(lab, path, server, run, samples)
                if side == "on":
                    problems += [f"plain file {p.name}" for p in plain_files(lab.data_dir(path))]
                server.stop()
                broken = broken or bool(problems)
                times[side].append(run["seconds"])
                line.append(f"{side} {run['seconds']:.2f} s, cpu {cpu[side][-1]:.2f} s "
                            f"(raw {raw:.0f} msg/s)"
                            f"{' INVALID: ' + '; '.join(problems) if problems else ''}")
            ratios.append(times["on"][-1] / times["off"][-1])
            cpu_ratios.append(cpu["on"][-1] / cpu["off"][-1])
            print(f"round {rnd + 1}: {', '.join(line)}; on/off {ratios[-1]:.3f} "
                  f"(cpu {cpu_ratios[-1]:.3f})", flush=True)
        off, on = statistics.median(times["off"]), statistics.median(times["on"])
        print(f"N={args.n}, {args.rounds} rounds: median off {off:.2f} s "
              f"({off / args.n * 1000:.2f} ms/msg), on {on:.2f} s ({on / args.n * 1000:.2f} "
              f"ms/msg); on/off per round {', '.join(f'{r:.3f}' for r in ratios)}; "
              f"median {statistics.median(ratios):.3f}, range {min(ratios):.3f}-"
              f"{max(ratios):.3f}; CPU seconds (daemon + reader) median off "
              f"{statistics.median(cpu['off']):.2f}, on {statistics.median(cpu['on']):.2f}, "
              f"on/off per round median {statistics.median(cpu_ratios):.3f}")
    finally:
        lab.close(keep=False)
        smtp.stop()
    return 1 if broken else 0


def _children_cpu() -> float:
    """User + system CPU seconds of every finished child (the daemon, and its reader, which
    the daemon waits for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def profile(lab: Lab, samples: list[object], key: Path) -> int:
    """One encrypted `run --once` in-process under cProfile: the top functions by own time,
    and the share of the cipher (`store.sealing`) in the whole."""
    from harness import mailproc

    server = lab.dovecot(samples)  # type: ignore[arg-type]
    os.environ[server.password_env] = server.password
    path = config(lab, "profile", server, key)
    profiler = cProfile.Profile()
    profiler.enable()
    run = mailproc(path, "run", "--once")
    profiler.disable()
    server.stop()
    stats = pstats.Stats(profiler)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    sealing_s = sum(v[2] for k, v in stats.stats.items()  # type: ignore[attr-defined]
                    if "sealing.py" in k[0] or "aead" in k[2].lower())
    print(f"exit {run.code}; {total:.2f} s profiled; store.sealing and AES-GCM own time "
          f"{sealing_s:.3f} s ({sealing_s / total:.1%})")
    stats.sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
