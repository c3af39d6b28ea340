"""Plain-text mail shaping: one-line headers, tidy wrapped bodies, dates people read.

Split out of `render` (which applies it to every rendered template) so that the rules for what
a plain-text mail looks like (RFC 5322's 78-character lines, no line breaks in a header) live
in one small place that other modules can reuse.
"""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

MAX_LINE = 78


def one_line(text: str) -> str:
    """Collapse line breaks and runs of spaces (not no-break spaces) into single spaces."""
    return re.sub(r"[^\S\u00a0\u202f]+", " ", text).strip(" ")


# Marks a line that is someone's own text (a report, a follow-up): it may be wrapped when too
# long, but is never joined with its neighbours, so that a pasted chat log keeps its lines.
KEEP = "\ue000"


def keep_lines(text: object) -> str:
    """Template filter `verbatim`: the text line for line (see KEEP)."""
    return "\n".join(KEEP + line for line in str(text).splitlines())


def tidy_body(text: str) -> str:
    """Strip trailing spaces, collapse blank lines, wrap long lines, end with one newline."""
    lines: list[str] = []
    for line in (raw.rstrip() for raw in text.splitlines()):
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1].strip(KEEP):
        lines.pop()
    return "\n".join(_wrap(lines)).replace(KEEP, "") + "\n"


def _wrap(lines: list[str]) -> list[str]:
    """Wrap lines over MAX_LINE (RFC 5322: 78), carrying the overflow into the next line
    when it continues the same paragraph, so that the rest of the paragraph reflows."""
    # Values put into a hand-wrapped line (names, addresses, subjects) push it over;
    # short lines (headings, greetings, signatures) are never touched.
    out: list[str] = []
    carry = ""
    for i, line in enumerate(lines):
        if line.startswith(KEEP):
            if carry:
                out.append(carry)
                carry = ""
            kept = line[len(KEEP):]
            out.extend(textwrap.wrap(kept, width=MAX_LINE, break_long_words=False,
                                     break_on_hyphens=False) if len(kept) > MAX_LINE else [kept])
            continue
        if carry:
            line, carry = f"{_indent(line)}{carry} {line.lstrip()}", ""
        if len(line) <= MAX_LINE:
            out.append(line)
            continue
        hanging = _indent(line) + ("  " if _is_item(line) else "")
        first, *rest = textwrap.wrap(line, width=MAX_LINE, subsequent_indent=hanging,
                                     break_long_words=False, break_on_hyphens=False)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if rest and following and _indent(following) == hanging and not _is_item(following):
            out.append(first)
            carry = " ".join(part.strip() for part in rest)
        else:
            out.extend([first, *rest])
    return out


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _is_item(line: str) -> bool:
    return line.lstrip().startswith(("- ", "* "))


def format_at_offset(value: datetime, minutes: int, with_time: bool = True) -> str:
    """A time as the reporter reads it: at the UTC offset their mail came from, zone named."""
    local = value.astimezone(timezone(timedelta(minutes=minutes)))
    sign, rest = ("+" if minutes >= 0 else "-"), abs(minutes)
    zone = f"UTC{sign}{rest // 60:02d}:{rest % 60:02d}" if minutes else "UTC"
    return local.strftime("%Y-%m-%d %H:%M") + f" ({zone})" if with_time else \
        local.strftime("%Y-%m-%d")


def format_date(value: object, tz: str = "UTC", fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """Template filter `date`: a datetime in a time zone (naive means UTC); else str(value)."""
    if not isinstance(value, datetime):
        return str(value)
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(tz)).strftime(fmt)
