"""Language detection and translation, against a real local LibreTranslate-speaking server.

Only the clock is faked (for the circuit breaker); HTTP goes over loopback to the fake server in
tests/libretranslate.py, through our own client and through deep-translator's real code.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus

import langdetect.detector_factory
import pytest
from deep_translator import LibreTranslator
from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY
from libretranslate import LibreTranslateServer, fake_translation

from mailproc.adapters.translation import GuardedTranslator
from mailproc.adapters.translators import (
    DeepTranslatorBackend,
    LibreTranslateClient,
    TranslationError,
    build_translator,
    mymemory_code,
    split_text,
)
from mailproc.config.settings import TranslationBackend, TranslationConfig
from mailproc.mail.parse import parse_message
from mailproc.model.parsed import Translation
from mailproc.reading.detect import Detection, detect_language
from mailproc.reading.langprofiles import LazyFactory

SAMPLES = Path(__file__).resolve().parent.parent / "mailproc" / "samples"
REPORT_ES = "Me acosaron en la conferencia."
REPORT_EN = "I was harassed at the conference."


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def server() -> Iterator[LibreTranslateServer]:
    with LibreTranslateServer() as srv:
        yield srv


def deep_libre(url: str) -> DeepTranslatorBackend:
    """deep-translator's own LibreTranslator: it needs some api_key even when self-hosted."""
    return DeepTranslatorBackend(LibreTranslator, "libretranslate",
                                 options={"api_key": "any-key", "custom_url": url})


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# --------------------------------------------------------------------------- detection

SENTENCES = {
    "en": "Someone harassed me at the conference yesterday and I do not feel safe.",
    "es": "Una persona me acosó ayer en la conferencia y no me siento segura.",
    "fr": "Quelqu'un m'a harcelée hier pendant la conférence et je ne me sens pas en sécurité.",
    "de": "Jemand hat mich gestern auf der Konferenz belästigt und ich fühle mich nicht sicher.",
    "it": "Qualcuno mi ha molestata ieri alla conferenza e non mi sento al sicuro.",
    "pt": "Alguém me assediou ontem na conferência e não me sinto segura.",
    "nl": "Iemand heeft mij gisteren op de conferentie lastiggevallen en ik voel me niet veilig.",
    "ru": "Вчера на конференции меня преследовал человек, и я не чувствую себя в безопасности.",
    "uk": "Вчора на конференції мене переслідувала одна людина, і я не почуваюся в безпеці.",
    "ar": "تعرضت للتحرش أمس في المؤتمر ولا أشعر بالأمان.",
    "ja": "昨日の会議で嫌がらせを受けました。安心できません。",
    "zh": "昨天在会议上有人骚扰我，我感到不安全。",
    "ko": "어제 컨퍼런스에서 누군가 저를 괴롭혔고 저는 안전하다고 느끼지 않습니다.",
    "tr": "Dün konferansta biri beni taciz etti ve kendimi güvende hissetmiyorum.",
    "pl": "Ktoś nękał mnie wczoraj na konferencji i nie czuję się bezpiecznie.",
    "hi": "कल सम्मेलन में किसी ने मुझे परेशान किया और मैं सुरक्षित महसूस नहीं करती।",
}


@pytest.mark.parametrize(("expected", "sentence"), SENTENCES.items(), ids=list(SENTENCES))
def test_detects_short_report_sentences(expected: str, sentence: str) -> None:
    detection = detect_language(sentence)
    assert detection.language == expected
    assert 0.7 <= detection.probability <= 1.0


@pytest.fixture(scope="module")
def stock_factory() -> DetectorFactory:
    """langdetect's own factory, its whole table built up front."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    return factory


def test_the_lazy_table_is_langdetects_table(stock_factory: DetectorFactory) -> None:
    lazy = LazyFactory()
    lazy.load_profile(PROFILES_DIRECTORY)
    lazy.finish()
    assert lazy.langlist == stock_factory.langlist and len(lazy.langlist) == 55
    stock = stock_factory.word_lang_prob_map
    assert lazy.word_lang_prob_map.keys() == stock.keys()
    for ngram in list(stock)[::37]:  # ~2,400 rows of every length, compared bit for bit
        assert lazy.word_lang_prob_map[ngram] == stock[ngram], ngram


def test_detections_are_those_of_langdetect_itself(stock_factory: DetectorFactory) -> None:
    texts = [*SENTENCES.values(), "Por favor", "Reunion", "昨天在會議上有人騷擾我"]
    texts += [parse_message(path.read_bytes()).text for path in sorted(SAMPLES.glob("*.eml"))]
    detect_language("warm up: loads the profiles")
    ours = langdetect.detector_factory._factory
    assert isinstance(ours, LazyFactory)

    def probabilities(factory: DetectorFactory, text: str) -> list[tuple[str, float]]:
        detector = factory.create()
        detector.append(text)
        return [(found.lang, found.prob) for found in detector.get_probabilities()]

    for text in texts:
        assert probabilities(ours, text) == probabilities(stock_factory, text)
    assert len(texts) >= 24


def test_traditional_chinese_is_zh_not_korean() -> None:
    # langdetect alone says "ko" 0.86 here (Han n-grams in its Korean profile).
    assert detect_language("昨天在會議上有人騷擾我，我感到不安全。").language == "zh"


def test_subject_and_body_with_links_still_detected() -> None:
    text = "Acoso en el evento\nVer https://example.org/evento/2026?id=42 y escribir a a@b.org.\n" \
           "Una persona me acosó durante la charla del sábado."
    assert detect_language(text).language == "es"


@pytest.mark.parametrize("text", ["", "   \n\t ", "https://example.org/some/path?x=1",
                                  "www.example.org  http://a.example/b", "12345 678 !!!",
                                  "someone@example.org"])
def test_nothing_to_detect_is_und(text: str) -> None:
    assert detect_language(text) == Detection("und", 0.0)


@pytest.mark.parametrize("text", ["Reunion", "Por favor", SENTENCES["zh"], SENTENCES["ar"]])
def test_detection_is_deterministic(text: str) -> None:
    answers = {detect_language(text) for _ in range(20)}
    assert len(answers) == 1


def test_prefer_breaks_ties_when_unsure() -> None:
    # "Por favor" alone: Slovak and Portuguese at 0.43 each, Danish 0.14.
    assert detect_language("Por favor").language == "sk"
    assert detect_language("Por favor", prefer=["pt"]).language == "pt"
    assert detect_language("Por favor", prefer=["pt-BR"]).language == "pt"
    assert detect_language("Por favor", prefer=["en"]).language == "sk"  # not a candidate


def test_prefer_takes_the_likeliest_preferred_candidate() -> None:
    # "Reunion": fr 0.43, it 0.30, ro 0.27.
    assert detect_language("Reunion", prefer=["ro", "it"]).language == "it"


def test_prefer_does_not_override_a_confident_answer() -> None:
    assert detect_language(SENTENCES["de"], prefer=["en", "es"]).language == "de"


# --------------------------------------------------------------------------- splitting

def test_split_keeps_every_character_and_respects_the_limit() -> None:
    paragraph = " ".join(f"Sentence {i} says what happened at the venue." for i in range(40))
    text = "\n\n".join([paragraph] * 8)
    chunks = split_text(text, 1000)
    assert "".join(chunks) == text
    assert all(len(c) <= 1000 for c in chunks)
    assert all(c.rstrip().endswith(".") for c in chunks)  # cut after sentences


def test_split_prefers_paragraph_boundaries() -> None:
    text = "a" * 300 + "\n\n" + "b" * 300 + ". " + "c" * 300
    assert split_text(text, 650) == ["a" * 300 + "\n\n", "b" * 300 + ". " + "c" * 300]


def test_split_cuts_cjk_sentences_and_unbroken_text() -> None:
    cjk = "会议上有人骚扰我。" * 50
    assert all(c.endswith("。") for c in split_text(cjk, 100))
    assert split_text("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]
    assert split_text("", 100) == []


# ------------------------------------------------------------------ our LibreTranslate client

def test_client_translates_from_the_phrase_table(server: LibreTranslateServer) -> None:
    client = LibreTranslateClient(server.url, api_key="k1")
    assert client.translate(REPORT_ES, "es", "en") == REPORT_EN
    assert client.translate("Hola a todos", "es", "en") == "[en] Hola a todos"


def test_client_never_puts_text_in_the_url(server: LibreTranslateServer) -> None:
    LibreTranslateClient(server.url, api_key="k1").translate(REPORT_ES, "es", "en")
    (request,) = server.requests
    assert request.method == "POST" and request.path == "/translate"
    assert request.query == ""
    assert "acosaron" not in unquote_plus(request.path + request.query)
    assert '"q": "Me acosaron en la conferencia."' in request.body
    assert '"api_key": "k1"' in request.body and '"format": "text"' in request.body


def test_client_server_error_is_translation_error() -> None:
    with LibreTranslateServer(mode="fail") as srv, pytest.raises(TranslationError) as err:
        LibreTranslateClient(srv.url).translate(REPORT_ES, "es", "en")
    assert "500" in str(err.value) and "acosaron" not in str(err.value)


def test_client_wrong_key_is_translation_error() -> None:
    with LibreTranslateServer(api_key="right") as srv, pytest.raises(TranslationError):
        LibreTranslateClient(srv.url, api_key="wrong").translate(REPORT_ES, "es", "en")


def test_client_connection_refused_is_translation_error() -> None:
    with pytest.raises(TranslationError):
        LibreTranslateClient(refused_url()).translate(REPORT_ES, "es", "en")


def test_client_read_timeout_is_translation_error() -> None:
    with LibreTranslateServer(mode="slow", delay=5) as srv:
        start = time.monotonic()
        with pytest.raises(TranslationError):
            LibreTranslateClient(srv.url, timeout=0.3).translate(REPORT_ES, "es", "en")
        assert time.monotonic() - start < 3


# --------------------------------------------------------------------------- deep-translator

def test_deep_translator_libre_code_path(server: LibreTranslateServer) -> None:
    assert deep_libre(server.url).translate(REPORT_ES, "es", "en") == REPORT_EN
    (request,) = server.translate_requests()
    # deep-translator sends the text in the query string of a POST: why we have our own client.
    assert request.method == "POST"
    assert parse_qs(request.query)["q"] == [REPORT_ES]


def test_deep_translator_errors_become_translation_errors(server: LibreTranslateServer) -> None:
    with pytest.raises(TranslationError):
        deep_libre(server.url).translate(REPORT_ES, "es", "xx")  # LanguageNotSupportedException
    with LibreTranslateServer(mode="fail") as failing, pytest.raises(TranslationError):
        deep_libre(failing.url).translate(REPORT_ES, "es", "en")  # ServerException


def test_deep_translator_connection_error_leaks_no_text() -> None:
    # requests' ConnectionError (not wrapped by deep-translator) names the URL, with the text.
    with pytest.raises(TranslationError) as err:
        deep_libre(refused_url()).translate(REPORT_ES, "es", "en")
    assert str(err.value) == "libretranslate: ConnectionError"
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_long_text_is_sent_in_chunks(server: LibreTranslateServer) -> None:
    sentence = "The speaker kept making comments about my appearance during the workshop. "
    paragraph = sentence * 10 + "\n\n"
    text = (paragraph * 17)[:12_000]
    result = deep_libre(server.url).translate(text, "en", "es")
    sent = [parse_qs(r.query)["q"][0] for r in server.translate_requests()]
    assert len(sent) >= 3
    assert all(len(q) < 5000 for q in sent)
    assert result.count("[es] ") == len(sent)
    assert result.replace("[es] ", "") == text
    assert [q.strip() for q in sent] == sent  # white space stays with us, not sent


# --------------------------------------------------------------------------- build_translator

def test_build_translator_per_backend(server: LibreTranslateServer) -> None:
    assert build_translator(TranslationConfig(backend=TranslationBackend.NONE)) is None
    libre = build_translator(TranslationConfig(backend=TranslationBackend.LIBRETRANSLATE,
                                               url=server.url))
    assert isinstance(libre, LibreTranslateClient)
    assert libre.translate(REPORT_ES, "es", "en") == REPORT_EN
    assert build_translator(TranslationConfig()) is None  # off unless a backend is named
    google = build_translator(TranslationConfig(backend=TranslationBackend.GOOGLE))
    assert isinstance(google, DeepTranslatorBackend) and google.engine == "google"
    assert google.code("zh") == "zh-CN" and google.code("he") == "iw"
    mymemory = build_translator(TranslationConfig(backend=TranslationBackend.MYMEMORY))
    assert isinstance(mymemory, DeepTranslatorBackend)
    assert [mymemory.code(c) for c in ("es", "en", "zh")] == ["es-ES", "en-GB", "zh-CN"]
    with pytest.raises(ValueError, match="api_key"):
        build_translator(TranslationConfig(backend=TranslationBackend.DEEPL))


def test_build_translator_passes_the_key() -> None:
    with LibreTranslateServer(api_key="s3cret") as srv:
        cfg = TranslationConfig(backend=TranslationBackend.LIBRETRANSLATE, url=srv.url)
        translator = build_translator(cfg, secret="s3cret")
        assert translator is not None
        assert translator.translate(REPORT_ES, "es", "en") == REPORT_EN


def test_mymemory_codes_are_locales() -> None:
    assert mymemory_code("fr") == "fr-FR"
    assert mymemory_code("de") == "de-DE"


# --------------------------------------------------------------------------- GuardedTranslator

def test_guard_translates_and_keeps_same_language(server: LibreTranslateServer) -> None:
    guard = GuardedTranslator(LibreTranslateClient(server.url), timeout=5,
                              pause_after_failure=60)
    assert guard.translate(REPORT_ES, "es", "en") == Translation(REPORT_EN, "libretranslate",
                                                                 "es", "en")
    assert guard.translate(REPORT_EN, "en", "en") == Translation(REPORT_EN, "libretranslate",
                                                                 "en", "en")
    assert guard.translate("Hola", "und", "en") == Translation("[en] Hola", "libretranslate",
                                                               "und", "en")
    assert len(server.translate_requests()) == 2
    assert '"source": "auto"' in server.translate_requests()[1].body  # "und" asks the engine
    guard.close()


def test_guard_hang_times_out_pauses_and_recovers() -> None:
    clock = FakeClock()
    with LibreTranslateServer(mode="hang") as srv:
        # deep-translator has no timeout of its own: only the guard stands between us and forever.
        guard = GuardedTranslator(deep_libre(srv.url), timeout=0.5, pause_after_failure=60,
                                  clock=clock)
        start = time.monotonic()
        assert guard.translate(REPORT_ES, "es", "en") is None
        assert time.monotonic() - start < 0.5 + 2.0
        assert not guard.available()

        seen = len(srv.requests)
        start = time.monotonic()
        assert guard.translate(REPORT_ES, "es", "en") is None  # paused: no call at all
        assert time.monotonic() - start < 0.2
        assert len(srv.requests) == seen

        clock.advance(59)
        assert not guard.available()
        clock.advance(2)
        assert guard.available()
        srv.mode = "ok"
        assert guard.translate(REPORT_ES, "es", "en") == Translation(
            REPORT_EN, "libretranslate", "es", "en")
        guard.close()


def test_guard_per_call_timeout() -> None:
    with LibreTranslateServer(mode="slow", delay=5) as srv:
        guard = GuardedTranslator(LibreTranslateClient(srv.url, timeout=30), timeout=30,
                                  pause_after_failure=0)
        start = time.monotonic()
        assert guard.translate(REPORT_ES, "es", "en", timeout=0.3) is None
        assert time.monotonic() - start < 0.3 + 2.0
        guard.close()


def test_guard_full_pool_fails_fast() -> None:
    clock = FakeClock()
    with LibreTranslateServer(mode="hang") as srv:
        guard = GuardedTranslator(deep_libre(srv.url), timeout=0.3, pause_after_failure=10,
                                  clock=clock, max_in_flight=1)
        assert guard.translate(REPORT_ES, "es", "en") is None  # its worker is still hung
        clock.advance(11)
        seen = len(srv.requests)
        start = time.monotonic()
        assert guard.translate(REPORT_ES, "es", "en") is None
        assert time.monotonic() - start < 0.2
        assert len(srv.requests) == seen
        assert not guard.available()  # a full pool counts as a failure


def test_guard_failure_returns_none_and_logs_no_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    with LibreTranslateServer(mode="fail") as srv:
        guard = GuardedTranslator(deep_libre(srv.url), timeout=5, pause_after_failure=60,
                                  clock=clock)
        assert guard.translate(REPORT_ES, "es", "en") is None
        assert not guard.available()
        assert guard.translate(REPORT_ES, "es", "en") is None
        clock.advance(61)
        srv.mode = "ok"
        assert guard.translate(REPORT_ES, "es", "en") is not None
        guard.close()
    assert "libretranslate: ServerException" in caplog.text and "es->en" in caplog.text
    for secret in ("acosaron", "harassed", "any-key", srv.url):
        assert secret not in caplog.text


def test_fake_server_speaks_the_api(server: LibreTranslateServer) -> None:
    import requests

    langs = requests.get(server.url + "languages", timeout=5).json()
    assert {"code": "es", "name": "Spanish"}.items() <= langs[1].items()
    detected = requests.post(server.url + "detect", data={"q": REPORT_ES}, timeout=5).json()
    assert detected[0]["language"] == "es"
    form = requests.post(server.url + "translate", timeout=5,
                         data={"q": REPORT_ES, "source": "es", "target": "en"}).json()
    assert form == {"translatedText": REPORT_EN}
    assert fake_translation("en", "fr", "Hello") == "[fr] Hello"


def test_translation_is_off_unless_named_and_the_daemon_says_so_once(tmp_path: Path) -> None:
    """Privacy by default: the shipped config and a config without a translation section send
    no report text anywhere, and the start says so once, clearly."""
    import yaml
    from harness import REPO, mailproc, write_config

    shipped = yaml.safe_load((REPO / "rules" / "config.yaml").read_text())
    assert shipped["translation"]["backend"] == "none"
    config = write_config(tmp_path, mailbox={"maildir": str(tmp_path / "var" / "mail")})
    doc = yaml.safe_load(config.read_text())
    del doc["translation"]
    config.write_text(yaml.safe_dump(doc))
    run = mailproc(config, "run", "--once")
    assert run.code == 0 and run.err.count("translation is off") == 1, run.err
