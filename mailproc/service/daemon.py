"""The daemon: asyncio wiring of the mailbox (in a thread), the pipeline, the outbox and timers.

Loop: fetch what is new -> handle the batch (one commit) -> move it on the server -> deliver the
queued mail -> wait for mail (IDLE or poll). While a batch is handled, the mailbox thread moves
the previous (committed) batch and fetches the next one, so the server's work and the network
overlap ours; a move is recorded only after the server confirmed it. A mailbox error closes the
source and reopens it with capped exponential backoff; nothing is lost because nothing is moved
before its commit.
APScheduler (3.x) runs the periodic jobs: outbox retries and pending translations.
`--once` processes everything waiting, delivers, and exits (cron, tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, TextIO

from mailproc.adapters.mailbox import Backoff, MailboxError, MailSource, RawMessage
from mailproc.adapters.outbox import FlushResult, flush_outbox
from mailproc.adapters.translation import probe_phrase
from mailproc.deadlines.clocks import TICK
from mailproc.model.parsed import Folder
from mailproc.service import retention_job
from mailproc.service.app import App
from mailproc.service.batch import Handled
from mailproc.service.logsetup import where
from mailproc.service.notify import sd_notify, watchdog_interval
from mailproc.service.prepare import Prepared
from mailproc.service.scheduled import tick as scheduled_tick
from mailproc.service.supervisor import Supervisor, failure_text

if TYPE_CHECKING:  # only the daemon's jobs need it; `run --once` never imports it
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from mailproc.service.reader import ReaderProcess

Fetched = tuple[list[RawMessage], Mapping[str, Prepared] | None]  # None: read them inline

log = logging.getLogger("mailproc.daemon")
WAIT_SLICE = 2.0  # seconds; bounds how long a stop request waits for the mailbox thread
RULES_WATCH_SECONDS = 2.0  # how often the rules file is checked for edits
FIRST_BATCH = 20  # messages in the first fetch after the inbox was empty (see _batch)
FINAL_FLUSH_SECONDS = 5.0  # on SIGTERM the outbox gets one bounded attempt (exit within 10 s)
DEADLINE_TICK_SECONDS = TICK.total_seconds()  # what is due is derived from case state; the
# SLA allowance (`deadlines.clocks.TICK`) is the same tick


class Daemon:
    def __init__(self, app: App, source: MailSource, out: TextIO, *, once: bool = False,
                 on_batch: Callable[[list[Handled]], None] | None = None,
                 reader: ReaderProcess | None = None) -> None:
        self.app, self.source, self.out, self.once = app, source, out, once
        self.table = app.config.logging.format != "json"  # `--table` sets it for JSON logs
        self.reader = reader  # the process that archives and reads each batch; None: inline
        self.stop = asyncio.Event()
        self._outbox_lock = asyncio.Lock()
        self._opened = False
        self._prefetched: Fetched | None = None  # the next batch, fetched meanwhile
        self._ramp = 0  # fetches since the inbox was last found empty
        self.on_batch = on_batch
        self.exit_code = 0
        self.supervisor = Supervisor(app, source.kind, source.mode)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        scheduler = None if self.once else self._scheduler()
        if scheduler is not None:
            scheduler.start()
        self.supervisor.write()
        # What start-up built lives as long as the daemon: later collections skip it, and the
        # collector comes back on here if the console script kept it off while starting.
        gc.freeze()
        gc.enable()
        # Ready once the store is open and rules and templates are loaded; STATUS= says from
        # here on whether the mailbox is reached (the supervisor updates it at every round).
        sd_notify("READY=1", f"STATUS={self.supervisor.snapshot.status_line()}")
        try:
            await self.mail_loop()
            if self.once:
                await self.retry_translations()  # the "later pass" for cron-style runs
                await self.deadlines()
                retention_job.daily(self.app.pipeline)
        finally:
            sd_notify("STOPPING=1")
            if scheduler is not None and scheduler.running:
                scheduler.shutdown(wait=False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.flush(all_now=self.once), FINAL_FLUSH_SECONDS)
            moved = await asyncio.to_thread(self._move_committed)
            self.app.store.record_moved(moved)
            await asyncio.to_thread(self._close_source)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            self._say_stopped()
        return self.exit_code

    def _say_stopped(self) -> None:
        """The stop, logged; a `run --once` that leaves mail undelivered exits 1 and says how
        much (it stays queued: the next run tries again)."""
        left = len(self.app.store.pending_outgoing())
        if self.once and left and self.exit_code == 0:
            self.exit_code = 1
        log.log(logging.WARNING if left else logging.INFO,
                "stopped%s; %d mail(s) not delivered yet%s", " (run --once)" if self.once else "",
                left, ": they stay queued and are tried again" if left else "")

    def _scheduler(self) -> AsyncIOScheduler:
        """Periodic jobs; everything they act on is derived from the store, not kept here.
        Imported here: APScheduler reads every installed package's entry points when imported
        (~45 ms of a start), and a `run --once` has no periodic jobs."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(timezone="UTC")
        jobs = [(self.flush, 15.0, "outbox"), (self.retry_translations, 60.0, "translations"),
                (self.deadlines, DEADLINE_TICK_SECONDS, "deadlines"),
                (self.tick, self.app.config.alerts.check_interval_seconds, "supervisor"),
                (self.watch_rules, RULES_WATCH_SECONDS, "rules"),
                (partial(retention_job.daily_job, self.app.pipeline), 3600.0, "retention")]
        beat = watchdog_interval()
        if beat is not None:
            jobs.append((self.watchdog, beat, "watchdog"))
        for func, seconds, name in jobs:
            scheduler.add_job(func, "interval", seconds=seconds, id=name, replace_existing=True,
                              max_instances=1, coalesce=True)
        return scheduler

    async def deadlines(self) -> None:
        """Reporter updates, reminders, escalations and digests that are due now."""
        try:
            queued = scheduled_tick(self.app.pipeline)
        except Exception as exc:  # a bad case must not stop the clocks of the others
            log.error("deadline tick failed: %s at %s", type(exc).__name__, where(exc))
            return
        if queued:
            log.info("deadlines: %d mail(s) queued", queued)
            await self.flush()

    async def watchdog(self) -> None:
        sd_notify("WATCHDOG=1")

    async def tick(self) -> None:
        """Keep status.json fresh while idling, and tell the admin what needs it: by mail and
        by the second channel (a command may take a while: off the event loop)."""
        self.supervisor.write()
        alerts = self.supervisor.alert_tick()
        if alerts:
            await asyncio.to_thread(self.supervisor.out_of_band, alerts)
            await self.flush()

    async def watch_rules(self) -> None:
        """An edited rules file is picked up without a signal."""
        if self.supervisor.reload_rules() or "rules" in self.supervisor.refused:
            self.supervisor.write()

    def reload(self) -> None:
        """SIGHUP: re-read templates and rules, keeping the last good ones."""
        log.info("SIGHUP: reloading")
        self.supervisor.reload_templates()
        self.supervisor.reload_rules(force=True)
        self.supervisor.write()

    async def mail_loop(self) -> None:
        backoff = Backoff(initial=1.0, maximum=self._reconnect_max())
        while not self.stop.is_set():
            try:
                got = await self.cycle()
                self.supervisor.mailbox_ok(self.source.mode, got, self._reader_state())
                backoff.reset()
                if not got:
                    if self.once:
                        return
                    await self._wait_for_mail()
            except Exception as exc:  # the daemon outlives any failure of one round
                if isinstance(exc, MailboxError):
                    log.warning("mailbox unavailable (%s); reconnecting", failure_text(exc))
                else:
                    log.error("unexpected %s at %s; reconnecting", type(exc).__name__,
                              where(exc))
                self.supervisor.mailbox_failed(exc)
                await asyncio.to_thread(self._close_source)
                if self.once:
                    self.exit_code = 1
                    return
                await self._sleep(backoff.next_delay())

    async def cycle(self) -> int:
        """One round: open if needed, fetch and handle one batch, move the one before.

        A committed batch is moved during the next round, by the mailbox thread while this
        thread handles the next batch, or at once when there is none. Returns how many messages
        it handled (0: the inbox is empty).
        """
        if not self._opened:
            await asyncio.to_thread(self.source.open)
            self._opened = True
        store = self.app.store
        moves, keys, scrubbed = self._pending_moves()
        fetched, self._prefetched = self._prefetched, None
        if fetched is None or (moves and not fetched[0]):
            # Nothing fetched ahead (or nothing left): move and fetch now, in one thread trip.
            fetched = await asyncio.to_thread(self._move_and_fetch, moves, scrubbed, set())
            store.record_moved(keys)
            moves, keys, scrubbed = {}, [], {}
        raws, prepared = fetched
        if not raws:
            return 0
        # Submitted now, so the thread runs while handle_batch holds this (the loop's) thread.
        ahead = asyncio.get_running_loop().run_in_executor(
            None, self._move_and_fetch, moves, scrubbed, {r.key for r in raws})
        try:
            handled = self.app.pipeline.handle_batch(raws, prepared)
            for line in handled:
                self.print_line(line)
            if self.on_batch is not None:
                self.on_batch(handled)
            await self.flush()
        finally:
            fetched = await ahead  # a mailbox error surfaces here, after the commit
        store.record_moved(keys)
        self._prefetched = fetched
        return len(raws)

    def _move_and_fetch(self, moves: Mapping[Folder, Sequence[str]],
                        scrubbed: Mapping[str, bytes], handling: set[str]) -> Fetched:
        """In the mailbox thread: move the committed batch, fetch the next one, and have the
        reader process read it (while the daemon's thread handles the batch before)."""
        self._move(moves, scrubbed)
        store = self.app.store
        raws = self._fetch(lambda key: key in handling or store.is_done(key))
        return raws, self._read(raws)

    def _read(self, raws: list[RawMessage]) -> Mapping[str, Prepared] | None:
        """The reader's work on a fetched batch; None: the pipeline reads it inline. A message
        received before but never finished (the daemon died with it) is not sent: the pipeline
        handles it alone, to find out whether it is to blame."""
        reader, received = self.reader, self.app.store.received
        todo = [r for r in raws if received.get(r.key, 0) == 0]
        if not todo:
            return {}
        if reader is None or not reader.alive or not reader.submit(todo):
            return None
        return reader.collect()

    def _fetch(self, skip: Callable[[str], bool]) -> list[RawMessage]:
        raws = self.source.fetch_new(skip, self._batch())
        self._ramp = self._ramp + 1 if raws else 0
        return raws

    def _pending_moves(self) -> tuple[dict[Folder, list[str]], list[str], dict[str, bytes]]:
        """What is committed but not moved yet: by folder, all keys, and scrubbed copies."""
        store = self.app.store
        moves = store.pending_moves()
        keys = [k for folder_keys in moves.values() for k in folder_keys]
        return moves, keys, store.scrubbed_copies(keys)

    def _move_committed(self) -> list[str]:
        """Stopping, in the mailbox thread: the last committed batch is moved now rather than at
        the next start, so that a clean stop leaves the mailbox as the store says. A failure
        is only logged: the next start moves what is still pending. Returns the keys moved."""
        if not self._opened:
            return []
        moves, keys, scrubbed = self._pending_moves()
        if not keys:
            return []
        try:
            self._move(moves, scrubbed)
        except Exception as exc:  # the server went away meanwhile: nothing is lost
            log.warning("%d committed message(s) not moved at stop (%s); the next start moves "
                        "them", len(keys), type(exc).__name__)
            return []
        return keys

    def _move(self, moves: Mapping[Folder, Sequence[str]],
              scrubbed: Mapping[str, bytes]) -> None:
        """In the mailbox thread: an anonymous report's scrubbed copy takes its place on the
        server (so the identifying headers are gone there too); the rest is moved."""
        rest: dict[Folder, list[str]] = {}
        for folder, keys in moves.items():
            for key in keys:
                if key in scrubbed:
                    self.source.replace(key, folder, scrubbed[key])
                else:
                    rest.setdefault(folder, []).append(key)
        if rest:
            self.source.move(rest)

    async def flush(self, all_now: bool = False) -> FlushResult:
        async with self._outbox_lock:
            result = await flush_outbox(self.app.store, self.app.delivery,
                                        self.app.config.outgoing, self.app.clock,
                                        all_now=all_now)
            if result.given_up:  # refused for good: on the case, like a bounce
                self.app.pipeline.record_undeliverable(result.given_up)
            return result

    async def retry_translations(self) -> None:
        retried = self.app.pipeline.retry_translations()
        if retried:
            log.info("translated %d pending case(s)", retried)
        translator = self.app.translator
        if translator is not None and translator.last_failure is not None \
                and not self.app.store.translation_pending and translator.available():
            # Nothing waits to be retried, so nothing would find out that the backend is back:
            # a fixed word (never report text) tells, and status stops saying it fails.
            await asyncio.to_thread(translator.translate, *probe_phrase(
                self.app.config.committee_language))

    def print_line(self, h: Handled) -> None:
        """One message's outcome: a line of the table on stdout, unless the logs are JSON
        (`logging.format: json`) and no `--table` was asked: then a log record whose fields
        are the case, the outcome, the reason and the language (never content)."""
        if self.table:
            self.out.write(f"{h.outcome.value:<12} {h.case_id or '-':<16} "
                           f"{h.language or '-':<5} {h.reason}\n")
            self.out.flush()
        else:
            log.info("%s %s %s", h.outcome.value, h.case_id or "-", h.reason, extra={
                "case": h.case_id, "outcome": h.outcome.value, "reason": h.reason,
                "language": h.language})

    def _reader_state(self) -> str:
        """For status.json: whether a reader process does the reading now."""
        return "process" if self.reader is not None and self.reader.alive else "inline"

    def _batch(self) -> int:
        """How many messages the next fetch takes: the configured batch, after a ramp.

        The first batch after a quiet inbox is small (FIRST_BATCH), and each next one doubles:
        the first acknowledgements go out while the rest is still being read, instead of
        waiting for a whole batch to be fetched, archived and read. With a reader process it
        also shortens the one wait that nothing overlaps: the daemon's for the reader's first
        batch (N=1,000 runs: FIRST_BATCH 50 -> 20 took 2.60 -> 2.16 s and 2.65 -> 2.37 s,
        medians of 7 and 6 interleaved rounds on a slow afternoon).
        """
        imap = self.app.config.mailbox.imap
        full = imap.batch_size if imap is not None else 200
        return min(full, FIRST_BATCH << min(self._ramp, 8))

    def _reconnect_max(self) -> float:
        imap = self.app.config.mailbox.imap
        return imap.reconnect_max_seconds if imap is not None else 30.0

    def _poll_interval(self) -> float:
        imap = self.app.config.mailbox.imap
        if imap is None:
            return self.app.config.mailbox.poll_interval_seconds
        return imap.idle_renew_seconds if self.source.mode == "idle" else \
            imap.poll_interval_seconds

    async def _wait_for_mail(self) -> None:
        """Wait in short slices so that a stop request is seen within WAIT_SLICE seconds.

        The source returns early when mail arrives (IDLE, or a file in new/): a slice that
        ends well before its timeout means there is something to fetch.
        """
        deadline = time.monotonic() + self._poll_interval()
        while not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            wait = min(remaining, WAIT_SLICE)
            started = time.monotonic()
            await asyncio.to_thread(self.source.wait_for_mail, wait)
            if time.monotonic() - started < wait * 0.9:
                return

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)

    def _close_source(self) -> None:
        self._prefetched = None  # keys may not hold on a new session (UIDVALIDITY)
        if self._opened:
            try:
                self.source.close()
            except Exception:  # closing a dead connection may fail; it is gone either way
                log.debug("error while closing the mailbox", exc_info=True)
        self._opened = False
