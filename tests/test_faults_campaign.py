"""kill -9 at random points over a mixed mailbox: the short campaign (the long one is
`bench/faults.py --rounds 50 --messages 2000`).

300 mixed messages (reports in seven languages, bulk, spam, auto-replies, bounces, list mail,
re-deliveries, unreadable mail) wait in a real Dovecot; the real daemon sends over a real SMTP
server and is killed with SIGKILL (with its reader process) six times at seeded random moments.
After every kill: no message has two outcomes, no report opened two cases, the diary chains
verify, no reporter has two different acknowledgements. At the end every message has exactly
one outcome in the folder it names, and every reporter and member got their mail.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from faultkit import Campaign, mixed_mailbox
from servers import DovecotServer, SmtpServer

MESSAGES = 300
ROUNDS = 6
SEED = 20261203


@pytest.mark.slow
def test_random_sigkills_over_a_mixed_mailbox_lose_and_repeat_nothing(
        dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path) -> None:
    campaign = Campaign(tmp_path, dovecot, smtp_server, mixed_mailbox(MESSAGES, SEED),
                        random.Random(SEED))
    for number in range(1, ROUNDS + 1):
        result = campaign.kill_round(number)
        assert result.violations == [], (result, campaign.daemon_errors()[-5:])
    progress = [r.done_after for r in campaign.rounds]
    # The kills fell in the middle of the work, not all before or after it.
    assert sum(1 for p in progress if 0 < p < MESSAGES) >= 3, progress
    assert campaign.finish() == [], campaign.daemon_errors()[-5:]
    assert campaign.daemon_errors() == []
