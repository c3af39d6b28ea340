"""A moment as a person types it on the command line (`mailproc --now`, `due --at`).

ISO 8601 (`2026-11-02`, `2026-11-02T09:00`, `2026-11-02 09:00:30+01:00`, `...Z`); without an
offset it is read in the committee's time zone (config `timezone`), a date alone meaning its
midnight. `+90m`, `+36h`, `+3d`, `+2w` (or `-`) are relative to `now`. Pure.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_RELATIVE = re.compile(r"^\s*([+-])\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
EXAMPLES = "e.g. 2026-11-02T09:00, 2026-11-02 09:00+01:00, 2026-11-02 or +3d"


def parse_moment(text: str, timezone: str, now: datetime) -> datetime:
    """The moment `text` names; ValueError with examples when it names none."""
    relative = _RELATIVE.match(text)
    if relative is not None:
        sign, amount, unit = relative.groups()
        span = timedelta(**{_UNITS[unit.lower()]: float(amount)})
        return now + span if sign == "+" else now - span
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"not a date and time: {text!r} ({EXAMPLES})") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment
