"""The deadline engine on a simulated clock: a month of a case's life stepped hour by hour, each
due mail "sent" (its key recorded) when it comes, so the tests see what the committee and the
reporter would receive and when. Pure: no I/O, the clock is the loop variable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailproc.config.settings import Config
from mailproc.deadlines.clocks import Due, deadlines, pending, sla
from mailproc.deadlines.due import digest_context, digest_due, due, mail_context, statement_context
from mailproc.mail.templates import SAMPLE_CONTEXTS, Renderer
from mailproc.model.parsed import CaseStatus
from mailproc.model.records import Case, Followup, Motion, Owners, Reporter
from mailproc.service.health import overdue

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
REPORTER_TEMPLATES = ("update", "searching", "outcome")
COMMITTEE_TEMPLATES = ("reminder", "escalation", "digest", "statement")
LANGUAGES = ("en", "es", "fr", "de", "pt")

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE, BASHIR, CHEN, DANA = ("alice@example.org", "bashir@example.org", "chen@example.org",
                             "dana@example.org")
REPORTER_EMAIL = "sam.rivera@mail.example"

Hook = Callable[[Case, datetime], None]


def config(**deadlines: Any) -> Config:
    return Config.model_validate({
        "conduct_address": "conduct@example.org", "timezone": "Europe/Berlin",
        "mailbox": {"maildir": "/nonexistent/mail"},
        "outgoing": {"outbox_dir": "/nonexistent/outbox"},
        "roster": [{"name": "Alice Moreno", "email": ALICE, "chair": True},
                   {"name": "Bashir Rahimi", "email": BASHIR},
                   {"name": "Chen Wei", "email": CHEN},
                   {"name": "Dana Ortiz", "email": DANA, "aliases": ["dana@home.example"]}],
        "deadlines": deadlines,
    })


def new_case(case_id: str = "COC-2026-0001", **changes: Any) -> Case:
    case = Case(id=case_id, code_name="amber falcon", received_at=T0, acknowledged_at=T0,
                language="es", subject="Lo que pasó en el sprint",
                reporter=Reporter(name="Sam Rivera", email=REPORTER_EMAIL))
    return case.model_copy(update=changes)


def handled(**changes: Any) -> Case:
    """A case whose first action happened after two hours: cleared, lead and secondary."""
    at = T0 + timedelta(hours=2)
    fields: dict[str, Any] = {
        "cleared": [ALICE, BASHIR, CHEN], "owners": Owners(lead=BASHIR, secondary=CHEN),
        "status": CaseStatus.INVESTIGATING, "events": {"first-cleared": at, "lead-named": at}}
    return new_case(**{**fields, **changes})


def simulate(case: Case, cfg: Config, hours: int, *, start: int = 0,
             hook: Hook | None = None) -> list[tuple[float, Due]]:
    """Tick every hour from `start` to `hours`; send (record) everything due; (day, Due)."""
    log: list[tuple[float, Due]] = []
    for hour in range(start, hours + 1):
        now = T0 + timedelta(hours=hour)
        if hook is not None:
            hook(case, now)
        for item in due([case], cfg, now):
            case.sent.update(dict.fromkeys((item.key, *item.marks), now))  # as the tick does
            log.append((hour / 24, item))
    return log


def days_of(log: list[tuple[float, Due]], kind: str) -> list[float]:
    return [day for day, item in log if item.kind == kind]


# --------------------------------------------------------------------------- reporter updates


def test_reporter_gets_an_update_every_week_while_the_case_is_open() -> None:
    case = handled()
    log = simulate(case, config(), 30 * 24)
    assert days_of(log, "reporter-update") == [7, 14, 21, 28]
    updates = [item for _, item in log if item.kind == "reporter-update"]
    assert [u.key for u in updates] == [f"reporter-update:{n}" for n in (1, 2, 3, 4)]
    assert all(u.to == ("reporter",) and u.template == "update" for u in updates)
    assert deadlines(case, config())["reporter-update"] == T0 + timedelta(days=35)


def test_a_manual_update_restarts_the_weekly_count() -> None:
    case = handled(events={"first-cleared": T0, "lead-named": T0,
                           "last-reporter-update": T0 + timedelta(days=3)})
    log = simulate(case, config(), 20 * 24)
    assert days_of(log, "reporter-update") == [10, 17]


def test_daily_updates_while_searching_and_none_after() -> None:
    def hook(case: Case, now: datetime) -> None:
        if now == T0 + timedelta(days=2):
            case.status = CaseStatus.SEARCHING
            case.events["status-since"] = now
        if now == T0 + timedelta(days=6, hours=12):
            case.status = CaseStatus.INVESTIGATING

    case = handled()
    log = simulate(case, config(), 12 * 24, hook=hook)
    assert days_of(log, "searching-update") == [3, 4, 5, 6]
    assert {item.template for _, item in log if item.kind == "searching-update"} == {"searching"}
    assert deadlines(case, config())["searching"] is None


# --------------------------------------------------------------------------- committee


def test_reminder_then_escalation_lead_secondary_chair_each_once() -> None:
    case = handled()
    log = simulate(case, config(reminder_before_hours=12), 30 * 24)
    committee = [(day, item.key, item.to) for day, item in log
                 if item.kind in ("reminder", "escalation")]
    assert committee == [
        (6.5, "reminder:decision", (BASHIR, CHEN)),
        (7.0, "escalation:decision:lead", (BASHIR,)),
        (7.5, "escalation:decision:secondary", (CHEN,)),
        (8.0, "escalation:decision:chair", (ALICE,)),
    ]


def test_escalation_stops_once_the_decision_is_made() -> None:
    def hook(case: Case, now: datetime) -> None:
        if now == T0 + timedelta(days=7, hours=6):
            case.motions.append(Motion(number=1, text="A warning.", proposed_by=BASHIR,
                                       at=now, status="passed", decided_at=now))

    log = simulate(handled(), config(), 30 * 24, hook=hook)
    assert [item.key for _, item in log if item.kind == "escalation"] == [
        "escalation:decision:lead"]


def test_a_case_nobody_cleared_escalates_to_the_chair() -> None:
    log = simulate(new_case(), config(first_action_hours=24, reminder_before_hours=6), 3 * 24)
    first = [(day * 24, item.kind, item.to) for day, item in log if item.deadline == "first-action"]
    assert first == [
        (18, "reminder", (ALICE, BASHIR, CHEN, DANA)),
        (24, "first-action-escalation", (ALICE,)),
    ]


def test_a_conflicted_chair_is_skipped_for_the_other_members() -> None:
    log = simulate(new_case(conflicts=[ALICE]), config(), 2 * 24)
    escalations = [item for _, item in log if item.kind == "first-action-escalation"]
    assert [e.to for e in escalations] == [(BASHIR, CHEN, DANA)]


def test_conflicted_members_never_receive_anything() -> None:
    # Dana declared a conflict under her alias and is (wrongly) still the secondary.
    case = handled(conflicts=["Dana@Home.example"], owners=Owners(lead=BASHIR, secondary=DANA))
    case.cleared.append(DANA)
    log = simulate(case, config(), 30 * 24)
    recipients = {to for _, item in log for to in item.to}
    assert DANA not in recipients
    assert {BASHIR, ALICE} <= recipients


def test_event_mode_on_one_case_gives_a_half_day_first_action_target() -> None:
    case = new_case(events={"event-mode": T0})
    assert deadlines(case, config())["first-action"] == T0 + timedelta(hours=12)
    assert deadlines(new_case(), config(event_mode=True))["first-action"] == T0 + timedelta(
        hours=12)
    assert deadlines(new_case(), config())["first-action"] == T0 + timedelta(hours=24)


# --------------------------------------------------------------------------- escrow, close


def test_escrow_pauses_every_clock_by_the_time_spent_escrowed() -> None:
    start, end = T0 + timedelta(hours=12), T0 + timedelta(days=3, hours=12)

    def hook(case: Case, now: datetime) -> None:
        if now == start:
            case.status = CaseStatus.ESCROWED
            case.escrow_periods.append([start, None])
        if now == end:
            case.status = CaseStatus.NEW
            case.escrow_periods[-1][1] = end

    case = new_case()
    log = simulate(case, config(reminder_before_hours=0), 20 * 24, hook=hook)
    assert not [item for day, item in log if 0.5 <= day < 3.5]
    assert days_of(log, "first-action-escalation") == [4]  # 24 h of unescrowed time
    assert days_of(log, "reporter-update") == [10, 17]
    assert deadlines(case, config())["decision"] == T0 + timedelta(days=10)


def test_while_escrowed_the_deadlines_are_paused() -> None:
    case = new_case(status=CaseStatus.ESCROWED, escrow=True, escrow_periods=[[T0, None]])
    shown = deadlines(case, config())
    assert shown["acknowledge"] == T0 + timedelta(hours=24)
    assert shown["first-action"] is None and shown["decision"] is None
    assert due([case], config(), T0 + timedelta(days=40)) == []


def test_after_close_only_the_outcome_mail_once() -> None:
    closed_at = T0 + timedelta(days=9)

    def hook(case: Case, now: datetime) -> None:
        if now == closed_at:
            case.status, case.closed_at = CaseStatus.CLOSED, now
            case.decision = "A written warning."

    case = handled()
    log = simulate(case, config(), 30 * 24, hook=hook)
    after = [(day, item.kind, item.to) for day, item in log if day >= 9]
    assert after == [(9, "outcome", ("reporter",))]
    shown = deadlines(case, config())
    assert shown["reporter-update"] is None and shown["searching"] is None
    assert shown["decision"] == T0 + timedelta(days=7)  # met by the close: still shown


def test_anonymous_reporters_get_nothing() -> None:
    def hook(case: Case, now: datetime) -> None:
        if now == T0 + timedelta(days=1):
            case.status, case.events["status-since"] = CaseStatus.SEARCHING, now
        if now == T0 + timedelta(days=20):
            case.status, case.closed_at = CaseStatus.CLOSED, now

    case = handled(reporter=Reporter(anonymous=True))
    log = simulate(case, config(), 30 * 24, hook=hook)
    assert not [item for _, item in log if "reporter" in item.to]
    assert log  # the committee still hears about its deadlines
    assert deadlines(case, config())["reporter-update"] is None


# --------------------------------------------------------------------------- restart


def test_after_ten_days_down_each_overdue_action_comes_once() -> None:
    case, cfg = handled(), config()
    simulate(case, cfg, 24)
    after_restart = T0 + timedelta(days=11)
    first = due([case], cfg, after_restart)
    assert sorted(item.key for item in first) == ["escalation:decision:lead", "reporter-update:1"]
    for item in first:
        case.sent[item.key] = after_restart
    assert due([case], cfg, after_restart) == []
    assert due([case], cfg, after_restart + timedelta(hours=1)) == []
    log = simulate(case, cfg, 30 * 24, start=11 * 24 + 1)
    keys = [item.key for _, item in log]
    assert len(keys) == len(set(keys))
    assert days_of(log, "reporter-update") == [14, 21, 28]
    assert [(d, item.key) for d, item in log if item.kind == "escalation"] == [
        (11.5, "escalation:decision:secondary"), (12.0, "escalation:decision:chair")]


def test_after_a_long_outage_only_the_latest_update_is_due() -> None:
    def hook(case: Case, now: datetime) -> None:
        if now == T0 + timedelta(days=1):
            case.status, case.events["status-since"] = CaseStatus.SEARCHING, now

    case, cfg = handled(), config()
    simulate(case, cfg, 24, hook=hook)
    items = due([case], cfg, T0 + timedelta(days=24, hours=1))
    reporter = sorted(item.key for item in items if item.to == ("reporter",))
    assert reporter == ["reporter-update:3", "searching-update:20260303T090000:23"]


# --------------------------------------------------------------------------- SLA


def test_sla_records_met_and_missed() -> None:
    case = new_case(events={"first-cleared": T0 + timedelta(hours=20),
                            "lead-named": T0 + timedelta(hours=30)})
    now = T0 + timedelta(days=3)
    record = sla(case, config(), now)
    assert record["acknowledge"] == {"due": (T0 + timedelta(hours=24)).isoformat(),
                                     "met_at": T0.isoformat(), "missed": False}
    assert record["first-action"]["met_at"] == (T0 + timedelta(hours=30)).isoformat()
    assert record["first-action"]["missed"] is True
    assert record["decision"]["missed"] is None and record["reporter-update"]["missed"] is None
    later = T0 + timedelta(days=8)
    assert sla(case, config(), later)["reporter-update"]["missed"] is True
    case.sent["reporter-update:1"] = T0 + timedelta(days=7)
    case.motions.append(Motion(number=1, text="x", proposed_by=BASHIR, at=later,
                               status="passed", decided_at=T0 + timedelta(days=6)))
    record = sla(case, config(), later)
    assert record["reporter-update"]["missed"] is False
    assert record["decision"] == {"due": (T0 + timedelta(days=7)).isoformat(),
                                  "met_at": (T0 + timedelta(days=6)).isoformat(),
                                  "missed": False}
    assert "reporter-update" not in sla(new_case(reporter=Reporter(anonymous=True)), config(), now)


def test_a_report_with_no_address_owes_no_acknowledgement() -> None:
    """Taken in person (#intake) with no address: nothing to acknowledge, nothing missed."""
    case = new_case(acknowledged_at=None, reporter=Reporter(name="Tom Okafor"))
    assert "acknowledge" not in pending(case, config())
    assert sla(case, config(), T0 + timedelta(days=3))["acknowledge"]["missed"] is None
    # With an address the same case owes one, and it is overdue after a day.
    owed = new_case(acknowledged_at=None)
    assert pending(owed, config())["acknowledge"] == T0 + timedelta(hours=24)


# --------------------------------------------------------------------------- digest


def test_digest_lists_cases_notices_overdue_and_routed_mail() -> None:
    now = T0 + timedelta(days=8)
    mine = handled(sent={"reporter-update:1": T0 + timedelta(days=7)})
    mine.relayed = {ALICE: [now - timedelta(days=2), now - timedelta(hours=1)]}
    mine.followups = [Followup(at=now - timedelta(days=3), sha256="a", text="older"),
                      Followup(at=now - timedelta(hours=5), sha256="b", text="HE IS HERE")]
    unanswered = new_case("COC-2026-0002", received_at=T0 + timedelta(days=7))
    conflicted = new_case("COC-2026-0003", conflicts=[ALICE])
    closed = new_case("COC-2026-0004", status=CaseStatus.CLOSED, closed_at=T0)
    routed = [{"key": "k7", "domain": "sponsor.example", "subject": "Sponsorship",
               "rule": "route-sponsorship", "at": "2026-03-09 10:00 CET"}]
    ctx = digest_context(ALICE, [closed, conflicted, unanswered, mine], routed, config(), now)
    assert ctx is not None
    assert ctx["cleared"] == [{"id": "COC-2026-0001", "code_name": "amber falcon",
                               "status": "investigating",
                               "next_deadline": "status update to the reporter",
                               "next_deadline_at": "2026-03-16 10:00 CET",
                               "reporter_wrote": 1, "you_relayed": 1}]
    assert ctx["notices"] == [{"id": "COC-2026-0002", "code_name": "amber falcon",
                               "received_at": "2026-03-09 10:00 CET"}]
    assert ctx["overdue"] == [{"id": "COC-2026-0001", "code_name": "amber falcon",
                               "deadline": "decision", "due_at": "2026-03-09 10:00 CET",
                               "overdue_for": "24 hours", "holder": "lead: Bashir Rahimi"}]
    assert ctx["routed"] == [{**routed[0], "reclaim": "#reclaim k7"}]
    assert "Sam" not in str(ctx) and REPORTER_EMAIL not in str(ctx)
    body = Renderer(TEMPLATES).render("digest", "en", ctx).body
    assert "#reclaim k7" in body and "COC-2026-0003" not in body
    assert "the reporter wrote 1 message in the last day" in body and "HE IS HERE" not in body
    assert "you wrote 1 message passed to the other cleared members" in body


def test_digest_is_none_when_there_is_nothing_to_say() -> None:
    now = T0 + timedelta(days=1)
    closed = new_case(status=CaseStatus.CLOSED, closed_at=T0, cleared=[ALICE])
    assert digest_context(ALICE, [closed], [], config(), now) is None
    assert digest_context("stranger@example.net", [new_case()], [], config(), now) is None


@pytest.mark.parametrize(("now", "last", "expected"), [
    (datetime(2026, 1, 10, 6, 59, tzinfo=UTC), datetime(2026, 1, 9, 7, 0, tzinfo=UTC), False),
    (datetime(2026, 1, 10, 7, 0, tzinfo=UTC), datetime(2026, 1, 9, 7, 0, tzinfo=UTC), True),
    (datetime(2026, 1, 10, 7, 1, tzinfo=UTC), datetime(2026, 1, 10, 7, 0, tzinfo=UTC), False),
    (datetime(2026, 1, 10, 23, 0, tzinfo=UTC), datetime(2026, 1, 10, 7, 0, tzinfo=UTC), False),
    (datetime(2026, 1, 10, 6, 0, tzinfo=UTC), datetime(2026, 1, 8, 7, 0, tzinfo=UTC), True),
    (datetime(2026, 7, 10, 6, 0, tzinfo=UTC), datetime(2026, 7, 9, 6, 0, tzinfo=UTC), True),
    # A member's first digest waits for the configured time of day.
    (datetime(2026, 1, 10, 6, 0, tzinfo=UTC), None, False),
    (datetime(2026, 1, 10, 7, 30, tzinfo=UTC), None, True),
])
def test_digest_once_a_day_at_the_configured_local_time(
        now: datetime, last: datetime | None, expected: bool) -> None:
    assert digest_due(ALICE, last, config(digest_time="08:00"), now) is expected


# --------------------------------------------------------------------------- templates


def test_every_new_template_renders_in_every_language_it_ships_in() -> None:
    renderer = Renderer(TEMPLATES)
    assert renderer.check() == []
    for name in REPORTER_TEMPLATES:
        assert renderer.languages(name) == sorted(LANGUAGES)
    for name in COMMITTEE_TEMPLATES:
        assert renderer.has(name, "en")
        rendered = renderer.render(name, "en", SAMPLE_CONTEXTS[name])
        assert rendered.subject and rendered.body.strip()


def test_mail_contexts_render_and_keep_the_reporter_out_of_committee_mail() -> None:
    renderer, cfg = Renderer(TEMPLATES), config()
    case = handled(public_summary="Unwelcome comments in the chat.", decision="A warning.")
    now = T0 + timedelta(days=7)
    case.status, case.events["status-since"] = CaseStatus.SEARCHING, T0 + timedelta(days=5)
    outcome = Due("outcome", case.id, "outcome", ("reporter",), "outcome", "decision", now)
    items = [*due([case], cfg, now), outcome]
    assert {i.template for i in items} == {"update", "searching", "escalation", "outcome"}
    for item in items:
        ctx = mail_context(item, case, cfg, now)
        assert set(ctx) == set(SAMPLE_CONTEXTS[item.template]), item.template
        body = renderer.render(item.template, "es", ctx).body if item.to == ("reporter",) \
            else renderer.render(item.template, "en", ctx).body
        if item.to == ("reporter",):
            assert "Sam Rivera" in body
        else:
            assert "Sam" not in str(ctx) and REPORTER_EMAIL not in str(ctx)
    update = next(i for i in items if i.template == "update")
    body = renderer.render("update", "es", mail_context(update, case, cfg, now)).body
    assert "2026-03-16" in body  # the next weekly update, in the committee's time zone
    statement = statement_context(case, cfg)
    assert set(statement) == set(SAMPLE_CONTEXTS["statement"])
    text = renderer.render("statement", "en", statement).body
    assert "DRAFT" in text and "Unwelcome comments in the chat." in text
    assert "Sam" not in text and REPORTER_EMAIL not in text


# --------------------------------------------------------------------------- the ladder


def committee_log(log: list[tuple[float, Due]]) -> list[tuple[float, str, tuple[str, ...]]]:
    return [(day, item.key, item.to) for day, item in log
            if item.kind in ("escalation", "first-action-escalation")]


def test_a_chair_named_secondary_after_the_chair_step_is_not_escalated_again() -> None:
    def hook(case: Case, now: datetime) -> None:
        if now == T0 + timedelta(days=9):
            case.cleared.append(ALICE)
            case.owners.secondary = ALICE

    case = handled(owners=Owners(lead=BASHIR), cleared=[BASHIR])
    log = simulate(case, config(), 20 * 24, hook=hook)
    assert committee_log(log) == [(7.0, "escalation:decision:lead", (BASHIR,)),
                                  (7.5, "escalation:decision:chair", (ALICE,))]


def test_a_person_with_several_roles_gets_one_mail_naming_the_highest() -> None:
    renderer, cfg = Renderer(TEMPLATES), config()
    case = handled(owners=Owners(lead=ALICE, secondary=CHEN))  # the chair leads
    log = simulate(case, cfg, 20 * 24)
    assert committee_log(log) == [(7.0, "escalation:decision:lead", (ALICE,)),
                                  (7.5, "escalation:decision:secondary", (CHEN,))]
    first = next(item for _, item in log if item.key == "escalation:decision:lead")
    fresh = handled(owners=Owners(lead=ALICE, secondary=CHEN))
    body = " ".join(renderer.render("escalation", "en", mail_context(
        first, fresh, cfg, T0 + timedelta(days=7), ALICE)).body.split())
    assert "as the committee's chair" in body and "as the case's lead" not in body
    assert "next to the secondary owner (Chen Wei)" in body
    second = next(item for _, item in log if item.key == "escalation:decision:secondary")
    fresh.sent.update({first.key: T0 + timedelta(days=7), **dict.fromkeys(first.marks, T0)})
    body = " ".join(renderer.render("escalation", "en", mail_context(
        second, fresh, cfg, T0 + timedelta(days=7, hours=12), CHEN)).body.split())
    assert "you are the last step" in body and "goes next" not in body


def test_taking_the_lead_after_the_deadline_ends_its_ladder_in_the_same_tick() -> None:
    took = T0 + timedelta(days=11, hours=8)

    def hook(case: Case, now: datetime) -> None:
        if now == took:
            case.cleared.append(CHEN)
            case.events.setdefault("first-cleared", now)
            case.owners.lead, case.events["lead-named"] = CHEN, now

    case = new_case()  # nobody clears it for eleven days
    log = simulate(case, config(), 20 * 24, hook=hook)
    assert committee_log(log) == [
        (1.0, "escalation:first-action:chair", (ALICE,)),
        (7.0, "escalation:decision:chair", (ALICE,)),
    ]
    assert not [item for day, item in log if day >= took.day - T0.day and CHEN in item.to]


def test_escalation_wording_is_pluralised_and_never_says_1_hours() -> None:
    renderer, cfg = Renderer(TEMPLATES), config()
    case = handled()
    (item,) = [i for i in due([case], cfg, T0 + timedelta(days=7, seconds=37))
               if i.key == "escalation:decision:lead"]
    texts = {}
    for later, words in [(timedelta(seconds=37), "less than an hour ago"),
                         (timedelta(hours=1, minutes=5), "1 hour ago"),
                         (timedelta(hours=2), "2 hours ago"),
                         (timedelta(hours=80), "3 days and 8 hours ago")]:
        ctx = mail_context(item, case, cfg, T0 + timedelta(days=7) + later, BASHIR)
        texts[words] = renderer.render("escalation", "en", ctx).body
        assert words in " ".join(texts[words].split()), texts[words]
    assert "1 hours" not in " ".join(texts.values())


# --------------------------------------------------------------------------- wording


def test_a_decision_reminder_on_a_new_case_never_tells_the_lead_to_clear() -> None:
    renderer, cfg = Renderer(TEMPLATES), config()
    case = handled(status=CaseStatus.NEW)  # nobody changed the status field
    (item,) = due([case], cfg, T0 + timedelta(days=6, hours=12))
    assert item.key == "reminder:decision" and item.to == (BASHIR, CHEN)
    body = renderer.render("reminder", "en", mail_context(
        item, case, cfg, T0 + timedelta(days=6, hours=12), BASHIR)).body
    assert "#clear" not in body and "#lead" not in body
    assert "#propose" in body and "#close" in body and "12 hours from now" in body
    assert "a decision: a motion passed" in body


def test_a_first_action_reminder_says_what_each_member_can_do() -> None:
    renderer, cfg = Renderer(TEMPLATES), config(reminder_before_hours=6)
    case = new_case(cleared=[BASHIR], status=CaseStatus.INVESTIGATING)  # cleared, no lead
    (item,) = due([case], cfg, T0 + timedelta(hours=18))
    assert item.key == "reminder:first-action" and item.to == (BASHIR,)
    body = " ".join(renderer.render("reminder", "en", mail_context(
        item, case, cfg, T0 + timedelta(hours=18), BASHIR)).body.split())
    assert "#lead me" in body and "#clear" not in body and "#propose" not in body
    nobody = new_case()
    (item,) = due([nobody], cfg, T0 + timedelta(hours=18))
    body = " ".join(renderer.render("reminder", "en", mail_context(
        item, nobody, cfg, T0 + timedelta(hours=18), CHEN)).body.split())
    assert "#clear" in body and "#conflict" in body and "Once cleared, take the lead" in body


def test_a_vote_reminder_names_the_open_motion() -> None:
    cfg = config()
    case = handled(motions=[Motion(number=2, text="A warning.", proposed_by=BASHIR,
                                   at=T0 + timedelta(days=5), votes={BASHIR: "yes"})])
    (item,) = due([case], cfg, T0 + timedelta(days=6, hours=12))
    ctx = mail_context(item, case, cfg, T0 + timedelta(days=6, hours=12), CHEN)
    assert "Vote on motion 2 with #vote yes, #vote no or #vote abstain." in ctx["actions"]
    ctx = mail_context(item, case, cfg, T0 + timedelta(days=6, hours=12), BASHIR)
    assert "Motion 2 is open with 1 vote in: ask the others to vote." in ctx["actions"]


# --------------------------------------------------------------------------- digest, pending


def test_the_chairs_digest_lists_an_untouched_overdue_case_and_no_escrowed_notice() -> None:
    now = T0 + timedelta(days=3)
    untouched = new_case("COC-2026-0005")
    escrowed = new_case("COC-2026-0006", status=CaseStatus.ESCROWED, escrow=True,
                        escrow_periods=[[T0, None]])
    chair = digest_context(ALICE, [untouched, escrowed], [], config(), now)
    assert chair is not None
    assert chair["overdue"] == [{"id": "COC-2026-0005", "code_name": "amber falcon",
                                 "deadline": "first action (a member clears and a lead is "
                                             "named)",
                                 "due_at": "2026-03-03 10:00 CET", "overdue_for": "2 days",
                                 "holder": "nobody has cleared it yet"}]
    assert [n["id"] for n in chair["notices"]] == ["COC-2026-0005"]  # not the escrowed one
    member = digest_context(BASHIR, [untouched, escrowed], [], config(), now)
    assert member is not None and member["overdue"] == []
    body = Renderer(TEMPLATES).render("digest", "en", chair).body
    assert body.index("Overdue") < body.index("COC-2026-0005") and "COC-2026-0006" not in body


def test_pending_deadlines_follow_the_case_as_it_is() -> None:
    cfg = config()
    assert set(pending(new_case(), cfg)) == {"first-action", "reporter-update", "decision"}
    closed = handled(status=CaseStatus.CLOSED, closed_at=T0 + timedelta(days=3))
    assert pending(closed, cfg) == {}
    escrowed = new_case(status=CaseStatus.ESCROWED, escrow_periods=[[T0, None]])
    assert pending(escrowed, cfg) == {}
    assert overdue([new_case(), closed, escrowed], cfg, T0 + timedelta(days=2)) == [
        ("COC-2026-0001", "first-action")]


# --------------------------------------------------------------------------- SLA, delivery


@pytest.mark.parametrize(("delivered_after", "missed"), [
    (timedelta(seconds=0), False), (timedelta(seconds=59), False),
    (timedelta(seconds=61), False), (timedelta(minutes=3), True), (None, None),
])
def test_an_update_delivered_within_the_tick_is_on_time(
        delivered_after: timedelta | None, missed: bool | None) -> None:
    case, due_at = handled(), T0 + timedelta(days=7)
    now = due_at + timedelta(seconds=61)
    if delivered_after is not None:
        case.sent["reporter-update:1"] = due_at + min(delivered_after, timedelta(seconds=59))
        case.delivered["reporter-update:1"] = due_at + delivered_after
        now = due_at + delivered_after + timedelta(seconds=1)
    row = sla(case, config(), now)["reporter-update"]
    assert row["due"] == due_at.isoformat() and row["missed"] is missed
    if delivered_after is not None:
        assert row["met_at"] == (due_at + delivered_after).isoformat()


def test_every_weekly_update_is_judged_and_a_late_one_stays_on_record() -> None:
    case = handled()
    for n, late in [(1, timedelta(seconds=40)), (2, timedelta(hours=5)),
                    (3, timedelta(seconds=20))]:
        at = T0 + timedelta(days=7 * n)
        case.sent[f"reporter-update:{n}"] = case.delivered[f"reporter-update:{n}"] = at + late
    row = sla(case, config(), T0 + timedelta(days=22))["reporter-update"]
    assert row["late"] == [2] and row["missed"] is True
    assert row["due"] == (T0 + timedelta(days=21)).isoformat()


@pytest.mark.parametrize(("status", "lead", "phrase"), [
    (CaseStatus.DECIDED, BASHIR, "reached a decision about your report"),
    (CaseStatus.AWAITING_REPORTED, BASHIR, "waiting to hear from someone"),
    (CaseStatus.INVESTIGATING, BASHIR, "A member of the committee is now handling"),
    (CaseStatus.NEW, None, "We are still working on it"),
])
def test_a_reporter_update_says_how_far_the_case_has_come(
        status: CaseStatus, lead: str | None, phrase: str) -> None:
    """Four days after a decision the reporter is not told 'we are still working on it'."""
    case = new_case(status=status, owners=Owners(lead=lead))
    now = T0 + timedelta(days=7, minutes=1)
    update = next(i for i in due([case], config(), now) if i.template == "update")
    body = " ".join(Renderer(TEMPLATES).render(
        "update", "en", mail_context(update, case, config(), now)).body.split())
    assert phrase in body
    assert ("still working on it" in body) is (status is CaseStatus.NEW)


def test_times_in_mail_to_the_reporter_are_in_their_time_zone_when_their_mail_told_it() -> None:
    """A reporter in Japan (her Date header said +0900) reads her times in her zone, named;
    without a zone in the header, the committee's (CET here)."""
    tokyo = new_case(reporter_utc_offset=9 * 60)
    now = T0 + timedelta(days=7, minutes=1)
    update = next(i for i in due([tokyo], config(), now) if i.template == "update")
    ctx = mail_context(update, tokyo, config(), now)
    assert ctx["case"]["received_at"] == "2026-03-02 18:00 (UTC+09:00)"  # T0 is 09:00Z
    assert "CET" not in str(ctx)
    here = mail_context(update, new_case(), config(), now)
    assert here["case"]["received_at"].endswith("CET")
