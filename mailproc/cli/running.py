"""`mailproc run`: the daemon (or one pass with --once)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TextIO

from mailproc.cli.common import AddCommand, Handler, now_of
from mailproc.config.settings import Config
from mailproc.service.logsetup import setup_logging


def register(command: AddCommand) -> dict[str, Handler]:
    run = command("run", "run the daemon")
    run.add_argument("--once", action="store_true",
                     help="process everything waiting, deliver the outbox, exit")
    run.add_argument("--demo", action="store_true",
                     help="on first start, put sample mails into an empty Maildir")
    run.add_argument("--log-level", default=None, help="overrides logging.level of the config")
    run.add_argument("--table", action="store_true",
                     help="print the outcome table on stdout even with logging.format: json")
    return {"run": cmd_run}


def cmd_run(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from mailproc.service.reader import start_reader

    setup_logging(args.log_level or config.logging.level, config.logging.format)
    # First of all: forked before any thread, lock or socket exists, and early enough that it
    # has loaded what it needs by the time the first batch is fetched.
    reader = start_reader(config)
    from mailproc.adapters.sources import open_source
    from mailproc.cli.demo import seed_demo
    from mailproc.service.app import build_app
    from mailproc.service.daemon import Daemon

    try:
        clock = getattr(args, "clock", None)
        app = build_app(config, reader_process=reader is not None,
                        **({"clock": clock} if clock is not None else {}))
    except BaseException:
        if reader is not None:
            reader.close()
        raise
    try:
        if args.demo:
            seeded = seed_demo(config)
            if seeded:
                out.write(f"mailproc: first start, put {seeded} sample mails into "
                          f"{config.mailbox.maildir}/new\n")
        if clock is not None:
            out.write(f"mailproc: the clock reads {now_of(args).isoformat(timespec='seconds')} "
                      "(--now: for tests and previews only)\n")
        out.write(_banner(config, args.once))
        out.flush()
        daemon = Daemon(app, open_source(config.mailbox), out, once=args.once, reader=reader)
        daemon.table = daemon.table or args.table
        return asyncio.run(daemon.run())
    finally:
        if reader is not None:
            reader.close()
        app.close()


def _banner(config: Config, once: bool) -> str:
    box = config.mailbox
    imap_host = box.imap.host if box.imap else ""
    source = f"Maildir {box.maildir}" if box.maildir else f"IMAP {imap_host}"
    dest = (f"files in {config.outgoing.outbox_dir}" if config.outgoing.outbox_dir
            else f"SMTP {config.outgoing.smtp.host if config.outgoing.smtp else ''}")
    tail = "processing what is waiting" if once else "watching for new mail; Ctrl-C to stop"
    return f"mailproc: reading {source}; outgoing mail to {dest}; {tail}\n" \
           f"{'outcome':<12} {'case':<16} {'lang':<5} reason\n"
