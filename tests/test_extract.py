"""Report field extraction, as tables: what a reporter writes -> what the committee sees.

A golden corpus (tests/data/extract/NAME.txt, optional NAME.translated.txt, NAME.json) checks
whole reports; the parametrised tables below check every label and every cue in every language,
the negation traps, reported-person parsing, links/handles/emails and the ignored addresses.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from mailproc.model.parsed import ReportedPersonFields, ReportFields
from mailproc.reading.cues_more import MORE_LANGS
from mailproc.reading.extract import extract_report

DATA = Path(__file__).parent / "data" / "extract"
FIXTURES = sorted(p.stem for p in DATA.glob("*.json"))


def _as_json(fields: ReportFields) -> dict[str, Any]:
    as_json: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(fields)))
    return as_json  # tuples became lists, as in the files


@pytest.mark.parametrize("name", FIXTURES)
def test_golden_report(name: str) -> None:
    spec = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    translated = DATA / f"{name}.translated.txt"
    got = _as_json(
        extract_report(
            (DATA / f"{name}.txt").read_text(encoding="utf-8"),
            translated.read_text(encoding="utf-8") if translated.exists() else None,
            spec["language"],
            spec.get("ignore_emails", ()),
        )
    )
    # Every field not named in the file must keep its default: nothing extra was invented.
    expected = _as_json(ReportFields()) | spec["expect"]
    # A reported person the file lists without "automatic" was named under a label.
    expected["reported"] = [{"automatic": False} | p for p in expected["reported"]]
    unchecked = {"description", "signals"} - set(spec["expect"])
    assert {k: v for k, v in got.items() if k not in unchecked} == {
        k: v for k, v in expected.items() if k not in unchecked
    }


def test_golden_corpus_is_complete() -> None:
    assert {n.split("_")[0] for n in FIXTURES} >= {"en", "es", "fr", "de", "pt", "ja"}


# --------------------------------------------------------------------------- every label

LABELS = [
    # en
    ("Date and time: 3 March, 14:00", "when", "3 March, 14:00"),
    ("When: last Friday", "when", "last Friday"),
    ("Location: Hall B", "where", "Hall B"),
    ("Where: the #general channel", "where", "the #general channel"),
    ("Ongoing: yes", "ongoing", True),
    ("Is it ongoing? No", "ongoing", False),
    ("Description: He shouted at me.", "description", "He shouted at me."),
    ("Circumstances: after the keynote", "circumstances", "after the keynote"),
    ("Witnesses: Ann, Bo", "witnesses", ("Ann", "Bo")),
    ("Reported person: John Doe", "reported", "John Doe"),
    ("Name of the person: John Doe", "name", "John Doe"),
    ("Handle: @jdoe", "handle", "@jdoe"),
    ("Links: https://example.org/x", "links", ("https://example.org/x",)),
    ("Contact: +1 555 0100", "contact", "+1 555 0100"),
    # es
    ("Fecha y hora: 3 de marzo, 14:00", "when", "3 de marzo, 14:00"),
    ("Cuándo: el viernes", "when", "el viernes"),
    ("Lugar: sala B", "where", "sala B"),
    ("Dónde: en el chat", "where", "en el chat"),
    ("¿Sigue ocurriendo? Sí", "ongoing", True),
    ("En curso: no", "ongoing", False),
    ("Descripción: Me gritó.", "description", "Me gritó."),
    ("Circunstancias: tras la charla", "circumstances", "tras la charla"),
    ("Testigos: Ana, Luis", "witnesses", ("Ana", "Luis")),
    ("Persona denunciada: Juan Pérez", "reported", "Juan Pérez"),
    ("Nombre de la persona: Juan Pérez", "name", "Juan Pérez"),
    ("Usuario: @juanp", "handle", "@juanp"),
    ("Enlaces: https://example.org/es", "links", ("https://example.org/es",)),
    ("Contacto: +34 600 000 000", "contact", "+34 600 000 000"),
    # fr (with the French space before the colon)
    ("Date et heure : 3 mars, 14 h", "when", "3 mars, 14 h"),
    ("Quand : vendredi", "when", "vendredi"),
    ("Lieu : salle B", "where", "salle B"),
    ("Où : sur le forum", "where", "sur le forum"),
    ("Est-ce en cours ? Oui", "ongoing", True),
    ("En cours : non", "ongoing", False),
    ("Description : Il m'a insultée.", "description", "Il m'a insultée."),
    ("Circonstances : après la conférence", "circumstances", "après la conférence"),
    ("Témoins : Paul, Léa", "witnesses", ("Paul", "Léa")),
    ("Personne signalée : Luc Martin", "reported", "Luc Martin"),
    ("Nom de la personne : Luc Martin", "name", "Luc Martin"),
    ("Pseudo : @lucm", "handle", "@lucm"),
    ("Liens : https://example.org/fr", "links", ("https://example.org/fr",)),
    ("Contact : 06 00 00 00 00", "contact", "06 00 00 00 00"),
    # de
    ("Datum und Uhrzeit: 3. März, 14 Uhr", "when", "3. März, 14 Uhr"),
    ("Wann: Freitag", "when", "Freitag"),
    ("Ort: Saal B", "where", "Saal B"),
    ("Wo: im Forum", "where", "im Forum"),
    ("Dauert es noch an? Ja", "ongoing", True),
    ("Andauernd: nein", "ongoing", False),
    ("Beschreibung: Er hat mich angeschrien.", "description", "Er hat mich angeschrien."),
    ("Umstände: nach dem Vortrag", "circumstances", "nach dem Vortrag"),
    ("Zeugen: Lena, Tom", "witnesses", ("Lena", "Tom")),
    ("Gemeldete Person: Max Weber", "reported", "Max Weber"),
    ("Name der Person: Max Weber", "name", "Max Weber"),
    ("Benutzername: @mweber", "handle", "@mweber"),
    ("Links: https://example.org/de", "links", ("https://example.org/de",)),
    ("Kontakt: +49 30 000000", "contact", "+49 30 000000"),
    # pt
    ("Data e hora: 3 de março, 14h", "when", "3 de março, 14h"),
    ("Quando: sexta-feira", "when", "sexta-feira"),
    ("Local: sala B", "where", "sala B"),
    ("Onde: no grupo", "where", "no grupo"),
    ("Em andamento: sim", "ongoing", True),
    ("Ainda está acontecendo? Não", "ongoing", False),
    ("Descrição: Ele gritou comigo.", "description", "Ele gritou comigo."),
    ("Circunstâncias: depois da palestra", "circumstances", "depois da palestra"),
    ("Testemunhas: Bia, Caio", "witnesses", ("Bia", "Caio")),
    ("Pessoa denunciada: Rafael Souza", "reported", "Rafael Souza"),
    ("Nome da pessoa: Rafael Souza", "name", "Rafael Souza"),
    ("Usuário: @rsouza", "handle", "@rsouza"),
    ("Links: https://example.org/pt", "links", ("https://example.org/pt",)),
    ("Contato: +55 11 0000-0000", "contact", "+55 11 0000-0000"),
]


def _field(fields: ReportFields, key: str) -> object:
    if key in ("reported", "name"):
        return fields.reported[0].name if fields.reported else None
    if key == "handle":
        return fields.reported[0].handle if fields.reported else None
    return getattr(fields, key)


@pytest.mark.parametrize(("line", "key", "value"), LABELS, ids=[c[0] for c in LABELS])
@pytest.mark.parametrize("bullet", ["", "- ", "**"])
def test_every_label(line: str, key: str, value: object, bullet: str) -> None:
    text = f"Hello.\n{bullet}{line}\nThanks."
    fields = extract_report(text, None, None)
    assert _field(fields, key) == value
    if key != "description":  # the label line was consumed: the rest is the free text
        assert fields.description == "Hello.\nThanks."


@pytest.mark.parametrize(("line", "key", "value"), LABELS[::3], ids=[c[0] for c in LABELS[::3]])
def test_labels_are_case_insensitive(line: str, key: str, value: object) -> None:
    label, sep, rest = line.partition(":") if ":" in line else line.partition("?")
    fields = extract_report(f"{label.upper()}{sep}{rest}", None, None)
    assert _field(fields, key) == value


def test_labels_in_an_english_translation_fill_what_the_original_lacks() -> None:
    original = "Ort: Berlin\n\nEr hat mich beleidigt."
    translated = "Location: Berlin\nWhen: yesterday evening\n\nHe insulted me."
    fields = extract_report(original, translated, "de")
    assert (fields.where, fields.when) == ("Berlin", "yesterday evening")


def test_the_original_wins_over_its_translation() -> None:
    fields = extract_report("Lugar: sala Ñandú", "Location: Ñandú room", "es")
    assert fields.where == "sala Ñandú"


def test_values_continue_on_indented_lines_and_bare_labels_take_the_next_lines() -> None:
    text = (
        "Location: Hall B,\n   second floor\nWitnesses:\n- Ann\n- Bo\n\n"
        "Description:\nFirst paragraph.\n\nSecond paragraph.\n\nThanks,\nKim"
    )
    fields = extract_report(text, None, "en")
    assert fields.where == "Hall B, second floor"
    assert fields.witnesses == ("Ann", "Bo")
    assert fields.description == "First paragraph.\n\nSecond paragraph."


def test_a_forwarded_header_date_is_not_the_incident_date() -> None:
    text = "---------- Forwarded message ---------\nFrom: X <x@example.com>\nDate: Mon, 2 Mar"
    assert extract_report(text, None, "en").when is None


def test_witnesses_none() -> None:
    for word in ("none", "Ninguno", "aucun", "keine", "nenhum", "-"):
        assert extract_report(f"Witnesses: {word}", None, None).witnesses == ()


# --------------------------------------------------------------------------- flags

# (text, language, expected fields)
FLAGS: list[tuple[str, str, dict[str, object]]] = [
    # anonymous
    ("I want to stay anonymous.", "en", {"anonymous": True}),
    ("Please treat this as an anonymous report.", "en", {"anonymous": True}),
    ("No me contacten, no quiero dar mi nombre.", "es", {"anonymous": True}),
    ("Je ne veux pas donner mon nom.", "fr", {"anonymous": True}),
    ("Please keep this anonymous.", "en", {"anonymous": True}),
    ("I'd like to remain anonymous if possible.", "en", {"anonymous": True}),
    ("Please don't share my name with anyone.", "en", {"anonymous": True}),
    ("I would prefer that my name is not shared.", "en", {"anonymous": True}),
    ("I don't know what to do and I want to stay anonymous.", "en", {"anonymous": True}),
    ("Quiero permanecer anónima.", "es", {"anonymous": True}),
    ("Por favor, no compartan mi nombre.", "es", {"anonymous": True}),
    ("Je souhaite rester anonyme.", "fr", {"anonymous": True}),
    ("Je voudrais que ce signalement reste anonyme.", "fr", {"anonymous": True}),
    ("Ne révélez pas mon identité, s'il vous plaît.", "fr", {"anonymous": True}),
    ("Ich möchte anonym bleiben.", "de", {"anonymous": True}),
    ("Bitte meinen Namen nicht weitergeben.", "de", {"anonymous": True}),
    ("Quero permanecer anônimo.", "pt", {"anonymous": True}),
    ("Gostaria de fazer esta denúncia de forma anônima.", "pt", {"anonymous": True}),
    ("Por favor, não revelem o meu nome.", "pt", {"anonymous": True}),
    # escrow
    ("Please only act if someone else reports them.", "en", {"escrow": True}),
    ("Hold this unless others report him.", "en", {"escrow": True}),
    ("Don't act on this unless there are other reports.", "en", {"escrow": True}),
    ("Please keep this in escrow.", "en", {"escrow": True}),
    ("Solo actúen si alguien más lo denuncia.", "es", {"escrow": True}),
    ("N'agissez que si quelqu'un d'autre le signale.", "fr", {"escrow": True}),
    ("Bitte nur handeln, wenn jemand anderes ihn auch meldet.", "de", {"escrow": True}),
    ("Só ajam se outra pessoa também denunciar.", "pt", {"escrow": True}),
    # on behalf of
    ("I'm writing on behalf of my friend Maria.", "en", {"on_behalf_of": "Maria"}),
    ("On behalf of Jo Smith, I report the following.", "en", {"on_behalf_of": "Jo Smith"}),
    ("My colleague asked me to report this.", "en", {"on_behalf_of": ""}),
    ("I am reporting this on behalf of someone who is scared.", "en", {"on_behalf_of": ""}),
    (
        "I am writing on behalf of my friend Maria, who can't write English.",
        "en",
        {"on_behalf_of": "Maria"},
    ),
    ("Escribo en nombre de mi amiga Lucía.", "es", {"on_behalf_of": "Lucía"}),
    ("Mi compañero me pidió que lo denunciara.", "es", {"on_behalf_of": ""}),
    ("Je vous écris au nom de mon amie Claire.", "fr", {"on_behalf_of": "Claire"}),
    ("Ich schreibe im Namen meiner Kollegin Anna.", "de", {"on_behalf_of": "Anna"}),
    ("Ich melde das im Namen meiner Mitbewohnerin.", "de", {"on_behalf_of": ""}),
    ("Escrevo em nome da minha amiga Ana.", "pt", {"on_behalf_of": "Ana"}),
    # urgency
    ("He is following me now.", "en", {"urgent_reasons": ("physical-danger",)}),
    ("I don't feel safe right now.", "en", {"urgent_reasons": ("physical-danger",)}),
    ("He is at the venue right now.", "en", {"urgent_reasons": ("physical-danger",)}),
    ("He threatened to hurt me.", "en", {"urgent_reasons": ("threat",)}),
    ("She said she would kill me.", "en", {"urgent_reasons": ("threat",)}),
    ("He posted my home address on the forum.", "en", {"urgent_reasons": ("doxxing",)}),
    ("They published my phone number.", "en", {"urgent_reasons": ("doxxing",)}),
    ("I have been thinking about killing myself.", "en", {"urgent_reasons": ("self-harm",)}),
    ("Me está siguiendo ahora mismo.", "es", {"urgent_reasons": ("physical-danger",)}),
    ("No me siento segura ahora.", "es", {"urgent_reasons": ("physical-danger",)}),
    ("Me amenazó con matarme.", "es", {"urgent_reasons": ("threat",)}),
    ("Publicó mi dirección en Twitter.", "es", {"urgent_reasons": ("doxxing",)}),
    ("Tengo pensamientos suicidas.", "es", {"urgent_reasons": ("self-harm",)}),
    ("Il me suit en ce moment.", "fr", {"urgent_reasons": ("physical-danger",)}),
    ("Il m'a menacée de me tuer.", "fr", {"urgent_reasons": ("threat",)}),
    ("Il a publié mon adresse sur le forum.", "fr", {"urgent_reasons": ("doxxing",)}),
    ("J'ai des pensées suicidaires.", "fr", {"urgent_reasons": ("self-harm",)}),
    ("Er verfolgt mich gerade.", "de", {"urgent_reasons": ("physical-danger",)}),
    ("Er hat gedroht, mich umzubringen.", "de", {"urgent_reasons": ("threat",)}),
    ("Er hat meine Adresse auf Twitter veröffentlicht.", "de", {"urgent_reasons": ("doxxing",)}),
    ("Ich habe Suizidgedanken.", "de", {"urgent_reasons": ("self-harm",)}),
    ("Ele está me seguindo agora.", "pt", {"urgent_reasons": ("physical-danger",)}),
    ("Ele ameaçou me matar.", "pt", {"urgent_reasons": ("threat",)}),
    ("Ele publicou o meu endereço no grupo.", "pt", {"urgent_reasons": ("doxxing",)}),
    ("Tenho pensamentos suicidas.", "pt", {"urgent_reasons": ("self-harm",)}),
    ("He said he will find me at the next conference.", "en", {"urgent_reasons": ("threat",)}),
    ("He said he would find me boring at the talk.", "en", {}),
    ("He knows where I live.", "en", {"urgent_reasons": ("physical-danger",)}),
]
_FLAG_DEFAULTS: dict[str, object] = {
    "anonymous": False, "escrow": False, "on_behalf_of": None, "urgent_reasons": ()
}


def _flags(fields: ReportFields) -> dict[str, object]:
    return {k: getattr(fields, k) for k in _FLAG_DEFAULTS}


@pytest.mark.parametrize(("text", "lang", "expected"), FLAGS, ids=[c[0] for c in FLAGS])
def test_flag_in_the_original(text: str, lang: str, expected: dict[str, object]) -> None:
    fields = extract_report(f"Hello,\n\n{text}\n", None, lang)
    assert _flags(fields) == _FLAG_DEFAULTS | expected
    assert fields.urgent == bool(fields.urgent_reasons)
    kind = {"anonymous": "anonymous", "escrow": "escrow", "on_behalf_of": "on-behalf"}
    for key in expected:
        names = [f"urgent:{r}" for r in fields.urgent_reasons] if key == "urgent_reasons" else [
            kind[key]
        ]
        assert all(f"{name}:{lang}" in fields.signals for name in names), fields.signals


@pytest.mark.parametrize(("text", "lang", "expected"), FLAGS, ids=[c[0] for c in FLAGS])
def test_flag_found_whatever_language_was_detected(
    text: str, lang: str, expected: dict[str, object]
) -> None:
    # Language detection fails on short texts: every table is tried on the original.
    assert _flags(extract_report(text, None, None)) == _FLAG_DEFAULTS | expected


# A Japanese original the tables cannot read, with the English translation that says it all.
TRANSLATED: list[tuple[str, str, dict[str, object]]] = [
    ("匿名にしてください。", "Please keep this anonymous.", {"anonymous": True}),
    (
        "他の人も報告した場合にのみ対応してください。",
        "Please only act if someone else reports them too.",
        {"escrow": True},
    ),
    (
        "友人のさくらの代わりに報告します。",
        "I am reporting this on behalf of my friend Sakura.",
        {"on_behalf_of": "Sakura"},
    ),
    (
        "彼は今も私をつけてきています。",
        "He is following me right now.",
        {"urgent_reasons": ("physical-danger",)},
    ),
    ("彼は私を殺すと脅しました。", "He threatened to kill me.", {"urgent_reasons": ("threat",)}),
    (
        "Он сказал, что найдёт меня на следующей конференции.",
        "He said he will find me at the next conference.",
        {"urgent_reasons": ("threat",)},
    ),
    (
        "Per favore, trattatela come una segnalazione anonima.",
        "Please treat this as an anonymous report.",
        {"anonymous": True},
    ),
    (
        "彼は私の自宅の住所を公開しました。",
        "He posted my home address online.",
        {"urgent_reasons": ("doxxing",)},
    ),
    (
        "最近、自分を傷つけることを考えています。",
        "Lately I am thinking about hurting myself.",
        {"urgent_reasons": ("self-harm",)},
    ),
]


@pytest.mark.parametrize(("original", "translated", "expected"), TRANSLATED)
def test_flag_through_the_translation(
    original: str, translated: str, expected: dict[str, object]
) -> None:
    fields = extract_report(original, translated, "ja")
    assert _flags(fields) == _FLAG_DEFAULTS | expected
    # Read in the translation, or first in the original where it has its own phrases (issue 14).
    assert fields.signals and all(s.endswith(":en:translation") or s.split(":")[-1] in MORE_LANGS
                                  for s in fields.signals)


def test_no_translation_no_flag_for_a_language_without_phrases() -> None:
    assert _flags(extract_report("Lütfen bunu gizli tutun.", None, "tr")) == _FLAG_DEFAULTS
    # Japanese has a few phrases of its own now (reading.cues_more): no translation needed.
    assert extract_report("匿名にしてください。", None, "ja").anonymous


# --------------------------------------------------------------------------- negation traps

TRAPS: list[tuple[str, str | None, str]] = [
    ("I am not asking to be anonymous, you can use my name.", None, "en"),
    ("An anonymous account harassed me for weeks.", None, "en"),
    ("He wants to stay anonymous, but I know who he is.", None, "en"),
    ("I don't need to stay anonymous.", None, "en"),
    ("No quiero permanecer anónima, pueden usar mi nombre.", None, "es"),
    ("Una cuenta anónima me acosó.", None, "es"),
    ("Je ne souhaite pas rester anonyme.", None, "fr"),
    ("Un compte anonyme m'a harcelée.", None, "fr"),
    ("Ich möchte nicht anonym bleiben.", None, "de"),
    ("Ein anonymer Account hat mich belästigt.", None, "de"),
    ("Não quero permanecer anônima.", None, "pt"),
    ("Uma conta anônima me assediou.", None, "pt"),
    ("Please act now, even if nobody else reports him.", None, "en"),
    ("I'm not asking you to hold this until others report.", None, "en"),
    ("He spoke on behalf of the company at the meetup.", None, "en"),
    ("I am not writing on behalf of anyone else.", None, "en"),
    # confidentiality towards the reported person is the default, not an anonymity request
    ("Please don't share my name with him.", None, "en"),
    ("He hit me up on Discord and hit me with a rude comment.", None, "en"),
    ("He was following me at last year's conference.", None, "en"),
    ("He never threatened to hurt me, but his comments were rude.", None, "en"),
    ("I'm not suicidal, just upset.", None, "en"),
    ("I feel safe now, it's over.", None, "en"),
    ("He shared my name with the other maintainers.", None, "en"),
    ("Nunca me amenazó con hacerme daño.", None, "es"),
    ("Er hat nicht gedroht, mich zu schlagen.", None, "de"),
    # the original is negated: a translation that lost the "not" cannot overrule it
    ("No quiero permanecer anónima.", "I want to remain anonymous.", "es"),
    # a negation in the translation counts too
    ("匿名である必要はありません。", "I don't need to be anonymous.", "ja"),
]


@pytest.mark.parametrize(("text", "translated", "lang"), TRAPS, ids=[t[0] for t in TRAPS])
def test_negation_and_subject_traps(text: str, translated: str | None, lang: str) -> None:
    assert _flags(extract_report(text, translated, lang)) == _FLAG_DEFAULTS


def test_a_negated_cue_is_named_in_signals() -> None:
    fields = extract_report("I am not asking to be anonymous.", None, "en")
    assert fields.signals == ("negated:anonymous:en",)
    fields = extract_report("匿名である必要はありません。", "I don't need to be anonymous.", "ja")
    assert fields.signals == ("negated:anonymous:en:translation",)


def test_a_quoted_threat_is_urgent_but_a_quoted_request_is_not_the_reporters() -> None:
    text = "He sent me this:\n\n> I will find you and hurt you.\n> I want to stay anonymous."
    fields = extract_report(text, None, "en")
    assert (fields.urgent_reasons, fields.anonymous) == (("threat",), False)


# --------------------------------------------------------------------------- ongoing from words

ONGOING: list[tuple[str, str, bool | None]] = [
    ("He keeps messaging me every day.", "en", True),
    ("It only happened once.", "en", False),
    ("Sigue escribiéndome todos los días.", "es", True),
    ("Ya no pasa, solo pasó una vez.", "es", False),
    ("Ça continue tous les jours.", "fr", True),
    ("C'est terminé depuis lundi.", "fr", False),
    ("Es dauert noch an.", "de", True),
    ("Es hat aufgehört.", "de", False),
    ("Ele ainda está me mandando mensagens.", "pt", True),
    ("Já parou.", "pt", False),
    ("He shouted at me once at the party.", "en", None),
    ("I keep thinking about it. The project continues to grow.", "en", None),
    ("Ongoing: not sure", "en", None),
    ("¿Sigue ocurriendo? No sé", "es", None),
]


@pytest.mark.parametrize(("text", "lang", "expected"), ONGOING, ids=[o[0] for o in ONGOING])
def test_ongoing(text: str, lang: str, expected: bool | None) -> None:
    assert extract_report(text, None, lang).ongoing is expected


# --------------------------------------------------------------------------- reported persons

P = ReportedPersonFields
PEOPLE: list[tuple[str, tuple[ReportedPersonFields, ...]]] = [
    (
        "Reported person: John Doe (@jdoe, john@example.com)",
        (P("John Doe", "@jdoe", "john@example.com"),),
    ),
    ("Reported person: @jdoe", (P(None, "@jdoe", None),)),
    ("Reported person: Jane Roe <jane@example.com>", (P("Jane Roe", None, "jane@example.com"),)),
    ("Reported person: Jane Roe - tall, red cap", (P("Jane Roe", None, None),)),
    ("Reported person: unknown, tall man with a red cap", ()),
    ("Persona denunciada: no sé su nombre", ()),
    (
        "Reported persons:\n- Ann Lee (@ann)\n- Bo Chen, bo@example.com",
        (P("Ann Lee", "@ann", None), P("Bo Chen", None, "bo@example.com")),
    ),
    ("Reported person: Ann Lee; Bo Chen", (P("Ann Lee"), P("Bo Chen"))),
    ("Reported person: Ann Lee and Bo Chen", (P("Ann Lee"), P("Bo Chen"))),
    (
        "Reported person: Dan (dan@example.com) and his friend @mike",
        (P("Dan", None, "dan@example.com"), P(None, "@mike", None)),
    ),
    (
        "Reported person: John Doe\n  goes by @jdoe on Discord, jd@example.com",
        (P("John Doe", "@jdoe", "jd@example.com"),),
    ),
    ("Name of the person: John Doe\nHandle: jdoe", (P("John Doe", "jdoe", None),)),
    ("Reported person: John Doe\nHandle: @jdoe", (P("John Doe", "@jdoe", None),)),
    (
        "Reported person: Ann Lee (@ann)\nName of the person: Bo Chen",
        (P("Ann Lee", "@ann", None), P("Bo Chen")),
    ),
    ("Reported person: @troll@mastodon.social", (P(None, "@troll@mastodon.social", None),)),
    # no label: each email and handle of the free text, one field each
    (
        # a name in free text is found automatically (issue 14), with what follows it in brackets
        "John Doe (@jdoe, john@example.com) insulted me.",
        (P(name="John Doe", handle="@jdoe", email="john@example.com", automatic=True),),
    ),
    # witnesses and the reporter's contact are not reported persons
    (
        "@troll insulted me.\nWitnesses: @ann\nContact: me2@example.org",
        (P(handle="@troll"),),
    ),
    ("Nobody in particular, it was a crowd.", ()),
]


@pytest.mark.parametrize(("text", "people"), PEOPLE, ids=[p[0] for p in PEOPLE])
def test_reported_persons(text: str, people: tuple[ReportedPersonFields, ...]) -> None:
    assert extract_report(text, None, None).reported == people


def test_labelled_persons_in_a_translation_when_the_original_has_none() -> None:
    fields = extract_report("報告対象者: 田中太郎", "Reported person: Taro Tanaka", "ja")
    assert fields.reported == (P("Taro Tanaka"),)


# --------------------------------------------------------------------------- links, handles, emails

LINKS: list[tuple[str, tuple[str, ...]]] = [
    ("See https://example.com/a_(b).", ("https://example.com/a_(b)",)),
    ("(https://example.com/x), and http://example.org/y!", (
        "https://example.com/x", "http://example.org/y"
    )),
    ("Same link twice: https://example.com/x https://example.com/x", ("https://example.com/x",)),
    ("リンク：https://example.com/post/1です", ("https://example.com/post/1",)),
    ("'https://example.com/q?a=1&b=2'", ("https://example.com/q?a=1&b=2",)),
    ("ftp://example.com/file and www.example.com", ()),
]


@pytest.mark.parametrize(("text", "urls"), LINKS, ids=[t[0] for t in LINKS])
def test_links(text: str, urls: tuple[str, ...]) -> None:
    assert extract_report(text, None, None).links == urls


HANDLES: list[tuple[str, tuple[ReportedPersonFields, ...]]] = [
    ("Look at https://example.com/@jdoe and https://x.com/jdoe", ()),
    ("Write to a.b@example.co.uk, please", (P(email="a.b@example.co.uk"),)),
    ("@here please look, @everyone saw it", ()),
    ("He is @bad_actor.", (P(handle="@bad_actor"),)),
    ("連絡先はbad@example.jpです", (P(email="bad@example.jp"),)),
    ("Meet me @5pm? no: @123 is not a handle", (P(handle="@5pm"),)),
]


@pytest.mark.parametrize(("text", "people"), HANDLES, ids=[t[0] for t in HANDLES])
def test_handles_and_emails_in_free_text(
    text: str, people: tuple[ReportedPersonFields, ...]
) -> None:
    assert extract_report(text, None, None).reported == people


IGNORED = ["Reporter@Example.org", "conduct@example.org"]
IGNORE_CASES = [
    "I (reporter@example.org) was insulted, cc conduct@EXAMPLE.org",
    "Reported person: Sam (reporter@example.org)",
    "Reported persons:\n- conduct@example.org\n- Sam\n  reporter@example.org",
    "On behalf of reporter@example.org: see <reporter@example.org>",
]


@pytest.mark.parametrize("text", IGNORE_CASES)
def test_ignored_emails_are_never_reported(text: str) -> None:
    fields = extract_report(text, text, "en", IGNORED)
    emails = {(p.email or "").lower() for p in fields.reported}
    assert emails.isdisjoint({"reporter@example.org", "conduct@example.org"})
    assert all(p != P() for p in fields.reported)


def test_description_is_the_whole_text_without_quotes_and_signature() -> None:
    text = (
        "He insulted me twice.\nPlease help.\n\nOn Mon, Bo <bo@example.com> wrote:\n"
        "> old text\n\n-- \nKim | @kim\n"
    )
    fields = extract_report(text, None, "en")
    assert fields.description == "He insulted me twice.\nPlease help."
    assert fields.reported == ()


def test_pure_same_input_same_output() -> None:
    text = (DATA / "en_labelled.txt").read_text(encoding="utf-8")
    assert extract_report(text, None, "en") == extract_report(text, None, "en")


def test_a_forwarded_notices_escrow_label_is_not_a_request() -> None:
    fields = extract_report("Look:\n\n---------- Forwarded message ---------\n"
                            "  Urgent:     no\n  Escrowed:   no\n\nHe did it to me too.\n",
                            None, "en")
    assert not fields.escrow and "escrow:en" not in fields.signals
