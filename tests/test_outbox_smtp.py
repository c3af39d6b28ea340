"""SMTP connections reused for a whole outbox flush, several at once, against real aiosmtpd.

A new connection per mail cost more than composing the mail. These tests show the reuse and
its edges: parallel connections sharing the queue, a cap on mails per connection, a server
that hangs up after a few mails (as Gmail and Microsoft 365 do), a refused recipient in the
middle of a session (which must neither lose the mails after it nor send anything twice), and
a server that cannot be reached (the rest of the flush is not tried, nothing is lost).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from harness import ADMIN, ROSTER, imap_mailbox, mail, mailproc, show, smtp_outgoing, write_config

REPORT = ("Hello, I want to report harassment in the project chat. A participant insulted me "
          "repeatedly in the public channel yesterday evening.")


def _queue_reports(dovecot, count: int) -> list[str]:
    reporters = [f"reporter{n}@example.net" for n in range(count)]
    dovecot.append_many([mail(r, f"Report {n}", REPORT) for n, r in enumerate(reporters)])
    return reporters


def _expected(reporters: list[str]) -> list[str]:
    return sorted(reporters + [m["email"] for m in ROSTER] * len(reporters))


def _recipients(smtp_server) -> list[str]:
    return sorted(r for m in smtp_server.messages for r in m.rcpt_tos)


def _one_lane(smtp_server, **smtp: object) -> dict[str, object]:
    outgoing = smtp_outgoing(smtp_server)
    outgoing["smtp"].update({"connections": 1, **smtp})
    return outgoing


def test_a_flush_reuses_its_connections(dovecot, smtp_server, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=_one_lane(smtp_server))
    reporters = _queue_reports(dovecot, 5)
    assert mailproc(config, "run", "--once").code == 0
    assert _recipients(smtp_server) == _expected(reporters)  # 20 mails
    assert smtp_server.connections == 1
    assert len({m.message["Message-ID"] for m in smtp_server.messages}) == 20


def test_parallel_connections_share_the_queue(dovecot, smtp_server, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server))  # the default: 3 at once
    reporters = _queue_reports(dovecot, 6)
    assert mailproc(config, "run", "--once").code == 0
    assert _recipients(smtp_server) == _expected(reporters)  # 24 mails, each once
    assert len({m.message["Message-ID"] for m in smtp_server.messages}) == 24
    carried = Counter(m.connection for m in smtp_server.messages)
    assert len(carried) == 3 and min(carried.values()) >= 2, carried


def test_an_unreachable_server_is_tried_once_per_flush(dovecot, smtp_server,
                                                       tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server))
    smtp_server.stop()
    reporters = _queue_reports(dovecot, 5)
    run = mailproc(config, "run", "--once")
    assert run.code == 1 and "20 mail(s) not delivered yet" in run.err  # said, and exit 1
    queue = (tmp_path / "var" / "data" / "outbox.json").read_text()
    # 20 queued; each flush (after the batch, after the tick) stops at the first failures of
    # its lanes instead of waiting for a timeout on each of the 20.
    assert queue.count('"last_error":"') <= 6 and queue.count('"attempts":0') >= 14
    smtp_server.start()
    assert mailproc(config, "run", "--once").code == 0
    assert _recipients(smtp_server) == _expected(reporters)


def test_mails_per_connection_caps_a_session(dovecot, smtp_server, tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=_one_lane(smtp_server, mails_per_connection=6))
    reporters = _queue_reports(dovecot, 4)
    assert mailproc(config, "run", "--once").code == 0
    assert _recipients(smtp_server) == _expected(reporters)  # 16 mails
    carried = Counter(m.connection for m in smtp_server.messages)
    assert sorted(carried.values()) == [4, 6, 6]


def test_a_server_that_hangs_up_after_a_few_mails(dovecot, smtp_server, tmp_path: Path) -> None:
    smtp_server.close_after(3)  # "421 too many messages" on the 4th MAIL FROM, then closed
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=_one_lane(smtp_server))
    reporters = _queue_reports(dovecot, 3)
    run = mailproc(config, "run", "--once")
    assert run.code == 0
    # All 12 delivered in this one run, each once, over four connections of three.
    assert _recipients(smtp_server) == _expected(reporters)
    assert sorted(Counter(m.connection for m in smtp_server.messages).values()) == [3, 3, 3, 3]
    queue = (tmp_path / "var" / "data" / "outbox.json").read_text()
    assert "COC-" not in queue  # nothing left waiting


def test_a_refused_recipient_does_not_break_the_session(dovecot, smtp_server,
                                                        tmp_path: Path) -> None:
    refused = ROSTER[0]["email"]
    smtp_server.reject_recipient(refused)
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=_one_lane(smtp_server))
    reporters = _queue_reports(dovecot, 3)
    run = mailproc(config, "run", "--once")
    assert run.code == 1 and "3 mail(s) not delivered yet" in run.err  # the refused ones
    expected = [r for r in _expected(reporters) if r != refused]
    assert _recipients(smtp_server) == expected
    # The mails after each refusal went on over the same connection.
    assert {m.connection for m in smtp_server.messages} == {1}
    queue = (tmp_path / "var" / "data" / "outbox.json").read_text()
    assert queue.count(f'"recipients":["{refused}"]') == 3 and "550" in queue  # kept


def test_acknowledgements_go_before_the_notices_of_their_batch(dovecot, smtp_server,
                                                               tmp_path: Path) -> None:
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=_one_lane(smtp_server))
    reporters = _queue_reports(dovecot, 4)
    assert mailproc(config, "run", "--once").code == 0
    order = [m.rcpt_tos[0] for m in smtp_server.messages]
    assert sorted(order[:4]) == sorted(reporters)  # the four acks first, then 12 notices
    assert set(order[4:]) == {m["email"] for m in ROSTER}


def test_a_server_allowing_fewer_connections_gets_all_mail_over_the_ones_it_allows(
        dovecot, smtp_server, tmp_path: Path) -> None:
    smtp_server.limit_connections(1)  # Exchange Online allows 3 per mailbox; here 1
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=smtp_outgoing(smtp_server))  # 3 lanes
    reporters = _queue_reports(dovecot, 4)
    assert mailproc(config, "run", "--once").code == 0
    assert _recipients(smtp_server) == _expected(reporters)  # all 16, each once, in one run
    assert {m.connection for m in smtp_server.messages} == {1}
    queue = (tmp_path / "var" / "data" / "outbox.json").read_text()
    assert "COC-" not in queue  # nothing left, nothing counted as a failed attempt


def test_a_recipient_refused_for_good_is_given_up_and_recorded_on_the_case(
        dovecot, smtp_server, tmp_path: Path) -> None:
    """A 550 to the reporter's address: tried a few times, then dropped from the queue; the
    case records the reporter as unreachable, and the run no longer counts it as waiting.
    A member's address refused for good reaches the chair and the admin."""
    smtp_server.reject_recipient("sam@example.net")
    smtp_server.reject_recipient(ROSTER[1]["email"])
    config = write_config(tmp_path, mailbox=imap_mailbox(dovecot),
                          outgoing=_one_lane(smtp_server))
    dovecot.append(mail("sam@example.net", "Report", "Someone harassed me at the meetup."))
    codes = [mailproc(config, "run", "--once").code for _ in range(4)]
    assert codes[-1] == 0, codes  # nothing left waiting: given up, not retried forever
    record = show(config, "COC-2026-0001")
    assert "sam@example.net" in record["unreachable"]
    assert ROSTER[1]["email"] in record["unreachable"]
    diary = mailproc(config, "diary", "COC-2026-0001").out
    assert diary.count("was refused for good by our mail server") == 2
    queue = (tmp_path / "var" / "data" / "outbox.json").read_text()
    assert "sam@example.net" not in queue
    told = [m for m in smtp_server.messages if ADMIN in m.rcpt_tos]
    assert any(ROSTER[1]["name"] in m.message.get_body(("plain",)).get_content()
               and "refused for good" in m.message.get_body(("plain",)).get_content()
               for m in told)
    assert not any("sam@example.net" in m.rcpt_tos for m in smtp_server.messages)
