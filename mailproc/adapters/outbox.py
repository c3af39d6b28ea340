"""Delivering queued mail, with retry and backoff: SMTP (`mailproc.adapters.smtp`) or a file outbox.

Every mail is in the store before this runs (it is part of the commit that queued it); a mail
leaves the queue only once the server accepted it for every recipient (or its file is written
and synced), and is dropped from the queue in groups, at the time `clock()` reads then: that is
its delivery time (`Store.mark_sent_many` also writes it on the case for a scheduled mail, whose
SLA counts delivery, not queueing). A flush sends over all the delivery's
lanes at once; when the server cannot be reached the rest of the flush waits for the next one
instead of trying (and timing out on) each mail. A mail the server refuses for good (a 5xx
to the recipient or the data) is given up after GIVE_UP_AFTER tries and returned in the
result, for its case to record the recipient as unreachable (`Pipeline.record_undeliverable`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailproc.adapters.delivery import (
    Delivery,
    DeliveryError,
    FileDelivery,
    Lane,
    LaneRefused,
    ServerUnreachable,
)
from mailproc.adapters.smtp import SmtpDelivery
from mailproc.config.settings import OutgoingConfig
from mailproc.model.records import Outgoing
from mailproc.store.store import Store

__all__ = ["Delivery", "DeliveryError", "FlushResult", "build_delivery", "flush_outbox"]

log = logging.getLogger("mailproc.outbox")


def build_delivery(cfg: OutgoingConfig) -> Delivery:
    if cfg.smtp is not None:
        return SmtpDelivery(cfg.smtp)
    assert cfg.outbox_dir is not None
    return FileDelivery(cfg.outbox_dir)


MARK_EVERY = 25  # delivered mail is dropped from the queue in groups (a crash may resend a group)


def _mark(store: Store, delivery: Delivery, delivered: list[Outgoing],
          clock: Callable[[], datetime]) -> None:
    if not delivered:
        return
    sync = getattr(delivery, "sync", None)
    if sync is not None:
        sync()
    store.mark_sent_many(list(delivered), clock())
    delivered.clear()


# A mail refused for good (DeliveryError.permanent) is tried this often before the outbox
# gives up: a server's 5xx is sometimes a passing misconfiguration.
GIVE_UP_AFTER = 3


@dataclass(frozen=True)
class GivenUp:
    """A mail dropped from the queue because the server refused it for good, and whom."""

    mail: Outgoing
    refused: tuple[str, ...]
    error: str


@dataclass(frozen=True)
class FlushResult:
    sent: int
    failed: int
    waiting: int
    given_up: tuple[GivenUp, ...] = ()


async def flush_outbox(store: Store, delivery: Delivery, cfg: OutgoingConfig,
                       clock: Callable[[], datetime], *, all_now: bool = False) -> FlushResult:
    """Send every queued mail that is due; failures are rescheduled with capped backoff.
    `all_now`: mail waiting out its backoff is tried too (the last flush of a `run --once`:
    the next try is the next run)."""
    try:
        return await _flush(store, delivery, cfg, clock, all_now)
    finally:
        await delivery.close()


async def _flush(store: Store, delivery: Delivery, cfg: OutgoingConfig,
                 clock: Callable[[], datetime], all_now: bool = False) -> FlushResult:
    now = clock()
    # Oldest first; within a batch, what a reporter waits for before the committee's notices.
    queued = sorted(store.pending_outgoing(), key=lambda m: (m.queued_at, m.purpose != "ack"))
    due = deque(m for m in queued
                if all_now or m.next_attempt_at is None or m.next_attempt_at <= now)
    waiting = len(queued) - len(due)
    sent = failed = 0
    delivered: list[Outgoing] = []
    given_up: list[GivenUp] = []
    unreachable = False

    async def work(lane: Lane) -> None:
        nonlocal sent, failed, unreachable
        while due and not unreachable:
            mail = due.popleft()
            try:
                await lane.deliver(mail)
            except LaneRefused as exc:
                due.appendleft(mail)  # not tried: another lane (or the next flush) sends it
                log.info("an SMTP connection was refused for now (%s); %d left for the others",
                         exc, len(due))
                return
            except DeliveryError as exc:
                failed += 1
                unreachable = unreachable or isinstance(exc, ServerUnreachable)
                if exc.permanent and mail.attempts + 1 >= GIVE_UP_AFTER:
                    store.give_up(mail, clock(), str(exc))
                    given_up.append(GivenUp(mail, exc.refused, str(exc)))
                    log.warning("delivery of %s (%s, case %s) refused for good after %d "
                                "tries, given up: %s", mail.id.split("@")[0], mail.purpose,
                                mail.case_id, mail.attempts + 1, exc)
                else:
                    _retry_later(store, cfg, mail, exc, clock())
                continue
            delivered.append(mail)
            sent += 1
            log.debug("sent %s (%s, case %s)", mail.id.split("@")[0], mail.purpose,
                      mail.case_id)
            if len(delivered) >= MARK_EVERY:
                _mark(store, delivery, delivered, clock)

    await asyncio.gather(*(work(lane) for lane in delivery.lanes(len(due))))
    _mark(store, delivery, delivered, clock)
    if sent or failed:
        log.info("outbox: %d sent, %d failed, %d waiting to retry%s", sent, failed,
                 waiting + len(due), ", server unreachable" if unreachable else "")
    return FlushResult(sent, failed, waiting + len(due), tuple(given_up))


def _retry_later(store: Store, cfg: OutgoingConfig, mail: Outgoing, exc: DeliveryError,
                 now: datetime) -> None:
    delay = min(cfg.retry_initial_seconds * 2 ** mail.attempts, cfg.retry_max_seconds)
    store.update_outgoing(mail.model_copy(update={
        "attempts": mail.attempts + 1, "last_error": str(exc),
        "next_attempt_at": now + timedelta(seconds=delay)}))
    log.warning("delivery of %s (%s, case %s) failed, retry in %.0fs: %s",
                mail.id.split("@")[0], mail.purpose, mail.case_id, delay, exc)
