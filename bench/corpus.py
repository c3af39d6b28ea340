"""A deterministic public-address mail mix for the ingest benchmark (seeded random, no clock).

About 90% machine mail with the header patterns real senders use (newsletters, lists, spam
flags, three kinds of auto-reply, DSN bounces) and 10% reports in seven languages, each from a
distinct sender. Sizes are realistic: ~2 KB typical, a few carry attachments of 20-80 KB.
"""

from __future__ import annotations

import base64
import quopri
import random
import textwrap
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr

CONDUCT = "conduct@example.org"
BASE_DATE = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
# Share of each machine kind within the 90% (what a public conference address receives).
MACHINE_MIX = {"newsletter": 30, "spam": 20, "autoreply": 16, "bounce": 12, "list": 12}
REPORT_LANGS = {"en": 40, "es": 15, "fr": 12, "de": 12, "pt": 8, "ja": 7, "it": 6}

# Per language: (subjects, greeting, incident sentences, closing); {who} {where} {when}.
TEXTS: dict[str, tuple[list[str], str, list[str], str]] = {
    "en": (["Report of harassment", "Code of conduct violation", "Incident at the conference"],
           "Hello,",
           ["I want to report how {who} behaved towards me at {where} on {when}.",
            "{who} made repeated comments about my appearance in front of other people.",
            "When I asked them to stop, they laughed and kept following me around.",
            "Several people saw it happen and one of them told me to write to you.",
            "I felt unsafe and left the session early because of it.",
            "This is not the first time; it also happened in the project chat last month."],
           "Thank you for reading this,"),
    "es": (["Denuncia de acoso", "Incidente en la conferencia", "Problema con un participante"],
           "Hola,",
           ["Quiero denunciar el comportamiento de {who} en {where} el {when}.",
            "{who} hizo comentarios sexuales sobre mí delante de otras personas.",
            "Cuando le pedí que parara, se rió y me siguió hasta el pasillo.",
            "Varias personas lo vieron y una de ellas me animó a escribirles.",
            "Me sentí muy incómoda y con miedo, y me fui de la charla antes de terminar."],
           "Gracias por su ayuda,"),
    "fr": (["Signalement de harcèlement", "Incident pendant la conférence", "Propos insultants"],
           "Bonjour,",
           ["Je voudrais signaler le comportement de {who} à {where} le {when}.",
            "{who} a tenu des propos insultants sur mon accent devant d'autres personnes.",
            "Quand je lui ai demandé d'arrêter, il a continué et s'est moqué de moi.",
            "Plusieurs participants ont assisté à la scène et peuvent en témoigner.",
            "Je ne me sens plus en sécurité lors des rencontres du projet."],
           "Merci de votre aide,"),
    "de": (["Meldung: Belästigung", "Vorfall auf der Konferenz", "Verstoß gegen den Kodex"],
           "Hallo,",
           ["Ich möchte das Verhalten von {who} in {where} am {when} melden.",
            "{who} hat mich vor anderen Teilnehmenden wiederholt herabgesetzt.",
            "Als ich ihn gebeten habe aufzuhören, hat er gelacht und weitergemacht.",
            "Mehrere Personen haben das gesehen und können es bestätigen.",
            "Ich habe mich unsicher gefühlt und die Veranstaltung früher verlassen."],
           "Vielen Dank für Ihre Hilfe,"),
    "pt": (["Denúncia de assédio", "Incidente na conferência", "Fotos sem autorização"],
           "Olá,",
           ["Quero denunciar o comportamento de {who} em {where} no dia {when}.",
            "{who} tirou fotos minhas sem autorização e publicou-as com comentários ofensivos.",
            "Quando pedi que apagasse as fotos, ele riu e disse que não ia fazer nada.",
            "Algumas pessoas viram o que aconteceu e podem confirmar.",
            "Senti-me humilhada e com medo de voltar ao evento."],
           "Obrigada pela ajuda,"),
    "ja": (["行動規範違反の報告", "ハラスメントの報告", "カンファレンスでの出来事"],
           "行動規範委員会の皆様",
           ["{when}に{where}で、{who}さんから不快な発言を何度もされました。",
            "やめてほしいと伝えても続き、最後には私の腕をつかみました。",
            "同僚がその場にいて、一部始終を見ていました。",
            "それ以来、イベントに参加するのが怖くなっています。"],
           "よろしくお願いいたします。"),
    "it": (["Segnalazione di molestie", "Episodio alla conferenza", "Battute razziste"],
           "Buongiorno,",
           ["Vorrei segnalare il comportamento di {who} a {where} il {when}.",
            "{who} ha fatto battute razziste su di me davanti ad altre persone.",
            "Quando gli ho chiesto di smettere, ha riso e ha continuato.",
            "Diverse persone hanno assistito e possono confermarlo.",
            "Mi sono sentita umiliata e non voglio più partecipare agli incontri."],
           "Grazie per l'aiuto,"),
}
FIRST = ["Lucía", "Camille", "Jonas", "Misaki", "Giulia", "Ana", "Sam", "Priya", "Tomás",
         "Ingrid", "Kenji", "Chiara", "Noor", "Rafael", "Elena", "Aisha", "Marta", "Hugo"]
LAST = ["Gómez", "Martin", "Becker", "Takahashi", "Rossi", "Silva", "Lee", "Nair", "Ortiz",
        "Larsen", "Sato", "Bianchi", "Haddad", "Costa", "Ivanova", "Khan", "Novak", "Dubois"]
JA_NAMES = ["佐藤健一", "高橋美咲", "田中翔", "鈴木花子", "伊藤大輔", "山本彩"]
PLACES = ["room 3", "the main hall", "the sponsor booth", "the hallway track", "the party",
          "the project chat", "the forum", "workshop B"]
FILLER = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
          "incididunt ut labore et dolore magna aliqua. ")


_DSN = """\
This is a MIME-encapsulated message.

--{b}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{lost}>: Host or domain name not found. Name service
    error for name=unreachable.example.net type=MX: Host not found, try again

--{b}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: {qid}
Arrival-Date: {date}

Final-Recipient: rfc822; {lost}
Action: failed
Status: 5.4.4
Diagnostic-Code: X-Postfix; Host or domain name not found.

--{b}
Content-Description: Undelivered Message
Content-Type: message/rfc822

From: Code of Conduct Team <conduct@example.org>
To: {lost}
Subject: [COC-2026-{case:04d}] We received your report
Date: {date}
Message-ID: <mailproc.{qid}@example.org>
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=utf-8

Thank you for your report. Its reference is COC-2026-{case:04d}.
{filler}
--{b}--
"""


@dataclass(frozen=True)
class Sample:
    """One generated message: what it is meant to be, and its bytes."""

    kind: str  # "report" or a machine kind from MACHINE_MIX
    language: str | None
    data: bytes


# Messages are written as text (CRLF, pre-folded headers) rather than built with
# email.message: that was 6 ms a message, a minute for 10,000.
def _fold(name: str, value: str) -> str:
    lines = textwrap.wrap(f"{name}: {value}", 76, break_long_words=False,
                          break_on_hyphens=False, subsequent_indent=" ")
    return "\r\n".join(lines)


def _encoded(text: str, charset: str = "utf-8") -> str:
    """RFC 2047 for non-ASCII header text, as mail clients write it."""
    return text if text.isascii() else Header(text, charset).encode()


def _address(name: str, addr: str) -> str:
    return formataddr((name, addr), charset="utf-8")


def _lorem(sentences: int) -> str:
    return textwrap.fill(FILLER * sentences, 72)


def _date(i: int) -> str:
    return format_datetime(BASE_DATE + timedelta(minutes=i))


def _head(rng: random.Random, i: int, sender: tuple[str, str], subject: str,
          extra: list[tuple[str, str]], return_path: str | None = None,
          charset: str = "utf-8") -> list[tuple[str, str]]:
    """Trace, authentication and identity headers as a receiving server leaves them."""
    domain = sender[1].rpartition("@")[2]
    signature = base64.b64encode(rng.randbytes(128)).decode()
    return [
        ("Return-Path", f"<{sender[1] if return_path is None else return_path}>"),
        ("Delivered-To", CONDUCT),
        ("Received", f"from mail.{domain} (mail.{domain} [192.0.2.{i % 250 + 1}]) by "
                     f"mx.example.org (Postfix) with ESMTPS id 4W{i:07X}; {_date(i)}"),
        ("Authentication-Results", f"mx.example.org; dkim=pass header.d={domain}; "
                                   f"spf=pass smtp.mailfrom={domain}; dmarc=pass"),
        ("DKIM-Signature", f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s1; "
                           "h=from:to:subject:date:message-id; "
                           f"bh={base64.b64encode(rng.randbytes(32)).decode()}; "
                           f"b={' '.join(textwrap.wrap(signature, 60))}"),
        ("From", _address(*sender)),
        ("To", f"Code of Conduct Team <{CONDUCT}>"),
        ("Subject", _encoded(subject, charset)),
        ("Date", _date(i)),
        ("Message-ID", f"<bench.{i}.{rng.randbytes(6).hex()}@{domain}>"),
        ("MIME-Version", "1.0"),
        *extra,
    ]


def _message(headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = "\r\n".join(_fold(k, v) for k, v in headers)
    return head.encode("ascii") + b"\r\n\r\n" + body


def _text(text: str, charset: str = "utf-8", cte: str = "8bit") -> tuple[str, bytes]:
    """(Content-Type + CTE header lines, encoded body) of one text part."""
    raw = text.replace("\n", "\r\n").encode(charset)
    if cte == "quoted-printable":
        raw = quopri.encodestring(raw.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    return (f"Content-Type: text/plain; charset={charset}\r\n"
            f"Content-Transfer-Encoding: {cte}"), raw


def _multipart(kind: str, parts: list[tuple[str, bytes]], boundary: str) -> tuple[str, bytes]:
    body = b"".join(f"--{boundary}\r\n{h}\r\n\r\n".encode() + b + b"\r\n" for h, b in parts)
    return (f'multipart/{kind}; boundary="{boundary}"',
            b"This is a multi-part message in MIME format.\r\n\r\n" + body +
            f"--{boundary}--\r\n".encode())


def _attachment(rng: random.Random, ctype: str, name: str, size: int) -> tuple[str, bytes]:
    data = base64.encodebytes(rng.randbytes(size)).replace(b"\n", b"\r\n")
    return (f'Content-Type: {ctype}; name="{name}"\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment; filename="{name}"'), data.rstrip(b"\r\n")


def _single(headers: list[tuple[str, str]], part: tuple[str, bytes]) -> bytes:
    extra = [(k, v) for k, _, v in (line.partition(": ") for line in part[0].split("\r\n"))]
    return _message([*headers, *extra], part[1])


def _with_parts(headers: list[tuple[str, str]], kind: str, parts: list[tuple[str, bytes]],
                boundary: str) -> bytes:
    ctype, body = _multipart(kind, parts, boundary)
    return _message([*headers, ("Content-Type", ctype)], body)


def report(rng: random.Random, i: int, lang: str) -> bytes:
    """A report from a distinct person (the index is in the address), sometimes a screenshot."""
    subjects, hello, sentences, bye = TEXTS[lang]
    first, last = rng.choice(FIRST), rng.choice(LAST)
    ja = lang == "ja"
    who = rng.choice(JA_NAMES) if ja else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    when = f"{rng.randint(1, 28)}/06 {rng.randint(9, 18)}:{rng.choice(['00', '15', '30'])}"
    body = [hello, ""]
    for s in rng.sample(sentences, k=min(len(sentences), rng.randint(3, 5))):
        body.append(s.format(who=who, where="ホールC" if ja else rng.choice(PLACES), when=when))
    body += ["", bye, rng.choice(JA_NAMES) if ja else f"{first} {last}"]
    domain = rng.choice(["example.net", "example.com", "mail.example.edu"])
    legacy = ja and i % 3 == 0  # some Japanese mailers still send ISO-2022-JP
    part = _text("\n".join(body) + "\n", "iso-2022-jp" if legacy else "utf-8",
                 "7bit" if legacy else rng.choice(["8bit", "quoted-printable"]))
    headers = _head(rng, i, (f"{first} {last}", f"reporter{i}@{domain}"), rng.choice(subjects),
                    [("User-Agent", "Mozilla Thunderbird")],
                    charset="iso-2022-jp" if legacy else "utf-8")
    if rng.random() < 0.05:
        shot = _attachment(rng, "image/png", "screenshot.png", rng.randint(20_000, 60_000))
        return _with_parts(headers, "mixed", [part, shot], f"----=_Part_{i}_{rng.random()}")
    return _single(headers, part)


def _newsletter(rng: random.Random, i: int) -> bytes:
    brand = rng.choice(["OpenDev News", "CloudConf", "DevTools Weekly", "Summit Tickets"])
    domain = "news.example.com"
    headers = _head(rng, i, (brand, f"news@{domain}"), f"{brand}: issue {i % 97}", [
        ("Precedence", "bulk"), ("List-Unsubscribe", f"<https://{domain}/unsubscribe?u={i}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Feedback-ID", f"news:{i % 13}:{domain}")], return_path=f"bounce-{i}@{domain}")
    text = _lorem(rng.randint(3, 8))
    plain = _text(f"{brand}\n\n{text}\nUnsubscribe: https://{domain}/unsubscribe?u={i}\n",
                  cte="quoted-printable")
    html = (f"<html><body><h1>{brand}</h1><p>{text}</p><img src='https://{domain}/o/{i}.gif'"
            " width='1' height='1'></body></html>")
    html_part = ("Content-Type: text/html; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: quoted-printable", quopri.encodestring(
                     html.encode()).replace(b"\n", b"\r\n"))
    if rng.random() < 0.02:
        alt = _multipart("alternative", [plain, html_part], f"alt_{i}")
        pdf = _attachment(rng, "application/pdf", "programme.pdf", 40_000)
        return _with_parts(headers, "mixed", [(f"Content-Type: {alt[0]}", alt[1]), pdf],
                           f"mix_{i}")
    return _with_parts(headers, "alternative", [plain, html_part], f"=_nl_{i}")


def _spam(rng: random.Random, i: int) -> bytes:
    domain = rng.choice(["prize.example.biz", "pharma.example.info", "crypto.example.top"])
    headers = _head(rng, i, ("Winner Desk", f"win{i}@{domain}"), "You have WON - claim today",
                    [("X-Spam-Flag", "YES"),
                     ("X-Spam-Status", f"Yes, score={rng.randint(60, 200) / 10} required=5.0")])
    return _single(headers, _text("Dear friend,\n\n" + _lorem(rng.randint(4, 12)) +
                                  "\nClick here now.\n"))


def _autoreply(rng: random.Random, i: int) -> bytes:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    style = [[("Auto-Submitted", "auto-replied")],
             [("X-Auto-Response-Suppress", "All"), ("Thread-Topic", "Code of conduct")],
             [("X-Autoreply", "yes"), ("Precedence", "auto_reply")]][i % 3]
    headers = _head(rng, i, (f"{first} {last}", f"person{i}@example.com"),
                    "Automatic reply: Conference code of conduct", style)
    return _single(headers, _text(f"Hi, I am out of the office until {rng.randint(1, 28)} "
                                  f"June with limited access to email.\n\n{_lorem(1)}\n{first}\n"))


def _bounce(rng: random.Random, i: int) -> bytes:
    """A Postfix DSN (multipart/report from MAILER-DAEMON, empty Return-Path)."""
    boundary = f"{i:08X}.{rng.randbytes(4).hex()}/mx.example.org"
    headers = _head(rng, i, ("Mail Delivery System", "MAILER-DAEMON@mx.example.org"),
                    "Undelivered Mail Returned to Sender", [
                        ("Auto-Submitted", "auto-replied"),
                        ("Content-Type", "multipart/report; report-type=delivery-status; "
                                         f'boundary="{boundary}"')], return_path="")
    body = _DSN.format(b=boundary, lost=f"someone{i}@unreachable.example.net", qid=f"{i:08X}",
                       date=_date(i), case=i % 9000 + 1, filler=_lorem(rng.randint(1, 4)))
    return _message(headers, body.replace("\n", "\r\n").encode())


def _list(rng: random.Random, i: int) -> bytes:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    domain = "lists.example.org"
    headers = _head(rng, i, (f"{first} {last}", f"member{i}@example.com"),
                    f"[organisers] Volunteer schedule, day {i % 5 + 1}", [
                        ("List-Id", f"Organisers <organisers.{domain}>"),
                        ("List-Unsubscribe", f"<mailto:organisers-leave@{domain}>"),
                        ("List-Post", f"<mailto:organisers@{domain}>"),
                        ("Precedence", "list")], return_path=f"organisers-bounces@{domain}")
    return _single(headers, _text("Hi all,\n\n" + _lorem(rng.randint(2, 10)) + f"\n{first}\n"))


MACHINE = {"newsletter": _newsletter, "spam": _spam, "autoreply": _autoreply,
           "bounce": _bounce, "list": _list}


def _weighted(rng: random.Random, weights: dict[str, int], count: int) -> list[str]:
    """Exactly `count` labels in proportion to `weights` (largest remainder), shuffled."""
    total = sum(weights.values())
    exact = {k: count * w / total for k, w in weights.items()}
    got = {k: int(v) for k, v in exact.items()}
    short = count - sum(got.values())
    for k in sorted(exact, key=lambda k: exact[k] - got[k], reverse=True)[:short]:
        got[k] += 1
    labels = [k for k, n in got.items() for _ in range(n)]
    rng.shuffle(labels)
    return labels


def generate(count: int, seed: int, report_share: float = 0.10, start: int = 0) -> list[Sample]:
    """`count` messages, exactly round(count * report_share) of them reports; same seed, same
    bytes. `start` offsets the indexes so that two calls never share a sender or Message-ID."""
    rng = random.Random(seed)
    reports = round(count * report_share)
    kinds = _weighted(rng, MACHINE_MIX, count - reports) + ["report"] * reports
    rng.shuffle(kinds)
    langs = iter(_weighted(rng, REPORT_LANGS, reports))
    out = []
    for n, kind in enumerate(kinds, start=start):
        if kind == "report":
            lang = next(langs)
            out.append(Sample(kind, lang, report(rng, n, lang)))
        else:
            out.append(Sample(kind, None, MACHINE[kind](rng, n)))
    return out


def describe(samples: list[Sample]) -> str:
    """One line: the mix and the sizes, for the results table."""
    kinds = Counter(s.kind for s in samples)
    langs = Counter(s.language for s in samples if s.language)
    sizes = sorted(len(s.data) for s in samples)
    with_att = sum(1 for s in samples if b"Content-Disposition: attachment" in s.data)
    return (", ".join(f"{k} {v}" for k, v in kinds.most_common()) + "; reports by language: "
            + ", ".join(f"{k} {v}" for k, v in langs.most_common())
            + f"; size median {sizes[len(sizes) // 2]} B, mean {sum(sizes) // len(sizes)} B, "
            f"{with_att} with attachments")
