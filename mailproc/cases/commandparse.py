"""The command grammar of committee replies: `#word args` lines in the new text of a reply.

Owns only the reading: which lines of what the sender wrote now are commands, which are
discussion, which were ignored, and the member's `#token`. What a command does (and who may
give it) is decided elsewhere. Quoted text never reaches the grammar (`replytext.new_text`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mailproc.mail.replytext import new_text

MAX_COMMAND_LINES = 20
# "#" then a letter, then letters, digits, hyphens; then a space or the end of the line. Full-
# width "＃vote" (Japanese and Chinese input methods) is read as "#vote".
_COMMAND = re.compile(r"\s*[#＃]([A-Za-zＡ-Ｚａ-ｚ][A-Za-z0-9Ａ-Ｚａ-ｚ０-９\-－]*)(?:\s+(.*))?")
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Command:
    """One command line: `word` lower case without '#', `args` as written, `line` for the echo."""

    word: str
    args: str
    line: str


@dataclass(frozen=True)
class ParsedReply:
    """The commands, discussion and token of one reply's new text."""

    commands: tuple[Command, ...]
    discussion: str  # new text minus command and #token lines, stripped
    ignored: tuple[str, ...]  # command lines beyond MAX_COMMAND_LINES or after #end
    token: str | None  # the value of the first "#token VALUE" line; never in commands


def read_command(line: str) -> Command | None:
    """The command on one line, or None if the line is text."""
    match = _COMMAND.fullmatch(line)
    if match is None:
        return None
    word = unicodedata.normalize("NFKC", match.group(1)).lower()
    return Command(word=word, args=(match.group(2) or "").strip(), line=line.strip())


def parse_reply(body: str) -> ParsedReply:
    """Read commands, discussion and token from the new text of a reply body."""
    commands: list[Command] = []
    ignored: list[str] = []
    text: list[str] = []
    token: str | None = None
    ended = False
    for line in new_text(body).new.split("\n"):
        command = read_command(line)
        if command is None:
            if not ended:
                text.append(line)
        elif command.word == "token":
            # The secret is never echoed: not a command, not discussion, not even "ignored".
            if not ended and token is None and command.args:
                token = command.args
        elif ended:
            ignored.append(command.line)
        elif command.word == "end":
            ended = True
        elif len(commands) >= MAX_COMMAND_LINES:
            ignored.append(command.line)
        else:
            commands.append(command)
    discussion = _BLANK_RUNS.sub("\n\n", "\n".join(text)).strip()
    return ParsedReply(tuple(commands), discussion, tuple(ignored), token)
