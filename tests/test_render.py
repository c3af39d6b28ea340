"""Templates and rendering: the shipped templates say what the reporter is promised, in every
language; broken templates are caught with their file and line; the sandbox holds."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from mailproc.config.yamlsource import ConfigError
from mailproc.mail.templates import SAMPLE_CONTEXTS, Renderer, TemplateProblem, format_date

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ACK_LANGUAGES = ["de", "en", "es", "fr", "pt"]
SHIPPED = {"ack": ACK_LANGUAGES, "notice": ["en", "es"], "quarantine_alert": ["en"],
           "translated_notice": ["en"]}

ACK_CONTEXT = {"case", "reporter_name", "anonymous", "escrow", "urgent", "on_behalf",
               "committee", "committee_name", "community_name", "conduct_address",
               "emergency_contact", "timeline"}
ACK_CASE = {"id", "code_name", "received_at", "subject"}
NOTICE_CONTEXT = {"member_name", "case", "reported", "urgent_reasons", "committee_name",
                  "conduct_address", "where"}  # where: only when nobody is named
NOTICE_CASE = {"id", "code_name", "received_at", "urgent", "escrow", "language"}

# A phrase per language that only the escrow paragraph says, and one only the
# on-behalf paragraph says (whitespace normalised, so line wrapping does not matter).
ESCROW = {"en": "not act on it unless someone else reports the same person",
          "es": "no vamos a actuar salvo que recibamos otro reporte sobre la misma persona",
          "fr": "nous n'agirons pas, sauf si nous recevons un autre signalement",
          "de": "nicht tätig, solange keine weitere Meldung über dieselbe Person eingeht",
          "pt": "não vamos agir, a menos que recebamos outro relato sobre a mesma pessoa"}
ASK_FIRST = {"en": "ask for your agreement", "es": "pedirte tu consentimiento",
             "fr": "vous demander votre accord avant", "de": "holen Ihr Einverständnis ein",
             "pt": "pedir a sua autorização antes"}
ON_BEHALF = {"en": "The person you are writing for is welcome to contact us directly",
             "es": "La persona en cuyo nombre escribes también puede escribirnos directamente",
             "fr": "La personne pour qui vous écrivez peut aussi nous contacter directement",
             "de": "Die Person, für die Sie schreiben, kann sich jederzeit auch direkt",
             "pt": "A pessoa em nome de quem você escreve também pode falar diretamente"}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES)


def flat(text: str) -> str:
    return " ".join(text.split())


def ack_context(**flags: object) -> dict[str, object]:
    context = copy.deepcopy(SAMPLE_CONTEXTS["ack"])
    # Numbers that appear nowhere else in the mail, so their presence means the promise.
    context["timeline"] = {"acknowledge_hours": 24, "follow_up_days": 11,
                           "update_every_days": 13}
    context.update(flags)
    return context


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- shipped templates


def test_shipped_templates_exist_in_the_promised_languages(renderer: Renderer) -> None:
    for name, languages in SHIPPED.items():
        assert renderer.languages(name) == languages


def test_shipped_templates_pass_check(renderer: Renderer) -> None:
    assert renderer.check() == []


@pytest.mark.parametrize(("name", "lang"),
                         [(n, lang) for n, langs in SHIPPED.items() for lang in langs])
def test_every_template_renders_as_a_clean_plain_text_mail(renderer: Renderer, name: str,
                                                           lang: str) -> None:
    mail = renderer.render(name, lang, SAMPLE_CONTEXTS[name])
    assert (mail.language, mail.template) == (lang, name)
    assert mail.subject and "\n" not in mail.subject
    assert mail.body.endswith("\n") and not mail.body.endswith("\n\n")
    assert all(len(line) <= 78 for line in mail.body.splitlines())
    assert "\n\n\n" not in mail.body
    assert "{{" not in mail.body and "{%" not in mail.body


@pytest.mark.parametrize("lang", ACK_LANGUAGES)
def test_ack_subject_carries_the_case_tag(renderer: Renderer, lang: str) -> None:
    assert renderer.render("ack", lang, ack_context()).subject.startswith("[COC-2026-0007] ")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_notice_subject_has_tag_and_urgency_but_no_names(renderer: Renderer, lang: str) -> None:
    context = copy.deepcopy(SAMPLE_CONTEXTS["notice"])
    urgent = renderer.render("notice", lang, context).subject
    context["case"] = {**context["case"], "urgent": False}  # type: ignore[dict-item]
    calm = renderer.render("notice", lang, context).subject
    assert urgent.startswith("[COC-2026-0007] URGENT") and urgent.endswith(": amber falcon")
    assert calm.startswith("[COC-2026-0007] ") and "URGENT" not in calm
    for name in ("Alice", "Jordan", "jx_42", "@jordan"):
        assert name not in urgent and name not in calm


def test_english_notice_subject_is_exactly_the_documented_one(renderer: Renderer) -> None:
    mail = renderer.render("notice", "en", SAMPLE_CONTEXTS["notice"])
    assert mail.subject == "[COC-2026-0007] URGENT New report: amber falcon"


@pytest.mark.parametrize("lang", ACK_LANGUAGES)
def test_ack_tells_who_reads_it_and_how_to_reply(renderer: Renderer, lang: str) -> None:
    body = flat(renderer.render("ack", lang, ack_context()).body)
    for member in ("Alice Moreno", "Bashir Rahimi", "Chen Wei"):
        assert member in body
    assert "[COC-2026-0007]" in body  # keep the reference in the subject of a reply
    assert re.search(r"\b11\b", body) and re.search(r"\b13\b", body)  # follow-up, updates
    assert "Sam Rivera" in body
    assert ESCROW[lang] not in body and ON_BEHALF[lang] not in body


def test_english_ack_states_the_promises_of_seed_004(renderer: Renderer) -> None:
    body = flat(renderer.render("ack", "en", ack_context()).body)
    for promise in ("Within 11 days, we will follow up with you",
                    "at least every 13 days",
                    "A member with a conflict is excluded from your case: they see nothing",
                    "never with the person you reported",
                    "public statement, it will not identify you",
                    "just reply to this email and keep [COC-2026-0007] in the subject",
                    "we cannot follow up with you or tell you the outcome",
                    "act on it only if someone else reports the same person"):
        assert promise in body


@pytest.mark.parametrize("lang", ACK_LANGUAGES)
def test_anonymous_ack_promises_no_follow_up_and_drops_the_name(renderer: Renderer,
                                                                lang: str) -> None:
    body = flat(renderer.render("ack", lang, ack_context(anonymous=True)).body)
    assert "Sam Rivera" not in body  # even though the caller passed it
    assert not re.search(r"\b11\b", body) and not re.search(r"\b13\b", body)
    assert "[COC-2026-0007]" not in body  # no "reply to this mail" instruction
    assert "COC-2026-0007" in body and "conduct@example.org" in body  # how to add, anonymously


def test_english_anonymous_ack_says_this_is_the_only_mail(renderer: Renderer) -> None:
    body = flat(renderer.render("ack", "en", ack_context(anonymous=True)).body)
    assert "without your name or email address" in body
    assert "this is the only message you will receive from us about it" in body
    assert "we cannot follow up with you" in body
    assert "write to conduct@example.org again, anonymously if you wish" in body


@pytest.mark.parametrize("lang", ACK_LANGUAGES)
def test_escrow_ack_confirms_the_hold_and_asks_first(renderer: Renderer, lang: str) -> None:
    body = flat(renderer.render("ack", lang, ack_context(escrow=True)).body)
    assert ESCROW[lang] in body and ASK_FIRST[lang] in body
    anonymous = flat(renderer.render("ack", lang, ack_context(escrow=True, anonymous=True)).body)
    assert ESCROW[lang] in anonymous
    assert ASK_FIRST[lang] not in anonymous  # nobody left to ask


@pytest.mark.parametrize("lang", ACK_LANGUAGES)
def test_urgent_ack_puts_the_emergency_notice_first(renderer: Renderer, lang: str) -> None:
    contact = flat(str(SAMPLE_CONTEXTS["ack"]["emergency_contact"]))
    urgent = flat(renderer.render("ack", lang, ack_context(urgent=True)).body)
    calm = flat(renderer.render("ack", lang, ack_context()).body)
    assert urgent.count(contact) == 1 and calm.count(contact) == 1
    assert urgent.index(contact) < urgent.index("Sam Rivera") < urgent.index("COC-2026-0007")
    assert calm.index("Sam Rivera") < calm.index("COC-2026-0007") < calm.index(contact)


def test_english_urgent_ack_says_the_committee_was_alerted(renderer: Renderer) -> None:
    assert "alerted the committee" in renderer.render("ack", "en", ack_context(urgent=True)).body
    assert "alerted the committee" not in renderer.render("ack", "en", ack_context()).body


@pytest.mark.parametrize("lang", ACK_LANGUAGES)
def test_on_behalf_ack_says_the_person_can_write_directly(renderer: Renderer, lang: str) -> None:
    body = flat(renderer.render("ack", lang, ack_context(on_behalf=True)).body)
    assert ON_BEHALF[lang] in body


def test_ack_with_an_empty_roster_still_reads(renderer: Renderer) -> None:
    body = renderer.render("ack", "en", ack_context(committee=[])).body
    assert "goes only to the members of the Example Community Code of Conduct" in body
    assert "  - " not in body.split("Who will read")[1].split("Confidentiality")[0]


def test_notice_lists_conflict_facts_and_the_reply_commands(renderer: Renderer) -> None:
    body = renderer.render("notice", "en", SAMPLE_CONTEXTS["notice"]).body
    assert "Urgent:     yes (physical-danger, threat)" in body
    assert "Escrowed:   no" in body
    assert "  - Jordan Example, @jordan  (found automatically)\n" in body
    assert "  - jx_42, jx@example.net\n" in body
    assert re.search(r"^  #clear +if you have no conflict", body, re.M)
    assert re.search(r"^  #conflict +if you have one", body, re.M)
    assert "nobody will ask why" in body


def test_notice_with_nobody_named_says_so(renderer: Renderer) -> None:
    context = copy.deepcopy(SAMPLE_CONTEXTS["notice"])
    context["reported"] = []
    body = renderer.render("notice", "en", context).body
    assert "nobody found" in body and "reply #clear only if you know nobody" in body


def _variables(path: Path) -> tuple[set[str], dict[str, set[str]]]:
    """Top-level variables a template reads, and the attributes it reads of each name."""
    env = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    ast = env.parse(path.read_text(encoding="utf-8"))
    attributes: dict[str, set[str]] = {}
    for node in ast.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name):
            attributes.setdefault(node.node.name, set()).add(node.attr)
    return meta.find_undeclared_variables(ast), attributes


@pytest.mark.parametrize("lang", ["en", "es"])
def test_notice_reads_nothing_outside_its_documented_context(lang: str) -> None:
    variables, attributes = _variables(TEMPLATES / lang / "notice.txt.j2")
    assert variables <= NOTICE_CONTEXT
    assert attributes.get("case", set()) <= NOTICE_CASE  # never subject, text, reporter...
    assert attributes.get("person", set()) <= {"name", "handle", "email", "automatic"}


@pytest.mark.parametrize("lang", ACK_LANGUAGES)
def test_ack_reads_nothing_outside_its_documented_context(lang: str) -> None:
    variables, attributes = _variables(TEMPLATES / lang / "ack.txt.j2")
    assert variables <= ACK_CONTEXT
    assert attributes.get("case", set()) <= ACK_CASE
    assert attributes.get("timeline", set()) <= {"acknowledge_hours", "follow_up_days",
                                                 "update_every_days"}


def test_quarantine_alert_carries_only_its_four_fields() -> None:
    variables, _ = _variables(TEMPLATES / "en" / "quarantine_alert.txt.j2")
    assert variables == {"reason", "sha256", "received_at", "folder"}


def test_translated_notice_names_both_languages(renderer: Renderer) -> None:
    mail = renderer.render("translated_notice", "en", {"language_name": "English",
                                                       "original_language_name": "Japanese"})
    assert flat(mail.body) == ("This message was machine-translated from Japanese into English "
                               "and may contain mistakes. The Japanese original is below.")


def test_missing_language_raises_key_error(renderer: Renderer) -> None:
    assert not renderer.has("ack", "ja") and renderer.has("ack", "de")
    with pytest.raises(KeyError):
        renderer.render("ack", "ja", ack_context())
    with pytest.raises(KeyError):
        renderer.render("no_such_template", "en", {})


# --------------------------------------------------------------------------- broken templates


def test_a_typo_is_a_template_problem_with_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "en/ack.txt.j2",
                 "Subject: [{{ case.id }}] thanks\n"  # 1
                 "\n"                                 # 2
                 "Hello,\n"                           # 3
                 "{% if urgent %}\n"                  # 4
                 "Urgent.\n"                          # 5
                 "{% endif %}\n"                      # 6
                 "Your case is {{ case.code_nam }}.\n")  # 7
    renderer = Renderer(tmp_path)
    with pytest.raises(TemplateProblem) as caught:
        renderer.render("ack", "en", ack_context())
    problem = caught.value.problem
    assert (problem.file, problem.line) == (str(path), 7)
    assert "code_nam" in problem.message
    assert str(caught.value).startswith(f"{path}:7: ")


def test_a_typo_in_the_subject_points_at_line_1(tmp_path: Path) -> None:
    path = write(tmp_path, "es/ack.txt.j2", "Subject: [{{ caso.id }}]\n\nHola.\n")
    with pytest.raises(TemplateProblem) as caught:
        Renderer(tmp_path).render("ack", "es", ack_context())
    assert (caught.value.problem.file, caught.value.problem.line) == (str(path), 1)
    assert "'caso' is undefined" in caught.value.problem.message


def test_a_typo_inside_a_loop_points_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "en/notice.txt.j2",
          "Subject: x\n\nReported:\n{% for p in reported %}\n  - {{ p.nickname }}\n{% endfor %}\n")
    with pytest.raises(TemplateProblem) as caught:
        Renderer(tmp_path).render("notice", "en", SAMPLE_CONTEXTS["notice"])
    assert caught.value.problem.line == 5


def test_runtime_errors_do_not_leak_values_into_the_message(tmp_path: Path) -> None:
    write(tmp_path, "en/x.txt.j2", "Subject: x\n\n{{ secret | int(base=2) + secret }}\n")
    with pytest.raises(TemplateProblem) as caught:
        Renderer(tmp_path).render("x", "en", {"secret": "my private report text"})
    assert caught.value.problem.line == 3
    assert "my private report text" not in str(caught.value)


def test_syntax_errors_are_all_listed_at_load_with_file_and_line(tmp_path: Path) -> None:
    ack = write(tmp_path, "es/ack.txt.j2", "Subject: ok\n\nuno\ndos\n{% if x %}\ntres\n")
    notice = write(tmp_path, "en/notice.txt.j2", "Subject: {{ case.id \n\nbody {{ ok }}\n")
    write(tmp_path, "en/fine.txt.j2", "Subject: fine\n\nfine\n")
    with pytest.raises(ConfigError) as caught:
        Renderer(tmp_path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert any(line.startswith(f"{notice}:1: ") for line in lines)
    # Jinja notices the unclosed block at the end of the file: line 6, not line 4.
    assert any(line.startswith(f"{ack}:6: ") and "endif" in line for line in lines)


def test_unknown_filters_and_tests_are_refused_at_load_with_file_and_line(
        tmp_path: Path) -> None:
    # Parsing alone accepts both; the daemon must still refuse them at start, not when the
    # first report comes in.
    ack = write(tmp_path, "en/ack.txt.j2",
                "Subject: [{{ case.id }}]\n\nHello\n{% if urgent %}\n{{ case.id | shout }}\n"
                "{% endif %}\n")
    notice = write(tmp_path, "de/notice.txt.j2",
                   "Subject: {% if case is urgentish %}!{% endif %}\n\nText\n")
    with pytest.raises(ConfigError) as caught:
        Renderer(tmp_path)
    lines = str(caught.value).splitlines()
    assert sorted(lines) == sorted([f"{ack}:5: no filter named 'shout'",
                                    f"{notice}:1: no test named 'urgentish'"])


def test_what_only_the_compiler_refuses_is_a_template_problem_on_first_use(
        tmp_path: Path) -> None:
    path = write(tmp_path, "en/x.txt.j2",
                 "Subject: x\n\n{% block a %}one{% endblock %}\n{% block a %}two{% endblock %}\n")
    renderer = Renderer(tmp_path)
    with pytest.raises(TemplateProblem) as caught:
        renderer.render("x", "en", {})
    assert (caught.value.problem.file, caught.value.problem.line) == (str(path), 4)
    assert "defined twice" in caught.value.problem.message


@pytest.mark.parametrize(("text", "line", "words"), [
    ("Hello\n\nbody\n", 1, "Subject"),
    ("Subject: x\nbody right away\n", 2, "blank"),
    ("Subject: x\n\n\n", 3, "empty"),
])
def test_a_file_not_in_the_template_format_is_refused(tmp_path: Path, text: str, line: int,
                                                      words: str) -> None:
    path = write(tmp_path, "en/ack.txt.j2", text)
    with pytest.raises(ConfigError) as caught:
        Renderer(tmp_path)
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(path), line) and words in problem.message


def test_bad_folder_and_file_names_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "english/ack.txt.j2", "Subject: x\n\nbody\n")
    write(tmp_path, "en/Ack-Reply.txt.j2", "Subject: x\n\nbody\n")
    write(tmp_path, "en/README.md", "notes for admins are fine\n")
    with pytest.raises(ConfigError) as caught:
        Renderer(tmp_path)
    assert [Path(p.file).name for p in caught.value.problems] == ["Ack-Reply.txt.j2", "english"]


def test_a_missing_templates_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="templates directory not found"):
        Renderer(tmp_path / "nope")


def test_check_finds_what_one_render_would_miss(tmp_path: Path) -> None:
    ack = write(tmp_path, "en/ack.txt.j2",
                "Subject: [{{ case.id }}]\n\nHello,\n{% if escrow %}\n{{ escrow_note }}\n"
                "{% endif %}\n{% if anonymous %}\n{{ case.code_nam }}\n{% endif %}\n")
    empty = write(tmp_path, "en/notice.txt.j2", "Subject: {{ '' }}\n\nHi {{ member_name }}\n")
    orphan = write(tmp_path, "fr/ack_extra.txt.j2", "Subject: x\n\ny\n")
    found = {(p.file, p.line): p.message for p in Renderer(tmp_path).check()}
    assert "'escrow_note'" in found[(str(ack), 5)]  # static: a name no context has
    assert "code_nam" in found[(str(ack), 8)]  # rendered with anonymous flipped on
    assert "empty" in found[(str(empty), 1)]
    assert "no sample context" in found[(str(orphan), 1)]
    assert "no English version" in found[(str(tmp_path / "en" / "ack_extra.txt.j2"), 1)]
    assert "no English version" in found[(str(tmp_path / "en" / "quarantine_alert.txt.j2"), 1)]


# --------------------------------------------------------------------------- sandbox


@pytest.mark.parametrize("expression", [
    "''.__class__.__mro__",
    "case.__class__.__mro__[1].__subclasses__()",
    "committee.append('intruder')",
    "format_date.__globals__",
])
def test_the_sandbox_refuses_escapes(tmp_path: Path, expression: str) -> None:
    write(tmp_path, "en/ack.txt.j2", f"Subject: x\n\nHello\n{{{{ {expression} }}}}\n")
    context = ack_context(format_date=format_date)
    committee = list(context["committee"])  # type: ignore[call-overload]
    with pytest.raises(TemplateProblem) as caught:
        Renderer(tmp_path).render("ack", "en", context)
    assert caught.value.problem.line == 4
    assert "SecurityError" in caught.value.problem.message
    assert context["committee"] == committee


# --------------------------------------------------------------------------- output shape


def test_values_cannot_break_the_subject_line(tmp_path: Path) -> None:
    write(tmp_path, "en/ack.txt.j2", "Subject: [{{ case.id }}] {{ case.code_name }}\n\nHi\n")
    context = ack_context(case={"id": "COC-1", "code_name": "a\r\nBcc: evil@example.net"})
    assert Renderer(tmp_path).render("ack", "en", context).subject == (
        "[COC-1] a Bcc: evil@example.net")


def test_long_lines_reflow_within_their_paragraph(tmp_path: Path) -> None:
    write(tmp_path, "en/x.txt.j2",
          "Subject: x\n\nShort heading\nOur committee is the {{ name }} and it reads\n"
          "every report with care.\n  - item {{ name }} {{ name }}\nTake care,\n{{ sig }}\n")
    name = "Very Long Community Name Code of Conduct and Safety Committee"
    body = Renderer(tmp_path).render("x", "en", {"name": name, "sig": "The team"}).body
    assert all(len(line) <= 78 for line in body.splitlines())
    lines = body.splitlines()
    assert lines[0] == "Short heading" and lines[-2:] == ["Take care,", "The team"]
    assert flat("\n".join(lines[1:3])) == (
        f"Our committee is the {name} and it reads every report with care.")
    item = next(line for line in lines if line.startswith("  - item"))
    assert lines[lines.index(item) + 1].startswith("    ")  # hanging indent under the item


def test_date_filter_formats_in_the_given_zone(tmp_path: Path) -> None:
    write(tmp_path, "en/x.txt.j2", "Subject: x\n\n{{ when | date(tz) }} / {{ naive | date }}\n")
    context = {"when": datetime(2026, 3, 14, 9, 30, tzinfo=UTC),
               "naive": datetime(2026, 3, 14, 9, 30), "tz": "Europe/Madrid"}
    body = Renderer(tmp_path).render("x", "en", context).body
    assert body == "2026-03-14 10:30 CET / 2026-03-14 09:30 UTC\n"


def test_a_pasted_chat_log_keeps_its_lines_in_the_full_report(renderer: Renderer) -> None:
    """Evidence is kept as written: long lines may wrap, lines are never run together."""
    from mailproc.mail.templates import SAMPLE_CONTEXTS

    log = ("[21:04] Marco: you should come to my room after the talk, nobody will know, I "
           "promise it is only about the project\n[21:05] Marco: answer me\n\n"
           "[21:07] Marco: I know where you are staying")
    context = copy.deepcopy(SAMPLE_CONTEXTS["disclosure"])
    context["report"]["original_text"] = log
    body = renderer.render("disclosure", "en", context).body
    lines = body.splitlines()
    start = lines.index("[21:04] Marco: you should come to my room after the talk, nobody will "
                        "know, I")
    assert lines[start + 1:start + 5] == ["promise it is only about the project",
                                          "[21:05] Marco: answer me", "",
                                          "[21:07] Marco: I know where you are staying"]
