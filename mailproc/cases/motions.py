"""Motions and votes (pure): `#propose`, `#vote`, and when a motion passes.

Only cleared (non-conflicted) members vote and are counted (seed 001: decisions by a simple
majority of the members in the discussion). Rules: `majority` (yes > half of the cleared
members), `two-thirds` (yes >= two thirds of them), `consensus` (every cleared member voted,
and nobody voted no). Nothing passes before `quorum` votes are in. A motion fails as soon as
passing has become impossible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from mailproc.config.consequences import Ladder
from mailproc.model.records import Case, Motion

VOTES = ("yes", "no", "abstain")
_VIOLATION = re.compile(r"\bviolation\s*=\s*(yes|no)\b", re.IGNORECASE)
_CONSEQUENCES = re.compile(r"\bconsequences?\s*=\s*([a-z0-9,\-]+)", re.IGNORECASE)


class MotionError(ValueError):
    """A motion or vote that cannot be taken; the message goes to the transcript."""


@dataclass(frozen=True)
class Tally:
    yes: int
    no: int
    abstain: int
    electorate: int
    status: str  # open | passed | failed


def propose(case: Case, text: str, member: str, now: datetime, ladder: Ladder) -> Motion:
    """A new motion; `violation=yes|no` and `consequences=a,b` are read from the text."""
    if any(m.status == "open" for m in case.motions):
        raise MotionError("a motion is already open on this case: vote on it first")
    if not text.strip():
        raise MotionError("usage: #propose violation=yes|no consequences=KEY[,KEY] PLAN")
    violation = _VIOLATION.search(text)
    keys = _CONSEQUENCES.search(text)
    consequences = [k for k in keys.group(1).lower().split(",") if k] if keys else []
    unknown = [k for k in consequences if ladder.get(k) is None]
    if unknown:
        known = ", ".join(c.key for c in ladder.consequences)
        raise MotionError(f"unknown consequence {', '.join(unknown)} (known: {known})")
    motion = Motion(number=len(case.motions) + 1, text=text.strip(), proposed_by=member, at=now,
                    violation=None if violation is None else violation.group(1).lower() == "yes",
                    consequences=consequences)
    case.motions.append(motion)
    return motion


def vote(case: Case, member: str, choice: str, now: datetime, rule: str,
         quorum: int, electorate: list[str] | None = None) -> tuple[Motion, Tally]:
    """Record a vote on the open motion; decides it when the rule allows. `electorate`: the
    cleared members who may vote now (default all cleared; a member removed from the
    committee after clearing no longer counts, or consensus could never be reached)."""
    choice = choice.strip().lower()
    if choice not in VOTES:
        raise MotionError("usage: #vote yes|no|abstain")
    motion = next((m for m in reversed(case.motions) if m.status == "open"), None)
    if motion is None:
        raise MotionError("there is no open motion on this case (#propose one)")
    motion.votes[member] = choice
    tally = count(motion, case.cleared if electorate is None else electorate, rule, quorum)
    if tally.status != "open":
        motion.status = tally.status
        motion.decided_at = now
    return motion, tally


def count(motion: Motion, cleared: list[str], rule: str, quorum: int) -> Tally:
    """The tally over the cleared members only (a conflicted member's vote never counts)."""
    votes = {m: v for m, v in motion.votes.items() if m in cleared}
    yes = sum(1 for v in votes.values() if v == "yes")
    no = sum(1 for v in votes.values() if v == "no")
    abstain = len(votes) - yes - no
    n = len(cleared)
    missing = n - len(votes)
    status = "open"
    if _passes(yes, no, n, len(votes), rule) and len(votes) >= min(quorum, n):
        status = "passed"
    elif not _passes(yes + missing, no, n, n, rule):
        status = "failed"
    return Tally(yes, no, abstain, n, status)


def _passes(yes: int, no: int, electorate: int, voted: int, rule: str) -> bool:
    if electorate == 0:
        return False
    if rule == "two-thirds":
        return Fraction(yes, electorate) >= Fraction(2, 3)
    if rule == "consensus":
        return voted == electorate and no == 0 and yes > 0
    return Fraction(yes, electorate) > Fraction(1, 2)
