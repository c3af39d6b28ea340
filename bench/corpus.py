"""A deterministic public-address mail mix for the ingest benchmark (seeded random, no clock).

About 90% machine mail with the header patterns real senders use (newsletters, lists, spam
flags, three kinds of auto-reply, DSN bounces) and 10% reports in seven languages, each from a
distinct sender. Sizes are realistic: ~2 KB typical, a few carry attachments of 20-80 KB.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from datetime import UTC, datetime, timedelta

CONDUCT = "conduct@example.org"
BASE_DATE = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
# Share of each machine kind within the 90% (what a public conference address receives).
MACHINE_MIX = {"newsletter": 30, "spam": 20, "autoreply": 16, "bounce": 12, "list": 12}
REPORT_LANGS = {"en": 40, "es": 15, "fr": 12, "de": 12, "pt": 8, "ja": 7, "it": 6}

# Per language: (subject, greeting, incident sentences, closing). Placeholders: {who} {where} {when}.
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
PLACES = ["room 3", "the main hall", "the sponsor booth", "the hallway track", "the party",
          "the project chat", "the forum", "workshop B"]
FILLER = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
          "incididunt ut labore et dolore magna aliqua. ")


@dataclass(frozen=True)
class Sample:
    """One generated message: what it is meant to be, and its bytes."""

    kind: str  # "report" or a machine kind from MACHINE_MIX
    language: str | None
    data: bytes


def _weighted(rng: random.Random, weights: dict[str, int], count: int) -> list[str]:
    """Exactly `count` labels in proportion to `weights` (largest remainder), shuffled."""
    total = sum(weights.values())
    exact = {k: count * w / total for k, w in weights.items()}
    got = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - got[k], reverse=True)[:count - sum(
            got.values())]:
        got[k] += 1
    labels = [k for k, n in got.items() for _ in range(n)]
    rng.shuffle(labels)
    return labels


def _base(rng: random.Random, i: int, sender: str, subject: str, domain: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Return-Path"] = f"<{sender.split('<')[-1].rstrip('>')}>"
    msg["Received"] = (f"from mail.{domain} (mail.{domain} [192.0.2.{i % 250 + 1}]) by "
                       f"mx.example.org (Postfix) with ESMTPS id 4W{i:07X}; "
                       f"{format_datetime(BASE_DATE + timedelta(minutes=i))}")
    msg["Authentication-Results"] = (f"mx.example.org; dkim=pass header.d={domain}; "
                                     f"spf=pass smtp.mailfrom={domain}; dmarc=pass")
    msg["DKIM-Signature"] = (f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s1; "
                             f"h=from:to:subject:date:message-id; bh={rng.randbytes(32).hex()}; "
                             f"b={rng.randbytes(128).hex()}")
    msg["From"] = sender
    msg["To"] = f"Code of Conduct Team <{CONDUCT}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(BASE_DATE + timedelta(minutes=i))
    msg["Message-ID"] = f"<bench.{i}.{rng.randbytes(6).hex()}@{domain}>"
    return msg


def report(rng: random.Random, i: int, lang: str) -> bytes:
    """A report from a distinct person (the index is in the address), sometimes a screenshot."""
    subjects, hello, sentences, bye = TEXTS[lang]
    first, last = rng.choice(FIRST), rng.choice(LAST)
    who = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    when = f"{rng.randint(1, 28)}/06 {rng.randint(9, 18)}:{rng.choice(['00', '15', '30'])}"
    body = [hello, ""]
    for s in rng.sample(sentences, k=min(len(sentences), rng.randint(3, 5))):
        body.append(s.format(who=who, where=rng.choice(PLACES), when=when))
    body += ["", bye, f"{first} {last}"]
    domain = rng.choice(["example.net", "example.com", "mail.example.edu"])
    sender = f"{first} {last} <reporter{i}@{domain}>"
    msg = _base(rng, i, sender, rng.choice(subjects), domain)
    charset = "iso-2022-jp" if lang == "ja" and i % 3 == 0 else "utf-8"
    msg.set_content("\n".join(body) + "\n", charset=charset)
    if rng.random() < 0.05:
        msg.add_attachment(rng.randbytes(rng.randint(20_000, 60_000)), maintype="image",
                           subtype="png", filename="screenshot.png")
    return msg.as_bytes(policy=SMTP)


def _newsletter(rng: random.Random, i: int) -> EmailMessage:
    brand = rng.choice(["OpenDev News", "CloudConf", "DevTools Weekly", "Summit Tickets"])
    domain = "news.example.com"
    msg = _base(rng, i, f"{brand} <news@{domain}>", f"{brand}: issue {i % 97}", domain)
    msg["Precedence"] = "bulk"
    msg["List-Unsubscribe"] = f"<https://{domain}/unsubscribe?u={i}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = FILLER * rng.randint(3, 8)
    msg.set_content(f"{brand}\n\n{text}\nUnsubscribe: https://{domain}/unsubscribe?u={i}\n")
    msg.add_alternative(f"<html><body><h1>{brand}</h1><p>{text}</p><img src='https://{domain}"
                        f"/o/{i}.gif' width='1' height='1'></body></html>", subtype="html")
    if rng.random() < 0.02:
        msg.add_attachment(rng.randbytes(40_000), maintype="application", subtype="pdf",
                           filename="programme.pdf")
    return msg


def _spam(rng: random.Random, i: int) -> EmailMessage:
    domain = rng.choice(["prize.example.biz", "pharma.example.info", "crypto.example.top"])
    msg = _base(rng, i, f"Winner Desk <win{i}@{domain}>", "You have WON - claim today", domain)
    msg["X-Spam-Flag"] = "YES"
    msg["X-Spam-Status"] = f"Yes, score={rng.randint(60, 200) / 10} required=5.0"
    msg.set_content("Dear friend,\n\n" + FILLER * rng.randint(4, 12) + "\nClick here now.\n")
    return msg


def _autoreply(rng: random.Random, i: int) -> EmailMessage:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    domain = "example.com"
    msg = _base(rng, i, f"{first} {last} <{first.lower()}.{i}@{domain}>",
                "Automatic reply: Conference code of conduct", domain)
    style = i % 3
    if style == 0:
        msg["Auto-Submitted"] = "auto-replied"
    elif style == 1:
        msg["X-Auto-Response-Suppress"] = "All"
        msg["Thread-Topic"] = "Conference code of conduct"
    else:
        msg["X-Autoreply"] = "yes"
        msg["Precedence"] = "auto_reply"
    msg.set_content(f"Hi, I am out of the office until {rng.randint(1, 28)} June with limited "
                    f"access to email.\n\n{FILLER}\n{first}\n")
    return msg


def _bounce(rng: random.Random, i: int) -> EmailMessage:
    domain = "mx.example.org"
    msg = _base(rng, i, f"MAILER-DAEMON@{domain} (Mail Delivery System)",
                "Undelivered Mail Returned to Sender", domain)
    msg.replace_header("Return-Path", "<>")
    msg["Auto-Submitted"] = "auto-replied"
    lost = f"someone{i}@unreachable.example.net"
    msg.set_content(f"This is the mail system at host {domain}.\n\nI'm sorry to have to inform "
                    f"you that your message could not be delivered.\n\n<{lost}>: Host or domain "
                    "name not found.\n")
    status = EmailMessage()
    status.set_content(f"Reporting-MTA: dns; {domain}\n\nFinal-Recipient: rfc822; {lost}\n"
                       "Action: failed\nStatus: 5.4.4\n")
    original = EmailMessage()
    original["From"] = f"Code of Conduct Team <{CONDUCT}>"
    original["To"] = lost
    original["Subject"] = f"[COC-2026-{i % 9000 + 1:04d}] We received your report"
    original.set_content("Thank you for your report. " + FILLER)
    msg.make_mixed()
    msg.add_attachment(original)
    msg.set_type("multipart/report")
    msg.set_param("report-type", "delivery-status")
    return msg


def _list(rng: random.Random, i: int) -> EmailMessage:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    domain = "lists.example.org"
    msg = _base(rng, i, f"{first} {last} <{first.lower()}@example.com>",
                f"[organisers] Volunteer schedule, day {i % 5 + 1}", domain)
    msg["List-Id"] = f"Organisers <organisers.{domain}>"
    msg["List-Unsubscribe"] = f"<mailto:organisers-leave@{domain}>"
    msg["List-Post"] = f"<mailto:organisers@{domain}>"
    msg["Precedence"] = "list"
    msg.set_content("Hi all,\n\n" + FILLER * rng.randint(2, 10) + f"\n{first}\n")
    return msg


MACHINE = {"newsletter": _newsletter, "spam": _spam, "autoreply": _autoreply,
           "bounce": _bounce, "list": _list}


def generate(count: int, seed: int, report_share: float = 0.10,
             start: int = 0) -> list[Sample]:
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
            out.append(Sample(kind, None, MACHINE[kind](rng, n).as_bytes(policy=SMTP)))
    return out


def describe(samples: list[Sample]) -> str:
    """One line: the mix and the sizes, for the results table."""
    kinds = Counter(s.kind for s in samples)
    langs = Counter(s.language for s in samples if s.language)
    sizes = sorted(len(s.data) for s in samples)
    median = sizes[len(sizes) // 2]
    with_att = sum(1 for s in samples if b"Content-Disposition: attachment" in s.data)
    return (", ".join(f"{k} {v}" for k, v in kinds.most_common()) + "; reports by language: "
            + ", ".join(f"{k} {v}" for k, v in langs.most_common())
            + f"; median size {median} B, mean {sum(sizes) // len(sizes)} B, "
            f"{with_att} with attachments")
