"""Who is reported, and the reporter's one-word requests, as conversations on the real servers.

A report that names someone only in its own words reaches every member with that name marked as
found automatically; one that names nobody says so and asks for #clear only from members who know
nobody at the place; a member's #reported then reaches the members who have not answered. A
reporter's ANONYMOUS (in her language too) or a member's #anonymous takes her name and address
out of every later mail. Danger in languages without a translator at hand is still urgent.
"""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from harness import mail, show
from test_reporter_heard import _committee

DATA = Path(__file__).parent / "data" / "names"
MEMBERS = ("alice", "bashir", "chen")


def test_a_name_found_in_free_text_is_shown_marked_and_never_the_writer_or_witness(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = _committee(dovecot, smtp_server, tmp_path)
    dovecot.append((DATA / "fr_lyon.eml").read_bytes())
    assert c.run()[0][:2] == ["report", "COC-2026-0001"]
    for member in MEMBERS:
        body = c.body(c.last_to(f"{member}@example.org", "New report"))
        assert "  - Pierre Dubois  (found automatically)" in body
        assert "Sophie" not in body and "Camille" not in body  # writer, witness
        assert "Found automatically" in body.replace('"', "")
    assert show(c.config, "COC-2026-0001")["reported"] == [
        {"name": "Pierre Dubois", "handle": None, "email": None, "automatic": True}]


def test_a_members_correction_replaces_the_name_found_automatically(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = _committee(dovecot, smtp_server, tmp_path)
    dovecot.append((DATA / "fr_lyon.eml").read_bytes())
    c.run()
    notice = {m: c.last_to(f"{m}@example.org", "New report") for m in MEMBERS}
    c.member_says("alice", "#clear", notice["alice"])
    c.run()
    c.member_says("alice", "#reported Pierre Dupont", c.last_to("alice@example.org",
                                                                "full report"))
    c.run()
    assert show(c.config, "COC-2026-0001")["reported"] == [
        {"name": "Pierre Dupont", "handle": None, "email": None, "automatic": False}]
    for member in ("bashir", "chen"):  # not answered yet: told the corrected name
        (told,) = [m for m in c.to(f"{member}@example.org") if "Pierre Dupont" in c.body(m)]
        assert "#conflict" in c.body(told)


def test_nobody_found_then_reported_reaches_only_the_members_who_have_not_answered(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = _committee(dovecot, smtp_server, tmp_path)
    dovecot.append((DATA / "en_signed_only.eml").read_bytes())
    c.run()
    notice = {m: c.last_to(f"{m}@example.org", "New report") for m in MEMBERS}
    body = c.body(notice["chen"])
    assert "nobody found" in body and "reply #clear only if you know nobody" in body
    c.member_says("alice", "#clear", notice["alice"])
    c.member_says("bashir", "#conflict", notice["bashir"])
    c.run()
    c.member_says("alice", "#reported Mark Evans @mevans", c.last_to("alice@example.org",
                                                                     "full report"))
    c.run()
    told = [m for m in c.to("chen@example.org") if "Mark Evans" in c.body(m)]
    assert len(told) == 1 and "#conflict" in c.body(told[0])
    assert not any("named the reported person" in c.body(m) for m in c.to("bashir@example.org"))
    assert not any("named the reported person" in c.body(m) for m in c.to("alice@example.org"))


def _no_reporter(c, member: str, about: EmailMessage) -> str:  # type: ignore[no-untyped-def]
    c.member_says(member, "#show", about)
    c.run()
    return c.body(c.last_to(f"{member}@example.org", "full report"))


def test_one_word_anonymous_in_the_reporters_language_makes_the_case_anonymous(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = _committee(dovecot, smtp_server, tmp_path)
    dovecot.append((DATA / "es_acoso.eml").read_bytes())
    c.run()
    ack = c.last_to("lucia.f@example.es", "COC-2026-0001")
    assert "ANÓNIMO" in c.body(ack)  # the acknowledgement says how to ask
    notice = c.last_to("alice@example.org", "New report")
    c.member_says("alice", "#clear", notice)
    c.run()
    assert "lucia.f@example.es" in c.body(c.last_to("alice@example.org", "full report"))
    dovecot.append(mail("lucia.f@example.es", f"Re: {ack['Subject']}", "ANÓNIMO\n",
                        name="Lucía Fernández", in_reply_to=ack["Message-ID"].strip("<>")))
    assert [r[:2] for r in c.run()] == [["followup", "COC-2026-0001"]]
    receipt = c.last_to("lucia.f@example.es", "COC-2026-0001")
    assert "ahora es anónimo" in c.body(receipt)
    assert any("asked for anonymity" in c.body(m) for m in c.to("alice@example.org"))
    record = show(c.config, "COC-2026-0001")
    assert record["reporter"]["anonymous"] and record["reporter"]["email"] is None
    for member, about in (("alice", notice), ("bashir", c.last_to("bashir@example.org"))):
        if member == "bashir":
            c.member_says("bashir", "#clear", about)
            c.run()
            body = c.body(c.last_to("bashir@example.org", "full report"))
        else:
            body = _no_reporter(c, member, about)
        assert "lucia.f@example.es" not in body and "Lucía" not in body
        assert "Reporter:    anonymous" in body


def test_a_member_makes_a_case_anonymous_and_the_reporter_is_told(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = _committee(dovecot, smtp_server, tmp_path)
    dovecot.append((DATA / "de_keller.eml").read_bytes())
    c.run()
    notice = c.last_to("alice@example.org", "New report")
    c.member_says("alice", "#clear", notice)
    c.run()
    c.member_says("alice", "#anonymous", c.last_to("alice@example.org", "full report"))
    c.run()
    told = c.last_to("lena.schmidt@example.de", "anonym")
    assert "jetzt anonym" in c.body(told)
    c.member_says("chen", "#clear", c.last_to("chen@example.org", "New report"))
    c.run()
    body = c.body(c.last_to("chen@example.org", "full report"))
    assert "lena.schmidt@example.de" not in body and "Lena Schmidt" not in body
    assert "Thomas Keller" in body  # the reported person stays


def _html_only(sender: str, subject: str, html: str) -> bytes:
    msg = EmailMessage(policy=default)
    msg["From"], msg["To"], msg["Subject"] = sender, "conduct@example.org", subject
    msg["Message-ID"] = f"<{abs(hash(html))}@{sender.split('@')[1]}>"
    msg.set_content(f"<html><body><p>{html}</p></body></html>", subtype="html")
    return msg.as_bytes()


def test_danger_in_many_languages_is_urgent_and_a_denied_danger_is_not(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = _committee(dovecot, smtp_server, tmp_path)
    reports = [
        _html_only("minji@example.kr", "신고합니다",
                   "행사에서 만난 그 사람이 제 집 주소를 인터넷에 올렸어요. 너무 무섭습니다."),
        _html_only("ayse@example.com.tr", "Şikayet",
                   "Konferanstan sonra ofisimin kapısında beni bekleyeceğini söyledi."),
        (DATA / "ru_ot.eml").read_bytes(),
        mail("kim@example.net", "after the party", "He said he'd be waiting outside my hotel "
             "tonight. I don't know what to do."),
        mail("river@example.net", "sorry", "Since the sprint I don't see the point of going on "
             "anymore. Everyone would be better off without me."),
        (DATA / "es_nadie.eml").read_bytes(),
    ]
    for raw in reports:
        dovecot.append(raw)
    assert [r[0] for r in c.run()] == ["report"] * 6
    urgent = [show(c.config, f"COC-2026-000{n}")["triage"]["urgent"] for n in range(1, 7)]
    assert urgent == [True, True, True, True, True, False]
    subjects = [str(m["Subject"]) for m in c.to("chen@example.org")]
    assert sum("URGENT" in s for s in subjects) == 5


def _forwarded_as_attachment(sender: str, note: str, inner: bytes) -> bytes:
    """"Forward as attachment" (Outlook, Thunderbird): a short note, the mail as message/rfc822."""
    outer = EmailMessage(policy=default)
    outer["From"], outer["To"], outer["Subject"] = sender, "conduct@example.org", "Fw: this"
    outer["Message-ID"] = f"<fwd-{sender.split('@')[0]}@example.net>"
    outer.set_content(note)
    outer.add_attachment(message_from_bytes(inner, policy=default))
    return outer.as_bytes()


def test_a_threat_in_a_mail_forwarded_as_an_attachment_makes_the_report_urgent(
        dovecot, smtp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = _committee(dovecot, smtp_server, tmp_path)
    threat = mail("anon1234@example.com", "you",
                  "I know where you live. I will find you at the next meetup and hurt you.")
    harmless = mail("friend@example.com", "slides", "Here are the slides from the sprint.")
    dovecot.append(_forwarded_as_attachment("lena@example.net", "I got this last night.",
                                            threat))
    dovecot.append(_forwarded_as_attachment("omar@example.net", "Is this a CoC issue?",
                                            harmless))
    assert [r[0] for r in c.run()] == ["report", "report"]
    assert show(c.config, "COC-2026-0001")["triage"]["urgent"] is True
    assert show(c.config, "COC-2026-0002")["triage"]["urgent"] is False
    subjects = [str(m["Subject"]) for m in c.to("chen@example.org")]
    assert sum("URGENT" in s for s in subjects) == 1
    notice = c.body(c.last_to("chen@example.org", "URGENT"))
    assert "I will find you" not in notice  # the notice says why, not what
