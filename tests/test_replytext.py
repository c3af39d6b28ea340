"""The new text of a reply: a golden corpus of real client formats, then one rule per test.

tests/data/replies/NAME.txt is a reply body as `ParsedMessage.text` holds it; NAME.html is an
HTML-only reply, converted by the real `htmltext.html_to_text` first. NAME.json holds what the
member really wrote now ("new") and what ended it ("cut_reason"). Every quoted part of the
corpus carries old commands (#vote, #close, #conflict…) that must never come back.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from mailproc.mail.htmltext import html_to_text
from mailproc.mail.replytext import ReplyText, new_text

REPLIES = Path(__file__).parent / "data" / "replies"
CASES = sorted(REPLIES.glob("*.json"))


def load_case(path: Path) -> tuple[str, dict[str, Any]]:
    """The body of one corpus reply (HTML converted as parse does) and its expected values."""
    html = path.with_suffix(".html")
    body = html_to_text(html.read_text()) if html.exists() else path.with_suffix(".txt").read_text()
    return body, json.loads(path.read_text())


def test_corpus_covers_every_client_and_language() -> None:
    names = {p.stem for p in CASES}
    for client in ("gmail", "outlook-desktop", "outlook-web", "apple", "thunderbird", "k9"):
        assert any(n.startswith(client) for n in names), client
    for lang in ("en", "es", "fr", "de", "pt", "ja"):
        assert any(f"-{lang}" in n for n in names), lang
    assert len(CASES) == len(list(REPLIES.glob("*.txt"))) + len(list(REPLIES.glob("*.html")))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus(path: Path) -> None:
    body, expected = load_case(path)
    got = new_text(body)
    assert got == ReplyText(new=expected["new"], cut_reason=expected["cut_reason"])
    assert not any(line.lstrip().startswith(">") for line in got.new.splitlines())


# --------------------------------------------------------------------------- attributions

ATTRIBUTIONS = {
    "en": "On Mon, 23 Nov 2026 at 09:14, Alice Example <alice@example.org> wrote:",
    "en-apple": "On 23 Nov 2026, at 09:14, Alice Example <alice@example.org> wrote:",
    "en-thunderbird": "On 23/11/2026 09:14, Alice Example wrote:",
    "es": "El lun, 23 nov 2026 a las 9:14, Alice Example (<alice@example.org>) escribió:",
    "es-thunderbird": "El 23/11/26 a las 9:14, Alice Example escribió:",
    "fr": "Le lun. 23 nov. 2026 à 09:14, Alice Example <alice@example.org> a écrit :",
    "fr-thunderbird": "Le 23/11/2026 à 09:14, Alice Example a écrit :",
    "de": "Am Mo., 23. Nov. 2026 um 09:14 Uhr schrieb Alice Example <alice@example.org>:",
    "de-thunderbird": "Am 23.11.26 um 09:14 schrieb Alice Example:",
    "pt": "Em seg., 23 de nov. de 2026 às 09:14, Alice Example <alice@example.org> escreveu:",
    "pt-apple": "Em 23 de nov. de 2026, à(s) 09:14, Alice Example <alice@example.org> escreveu:",
    "it": "Il giorno lun 23 nov 2026 alle ore 09:14 Alice Example <alice@example.org> ha scritto:",
    "it-thunderbird": "Il 23/11/2026 09:14, Alice Example ha scritto:",
    "nl": "Op ma 23 nov 2026 om 09:14 schreef Alice Example <alice@example.org>:",
    "ja": "2026年11月23日(月) 9:14 Alice Example <alice@example.org>:",
    "ja-apple": "2026/11/23 9:14、Alice Example <alice@example.org>のメール:",
    "zh": "Alice Example <alice@example.org> 于2026年11月23日周一 09:14写道：",
    "ru": "23.11.2026 09:14, Alice Example пишет:",
    "ru-gmail": "пн, 23 нояб. 2026 г. в 09:14, Alice Example <alice@example.org>:",
}


@pytest.mark.parametrize("lang", sorted(ATTRIBUTIONS))
def test_attribution_above_quote_is_cut(lang: str) -> None:
    body = f"#clear\n\n{ATTRIBUTIONS[lang]}\n\n> #conflict\n> old text\n"
    assert new_text(body) == ReplyText("#clear", "attribution")


@pytest.mark.parametrize("lang", sorted(ATTRIBUTIONS))
def test_attribution_without_quote_marks_ends_new_text(lang: str) -> None:
    # HTML converted without blockquote, Yahoo's plain text: the old mail follows unmarked.
    body = f"#clear\n\n{ATTRIBUTIONS[lang]}\n\n#conflict\nold text\n"
    assert new_text(body) == ReplyText("#clear", "attribution")


def test_attribution_wrapped_over_two_lines() -> None:
    body = (
        "#clear\n\nOn Mon, 23 Nov 2026 at 09:14, Alice Example via mailproc <\n"
        "conduct@example.org> wrote:\n\n> #conflict\n"
    )
    assert new_text(body) == ReplyText("#clear", "attribution")


def test_wrapped_attribution_leaves_the_text_line_above_it() -> None:
    body = "See you at 10:00.\nOn Mon, 23 Nov 2026 at 09:14, Alice\nwrote:\n> old\n"
    assert new_text(body).new == "See you at 10:00."


def test_line_above_an_unanchored_attribution_stays_text() -> None:
    # Joined with the line above, "Ok, 2 things. 23.11.2026 09:14, Alice пишет:" would match too.
    body = "Ok, 2 things.\n23.11.2026 09:14, Alice пишет:\n> old\n"
    assert new_text(body) == ReplyText("Ok, 2 things.", "attribution")
    body = "Sure, 2 points.\nAlice <alice@example.org> 于2026年11月23日周一 09:14写道：\nold\n"
    assert new_text(body) == ReplyText("Sure, 2 points.", "attribution")


def test_unknown_language_attribution_just_above_a_quote_is_cut() -> None:
    body = (
        "#vote no\n\npon., 23 lis 2026 o 09:14 Alice Example <alice@example.org> napisał(a):\n"
        "\n> #vote yes\n"
    )
    assert new_text(body) == ReplyText("#vote no", "attribution")


def test_plain_name_wrote_line_is_cut_only_above_a_quote() -> None:
    assert new_text("ok\nAlice Example wrote:\n> old").new == "ok"
    kept = "My colleague wrote:\nthe venue closes at ten"
    assert new_text(kept) == ReplyText(kept, "end")


def test_sentence_mentioning_writing_is_not_an_attribution() -> None:
    body = "On Monday she wrote to me again.\nI think we should act.\n#vote yes"
    assert new_text(body) == ReplyText(body, "end")


def test_command_line_above_a_quote_is_never_taken_for_an_attribution() -> None:
    body = "#note Alice wrote at 10:00:\n> old text\n"
    assert new_text(body).new == "#note Alice wrote at 10:00:"


# --------------------------------------------------------------------------- quotes


def test_bottom_posted_reply_keeps_the_text_below_the_quote() -> None:
    body = "On 23/11/2026 09:14, Alice wrote:\n> #close\n> old\n\n#vote no\nNot yet.\n"
    assert new_text(body) == ReplyText("#vote no\nNot yet.", "end")


def test_interleaved_reply_keeps_every_new_chunk_and_no_quote() -> None:
    body = "> question one?\nanswer one\n> question two?\n> #close\n\nanswer two\n> trailing\n"
    assert new_text(body) == ReplyText("answer one\n\nanswer two", "quote")


def test_nested_and_indented_quotes_are_cut() -> None:
    body = "new\n>> #close\n  > #vote yes\n> > old"
    assert new_text(body) == ReplyText("new", "quote")


def test_only_a_quote_leaves_nothing() -> None:
    assert new_text("> #vote yes\n> #close\n") == ReplyText("", "quote")


def test_nothing_cut_keeps_line_breaks_and_skips_leading_blank_lines() -> None:
    body = "\r\n\r\n  indented line\r\nsecond line  \r\n\r\n\r\nthird\r\n"
    assert new_text(body) == ReplyText("  indented line\nsecond line\n\n\nthird", "end")


def test_empty_body() -> None:
    assert new_text("") == ReplyText("", "end")
    assert new_text("\n \n") == ReplyText("", "end")


# --------------------------------------------------------------------------- blocks and signatures


@pytest.mark.parametrize(
    "header",
    [
        "From: Conduct <conduct@example.org>\nSent: Monday, November 23, 2026 9:14 AM\n"
        "To: Bob <bob@example.org>\nSubject: x",
        "From: Conduct <conduct@example.org>\nDate: Monday, 23 November 2026 at 09:14\n"
        "To: Bob <bob@example.org>\nSubject: x",  # Outlook for Mac
        "De : Conduct\nEnvoyé : lundi 23 novembre 2026 09:14\nÀ : Bob\nObjet : x",
        "Von: Conduct\nGesendet: Montag, 23. November 2026 09:14\nAn: Bob\nBetreff: x",
        "De: Conduct\nEnviado el: lunes, 23 de noviembre de 2026 9:14\nPara: Bob\nAsunto: x",
        "De: Conduct\nEnviado: segunda-feira, 23 de novembro de 2026 09:14\nPara: Bob\nAssunto: x",
        "Da: Conduct\nInviato: lunedì 23 novembre 2026 09:14\nA: Bob\nOggetto: x",
        "Van: Conduct\nVerzonden: maandag 23 november 2026 09:14\nAan: Bob\nOnderwerp: x",
        "差出人: Conduct\n送信日時: 2026年11月23日 9:14\n宛先: Bob\n件名: x",
        "发件人: Conduct\n发送时间: 2026年11月23日 9:14\n收件人: Bob\n主题: x",
        "От: Conduct\nОтправлено: 23 ноября 2026 г. 9:14\nКому: Bob\nТема: x",
        "From: Conduct <conduct@example.org> Sent: Monday, November 23, 2026 9:14 AM "
        "To: Bob Subject: x",  # flattened onto one line by an HTML conversion
        "\nFrom: Conduct\n\nSent: Monday\n\nTo: Bob\n\nSubject: x",  # one <p> per header
    ],
)
def test_outlook_header_block_ends_new_text(header: str) -> None:
    body = f"#clear\n\n{header}\n\nold text\n#conflict\n"
    assert new_text(body) == ReplyText("#clear", "outlook-header")


def test_from_line_alone_is_text() -> None:
    body = "From: my point of view this is a violation.\n#vote yes"
    assert new_text(body) == ReplyText(body, "end")
    body = "From: the venue staff\nTo: us, by phone\n#vote yes"  # one label is not a block
    assert new_text(body) == ReplyText(body, "end")


def test_two_header_labels_after_from_are_a_block() -> None:
    body = "#clear\nFrom: Conduct <conduct@example.org>\nDate: 23 November 2026\nSubject: x\nold"
    assert new_text(body) == ReplyText("#clear", "outlook-header")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("-----Original Message-----", "original-message"),
        ("-------- Original Message --------", "original-message"),
        ("-----Ursprüngliche Nachricht-----", "original-message"),
        ("-------- Message d'origine --------", "original-message"),
        ("-----Mensaje original-----", "original-message"),
        ("---------- Forwarded message ---------", "forward"),
        ("-------- Forwarded Message --------", "forward"),
        ("---------- Mensaje reenviado ---------", "forward"),
        ("---------- Weitergeleitete Nachricht ---------", "forward"),
        ("---------- Mensagem encaminhada ---------", "forward"),
        ("Begin forwarded message:", "forward"),
        ("Anfang der weitergeleiteten Nachricht:", "forward"),
        ("Inicio del mensaje reenviado:", "forward"),
        ("Início da mensagem encaminhada:", "forward"),
        ("転送されたメッセージ:", "forward"),
    ],
)
def test_separators_end_new_text(line: str, reason: str) -> None:
    body = f"#note see below\n\n{line}\nFrom: someone\n#close\n"
    assert new_text(body) == ReplyText("#note see below", reason)


def test_dashed_heading_of_the_sender_is_text() -> None:
    body = "---- My notes ----\n#vote yes"
    assert new_text(body) == ReplyText(body, "end")


@pytest.mark.parametrize(
    "line",
    [
        "-- ",
        "--",
        "Sent from my iPhone",
        "Sent from my Samsung Galaxy smartphone.",
        "Sent from my Android device with K-9 Mail. Please excuse my brevity.",
        "Sent from Mail for Windows",
        "Get Outlook for Android",
        "Enviado desde mi iPhone",
        "Envoyé de mon iPhone",
        "Von meinem iPhone gesendet",
        "Enviado do meu iPhone",
        "Inviato da iPhone",
        "Verzonden vanaf mijn iPhone",
        "iPhoneから送信",
        "发自我的iPhone",
        "Отправлено с iPhone",
    ],
)
def test_signatures_end_new_text(line: str) -> None:
    body = f"#vote yes\n{line}\nBob\n#close\n"
    assert new_text(body) == ReplyText("#vote yes", "signature")


def test_sentence_starting_like_a_signature_is_text() -> None:
    body = "Sent from my hotel room: the photos you asked for are attached.\n#vote yes"
    assert new_text(body) == ReplyText(body, "end")


def test_double_dash_inside_a_line_is_text() -> None:
    body = "I agree -- with one reservation.\n#vote yes"
    assert new_text(body) == ReplyText(body, "end")


def test_hostile_long_body_is_cut_in_linear_time() -> None:
    # Lines shaped to make a backtracking pattern quadratic (each ~300 characters, the longest
    # an attribution may be): 20,000 of them took ~5 s with such a pattern, ~1 s without.
    hostile = [
        "于1" + "于" * 280 + "x：",
        "On 1 " + "wrote " * 45 + "x:",
        "Le 1" + " a écrit" * 34 + "x:",
        "2026年11月23日" + " <a@b>" * 45 + "x:",
    ]
    body = "\n".join(hostile * 5_000)
    started = time.perf_counter()
    assert new_text(body).cut_reason == "end"
    assert time.perf_counter() - started < 3.0
