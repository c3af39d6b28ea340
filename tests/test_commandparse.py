"""The command grammar: the reply corpus read end to end, then one grammar rule per test.

The corpus (tests/data/replies/, see test_replytext.py) says for each reply which commands a
member gave, what discussion would be relayed, the #token and the ignored lines. Its quoted
parts all carry old commands: none of them may appear here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailproc.cases.commandparse import (
    MAX_COMMAND_LINES,
    Command,
    ParsedReply,
    parse_reply,
    read_command,
)
from mailproc.mail.htmltext import html_to_text

REPLIES = Path(__file__).parent / "data" / "replies"
CASES = sorted(REPLIES.glob("*.json"))


def load_case(path: Path) -> tuple[str, dict[str, Any]]:
    """The body of one corpus reply (HTML converted as parse does) and its expected values."""
    html = path.with_suffix(".html")
    body = html_to_text(html.read_text()) if html.exists() else path.with_suffix(".txt").read_text()
    return body, json.loads(path.read_text())


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus(path: Path) -> None:
    body, expected = load_case(path)
    got = parse_reply(body)
    assert [[c.word, c.args] for c in got.commands] == expected["commands"]
    assert got.discussion == expected["discussion"]
    assert got.token == expected["token"]
    assert list(got.ignored) == expected["ignored"]


def test_old_commands_in_quotes_never_run() -> None:
    body, _ = load_case(REPLIES / "gmail-en-quoted-commands.json")
    assert "#vote yes" in body and "#close" in body  # the quote really carries them
    got = parse_reply(body)
    assert got.commands == (Command("vote", "no", "#vote no"),)
    assert "#close" not in got.discussion and "logs show it" not in got.discussion


# --------------------------------------------------------------------------- grammar


def test_command_words_are_case_insensitive_and_args_keep_their_case() -> None:
    got = parse_reply("#VOTE Yes\n#Lead Ana María\n  #reply We Will Answer By Friday.  ")
    assert got.commands == (
        Command("vote", "Yes", "#VOTE Yes"),
        Command("lead", "Ana María", "#Lead Ana María"),
        Command("reply", "We Will Answer By Friday.", "#reply We Will Answer By Friday."),
    )


def test_words_may_hold_digits_and_hyphens() -> None:
    assert read_command("#status awaiting-reported") == Command(
        "status", "awaiting-reported", "#status awaiting-reported"
    )
    assert read_command("#re-open now") == Command("re-open", "now", "#re-open now")
    assert read_command("#p2") == Command("p2", "", "#p2")


@pytest.mark.parametrize(
    "line",
    [
        "I think #vote yes is right",  # "#" inside a sentence
        "#1 thing to check",  # digit after "#"
        "## Notes",  # markdown heading
        "# Notes",
        "#",
        "#vote:yes",  # the word must end at a space or the line's end
        "#-dash",
        "> #vote yes",
    ],
)
def test_lines_that_are_not_commands(line: str) -> None:
    assert read_command(line) is None
    got = parse_reply(f"intro\n{line}")
    assert got.commands == ()


def test_non_command_lines_stay_in_the_discussion() -> None:
    got = parse_reply("#clear\nSee ticket #1.\n## Notes\n#1 call the venue")
    assert got.commands == (Command("clear", "", "#clear"),)
    assert got.discussion == "See ticket #1.\n## Notes\n#1 call the venue"


def test_full_width_hash_from_japanese_input_is_a_command() -> None:
    got = parse_reply("＃ｃｌｅａｒ\n＃vote　yes")
    assert [(c.word, c.args) for c in got.commands] == [("clear", ""), ("vote", "yes")]


def test_at_most_twenty_command_lines() -> None:
    lines = [f"#note entry {n}" for n in range(1, 26)]
    got = parse_reply("\n".join(lines))
    assert MAX_COMMAND_LINES == 20
    assert [c.args for c in got.commands] == [f"entry {n}" for n in range(1, 21)]
    assert got.ignored == tuple(lines[20:])
    assert got.discussion == ""


def test_end_stops_parsing_commands_and_text() -> None:
    got = parse_reply("#clear\nI'm in.\n#END\n#close\nold notes\n#vote yes\n#end")
    assert got == ParsedReply(
        commands=(Command("clear", "", "#clear"),),
        discussion="I'm in.",
        ignored=("#close", "#vote yes", "#end"),
        token=None,
    )


def test_end_stops_parsing_even_past_the_limit() -> None:
    lines = [f"#note {n}" for n in range(22)] + ["#end", "text after end"]
    got = parse_reply("\n".join(lines))
    assert len(got.commands) == MAX_COMMAND_LINES
    assert got.ignored == ("#note 20", "#note 21")
    assert got.discussion == ""


def test_token_is_read_and_never_echoed() -> None:
    got = parse_reply("#TOKEN s3cr3t-Value\n#clear\nThanks.\n#token other-value")
    assert got.token == "s3cr3t-Value"
    assert got.commands == (Command("clear", "", "#clear"),)
    assert "s3cr3t" not in got.discussion and "other-value" not in got.discussion
    assert got.ignored == ()


def test_token_does_not_count_towards_the_limit() -> None:
    lines = ["#token abc"] + [f"#note {n}" for n in range(20)]
    got = parse_reply("\n".join(lines))
    assert got.token == "abc"
    assert len(got.commands) == 20 and got.ignored == ()


def test_token_after_end_is_not_read_nor_listed() -> None:
    got = parse_reply("#clear\n#end\n#token abc")
    assert got.token is None
    assert got.ignored == ()


def test_empty_token_line_is_dropped() -> None:
    got = parse_reply("#token\n#clear")
    assert got.token is None
    assert got.commands == (Command("clear", "", "#clear"),)
    assert got.discussion == ""


def test_token_in_a_quote_is_not_read() -> None:
    got = parse_reply(
        "#clear\n\nOn Mon, 23 Nov 2026 at 09:14, Bob <bob@example.org> wrote:\n"
        "> #token bobs-secret\n"
    )
    assert got.token is None


def test_discussion_closes_gaps_left_by_commands() -> None:
    got = parse_reply("#clear\n\nFirst point.\n\n#vote yes\n\nSecond point.\n")
    assert got.discussion == "First point.\n\nSecond point."


def test_empty_reply() -> None:
    assert parse_reply("") == ParsedReply((), "", (), None)
