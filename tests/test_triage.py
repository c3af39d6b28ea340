"""Triage rules, as tables: a message in, the decision an admin would check out.

tests/data/triage/NAME.eml (or the corpus file a NAME.json points to) + NAME.json give the
expected decision of the shipped rules; tests/data/triage/bad/NAME.yaml + NAME.expected give the
exact error lines `mailproc check` prints. Unit tables below cover every operator, combinator,
action, `continue`, and the routing guard in five languages.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from harness import REPO

from mailproc.config.settings import load_config
from mailproc.config.yamlsource import ConfigError
from mailproc.mail.parse import parse_message
from mailproc.model.parsed import normalise_email
from mailproc.triage.evaluate import (
    RuleSet,
    TriageDecision,
    TriageInput,
    conduct_signals,
    evaluate,
    load_rules,
)

DATA = REPO / "tests" / "data" / "triage"
CORPUS = REPO / "tests" / "data" / "corpus"
CASES = sorted(p.stem for p in DATA.glob("*.json"))
BAD = sorted(p.stem for p in (DATA / "bad").glob("*.yaml"))
CONFIG = load_config(REPO / "rules" / "config.yaml")
SHIPPED = load_rules(CONFIG.triage_rules, CONFIG.routes, CONFIG.conduct_address)
ROUTES = {"sponsorship": "sponsors@example.org", "general": "info@example.org"}
CONDUCT = "conduct@example.org"


def message_input(raw: bytes, translation: str | None = None,
                  language: str = "und") -> TriageInput:
    """What the pipeline gives the rules for one raw message."""
    msg = parse_message(raw)
    return TriageInput(
        from_email=normalise_email(msg.from_.email) if msg.from_ else "",
        to=tuple(normalise_email(a.email) for a in msg.to),
        cc=tuple(normalise_email(a.email) for a in msg.cc),
        subject=msg.subject, body=msg.text, text=translation or msg.text,
        headers=msg.headers, language=language, has_attachment=bool(msg.attachments),
        size=len(raw))


def case(name: str) -> tuple[dict[str, Any], TriageInput]:
    spec: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    eml = DATA / spec.get("eml", f"{name}.eml")
    raw = eml.read_bytes()
    return spec, message_input(raw, spec.get("translation"), spec.get("language", "und"))


def mail(**fields: Any) -> TriageInput:
    base: dict[str, Any] = dict(
        from_email="someone@example.com", to=(CONDUCT,), cc=(), subject="Hello", body="Hi.",
        text="", headers=(), language="en", has_attachment=False, size=2000)
    base.update(fields)
    base["text"] = base["text"] or base["body"]
    return TriageInput(**base)


def rules(tmp_path: Path, text: str, routes: dict[str, str] | None = None) -> RuleSet:
    path = tmp_path / "triage.yaml"
    path.write_text(text, encoding="utf-8")
    return load_rules(path, ROUTES if routes is None else routes, CONDUCT)


def one_rule(tmp_path: Path, when: str, actions: str = "category: hit") -> RuleSet:
    return rules(tmp_path, f"rules:\n  - name: probe\n    when: {when}\n    {actions}\n")


def matches(tmp_path: Path, when: str, msg: TriageInput) -> bool:
    return evaluate(one_rule(tmp_path, when), msg).category == "hit"


# --------------------------------------------------------------------------- the table


@pytest.mark.parametrize("name", CASES)
def test_shipped_rules_decide_as_expected(name: str) -> None:
    spec, msg = case(name)
    got = evaluate(SHIPPED, msg)
    assert {
        "route": got.route_name, "category": got.category, "priority": got.priority,
        "urgent": got.urgent, "guard": bool(got.guard), "rule": got.rule,
    } == {key: spec[key] for key in ("route", "category", "priority", "urgent", "guard", "rule")}
    if got.route_name is not None:
        assert got.route == CONFIG.routes[got.route_name]
        assert got.reply_to_sender is spec.get("reply", True)
    else:
        assert got.route is None and not got.reply_to_sender and got.drop is None


def test_the_table_covers_every_shipped_rule_and_the_whole_corpus() -> None:
    fired = {rule for name in CASES for rule in evaluate(SHIPPED, case(name)[1]).fired}
    assert fired >= {rule.name for rule in SHIPPED.rules}
    corpus = {p.stem for p in CORPUS.glob("*.eml") if not p.stem.startswith("machine-")}
    assert {f"corpus-{stem}" for stem in corpus} <= set(CASES)


def test_with_a_catch_all_route_every_report_still_stays_and_other_mail_goes(
        tmp_path: Path) -> None:
    catch_all = rules(tmp_path, "rules:\n  - name: everything\n    when: always\n"
                                "    route: general\n")
    for name in CASES:
        decision = evaluate(catch_all, case(name)[1])
        is_report = "report-" in name
        assert (decision.route is None) is is_report, name
        assert bool(decision.guard) is is_report, name


def test_the_shipped_rules_only_use_routes_that_config_defines() -> None:
    used = {rule.actions.route_name for rule in SHIPPED.rules if rule.actions.route}
    assert used <= set(CONFIG.routes)
    assert used >= {"sponsorship", "registration", "travel-grants", "speakers", "press",
                    "general"}
    assert re.fullmatch(r"[0-9a-f]{12}", SHIPPED.version)


# --------------------------------------------------------------------------- the guard

GUARDED = [
    # (subject, body, translation) that carry a conduct signal
    ("Sponsor booth", "The sponsor's staff harassed me at their booth.", None),
    ("Badge", "I want to report a volunteer at the registration desk.", None),
    ("Talk", "He threatened me after my talk.", None),
    ("Travel", "Someone posted my home address on the chat.", None),
    ("Hi", "This is a code of conduct violation at the sponsor stand.", None),
    ("Patrocinio", "En el stand del patrocinador un hombre me acosó.", None),
    ("Inscripción", "Quiero denunciar a un voluntario de la inscripción.", None),
    ("Sponsor", "Un employé du sponsor m'a harcelée pendant la soirée.", None),
    ("Badge", "Je souhaite signaler un incident au guichet d'accueil.", None),
    ("Sponsor", "Am Sponsorenstand wurde ich sexuell belästigt.", None),
    ("Anmeldung", "Ein Helfer hat rassistische Witze gemacht.", None),
    ("Patrocínio", "No estande do patrocinador ele fez comentários racistas.", None),
    ("Bolsa de viagem", "Outro bolsista me ameaçou no hotel.", None),
    ("Sponsor", "Lo sponsor mi ha molestata.", "The sponsor harassed me."),
    ("スポンサー", "スポンサーブースで嫌がらせを受けました。",
     "I was harassed at the sponsor booth."),
]
NOT_GUARDED = [
    ("Annual report", "Please send us your annual report for our press report."),
    ("Expense report", "I want to report my travel expenses; the expense report is attached."),
    ("CFP", "My talk is about threat modeling and offensive security tooling."),
    ("Sponsorship", "We'd like to sponsor; please keep this pricing confidential."),
    ("Press", "I'd like to interview you about how you handle your code of conduct."),
    ("Recruiting", "You'd be a great fit; hit me up for a quick chat."),
    ("GANs", "A workshop on training the discriminator network."),
    ("Wifi", "I need to report an issue with the wifi, and a problem with my badge."),
    ("Bug", "I'd like to report a bug in the registration form."),
    ("Registro", "¿Puedo cambiar el nombre de mi entrada? Es para una sociedad anónima."),
    ("Anmeldung", "Ich bin nicht sicher, ob meine Anmeldung angekommen ist. Drohnen-Workshop?"),
]


@pytest.mark.parametrize(("subject", "body", "translation"), GUARDED)
def test_conduct_signals_are_found_in_five_languages_and_in_translations(
        subject: str, body: str, translation: str | None) -> None:
    assert conduct_signals(mail(subject=subject, body=body, text=translation or ""))


@pytest.mark.parametrize(("subject", "body"), NOT_GUARDED)
def test_ordinary_mail_carries_no_conduct_signal(subject: str, body: str) -> None:
    assert conduct_signals(mail(subject=subject, body=body)) == ()


def test_the_guard_cancels_a_drop_and_keeps_stacked_categories(tmp_path: Path) -> None:
    ruleset = rules(tmp_path, """
rules:
  - name: sponsor-drop
    when: {subject: {contains_any: [sponsor]}}
    drop: not for us
    category: sales
  - name: tagged
    when: always
    category: harassment
    priority: P2
    continue: true
""")
    got = evaluate(ruleset, mail(subject="sponsor", body="The sponsor's rep harassed me."))
    assert (got.drop, got.route, got.category, got.priority) == (None, None, "harassment", "P2")
    assert got.guard == ("harassment",) and got.fired == ("sponsor-drop", "tagged")
    assert got.rule == "tagged"
    assert "drop blocked by the conduct guard (harassment)" in got.trace[0].why
    clean = evaluate(ruleset, mail(subject="sponsor", body="Our prospectus is attached."))
    assert (clean.drop, clean.category, clean.guard) == ("not for us", "sales", ())


# --------------------------------------------------------------------------- operators


@pytest.mark.parametrize(("when", "msg", "expected"), [
    ("{subject: {contains_any: [sponsor]}}", mail(subject="A SPONSOR question"), True),
    ("{subject: {contains_any: [sponsor]}}", mail(subject="Sponsorship"), False),
    ("{subject: {contains_any: [sponsor*]}}", mail(subject="Sponsorship"), True),
    ("{body: {contains_any: [registration desk]}}", mail(body="the registration\n  desk"), True),
    ("{body: {contains_any: [\"won't stop\"]}}", mail(body="he won’t stop"), True),
    ("{body: {contains_any: [c++]}}", mail(body="a c++ talk"), True),
    ("{subject: {regex: '^re: .*grant'}}", mail(subject="RE: travel grant"), True),
    ("{body: {regex: '^badge$'}}", mail(body="Hello\nbadge\nthanks"), True),
    ("{from_domain: {equals: Example.COM}}", mail(from_email="a@example.com"), True),
    ("{from_domain: {equals: [example.org, example.net]}}", mail(), False),
    ("{from: {equals: Someone@Example.com}}", mail(), True),
    ("{from: {exists: false}}", mail(from_email=""), True),
    ("{to: {contains_any: [sponsors]}}", mail(to=(CONDUCT, "sponsors@example.org")), True),
    ("{cc: {exists: true}}", mail(), False),
    ("{language: {equals: [es, pt]}}", mail(language="pt"), True),
    ("{text: {contains_any: [sponsor]}}", mail(body="patrocinio", text="a sponsor"), True),
    ("{header: {name: x-spam-flag, equals: 'yes'}}",
     mail(headers=(("X-Spam-Flag", "YES"),)), True),
    ("{header: {name: List-Id, exists: true}}", mail(headers=(("Subject", "x"),)), False),
    ("{has_attachment: true}", mail(has_attachment=True), True),
    ("{size: {gt: 1KB, lt: 1MB}}", mail(size=5000), True),
    ("{size: {gt: 1MB}}", mail(size=5000), False),
])
def test_each_operator(tmp_path: Path, when: str, msg: TriageInput, expected: bool) -> None:
    assert matches(tmp_path, when, msg) is expected


@pytest.mark.parametrize(("when", "expected"), [
    ("{all: [{subject: {contains_any: [grant]}}, {body: {contains_any: [receipt]}}]}", True),
    ("{all: [{subject: {contains_any: [grant]}}, {body: {contains_any: [visa]}}]}", False),
    ("{any: [{subject: {contains_any: [visa]}}, {body: {contains_any: [receipt]}}]}", True),
    ("{not: {subject: {contains_any: [grant]}}}", False),
    ("{not: {subject: {contains_any: [visa]}}}", True),
    ("{subject: {contains_any: [grant]}, from_domain: {equals: other.org}}", False),
    ("always", True),
    ("true", True),
])
def test_each_combinator(tmp_path: Path, when: str, expected: bool) -> None:
    msg = mail(subject="Travel grant", body="Where do I send the receipt?")
    assert matches(tmp_path, when, msg) is expected


def test_the_trace_says_why_in_the_rules_words_never_quoting_the_message(
        tmp_path: Path) -> None:
    ruleset = rules(tmp_path, """
rules:
  - name: not-this
    when: {from_domain: {equals: example.org}}
    category: a
  - name: that
    when: {all: [{subject: {contains_any: [grant, visa, ticket, badge]}}, {size: {lt: 10KB}}]}
    category: b
""")
    got = evaluate(ruleset, mail(subject="My travel grant", from_email="x@secret.example"))
    assert [(t.rule, t.matched, t.why) for t in got.trace] == [
        ("not-this", False, "from_domain is not ['example.org']"),
        ("that", True, "subject contains 'grant' and size 2000 < 10240"),
    ]
    missed = evaluate(ruleset, mail(subject="Hello"))
    assert missed.trace[1].why == "subject contains none of ['grant', 'visa', 'ticket', … +1]"
    assert missed.rule is None and missed.fired == ()


# --------------------------------------------------------------------------- actions and flow

FLOW = """
rules:
  - name: low
    when: {body: {contains_any: [rude]}}
    category: disruptive-behaviour
    priority: P4
    continue: true
  - name: high
    when: {body: {contains_any: [threat]}}
    category: threats-and-violence
    priority: P2
    urgent: true
    folder: Urgent
    continue: true
  - name: quiet
    when: {from_domain: {equals: example.com}}
    no_ack: true
    continue: true
  - name: stopper
    when: {subject: {contains_any: [stop]}}
    category: stopped
  - name: to-sponsors
    when: {subject: {contains_any: [prospectus]}}
    route: sponsorship
    reply: false
  - name: to-literal
    when: {subject: {contains_any: [literal]}}
    route: someone@partner.example
  - name: junk
    when: {subject: {contains_any: [winner]}}
    drop: lottery spam
"""


def test_continue_stacks_actions_and_the_most_urgent_priority_wins(tmp_path: Path) -> None:
    got = evaluate(rules(tmp_path, FLOW), mail(body="rude and a threat"))
    assert (got.category, got.priority, got.urgent, got.folder, got.no_ack) == (
        "disruptive-behaviour", "P2", True, "Urgent", True)
    assert got.fired == ("low", "high", "quiet") and got.rule == "quiet"
    assert got.route is None and got.guard == ()


def test_first_match_stops_without_continue(tmp_path: Path) -> None:
    got = evaluate(rules(tmp_path, FLOW), mail(subject="stop and prospectus"))
    assert (got.category, got.route, got.rule) == ("stopped", None, "stopper")
    assert [t.rule for t in got.trace] == ["low", "high", "quiet", "stopper"]


@pytest.mark.parametrize(("subject", "expected"), [
    ("prospectus", ("sponsors@example.org", "sponsorship", False, None, "to-sponsors")),
    ("literal", ("someone@partner.example", None, True, None, "to-literal")),
    ("winner", (None, None, False, "lottery spam", "junk")),
])
def test_route_and_drop_end_the_run(tmp_path: Path, subject: str,
                                    expected: tuple[Any, ...]) -> None:
    got: TriageDecision = evaluate(rules(tmp_path, FLOW), mail(subject=subject,
                                                              from_email="a@b.example"))
    assert (got.route, got.route_name, got.reply_to_sender, got.drop, got.rule) == expected


def test_evaluation_never_compiles_a_regex_even_with_200_rules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "".join(
        f"  - name: rule-{i}\n    when: {{any: [{{subject: {{regex: 'topic-{i}\\b'}}}}, "
        f"{{body: {{contains_any: [word{i}, phrase number {i}]}}}}]}}\n"
        f"    {'route: general' if i == 199 else 'category: c' + str(i)}\n"
        for i in range(200))
    ruleset = rules(tmp_path, "rules:\n" + body)

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("a regex was compiled during evaluation")

    for name in ("compile", "search", "match", "fullmatch", "finditer", "findall", "sub"):
        monkeypatch.setattr(re, name, no_compiling)
    for i in range(50):
        got = evaluate(ruleset, mail(subject=f"about topic-{i * 4}", body="Hello"))
        assert got.category == f"c{i * 4}"
    last = evaluate(ruleset, mail(subject="x", body="see phrase  number 199"))
    assert last.route_name == "general" and len(last.trace) == 200


# --------------------------------------------------------------------------- broken files


@pytest.mark.parametrize("name", BAD)
def test_broken_rules_files_report_every_problem_with_its_line(name: str) -> None:
    path = DATA / "bad" / f"{name}.yaml"
    expected = (DATA / "bad" / f"{name}.expected").read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_rules(path, CONFIG.routes, CONFIG.conduct_address)
    assert str(info.value).splitlines() == expected.replace("{file}", str(path)).splitlines()


def test_a_config_route_that_points_back_at_the_conduct_address_is_a_loop(
        tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        rules(tmp_path, "rules:\n  - name: oops\n    when: always\n    route: coc\n",
              routes={"coc": "Conduct+Reports@example.org"})
    assert str(info.value) == (f"{tmp_path / 'triage.yaml'}:4: rules[0].route: routes to the "
                               "conduct address itself (a mail loop): route elsewhere")


def test_the_version_is_the_content_hash_and_changes_with_an_edit(tmp_path: Path) -> None:
    text = "rules:\n  - name: a\n    when: always\n    category: x\n"
    first = rules(tmp_path, text)
    assert first.version == hashlib.sha256(text.encode()).hexdigest()[:12]
    assert rules(tmp_path, text.replace("x", "y")).version != first.version
    assert first.path == tmp_path / "triage.yaml" and [r.name for r in first.rules] == ["a"]


def test_every_kind_of_mistake_has_a_broken_file() -> None:
    assert set(BAD) >= {"unknown-key", "unknown-action", "unknown-operator", "bad-regex",
                        "route-loop", "unreachable", "duplicate-names", "bad-priority",
                        "yaml-syntax", "empty-conditions", "unknown-route", "not-kebab"}


# --------------------------------------------------------------------------- negation

# (language, negated sentence, the same cue not negated): the shipped urgency rules page the
# committee for the second and not for the first, on the original and on a translation.
NEGATION = [
    ("en", "I do not feel in danger, but I want to report what he said.",
     "I feel in danger, he is at the venue."),
    ("en", "He never hit me, he only shouted.", "Yesterday he hit me in the hallway."),
    ("es", "No me siento en peligro, pero quiero denunciar lo que dijo.",
     "Me siento en peligro, está en el local."),
    ("es", "No me amenazó con matarme, solo gritó.", "Me amenazó con matarme en la fiesta."),
    ("fr", "Je ne me sens pas en danger, mais je veux signaler ses propos.",
     "Je me sens en danger, il est encore là."),
    ("fr", "Je ne suis plus en danger, il est parti.", "Je suis en danger, il est dans le hall."),
    ("de", "Ich fühle mich nicht in Gefahr, aber ich möchte seine Sprüche melden.",
     "Ich fühle mich in Gefahr, er ist noch hier."),
    ("de", "Er verfolgt mich nicht mehr, aber ich möchte es melden.",
     "Er verfolgt mich, seit der Konferenz."),
    ("de", "Ich bin nicht mehr in Gefahr, er ist abgereist.", "Ich bin in Gefahr, er ist da."),
    ("pt", "Não me sinto em perigo, mas quero denunciar o que ele disse.",
     "Me sinto em perigo, ele ainda está aqui."),
    ("pt", "Ele nunca me ameaçou de morte, só gritou.", "Ele me ameaçou de morte ontem."),
]


@pytest.mark.parametrize(("language", "negated", "plain"), NEGATION)
def test_the_shipped_urgency_rules_ignore_a_negated_cue_in_each_language(
        language: str, negated: str, plain: str) -> None:
    assert not evaluate(SHIPPED, mail(subject="Report", body=negated, language=language)).urgent
    assert evaluate(SHIPPED, mail(subject="Report", body=plain, language=language)).urgent


def test_a_translation_is_read_with_english_negations() -> None:
    def urgent(translation: str) -> bool:
        msg = mail(subject="報告", body="危険を感じていません。", text=translation, language="ja")
        return evaluate(SHIPPED, msg).urgent

    assert not urgent("I do not feel in danger, but I want to report him.")
    assert urgent("I feel in danger, he is still here.")


# (a negation that is not about the cue: still urgent; the same cue really negated: not)
@pytest.mark.parametrize(("language", "pages", "denied"), [
    ("en", "He won't stop following me around the venue.",  # "not" turned round by "stop"
     "He is not following me around any more."),
    ("en", "I didn't tell anyone that he hit me.",  # the "not" belongs to telling
     "He didn't hit me."),
    ("en", "I'm not safe here.", "I am not in danger."),  # the cue carries its own negation
    ("en", "Nobody helped, I am in danger.", "I am not in danger."),  # another clause
    ("en", "I can't stop thinking about suicide.", "I am not suicidal."),
    ("de", "Er verfolgt mich nicht nur online, sondern auch auf der Konferenz.",
     "Er verfolgt mich nicht mehr."),
])
def test_a_negation_that_is_not_about_the_cue_still_pages(
        language: str, pages: str, denied: str) -> None:
    assert evaluate(SHIPPED, mail(subject="Report", body=pages, language=language)).urgent
    assert not evaluate(SHIPPED, mail(subject="Report", body=denied, language=language)).urgent


def test_unless_negated_on_contains_any_and_regex_and_what_explain_says(tmp_path: Path) -> None:
    word = "{subject: {contains_any: [danger], unless_negated: true}}"
    assert matches(tmp_path, word, mail(subject="Danger at the venue"))
    assert not matches(tmp_path, word, mail(subject="No danger at the venue"))
    # One negated match does not hide a later one that is not.
    assert matches(tmp_path, word, mail(subject="No danger here. Danger there."))
    regex = "{body: {regex: 'en\\s+peligro', unless_negated: true}}"
    assert not matches(tmp_path, regex, mail(body="No estoy en peligro.", language="es"))
    assert matches(tmp_path, regex, mail(body="Estoy en peligro.", language="es"))
    plain = "{body: {regex: 'en\\s+peligro'}}"
    assert matches(tmp_path, plain, mail(body="No estoy en peligro.", language="es"))
    decision = evaluate(one_rule(tmp_path, regex), mail(body="No estoy en peligro."))
    assert decision.trace[0].why.endswith("except where negated")
    assert "No estoy" not in decision.trace[0].why  # never quotes the message


@pytest.mark.parametrize(("when", "problem"), [
    ("{subject: {contains_any: [x], unless_negated: yes please}}", "expected true or false"),
    ("{from: {contains_any: [x], unless_negated: true}}",
     "unless_negated applies to subject, body, text, not from"),
    ("{body: {equals: x, unless_negated: true}}",
     "unless_negated needs contains_any or regex next to it"),
    ("{body: {unless_negated: true}}", "expected operators for body"),
])
def test_unless_negated_mistakes_are_refused_with_their_line(
        tmp_path: Path, when: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        one_rule(tmp_path, when)
    assert f"{tmp_path / 'triage.yaml'}:3: rules[0].when." in str(info.value)
    assert problem in str(info.value)
