"""A seeded year of a committee, run through the real daemon with only the clock set (no
tests here: the plan that test_transparency.py and test_metrics.py share).

Twenty reports arrive over 2026 (one every 18 days), by mail in English and Spanish, one on
behalf of a friend, one taken in person (`#intake`), one held in escrow; the committee
answers by mail: `#clear`, `#lead me`, `#category`, `#propose … #vote yes`, a second
member's `#vote yes`, `#close … public: …` (with the lead's token: no confirmation round
trip). Four sponsorship mails are routed away and one out-of-office reply dropped. Each step
is one in-process `mailproc --now T run --once` over a Maildir with the file outbox. The plan
(`PLANS`, built from a seeded random generator) is what the tests compute their expected
figures from, by hand.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from harness import REPO, ROSTER, mail, mailproc, write_config

from mailproc.adapters.maildir import deliver

D0 = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
END = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)  # when the figures are asked for
TRUSTED = b"Authentication-Results: mx.example.org; dmarc=pass header.from=example.org\n"
TOKEN_ENV, TOKEN = "MAILPROC_TEST_BASHIR_TOKEN", "bashir-token-0c1f9e"
ALICE, BASHIR, CHEN = "alice@example.org", "bashir@example.org", "chen@example.org"
ROUTES = {"sponsorship": "sponsors@example.org", "registration": "registration@example.org",
          "travel-grants": "grants@example.org", "speakers": "program@example.org",
          "press": "press@example.org", "general": "info@example.org"}

# (reporter, address, where, category, what happens). Outcomes: warning / ban (a passed
# motion with those consequences), not-a-violation (a passed motion saying so), no-action
# (closed without a motion), open (a lead, nothing decided), untouched, escrow, intake
# (taken in person, still open), behalf (on behalf of a friend, warned).
PEOPLE = [
    ("Ingrid Solberg", "ingrid@example.net", "in the project chat", "harassment", "warning"),
    ("Tomasz Wielgus", "tomasz@example.net", "the Matrix chat room", "harassment", "warning"),
    ("Lucía Gómez", "lucia@example.net", "en el chat del proyecto", "insults",
     "not-a-violation"),
    ("Amara Okonkwo", "amara@example.net", "at the conference venue", "harassment", "ban"),
    ("Priya Raghunathan", "priya@example.net", "the mailing list", "insults", "no-action"),
    ("Henrik Dahlberg", "henrik@example.net", "in the project chat", "harassment", "warning"),
    ("Noor Haddad", "noor@example.net", "at the meetup", "stalking", "escrow"),
    ("Kwame Asante", "kwame@example.net", "the issue tracker on GitHub", "insults",
     "not-a-violation"),
    ("Sofía Restrepo", "sofia@example.net", "en la conferencia", "harassment", "warning"),
    ("Yuki Tanabe", "yuki@example.net", "the mailing list", "insults", "no-action"),
    ("Olusegun Bello", "olusegun@example.net", "in the project chat", "discrimination",
     "warning"),
    ("Marta Kowalczyk", "marta@example.net", "at the conference venue", "discrimination",
     "ban"),
    ("Dmitri Volkov", "dmitri@example.net", "the mailing list", "doxxing", "open"),
    ("Fatima Zahra", "fatima@example.net", "in the project chat", "harassment", "behalf"),
    ("Ravi Chandran", "ravi@example.net", "at the conference venue", "insults", "warning"),
    ("Elif Yildirim", "elif@example.net", "in the project chat", "discrimination",
     "not-a-violation"),
    ("Tom Okafor", None, "hall B of the venue", "harassment", "intake"),
    ("Beatriz Souza", "beatriz@example.net", "the issue tracker on GitHub", "harassment",
     "open"),
    ("Nadia Petrova", "nadia@example.net", "in the project chat", "insults", "untouched"),
    ("Gareth Pryce", "gareth@example.net", "at the meetup", "harassment", "warning"),
]
REPORTED = ["Quentin Marlowe", "Bertrand Vasquez", "Cornelius Abernathy", "Desmond Fairweather"]
PUBLIC = {"warning": "A participant was warned after repeated unwanted comments.",
          "ban": "A participant was banned from future events after physical harassment.",
          "not-a-violation": "A heated technical disagreement was found not to break the code.",
          "no-action": "A complaint about tone was closed without action.",
          "behalf": "A participant was warned after unwanted messages to a newcomer."}


@dataclass(frozen=True)
class Plan:
    number: int  # COC-2026-NNNN
    reporter: str
    email: str | None
    where: str
    category: str
    outcome: str
    received: datetime
    act: float | None  # hours after receipt: #clear, #lead me, #category (+ #propose)
    vote: float | None  # hours after receipt: the second vote (the motion passes)
    close: float | None  # hours after receipt: #close

    @property
    def case_id(self) -> str:
        return f"COC-2026-{self.number:04d}"

    @property
    def motion(self) -> bool:
        return self.outcome in ("warning", "ban", "not-a-violation", "behalf")

    @property
    def decision(self) -> float | None:
        return self.vote if self.motion else self.close

    @property
    def closed(self) -> bool:
        return self.close is not None


def plans(seed: int = 16) -> list[Plan]:
    rng = random.Random(seed)
    out = []
    for n, (who, email, where, category, outcome) in enumerate(PEOPLE):
        received = D0 + timedelta(days=18 * n, hours=rng.choice([0, 3, 6]))
        act = None if outcome in ("untouched", "escrow") else (
            0.0 if outcome == "intake" else float(rng.choice([2, 5, 9, 20, 30, 50])))
        vote = close = None
        if act is not None and outcome not in ("open", "intake", "no-action"):
            vote = act + rng.choice([24, 48, 72, 120])
        if outcome == "no-action":
            assert act is not None
            close = act + rng.choice([48, 96, 200])
        elif vote is not None:
            close = vote + rng.choice([24, 96, 200])
        out.append(Plan(n + 1, who, email, where, category, outcome, received, act, vote,
                        close))
    return out


PLANS = plans()


def _report_text(plan: Plan) -> str:
    reported = REPORTED[plan.number % len(REPORTED)]
    if plan.outcome == "intake":
        return (f"#intake\n#lead me\nA participant told me at the venue that someone grabbed "
                f"her arm.\n\nReported person: {reported}\nWhere: {plan.where}")
    if plan.email and plan.where.startswith("en "):
        return (f"Quiero denunciar acoso: sus mensajes no paran y me insulta.\n\nDónde: "
                f"{plan.where}\nPersona denunciada: {reported}\n\n{plan.reporter}")
    lead = ("I am writing on behalf of my friend Zainab Mensah, who was harassed. "
            if plan.outcome == "behalf" else "I want to report harassment. ")
    hold = (" Please hold this report in escrow until someone else reports him."
            if plan.outcome == "escrow" else "")
    return (f"{lead}He keeps sending me unwanted messages and insulting me.{hold}\n\n"
            f"Where: {plan.where}\nReported person: {reported}\n\n{plan.reporter}")


class Year:
    """The committee's mailbox and the daemon, stepped through the plan."""

    def __init__(self, root: Path) -> None:
        self.root, self.box = root, root / "var" / "mail"
        roster = [dict(m) for m in ROSTER]
        roster[1]["token"] = {"env": TOKEN_ENV}
        self.config = write_config(
            root, mailbox={"maildir": str(self.box), "reader_process": False},
            auth={"trusted_authserv_ids": ["mx.example.org"]}, roster=roster, routes=ROUTES,
            triage_rules=str(REPO / "rules" / "triage.yaml"),
            consequences=str(REPO / "rules" / "consequences.yaml"))

    def run(self, when: datetime) -> None:
        os.environ[TOKEN_ENV] = TOKEN
        done = mailproc(self.config, "--now", when.isoformat(), "run", "--once")
        assert done.code == 0, done.err

    def notice(self, member: str, case_id: str) -> str:
        """The Message-ID of the new-case notice `member` got for the case."""
        for path in sorted((self.root / "var" / "outbox").glob("*-notice-*.eml")):
            msg = message_from_bytes(path.read_bytes(), policy=default)
            if member in str(msg["To"]) and case_id in str(msg["Subject"]):
                return str(msg["Message-ID"]).strip("<>")
        raise AssertionError(f"no notice of {case_id} to {member}")

    def member(self, who: str, case_id: str, text: str, token: bool = False) -> None:
        # By token, not by the receiving server's DMARC verdict: only a token spares #confirm.
        headers = {"X-Mailproc-Token": TOKEN} if token else None
        raw = mail(who, f"Re: [{case_id}]", text, headers=headers,
                   in_reply_to=self.notice(who, case_id))
        deliver(self.box, (b"" if token else TRUSTED) + raw)

    def step(self, when: datetime, actions: list[tuple[Plan, str]]) -> None:
        for plan, what in actions:
            self._act(plan, what)
        self.run(when)

    def _act(self, plan: Plan, what: str) -> None:
        if what == "report" and plan.outcome == "intake":
            deliver(self.box, TRUSTED + mail(ALICE, "In-person report", _report_text(plan)))
        elif what == "report":
            deliver(self.box, mail(plan.email or "", "Report", _report_text(plan),
                                   name=plan.reporter))
        elif what == "act":
            motion = {"warning": "violation=yes consequences=warning A written warning.",
                      "behalf": "violation=yes consequences=warning A written warning.",
                      "ban": "violation=yes consequences=event-ban,no-direct-messages Ban.",
                      "not-a-violation": "violation=no consequences=none No violation."}
            propose = (f"\n#propose {motion[plan.outcome]}\n#vote yes"
                       if plan.outcome in motion else "")
            # Chen first (the oldest mail is read first): Bashir's vote is then one of two, and
            # the motion passes only with Chen's, at the `vote` step.
            self.member(CHEN, plan.case_id, "#clear")
            self.member(BASHIR, plan.case_id, f"#clear\n#lead me\n#category {plan.category}"
                        + propose)
        elif what == "vote":
            self.member(CHEN, plan.case_id, "#vote yes")
        elif what == "close":
            public = PUBLIC.get(plan.outcome, "")
            self.member(BASHIR, plan.case_id, f"#close Done.\npublic: {public}", token=True)


def build(root: Path) -> Year:
    """Every step of the plan, in time order (steps at the same moment share one run)."""
    year = Year(root)
    events: dict[datetime, list[tuple[Plan, str]]] = {}
    for plan in PLANS:
        events.setdefault(plan.received, []).append((plan, "report"))
        for what, hours in (("act", plan.act), ("vote", plan.vote), ("close", plan.close)):
            if hours is not None and not (plan.outcome == "intake" and what == "act"):
                events.setdefault(plan.received + timedelta(hours=hours), []).append(
                    (plan, what))
    for n in range(4):  # sponsorship mail, routed away
        deliver(year.box, mail(f"partner{n}@example.com", f"Sponsorship for 2026 ({n})",
                               "We would like to sponsor your conference. Could you send us "
                               "the sponsorship prospectus?"))
    deliver(year.box, mail("away@example.com", "Out of office", "I am away until Monday.",
                           headers={"Auto-Submitted": "auto-replied"}))
    year.run(D0 + timedelta(days=10, hours=1))
    for when in sorted(events):
        year.step(when, events[when])
    return year
