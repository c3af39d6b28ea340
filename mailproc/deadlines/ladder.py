"""Who hears about a deadline: reminder audiences and the escalation ladder (issue 5, point 1).

One ladder per deadline per case, with steps lead -> secondary -> chair (`LEVELS`). Each step is
sent at most once and never after a higher one (a ladder does not come back down). A person is
told once per ladder, at the first step that reaches them, in the words of the highest role they
hold on it, and a step whose people were all told already is passed over. A lead named at or
after the deadline ends its ladder: the new lead is the answer to it, and a mail crossing the
hand-over would tell them off for what they just took on. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mailproc.config.settings import Config
from mailproc.deadlines.clocks import conflicted
from mailproc.model.parsed import normalise_email
from mailproc.model.records import Case

LEVELS = ("lead", "secondary", "chair")
# The role a person is told they hold, from lowest to highest (a person holding several is
# named by the last of them in this order).
ROLES = ("cleared", "lead", "secondary", "deputy", "chair")


@dataclass(frozen=True)
class Step:
    """One step still ahead on a ladder: its level and who it would tell now."""

    level: str
    to: tuple[str, ...]


def step_key(name: str, level: str) -> str:
    return f"escalation:{name}:{level}"


def told_key(name: str, email: str) -> str:
    return f"escalation:{name}:told:{normalise_email(email)}"


def told(case: Case, name: str) -> set[str]:
    """Everyone this deadline's ladder has mailed (normalised addresses)."""
    prefix = f"escalation:{name}:told:"
    return {key[len(prefix):] for key in case.sent if key.startswith(prefix)}


def top_sent(case: Case, name: str) -> int:
    """The index in LEVELS of the highest step sent on this ladder; -1 before the first."""
    return max((i for i, level in enumerate(LEVELS) if step_key(name, level) in case.sent),
               default=-1)


def ended(case: Case, due_at: datetime) -> bool:
    """Whether a lead was named at or after the deadline (which ends its ladder)."""
    named = case.events.get("lead-named")
    return bool(case.owners.lead) and named is not None and named >= due_at


def audiences(case: Case, cfg: Config) -> dict[str, tuple[str, ...]]:
    """Who each level reaches: the lead (no lead: every cleared member), the secondary, the
    chair (or whoever stands in for a conflicted chair)."""
    lead = allowed(case, cfg, [case.owners.lead] if case.owners.lead else case.cleared)
    secondary = allowed(case, cfg, [case.owners.secondary] if case.owners.secondary else [])
    return {"lead": lead, "secondary": secondary, "chair": chair_of(case, cfg)}


def roles(case: Case, cfg: Config) -> dict[str, str]:
    """Each person on the ladder (normalised address) -> the highest role they hold on it."""
    found: dict[str, list[str]] = {}
    chairs = {normalise_email(m.email) for m in cfg.roster if m.chair}
    for level, people in audiences(case, cfg).items():
        for email in people:
            key = normalise_email(email)
            if level == "lead":
                found.setdefault(key, []).append("lead" if case.owners.lead else "cleared")
            elif level == "secondary":
                found.setdefault(key, []).append("secondary")
            else:
                found.setdefault(key, []).append("chair" if key in chairs else "deputy")
    return {who: max(held, key=ROLES.index) for who, held in found.items()}


def steps_ahead(case: Case, cfg: Config, name: str) -> list[Step]:
    """The steps above the highest one sent that would tell someone not told yet, in order."""
    done = told(case, name)
    people = audiences(case, cfg)
    ahead: list[Step] = []
    for level in LEVELS[top_sent(case, name) + 1:]:
        fresh = tuple(p for p in people[level] if normalise_email(p) not in done)
        done |= {normalise_email(p) for p in fresh}
        if fresh:
            ahead.append(Step(level, fresh))
    return ahead


def chair_of(case: Case, cfg: Config) -> tuple[str, ...]:
    """The chair; if conflicted, the other cleared members; if none, every unconflicted member."""
    chairs = allowed(case, cfg, [m.email for m in cfg.roster if m.chair])
    if chairs:
        return chairs
    owners = {normalise_email(o) for o in (case.owners.lead, case.owners.secondary) if o}
    cleared = allowed(case, cfg, case.cleared)
    others = tuple(m for m in cleared if normalise_email(m) not in owners)
    return others or cleared or allowed(case, cfg, [m.email for m in cfg.roster if not m.chair])


def reminded(case: Case, cfg: Config) -> tuple[str, ...]:
    """The owners; with none, the cleared members; with none, every unconflicted member."""
    owners = [o for o in (case.owners.lead, case.owners.secondary) if o]
    return (allowed(case, cfg, owners) or allowed(case, cfg, case.cleared)
            or allowed(case, cfg, [m.email for m in cfg.roster]))


def allowed(case: Case, cfg: Config, emails: Iterable[str]) -> tuple[str, ...]:
    """The addresses given, minus anyone with a conflict on the case (by any of their
    addresses), without duplicates, in order."""
    out: list[str] = []
    for email in emails:
        if not conflicted(case, cfg, email) and normalise_email(email) not in map(
                normalise_email, out):
            out.append(email)
    return tuple(out)
