"""Admin alerts (pure): which problems deserve a mail to the admin now, at most once each.

Kinds: the mailbox unreachable for longer than a threshold, outgoing mail failing for longer
than an hour, translation failing for longer than a threshold, rules or templates refused on
reload. Each says its cause in the words of the log and of `mailproc status`. Each alert has
a key naming the episode (the outage's start, the oldest failing mail, the refused file's
version): an episode is mailed once, and one kind at most every `min_interval_minutes`.
Quarantine alerts go with the message itself (see `workflow.quarantined`). Alerts go to the
admin address only, never the committee, and by the second channel (`notify.out_of_band`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mailproc.config.settings import Config
from mailproc.model.records import Outgoing
from mailproc.service.health import Failure


@dataclass(frozen=True)
class Alert:
    kind: str  # mailbox-unreachable, outbox-failing, translation-down, rules-refused, ...
    key: str  # the episode: mailed once
    summary: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertState:
    last_key: str | None
    last_at: datetime | None


def candidate_alerts(config: Config, now: datetime, unreachable_since: datetime | None,
                     last_error: str | None, pending: list[Outgoing],
                     refused: dict[str, tuple[str, tuple[str, ...]]],
                     translation: Failure | None = None) -> list[Alert]:
    """Every alert the current state would justify (before de-duplication)."""
    alerts = []
    limit = timedelta(minutes=config.alerts.mailbox_unreachable_minutes)
    if unreachable_since is not None and now - unreachable_since >= limit:
        minutes = int((now - unreachable_since).total_seconds() // 60)
        alerts.append(Alert("mailbox-unreachable", unreachable_since.isoformat(),
                            f"the mailbox has been unreachable for {minutes} minutes",
                            (f"last error: {last_error}",)))
    old = timedelta(minutes=config.alerts.outbox_failure_minutes)
    failing = sorted((m for m in pending if m.attempts > 0 and now - m.queued_at >= old),
                     key=lambda m: m.queued_at)
    if failing:
        alerts.append(Alert("outbox-failing", failing[0].id,
                            f"{len(failing)} outgoing mail(s) undelivered for over "
                            f"{config.alerts.outbox_failure_minutes:g} minutes",
                            (f"cause: {failing[-1].last_error}",
                             *(f"{m.purpose} for {m.case_id or '-'}: {m.last_error}"
                               for m in failing[:10]))))
    down = timedelta(minutes=config.alerts.translation_down_minutes)
    if translation is not None and now - translation.since >= down:
        minutes = int((now - translation.since).total_seconds() // 60)
        alerts.append(Alert("translation-down", translation.since.isoformat(),
                            f"machine translation has failed for {minutes} minutes",
                            (f"cause: {translation.cause}", f"waiting: {translation.waiting}")))
    for kind, (version, problems) in sorted(refused.items()):
        alerts.append(Alert(f"{kind}-refused", version,
                            f"edited {kind} were refused; the daemon keeps the last good ones",
                            problems[:20]))
    return alerts


def due(alerts: list[Alert], state: dict[str, AlertState], config: Config,
        now: datetime) -> list[Alert]:
    """The alerts to mail now: a new episode, and not more often than the minimum interval."""
    interval = timedelta(minutes=config.alerts.min_interval_minutes)
    out = []
    for alert in alerts:
        last = state.get(alert.kind)
        if last is not None and last.last_key == alert.key:
            continue
        if last is not None and last.last_at is not None and now - last.last_at < interval:
            continue
        out.append(alert)
    return out
