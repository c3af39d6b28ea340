"""The new text of a reply: only what the sender wrote now, for commands and relayed discussion.

Owns the cut between new and old text in a reply body (`ParsedMessage.text`): `>` quotes and the
attribution line above them, attribution lines in many languages, Outlook header blocks,
forwarded and "original message" blocks, and signatures. Pure: text in, text out. The
per-client, per-language marker table lives in `replymarkers`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailproc.mail import replymarkers as m

_MAX_JOIN = 3  # an attribution line wrapped by the client spans at most this many lines
_HEADER_WINDOW = 6  # non-blank lines after "From:" searched for the rest of a header block
_DECORATION = re.compile(r"[\s_\-=*~]*")  # rules drawn above a header block


@dataclass(frozen=True)
class ReplyText:
    """What the sender wrote now, and what ended it.

    `cut_reason` is the first thing cut after the last line of new text: "quote",
    "attribution", "forward", "original-message", "outlook-header", "signature", or "end"
    when nothing followed it.
    """

    new: str
    cut_reason: str


@dataclass
class _Acc:
    """New text gathered so far, in chunks separated by cut-out quotes."""

    chunks: list[list[str]] = field(default_factory=lambda: [[]])
    pending: str | None = None  # first cut since the last kept line of text

    def keep(self, line: str) -> None:
        if line.strip():
            self.pending = None
        self.chunks[-1].append(line)

    def has_text(self) -> bool:
        return any(line.strip() for chunk in self.chunks for line in chunk)

    def cut(self, reason: str) -> None:
        self.pending = self.pending or reason
        if self.chunks[-1]:
            self.chunks.append([])


def new_text(body: str) -> ReplyText:
    """Cut quotes, attributions, forwarded blocks and signatures from a reply body."""
    lines = [line.rstrip() for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    acc = _Acc()
    i = 0
    while i < len(lines):
        if _is_quote(lines[i]):
            _trim_loose_attribution(acc)
            acc.cut("quote")
            i += 1
            continue
        span = _attribution_span(lines, i)
        if span:
            after = _next_text(lines, i + span)
            if after < len(lines) and _is_quote(lines[after]):
                acc.cut("attribution")
                i = after
                continue
            if acc.has_text():
                acc.cut("attribution")
                break  # new text above, no `>` marks below: below is the old message
            # An attribution with nothing new above it and no quote under it: what follows is
            # what the sender wrote now (a pasted or mis-placed attribution), never dropped.
            i += span
            continue
        stop = _stop_reason(lines, i)
        if stop:
            acc.cut(stop)
            break
        acc.keep(lines[i])
        i += 1
    chunks = [text for text in map(_tidy, acc.chunks) if text]
    return ReplyText(new="\n\n".join(chunks), cut_reason=acc.pending or "end")


def _is_quote(line: str) -> bool:
    return line.lstrip().startswith(">")


def _is_command(line: str) -> bool:
    """A `#word` line is the sender's own: never read it as an attribution."""
    return m.COMMAND_START.match(line) is not None


def _next_text(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _joined(lines: list[str], start: int, count: int) -> str | None:
    """Lines start..start+count joined by spaces, or None if that crosses a blank or a quote."""
    part = lines[start : start + count]
    if len(part) < count or any(not p.strip() or _is_quote(p) for p in part):
        return None
    return " ".join(p.strip() for p in part)


def _strong_at(lines: list[str], start: int, count: int) -> bool:
    text = _joined(lines, start, count)
    return text is not None and not _is_command(lines[start]) and m.is_attribution(text)


def _attribution_span(lines: list[str], i: int) -> int:
    """How many lines a clear attribution starting at line i spans (0 if none)."""
    for count in range(1, _MAX_JOIN + 1):
        if _strong_at(lines, i, count):
            # A later start ending on the same line means line i is text, not attribution.
            later = any(_strong_at(lines, i + k, count - k) for k in range(1, count))
            return 0 if later else count
    return 0


def _trim_loose_attribution(acc: _Acc) -> None:
    """Drop a looser attribution ("Alice <a@b> wrote:") sitting just above a quote."""
    chunk = acc.chunks[-1]
    end = len(chunk)
    while end and not chunk[end - 1].strip():
        end -= 1
    for count in (1, 2):
        part = chunk[end - count : end] if end >= count else []
        if not part or any(not p.strip() or _is_command(p) for p in part):
            return
        if m.is_loose_attribution(" ".join(p.strip() for p in part)):
            del chunk[end - count :]
            acc.pending = "attribution"
            return


def _stop_reason(lines: list[str], i: int) -> str | None:
    """Why everything from line i on is not new text, or None if line i is new text."""
    line = lines[i]
    if m.is_signature(line):
        return "signature"
    marker = m.separator_reason(line)
    if marker:
        return marker
    if m.FROM_LABEL.match(line) and _is_header_block(lines, i):
        return "outlook-header"
    return None


def _is_header_block(lines: list[str], i: int) -> bool:
    """A "From:" line followed by at least two of Sent/Date, To and Subject (Outlook's block)."""
    if m.inline_header_block(lines[i]):
        return True
    found: set[str] = set()
    seen = 0
    for line in lines[i + 1 :]:
        if _is_quote(line) or seen >= _HEADER_WINDOW:
            break
        if line.strip():
            seen += 1
            found.update(m.header_labels(line))
    return len(found) >= 2


def _tidy(chunk: list[str]) -> str:
    """A chunk without blank lines or drawn rules at either end."""
    start, end = 0, len(chunk)
    while start < end and _DECORATION.fullmatch(chunk[start]):
        start += 1
    while end > start and _DECORATION.fullmatch(chunk[end - 1]):
        end -= 1
    return "\n".join(chunk[start:end])
