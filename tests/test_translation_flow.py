"""Translation in the daemon, through a local LibreTranslate-speaking server (no internet).

A Japanese report is stored with its English translation and acknowledged in Japanese
(machine-translated, marked, English below); when the server hangs, the case still opens at once
with the original only and the English acknowledgement goes without waiting; a later pass
translates it, and urgency that only the translation reveals alerts the committee.
"""

from __future__ import annotations

import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from harness import mail, mailproc, show, write_config
from libretranslate import LibreTranslateServer

from mailproc.adapters.maildir import deliver

CORPUS = Path(__file__).parent / "data" / "corpus"


def _config(tmp_path: Path, server: LibreTranslateServer, **translation: Any) -> Path:
    settings = {"backend": "libretranslate", "url": server.url, "timeout_seconds": 2,
                "ack_wait_seconds": 1, "pause_after_failure_seconds": 0, **translation}
    return write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")},
                        translation=settings)


def _sent(tmp_path: Path, purpose: str) -> list[Any]:
    return [message_from_bytes(p.read_bytes(), policy=default)
            for p in sorted((tmp_path / "var" / "outbox").glob(f"*-{purpose}-*.eml"))]


def test_japanese_report_is_translated_and_acknowledged_in_japanese(tmp_path: Path) -> None:
    with LibreTranslateServer() as server:
        config = _config(tmp_path, server)
        deliver(tmp_path / "var" / "mail",
                (CORPUS / "report-ja-harassment-iso2022jp.eml").read_bytes())
        run = mailproc(config, "run", "--once")
        assert run.lines()[0][:3] == ["report", "COC-2026-0001", "ja"]
        record = show(config, "COC-2026-0001")
        assert record["translation_engine"] == "libretranslate"
        assert record["translation_pending"] is False
        assert record["translated_text"].startswith("[en] ")
        assert record["original_text"] in record["translated_text"]  # the fake's fallback
        (ack,) = _sent(tmp_path, "ack")
        body = ack.get_body(("plain",)).get_content()
        assert ack["Content-Language"] == "ja"
        assert body.startswith("[ja] This message was machine-translated")
        assert body.index("[ja] ") < body.index(" English ") < body.rindex("Thank you for")
        # Our own client posts the text in the body: never in a URL.
        for request in server.translate_requests():
            assert request.method == "POST" and request.query == ""


def test_hung_translator_delays_nothing_and_a_later_pass_translates(tmp_path: Path) -> None:
    with LibreTranslateServer(mode="hang") as server:
        config = _config(tmp_path, server)
        deliver(tmp_path / "var" / "mail",
                (CORPUS / "report-ja-harassment-iso2022jp.eml").read_bytes())
        started = time.monotonic()
        run = mailproc(config, "run", "--once")
        elapsed = time.monotonic() - started
        assert run.lines()[0][:2] == ["report", "COC-2026-0001"]
        assert elapsed < 10  # the hung server costs seconds, never the run
        record = show(config, "COC-2026-0001")
        assert record["translation_pending"] is True and record["translated_text"] is None
        (ack,) = _sent(tmp_path, "ack")
        assert ack["Content-Language"] == "en"  # English at once rather than waiting

        server.mode = "ok"
        mailproc(config, "run", "--once")
        record = show(config, "COC-2026-0001")
        assert record["translation_pending"] is False
        assert record["translated_text"].startswith("[en] ")
        diary = mailproc(config, "show", "COC-2026-0001").out
        assert "translated" in diary
        assert len(_sent(tmp_path, "ack")) == 1  # the reporter is not acknowledged twice


def test_urgency_seen_only_in_the_translation_alerts_the_committee(tmp_path: Path) -> None:
    # Italian has danger phrases of its own now (reading/cues_more.py): this one is not among them.
    text = "Ha detto che vuole farmi del male alla sede, adesso.\n"
    with LibreTranslateServer(mode="fail") as server:
        config = _config(tmp_path, server)
        deliver(tmp_path / "var" / "mail", mail("giulia@example.net", "Aiuto", text))
        mailproc(config, "run", "--once")
        assert show(config, "COC-2026-0001")["triage"]["urgent"] is False
        notices = _sent(tmp_path, "notice")
        assert len(notices) == 3 and not any("URGENT" in n["Subject"] for n in notices)

        server.mode = "ok"
        mailproc(config, "run", "--once")
        record = show(config, "COC-2026-0001")
        assert record["translated_text"] == "He threatened to hurt me at the venue right now."
        assert record["triage"]["urgent"] is True and record["triage"]["priority"] == "P1"
        urgent = [n for n in _sent(tmp_path, "notice") if "URGENT" in n["Subject"]]
        assert sorted(n["To"].addresses[0].addr_spec for n in urgent) == [
            "alice@example.org", "bashir@example.org", "chen@example.org"]


def test_a_machine_translated_reporter_mail_has_a_translated_subject(tmp_path: Path) -> None:
    """A reporter in a language without templates gets the subject in their language too,
    with the case tag kept as it is."""
    from mailproc.config.settings import load_config
    from mailproc.service.app import build_app
    from mailproc.service.scheduled import _localized

    with LibreTranslateServer() as server:
        app = build_app(load_config(_config(tmp_path, server)))
        try:
            subject, body, lang = _localized(app.pipeline, "update", "ja", {
                "case": {"id": "COC-2026-0001", "code_name": "amber-reed",
                         "received_at": "2026-11-22"}, "reporter_name": "", "news": "reading",
                "next_update": "2026-11-29", "committee_name": "C", "conduct_address": "c@x"})
        finally:
            app.close()
    assert lang == "ja"
    assert subject == "[COC-2026-0001] [ja] An update on your report"
    assert body.startswith("[ja] ")
