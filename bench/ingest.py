"""The ingest benchmark: mailproc against the raw IMAP + parse limit, store growth, ack latency.

Everything runs on loopback against a real Dovecot and the aiosmtpd helper from tests/, prints
its figures and writes bench/RESULTS.md. A measurement whose run was broken (inbox not empty,
wrong number of cases or mails) is reported as INVALID and the script exits 1.
Usage: `python bench/ingest.py [--quick] [--profile] [--keep]` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(REPO / "tests")]

from corpus import describe, generate  # noqa: E402
from lab import (  # noqa: E402
    CpuWatch,
    Lab,
    deadline_tick,
    disk_quiet,
    machine_description,
    raw_limit,
    run_mailproc,
    settle,
    verify,
)
from latency import ack_latency  # noqa: E402
from seedstore import populate, summary  # noqa: E402
from servers import SmtpServer  # noqa: E402

Result = dict[str, Any]


def throughput(lab: Lab, n: int, trials: int) -> Result:
    """(a) raw fetch + parse and (b) `mailproc run --once` over the same n messages.

    Each trial measures (a) then (b) on one freshly seeded inbox, so that both see the same
    machine load; the ratio is taken per trial, then the median.
    """
    samples = generate(n, seed=n)
    raw_rates: list[float] = []
    runs: list[Result] = []
    ratios: list[float] = []
    for trial in range(trials):
        server = lab.dovecot(samples)
        rates = [raw_limit(server) for _ in range(3)]  # read-only: the inbox stays as it is
        config = lab.config(f"tp{n}-{trial}", server)
        waited = disk_quiet(lab.root / "probe")
        if waited > 1:
            lab.log(f"  waited {waited:.0f} s for the disk to create files at its usual speed")
        run = run_mailproc(lab, config, server, timeout=max(120.0, n * 0.1))
        run["problems"] = verify(lab, config, server, run, samples)
        server.stop()  # its files are deleted at the end (see Lab.close)
        raw_rates += rates
        runs.append(run)
        ratios.append(n / run["seconds"] / statistics.median(rates))
        lab.log(f"  N={n} trial {trial + 1}: raw {statistics.median(rates):.0f} msg/s, "
                f"mailproc {n / run['seconds']:.0f} msg/s ({run['seconds']:.1f} s), "
                f"ratio {ratios[-1]:.2f}"
                f"{'  INVALID: ' + '; '.join(run['problems']) if run['problems'] else ''}")
    seconds = statistics.median(r["seconds"] for r in runs)
    return {"n": n, "mix": describe(samples), "raw_rates": raw_rates,
            "raw": statistics.median(raw_rates), "mailproc_seconds": [r["seconds"] for r in runs],
            "mailproc": n / seconds, "ratios": ratios, "ratio": statistics.median(ratios),
            "problems": [p for r in runs for p in r["problems"]]}


def store_growth(lab: Lab, cases: int, batch: int, trials: int) -> Result:
    """Per-message time for the same batches against an empty store and a store of `cases`."""
    server = lab.dovecot([])
    empty, full = lab.config("store-empty", server), lab.config("store-full", server)
    seeded = populate(full, cases)
    settle()
    info = summary(lab.data_dir(full))
    lab.log(f"  seeded {info['cases']} cases, {info['seen_log_lines']} seen-log lines, "
            f"{info['archived']} archived messages in {seeded['populate_s']:.0f} s")
    times: dict[str, dict[str, list[float]]] = {
        "empty": {"startup": [], "batch": []}, "full": {"startup": [], "batch": []}}
    problems: list[str] = []
    for trial in range(trials):
        samples = generate(batch, seed=1000 + trial, start=2_000_000 + trial * batch)
        order = [("empty", empty), ("full", full)]
        for name, config in order if trial % 2 == 0 else order[::-1]:  # cancels drift
            idle = run_mailproc(lab, config, server, timeout=120.0)
            server.append_many([s.data for s in samples])
            run = run_mailproc(lab, config, server, timeout=300.0)
            problems += [f"{name}: {p}" for p in verify(lab, config, server, run, samples)]
            times[name]["startup"].append(idle["seconds"])
            times[name]["batch"].append(run["seconds"])
            lab.log(f"  trial {trial + 1} {name}: start-up {idle['seconds']:.2f} s, "
                    f"{batch} messages {run['seconds']:.2f} s")
    server.stop()
    try:
        ticks = {"empty": deadline_tick(empty), "full": deadline_tick(full)}
        lab.log(f"  deadline tick: empty {ticks['empty'][0]:.2f} s then "
                f"{ticks['empty'][1]:.2f} s, full {ticks['full'][0]:.2f} s then "
                f"{ticks['full'][1]:.2f} s")
    except Exception as exc:  # an in-process call into mailproc: report it, keep the rest
        problems.append(f"deadline tick: {type(exc).__name__}: {exc}")
        ticks = {"empty": (0.0, 0.0), "full": (0.0, 0.0)}
    out: Result = {"cases": cases, "batch": batch, "store": info, "seed_seconds": seeded,
                   "problems": problems, "mix": describe(samples), "ticks": ticks,
                   "full_data": lab.data_dir(full)}
    for name, t in times.items():
        whole = statistics.median(t["batch"]) / batch * 1000
        net = statistics.median(b - s for b, s in zip(t["batch"], t["startup"], strict=True))
        out[name] = {"startup_s": statistics.median(t["startup"]), "whole_ms": whole,
                     "net_ms": net / batch * 1000, "raw": t}
    # Ratios per trial (both stores ran back to back under the same load), then the median.
    big, small = times["full"], times["empty"]
    out["ratio_whole"] = statistics.median(
        f / e for f, e in zip(big["batch"], small["batch"], strict=True))
    out["ratio_net"] = statistics.median(
        (fb - fs) / (eb - es) for fb, fs, eb, es in zip(
            big["batch"], big["startup"], small["batch"], small["startup"], strict=True))
    return out


def profile(lab: Lab, n: int) -> None:
    """`mailproc run --once` in-process under cProfile (main thread), top functions printed."""
    import cProfile
    import pstats

    from mailproc.cli.main import main as mailproc_main

    samples = generate(n, seed=n)
    server = lab.dovecot(samples)
    config = lab.config("profile", server)
    os.environ[server.password_env] = server.password
    prof = cProfile.Profile()
    started = time.perf_counter()
    with open(lab.root / "profile.out", "w") as sink:
        stdout, sys.stdout = sys.stdout, sink
        try:
            prof.runcall(mailproc_main, ["--config", str(config), "run", "--once",
                                         "--log-level", "WARNING"])
        finally:
            sys.stdout = stdout
    lab.log(f"profiled run: {n} messages in {time.perf_counter() - started:.1f} s "
            "(cProfile slows pure-Python code more than system calls)")
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
        r"mailproc|fsync|tinydb|langdetect|email|imapclient|mailparser", 40)
    server.close()


TARGETS = {"ratio": 0.5, "growth": 1.5, "ack_p95": 2.0, "rss_mb": 150.0}


def _met(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def write_results(r: Result, path: Path) -> str:
    """The markdown table of every figure, ratio and target; written to `path`, returned."""
    m, g, lat = r["machine"], r["growth"], r["latency"]
    lines = [
        "# Ingest benchmark results", "",
        f"Written by `bench/ingest.py{' --quick' if r['quick'] else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')} in {r['wall_seconds'] / 60:.1f} minutes. "
        "Method and analysis: `bench/README.md`.", "",
        "| machine | |", "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in m.items()], "",
        "## Throughput: raw limit (a) vs `mailproc run --once` (b)", "",
        "| N | (a) IMAP fetch + parse, msg/s (median of all runs) | (b) mailproc, msg/s "
        f"(median) | ratio b/a | target ≥ {TARGETS['ratio']} | runs of (b), s |",
        "| ---: | ---: | ---: | ---: | --- | --- |"]
    for t in r["throughput"]:
        flag = "INVALID: " + "; ".join(t["problems"]) if t["problems"] else \
            _met(t["ratio"] >= TARGETS["ratio"])
        raws = ", ".join(f"{x:.0f}" for x in t["raw_rates"])
        runs = ", ".join(f"{x:.1f}" for x in t["mailproc_seconds"])
        lines.append(f"| {t['n']:,} | {t['raw']:.0f} (runs {raws}) | {t['mailproc']:.0f} | "
                     f"{t['ratio']:.2f} | {flag} | {runs} |")
    lines += ["", "Ratio: per trial, (b) over the median of the three (a) runs on the same inbox; "
              "the table shows the median. Per-trial ratios: " + "; ".join(
                  f"N={t['n']:,}: " + ", ".join(f"{x:.2f}" for x in t["ratios"])
                  for t in r["throughput"]) + ".", "",
              f"Mix (N={r['throughput'][-1]['n']:,}): {r['throughput'][-1]['mix']}.", "",
              f"## Store growth: {g['batch']} messages against 0 vs {g['cases']:,} stored cases",
              "", f"Stored: {g['store']['cases']:,} cases, {g['store']['seen_log_lines']:,} "
              f"seen-log lines, {g['store']['archived']:,} archived messages, "
              f"{g['store']['bytes'] / 1e6:.0f} MB (seeded in {g['seed_seconds']['populate_s']:.0f}"
              " s through `Store.commit`, see README). Batch mix: " + g["mix"] + ".", "",
              "Times are medians over the trials; full / empty is the median of the per-trial "
              "ratios (the two stores run back to back, alternating which goes first).", "",
              "| per message | empty store | full store | full / empty | target ≤ "
              f"{TARGETS['growth']}× |", "| --- | ---: | ---: | ---: | --- |"]
    bad = "INVALID: " + "; ".join(g["problems"]) if g["problems"] else None
    for label, key, ratio in (("whole run (start-up included), ms", "whole_ms", "ratio_whole"),
                              ("processing only (run minus empty-inbox run), ms", "net_ms",
                               "ratio_net")):
        lines.append(f"| {label} | {g['empty'][key]:.2f} | {g['full'][key]:.2f} | "
                     f"{g[ratio]:.2f} | {bad or _met(g[ratio] <= TARGETS['growth'])} |")
    lines.append(f"| start-up with an empty inbox, s | {g['empty']['startup_s']:.2f} | "
                 f"{g['full']['startup_s']:.2f} | "
                 f"{g['full']['startup_s'] / g['empty']['startup_s']:.2f} | (not a target) |")
    for label, i in (("first deadline tick after start, s", 0),
                     ("each later deadline tick (daemon: every 60 s), s", 1)):
        e, f = g["ticks"]["empty"][i], g["ticks"]["full"][i]
        lines.append(f"| {label} | {e:.3f} | {f:.3f} | {f / max(e, 1e-6):.1f} | "
                     "(not a target) |")
    lines += ["", f"## Ack latency ({lat['empty']['samples']} reports, daemon in IDLE)", "",
              "| APPEND done → ack DATA at SMTP | p50, s | p95, s | max, s | target p95 ≤ "
              f"{TARGETS['ack_p95']} s |", "| --- | ---: | ---: | ---: | --- |"]
    for label, key in (("empty store", "empty"), (f"{g['cases']:,} stored cases", "full")):
        one = lat[key]
        if not one.get("acks"):
            lines.append(f"| {label} | | | | INVALID: {'; '.join(one['problems'])} |")
            continue
        flag = "INVALID: " + "; ".join(one["problems"]) if one["problems"] else \
            _met(one["p95"] <= TARGETS["ack_p95"])
        lines.append(f"| {label} | {one['p50']:.3f} | {one['p95']:.3f} | {one['max']:.3f} | "
                     f"{flag} |")
    lines += ["", "Dovecot notifies an idling session ~0.5 s after an APPEND (fixed in its "
              "source); that is part of every latency sample.", "",
              "## Peak memory of the daemon (VmHWM, read just before it is stopped)", "",
              f"| store | daemon, MB | reader process, MB | target daemon ≤ "
              f"{TARGETS['rss_mb']:.0f} MB |", "| --- | ---: | ---: | --- |"]
    for label, key in (("empty store", "empty"), (f"{g['cases']:,} stored cases", "full")):
        one = lat[key]
        lines.append(f"| {label} | {one['rss_daemon_mb']:.0f} | {one['rss_reader_mb']:.0f} | "
                     f"{_met(0 < one['rss_daemon_mb'] <= TARGETS['rss_mb'])} |")
    lines.append("")
    text = "\n".join(lines)
    path.write_text(text + _other_sections(path))
    return text


def _other_sections(path: Path) -> str:
    """What other benchmarks wrote into the same file (every later "# " section), kept."""
    if not path.exists():
        return ""
    old = path.read_text().split("\n")
    starts = [i for i, line in enumerate(old) if line.startswith("# ") and i > 0]
    return "\n" + "\n".join(old[starts[0]:]) if starts else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="N=1,000 only, 2,000 stored cases, fewer samples (~1 minute)")
    parser.add_argument("--profile", action="store_true",
                        help="only profile one in-process run over 2,000 messages")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args(argv)
    smtp = SmtpServer()
    smtp.start()
    lab = Lab(Path(tempfile.mkdtemp(prefix="mailproc-bench-")), smtp)
    started = time.perf_counter()
    try:
        if args.profile:
            profile(lab, 2000)
            return 0
        results: Result = {"machine": machine_description(), "quick": args.quick}
        load, watch = os.getloadavg()[0], CpuWatch()
        sizes = [(1000, 2 if args.quick else 5)] + ([] if args.quick else [(10_000, 1)])
        lab.log("throughput: raw limit (a) and mailproc run --once (b)")
        results["throughput"] = [throughput(lab, n, trials) for n, trials in sizes]
        lab.log("store growth: the same batches against an empty and a full store")
        results["growth"] = store_growth(lab, 2000 if args.quick else 10_000, 500,
                                         2 if args.quick else 3)
        lab.log("ack latency: daemon with IDLE, APPEND -> SMTP DATA")
        count = 10 if args.quick else 30
        results["latency"] = {
            "empty": ack_latency(lab, count, "latency-empty"),
            "full": ack_latency(lab, count, "latency-full", data=results["growth"]["full_data"])}
        results["wall_seconds"] = time.perf_counter() - started
        others, cores = watch.others()
        results["machine"]["load average (1 min) at start / end"] = \
            f"{load:.2f} / {os.getloadavg()[0]:.2f}"
        results["machine"]["CPU used by other processes during the run"] = \
            f"{others:.0f} s (on average {cores:.2f} of {os.cpu_count()} cores)" + (
                " — other work ran meanwhile: figures may be pessimistic" if cores > 0.05 else "")
        text = write_results(results, args.out)
        print(text)
        bad = [p for t in results["throughput"] for p in t["problems"]]
        bad += results["growth"]["problems"]
        bad += [p for one in results["latency"].values() for p in one["problems"]]
        return 1 if bad else 0
    finally:
        smtp.stop()
        lab.close(keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
