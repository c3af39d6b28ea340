"""The human mail a conduct address receives, for the triage benchmark (seeded, no clock).

All of it reaches the rules (machine mail is the ingest bench's): 40% reports in seven languages,
~30% with a cue for an urgent or category rule (some under a sponsor/badge subject, for the
guard); 50% mail for the six routes in five languages; 10% questions no rule matches. ~2 KB.
"""

from __future__ import annotations

import base64
import quopri
import random
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr

from corpus import BASE_DATE, FIRST, JA_NAMES, LAST, PLACES, TEXTS

CONDUCT = "conduct@example.org"
SHARES = {"report": 40, "route": 50, "other": 10}
REPORT_LANGS = {"en": 40, "es": 15, "fr": 12, "de": 12, "pt": 8, "ja": 7, "it": 6}
ROUTE_LANGS = {"en": 50, "es": 15, "fr": 12, "de": 13, "pt": 10}
ROUTE_KINDS = {"registration": 14, "sponsorship": 10, "travel-grants": 8, "speakers": 8,
               "press": 5, "recruiting-and-sales": 5}
# rule -> language -> a sentence that the rule must catch.
CUES: dict[str, dict[str, str]] = {
    "urgent-physical-danger": {
        "en": "He is following me around the venue right now, please send someone now.",
        "es": "Me está siguiendo por todo el recinto y estoy en peligro.",
        "fr": "Il me suit partout dans le bâtiment, envoyez quelqu'un.",
        "de": "Er verfolgt mich seit einer Stunde, bitte schicken Sie jemanden.",
        "pt": "Ele está me seguindo pelo evento, mandem alguém."},
    "urgent-threat": {
        "en": "He threatened to hurt me if I told anyone about it.",
        "es": "Me amenazó con golpearme si se lo contaba a alguien.",
        "fr": "Il m'a menacée de me frapper si je parlais.",
        "de": "Er hat mir gedroht, mich zu schlagen, wenn ich etwas sage.",
        "pt": "Ele ameaçou de me bater se eu contasse a alguém."},
    "urgent-personal-information-published": {
        "en": "Yesterday he posted my home address in the project chat.",
        "es": "Ayer publicó mi dirección en el foro del proyecto.",
        "fr": "Hier il a publié mon adresse sur le forum du projet.",
        "de": "Gestern hat er meine Adresse im Forum veröffentlicht.",
        "pt": "Ontem ele publicou o meu endereço no fórum do projeto."},
    "urgent-self-harm": {
        "en": "After all of this I sometimes think about hurting myself.",
        "es": "Después de todo esto a veces pienso en hacerme daño."},
    "sexual-misconduct": {
        "en": "He made unwanted advances and touched me without asking.",
        "es": "Hubo tocamientos sin mi consentimiento.",
        "fr": "Il y a eu des attouchements sans mon accord.",
        "de": "Er hat mich im Aufzug begrapscht.",
        "pt": "Ele tentou me apalpar no corredor."},
    "discrimination": {
        "en": "He said women shouldn't be allowed to give keynotes.",
        "es": "Hizo comentarios racistas sobre mi acento.",
        "fr": "Il a fait des remarques sexistes pendant tout l'atelier.",
        "de": "Er hat sich rassistisch über mich geäußert.",
        "pt": "Foi um caso claro de discriminação."},
}
# A report's subject that names something a routing rule looks for.
GUARD_SUBJECTS = {"en": ["Problem at the sponsor booth", "Incident at badge pickup"],
                  "es": ["Problema en el stand de un patrocinador"],
                  "fr": ["Incident au retrait des badges"], "de": ["Vorfall am Sponsorenstand"],
                  "pt": ["Problema no estande do patrocinador"]}
# route kind -> language -> (subjects, sentences); {event} and {n} are filled in.
ROUTE_TEXTS: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "sponsorship": {
        "en": (["Sponsorship opportunities for {event}", "Sponsoring {event}"],
               ["We would like to sponsor {event} next year.", "Could you send us the "
                "sponsorship prospectus and the sponsor packages?",
                "We are especially interested in an exhibitor booth."]),
        "es": (["Patrocinio de {event}"], ["Nos gustaría patrocinar {event} el próximo año.",
                "¿Podrían enviarnos información sobre el patrocinio y sus niveles?"]),
        "fr": (["Devenir sponsor de {event}"], ["Notre entreprise souhaiterait devenir sponsor "
                "de {event}.", "Pourriez-vous nous envoyer le dossier de parrainage ?"]),
        "de": (["Sponsoring-Anfrage für {event}"], ["Wir würden {event} gerne unterstützen.",
                "Gibt es ein Sponsorenpaket mit Ausstellerstand?"]),
        "pt": (["Patrocínio do {event}"], ["Gostaríamos de ser patrocinador do {event}.",
                "Podem enviar-nos as opções de patrocínio?"])},
    "registration": {
        "en": (["Question about my ticket", "Badge name change", "Invoice for my registration"],
               ["I bought a ticket for {event} but never received the confirmation, order "
                "number {n}.", "Could you also send an invoice for my company?",
                "Is there parking near the venue?"]),
        "es": (["Consulta sobre mi entrada", "Factura de la inscripción"],
               ["Compré mi entrada para {event} pero no recibí la confirmación (pedido {n}).",
                "¿Podrían enviarme la factura a nombre de mi empresa?"]),
        "fr": (["Question sur mon billet"], ["J'ai acheté un billet pour {event} mais je n'ai "
                "pas reçu de confirmation (commande {n}).", "Pourriez-vous m'envoyer une "
                "facture ?"]),
        "de": (["Frage zur Anmeldung", "Rechnung für {event}"], ["Ich habe mich für {event} "
                "angemeldet, aber keine Bestätigung erhalten (Bestellung {n}).", "Könnten Sie "
                "mir bitte eine Rechnung schicken?"]),
        "pt": (["Dúvida sobre meu ingresso"], ["Comprei um ingresso para o {event} mas não "
                "recebi a confirmação (pedido {n}).", "Podem enviar a fatura para a empresa?"])},
    "travel-grants": {
        "en": (["Travel grant application", "Reimbursement of my travel expenses"],
               ["I received a travel grant for {event} and would like to submit my receipts.",
                "When will the reimbursement be paid?"]),
        "es": (["Beca de viaje para {event}"], ["Recibí una beca de viaje para {event}.",
                "¿Cuándo llegará el reembolso?"]),
        "fr": (["Bourse de voyage"], ["J'ai obtenu une bourse de voyage pour {event}.",
                "Quand le remboursement sera-t-il effectué ?"]),
        "de": (["Reisestipendium für {event}"], ["Ich habe ein Reisestipendium für {event} "
                "erhalten.", "Wann erfolgt die Reisekostenerstattung?"]),
        "pt": (["Bolsa de viagem"], ["Recebi uma bolsa de viagem para o {event}.",
                "Quando será paga a ajuda de custo?"])},
    "speakers": {
        "en": (["Question about my talk", "CFP submission for {event}"],
               ["I submitted a talk proposal for {event} and wanted to check its status.",
                "Where can I find the speaker guidelines?"]),
        "es": (["Propuesta de charla"], ["Envié una propuesta de charla para {event}.",
                "¿Cuánto dura cada ponencia?"]),
        "fr": (["Appel à propositions de {event}"], ["J'ai répondu à l'appel à propositions "
                "de {event}.", "Combien de temps dure ma présentation ?"]),
        "de": (["Vortragseinreichung für {event}"], ["Ich habe eine Vortragseinreichung für "
                "{event} geschickt.", "Wie lange ist mein Vortrag?"]),
        "pt": (["Proposta de palestra"], ["Enviei uma proposta de palestra para o {event}.",
                "Quanto tempo dura minha palestra?"])},
    "press": {
        "en": (["Press enquiry about {event}", "Interview request"],
               ["I am a journalist writing an article about {event}.",
                "Could I request an interview with one of the organisers?"]),
        "es": (["Solicitud de entrevista"], ["Soy periodista y preparo un reportaje sobre "
                "{event}.", "¿Sería posible una entrevista?"]),
        "fr": (["Demande d'interview"], ["Je suis journaliste et je prépare un article sur "
                "{event}.", "Serait-il possible de parler à un organisateur ?"]),
        "de": (["Presseanfrage zu {event}"], ["Ich bin Journalistin und schreibe über {event}.",
                "Wäre ein kurzes Gespräch möglich?"]),
        "pt": (["Pedido de entrevista"], ["Sou jornalista e estou escrevendo sobre o {event}.",
                "Seria possível conversar com a organização?"])},
    "recruiting-and-sales": {
        "en": (["Quick chat about {event}", "Attendee list for {event}"],
               ["We help events like {event} with lead generation.", "We can provide the "
                "attendee email list at a special offer price.",
                "Would you have time for a quick chat this week?"])},
}
OTHER = (["Volunteering at {event}", "Thank you", "Question for the committee"],
         ["I would like to help at {event} next year.", "Thank you for all the work you do.",
          "How are members of the committee chosen?", "Is there a way to join the team?"])
EVENTS = ["OpenDev Summit", "PyData Lisboa", "DevConf Berlin", "RustFest", "Web Week Madrid"]
SIGNATURE = ("\n--\n{name}\n{org}\nRua do Exemplo 12, 1200-001 Lisboa | +351 21 000 0000\n"
             "This e-mail and any attachments are confidential and intended solely for the "
             "addressee. If you received it in error, please tell the sender and delete it; do "
             "not copy it or disclose its contents to anyone. Please consider the environment "
             "before printing this e-mail.\n")


@dataclass(frozen=True)
class Item:
    """One generated message and what the shipped rules should make of it."""

    kind: str  # "report", "other" or a route rule's name
    language: str
    cue: str | None  # the urgent/category rule a report's cue sentence is written for
    guard: bool  # a report whose subject names a sponsor, badge or talk
    message_id: str
    data: bytes


def _weighted(rng: random.Random, weights: dict[str, int], count: int) -> list[str]:
    """`count` labels in proportion to `weights` (largest share first gets the rest), shuffled."""
    total = sum(weights.values())
    got = {k: count * w // total for k, w in weights.items()}
    for k in sorted(weights, key=lambda k: -weights[k])[:count - sum(got.values())]:
        got[k] += 1
    labels = [k for k, n in got.items() for _ in range(n)]
    rng.shuffle(labels)
    return labels


def _mime(i: int, rng: random.Random, subject: str, text: str, sender: tuple[str, str]) -> bytes:
    domain = sender[1].rpartition("@")[2]
    date = format_datetime(BASE_DATE.replace(minute=i % 60, second=i % 59))
    head = [
        f"Return-Path: <{sender[1]}>", f"Delivered-To: {CONDUCT}",
        f"Received: from mail.{domain} (mail.{domain} [192.0.2.{i % 250 + 1}])\r\n\tby "
        f"mx.example.org (Postfix) with ESMTPS id 4W{i:07X};\r\n\t{date}",
        f"Authentication-Results: mx.example.org; dkim=pass header.d={domain};\r\n\t"
        f"spf=pass smtp.mailfrom={domain}; dmarc=pass header.from={domain}",
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s1;\r\n\t"
        f"h=from:to:subject:date:message-id;\r\n\tb={base64.b64encode(rng.randbytes(96)).decode()}",
        f"From: {formataddr(sender, charset='utf-8')}", f"To: Code of Conduct <{CONDUCT}>",
        f"Subject: {subject if subject.isascii() else Header(subject, 'utf-8').encode()}",
        f"Date: {date}", f"Message-ID: <tb.{i}.{rng.randbytes(4).hex()}@{domain}>",
        "MIME-Version: 1.0"]
    if rng.random() < 0.5:  # mail clients send either, about evenly
        cte, plain = b"8bit", text.encode()
    else:
        cte, plain = b"quoted-printable", quopri.encodestring(text.encode())
    part = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: " + cte + \
        b"\r\n\r\n" + plain.replace(b"\n", b"\r\n")
    parts = [part]
    if i % 2:
        html = "".join(f"<p>{line}</p>" for line in text.split("\n") if line)
        parts.append(b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: "
                     b"quoted-printable\r\n\r\n" + quopri.encodestring(
                         f"<html><body>{html}</body></html>".encode()).replace(b"\n", b"\r\n"))
    if rng.random() < 0.02:
        shot = base64.encodebytes(rng.randbytes(rng.randint(15_000, 40_000)))
        parts.append(b'Content-Type: image/png; name="screenshot.png"\r\nContent-Disposition: '
                     b'attachment; filename="screenshot.png"\r\nContent-Transfer-Encoding: '
                     b"base64\r\n\r\n" + shot.replace(b"\n", b"\r\n"))
    if len(parts) == 1:
        return "\r\n".join(head).encode() + b"\r\n" + part
    kind = "alternative" if len(parts) == 2 and i % 2 else "mixed"
    b = f"=_b{i}"
    body = b"".join(f"--{b}\r\n".encode() + p + b"\r\n" for p in parts) + f"--{b}--\r\n".encode()
    return ("\r\n".join([*head, f'Content-Type: multipart/{kind}; boundary="{b}"']).encode()
            + b"\r\n\r\n" + body)


def _report(i: int, rng: random.Random, lang: str) -> tuple[str, str, str | None, bool]:
    """(subject, text, cue rule, guard subject) of one report."""
    subjects, hello, sentences, bye = TEXTS[lang]
    who = rng.choice(JA_NAMES) if lang == "ja" else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    lines = [s.format(who=who, where="ホールC" if lang == "ja" else rng.choice(PLACES),
                      when=f"{rng.randint(1, 28)}/06")
             for s in rng.sample(sentences, k=rng.randint(4, len(sentences)))]
    cue = None
    offered = [rule for rule, texts in CUES.items() if lang in texts]
    if offered and rng.random() < 0.35:
        cue = rng.choice(offered)
        lines.insert(rng.randint(1, 3), CUES[cue][lang])
    guard = cue is not None and lang in GUARD_SUBJECTS and rng.random() < 0.3
    subject = rng.choice(GUARD_SUBJECTS[lang] if guard else subjects)
    signed = rng.choice(JA_NAMES) if lang == "ja" else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return subject, "\n".join([hello, "", *lines, "", bye, signed]) + "\n", cue, guard


def _routed(rng: random.Random, kind: str, lang: str) -> tuple[str, str]:
    subjects, sentences = ROUTE_TEXTS[kind].get(lang) or ROUTE_TEXTS[kind]["en"]
    event, n = rng.choice(EVENTS), rng.randint(10_000, 99_999)
    text = "\n\n".join(s.format(event=event, n=n) for s in sentences)
    return rng.choice(subjects).format(event=event), f"Hello,\n\n{text}\n\nBest regards,\n"


def generate(count: int, seed: int = 7) -> list[Item]:
    """`count` messages in the shares above; the same seed gives the same bytes."""
    rng = random.Random(seed)
    kinds = _weighted(rng, SHARES, count)
    report_langs = iter(_weighted(rng, REPORT_LANGS, kinds.count("report")))
    routes = iter(_weighted(rng, ROUTE_KINDS, kinds.count("route")))
    route_langs = iter(_weighted(rng, ROUTE_LANGS, kinds.count("route")))
    items = []
    for i, share in enumerate(kinds):
        name = (rng.choice(FIRST), rng.choice(LAST))
        sender = (f"{name[0]} {name[1]}", f"sender{i}@{rng.choice(['example.com', 'example.net'])}")
        cue, guard, lang, kind = None, False, "en", share
        if share == "report":
            lang = next(report_langs)
            subject, text, cue, guard = _report(i, rng, lang)
        elif share == "route":
            kind = next(routes)
            lang = next(route_langs) if kind != "recruiting-and-sales" else "en"
            subject, text = _routed(rng, kind, lang)
            text += SIGNATURE.format(name=sender[0], org=f"{rng.choice(EVENTS)} partners")
        else:
            subject = rng.choice(OTHER[0]).format(event=rng.choice(EVENTS))
            text = "\n\n".join(rng.sample(OTHER[1], k=2)).format(event=rng.choice(EVENTS))
            text += SIGNATURE.format(name=sender[0], org="")
        data = _mime(i, rng, subject, text, sender)
        mid = data.split(b"Message-ID: <", 1)[1].split(b">", 1)[0].decode()
        items.append(Item(kind, lang, cue, guard, mid, data))
    return items
