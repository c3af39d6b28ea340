"""The figures of `mailproc metrics` and `mailproc transparency`, from the records (pure).

Each case is read once into `Facts`: durations come from its diary (the first entry a
committee member wrote is the first human action; the last `closed` entry is the close) and
from its SLA record as `deadlines.clocks.sla` derives it (the acknowledgement's delivery, not
its queueing; the decision), never from counters kept on the side. Medians are the middle
value (the mean of the two middle ones for an even count); p90 is the nearest-rank 90th
percentile: the smallest value with at least 90% of the values at or below it.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from mailproc.cases.identity import POSSIBLE, normalised
from mailproc.config.consequences import Ladder
from mailproc.config.settings import Config
from mailproc.deadlines.clocks import sla
from mailproc.model.parsed import CaseStatus
from mailproc.model.records import Case, DiaryEntry

# Where it happened: the incident's free-text `where`, read into a few generic spaces (a
# place's own name would identify an incident). First match wins; whole words or phrases, in
# the languages reports are read in.
SPACES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("online: chat", ("chat", "slack", "discord", "matrix", "irc", "zulip", "telegram",
                      "element", "gitter")),
    ("online: mailing list or forum", ("mailing list", "mailing-list", "forum", "discourse",
                                       "liste", "lista")),
    ("online: code hosting", ("github", "gitlab", "issue", "pull request", "merge request",
                              "code review", "repository", "repo")),
    ("online: social media", ("twitter", "mastodon", "social", "bluesky", "linkedin",
                              "redes sociales", "réseaux")),
    ("online: video call", ("zoom", "video", "call", "jitsi", "meet", "llamada", "visio")),
    ("in person", ("conference", "conferencia", "conférence", "konferenz", "meetup",
                   "workshop", "taller", "atelier", "talk", "venue", "booth", "stand",
                   "dinner", "cena", "party", "fiesta", "hotel", "hallway", "sprint", "event",
                   "evento", "événement", "veranstaltung", "room", "sala", "salle", "bar")),
)
NOT_STATED = "not stated"
ELSEWHERE = "elsewhere"
CLOCKS = ("acknowledge", "first-action", "reporter-update", "decision")
# Diary entries written in a member's name that no member did: mail we sent them, refusals,
# roster changes. Every other entry with a member as actor is that member acting.
NOT_ACTIONS = frozenset({"notice", "disclosed", "recused", "refused", "confirmation-asked",
                         "member-added", "member-restored", "offboarded", "mentioned",
                         "bounce"})


@dataclass(frozen=True)
class Facts:
    """What the reports need of one case, read from its record, diary and SLA record."""

    case_id: str
    received_at: datetime
    month: str  # YYYY-MM
    category: str
    priority: str
    language: str
    channel: str  # email | in person | on behalf
    space: str
    status: CaseStatus
    resolution: str  # see `resolution`
    consequences: tuple[str, ...]  # keys of the passed motions' consequences
    escrowed_unmatched: bool
    to_ack: float | None  # hours, receipt -> acknowledgement delivered
    to_first_action: float | None  # hours, receipt -> first entry a member wrote
    to_decision: float | None  # hours, receipt -> decision (SLA record)
    to_close: float | None  # hours, receipt -> the last `closed` diary entry (if still closed)
    sla_missed: dict[str, bool | None] = field(default_factory=dict)  # clock -> missed
    people: tuple[tuple[str, ...], ...] = ()  # each reported person's comparable forms
    public_summary: str | None = None


def space_of(where: str | None) -> str:
    """The generic space an incident's `where` names."""
    if not where or not where.strip():
        return NOT_STATED
    text = where.casefold()
    for label, words in SPACES:
        if any(re.search(rf"(?<!\w){re.escape(w)}s?(?!\w)", text) for w in words):
            return label
    return ELSEWHERE


def channel_of(case: Case) -> str:
    """How the report reached the committee."""
    if case.taker:
        return "in person"
    if case.reporter.on_behalf_of is not None:
        return "on behalf"
    return "email"


def resolution(case: Case) -> str:
    """still open | not a violation | no action | consequences | escrowed.

    A passed motion decides (the latest one); a case closed without one is "no action";
    a violation whose only consequence is `none` is "no action" too."""
    passed = [m for m in case.motions if m.status == "passed"]
    if passed:
        last = passed[-1]
        if last.violation is False:
            return "not a violation"
        if [k for k in last.consequences if k != "none"]:
            return "consequences"
        return "no action"
    if case.status is CaseStatus.CLOSED:
        return "no action"
    if case.status is CaseStatus.ESCROWED:
        return "escrowed"
    return "still open"


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 3600


def _at(row: dict[str, Any], key: str) -> datetime | None:
    value = row.get(key)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def facts(case: Case, diary: Sequence[DiaryEntry], config: Config, now: datetime,
          timezone: tzinfo | None = None) -> Facts:
    """One case's facts; `diary` may be empty when the caller needs no diary figures."""
    record = sla(case, config, now)
    human = next((e.at for e in diary if e.actor not in ("system", "reporter")
                  and e.kind not in NOT_ACTIONS), None)
    closes = [e.at for e in diary if e.kind == "closed"]
    closed = closes[-1] if closes and case.status is CaseStatus.CLOSED else None
    passed = [m for m in case.motions if m.status == "passed"]
    local = case.received_at.astimezone(timezone) if timezone is not None else case.received_at
    return Facts(
        case_id=case.id, received_at=case.received_at, month=f"{local:%Y-%m}",
        category=case.triage.category or "uncategorised", priority=case.triage.priority,
        language=case.language or "unknown", channel=channel_of(case),
        space=space_of(case.incident.where), status=case.status, resolution=resolution(case),
        consequences=tuple(passed[-1].consequences) if passed else (),
        escrowed_unmatched=case.status is CaseStatus.ESCROWED and not case.escrow_matches,
        to_ack=_hours(case.received_at, _at(record["acknowledge"], "met_at")),
        to_first_action=_hours(case.received_at, human),
        to_decision=_hours(case.received_at, _at(record["decision"], "met_at")),
        to_close=_hours(case.received_at, closed),
        sla_missed={name: row.get("missed") for name, row in record.items()},
        people=tuple(tuple(x for x in normalised(p) if not x.startswith(POSSIBLE))
                     for p in case.reported), public_summary=case.public_summary)


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def spread(values: Iterable[float | None]) -> dict[str, float | int | None]:
    """{"n", "median", "p90"} of the values that are known (hours)."""
    known = [v for v in values if v is not None]
    return {"n": len(known), "median": median(known), "p90": p90(known)}


def compliance(items: Sequence[Facts]) -> dict[str, dict[str, float | int | None]]:
    """Per clock: how many deadlines were judged, how many met, the share met (%)."""
    out: dict[str, dict[str, float | int | None]] = {}
    for clock in CLOCKS:
        judged = [f.sla_missed[clock] for f in items if f.sla_missed.get(clock) is not None]
        met = sum(1 for missed in judged if missed is False)
        out[clock] = {"judged": len(judged), "met": met,
                      "percent": round(100 * met / len(judged), 1) if judged else None}
    return out


def repeated_people(items: Sequence[Facts]) -> int:
    """How many reported persons appear in more than one case (a count, never who).

    Two entries are one person when they share a comparable form (an address, a handle, a
    name as `cases.identity` compares them), directly or through a third entry."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = x = parent[parent[x]]
        return x

    for f in items:
        for forms in f.people:
            for other in forms[1:]:
                parent[root(other)] = root(forms[0])
    cases: dict[str, set[str]] = {}
    for f in items:
        for forms in f.people:
            if forms:
                cases.setdefault(root(forms[0]), set()).add(f.case_id)
    return sum(1 for ids in cases.values() if len(ids) > 1)


def open_ages(items: Sequence[Facts], now: datetime) -> dict[str, object]:
    """Ages in days of the cases not closed: median, p90, oldest and a few bands."""
    ages = [(now - f.received_at) / timedelta(days=1) for f in items
            if f.status is not CaseStatus.CLOSED]
    bands = Counter("under 7 days" if a < 7 else "7 to 30 days" if a < 30 else
                    "30 to 90 days" if a < 90 else "90 days or more" for a in ages)
    return {"n": len(ages), "median_days": median(ages), "p90_days": p90(ages),
            "oldest_days": max(ages, default=None),
            "bands": {b: bands.get(b, 0) for b in ("under 7 days", "7 to 30 days",
                                                   "30 to 90 days", "90 days or more")}}


def volume(done: Iterable[tuple[str, datetime]], start: datetime | None,
           end: datetime | None) -> dict[str, int]:
    """Messages routed away and dropped, from the seen log's (outcome, when) pairs."""
    counts = Counter(outcome for outcome, at in done
                     if (start is None or at >= start) and (end is None or at < end))
    return {"routed": counts.get("routed", 0), "dropped": counts.get("dropped", 0)}


def consequence_label(key: str, ladder: Ladder) -> str:
    found = ladder.get(key)
    return found.label if found is not None else key


def metrics(items: Sequence[Facts], done: Iterable[tuple[str, datetime]], now: datetime,
            since: datetime | None) -> dict[str, Any]:
    """Every figure of `mailproc metrics`, as JSON-ready data (durations in hours)."""
    def by(attr: str) -> dict[str, int]:
        return dict(sorted(Counter(str(getattr(f, attr)) for f in items).items()))

    return {
        "cases": len(items), "since": since.isoformat() if since else None,
        "at": now.isoformat(), "per_month": by("month"), "by_category": by("category"),
        "by_priority": by("priority"), "by_language": by("language"),
        "by_channel": by("channel"),
        "hours_to": {"acknowledgement_delivered": spread(f.to_ack for f in items),
                     "first_human_action": spread(f.to_first_action for f in items),
                     "decision": spread(f.to_decision for f in items),
                     "close": spread(f.to_close for f in items)},
        "sla_compliance": compliance(items), "open_case_ages": open_ages(items, now),
        "escrowed": sum(1 for f in items if f.status is CaseStatus.ESCROWED),
        "reported_in_more_than_one_case": repeated_people(items),
        "volume": volume(done, since, None),
    }
