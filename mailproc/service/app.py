"""Builds the application object once (no globals): config, store, templates, translator.

The CLI calls `build_app` (with `shifted_clock` under `--now`); tests call it with a fixed
clock and seeded randomness. The pepper that keys sender hashes lives in its own 0600 file
next to the store, created on first start.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailproc.adapters.outbox import Delivery, build_delivery
from mailproc.adapters.translation import GuardedTranslator
from mailproc.adapters.translators import build_translator
from mailproc.config.settings import Config
from mailproc.deadlines.clocks import sla
from mailproc.mail.templates import Renderer
from mailproc.reading.detect import load_profiles_in_background
from mailproc.service.pipeline import Pipeline
from mailproc.store.encryption import unlock
from mailproc.store.files import private_dir
from mailproc.store.store import Store
from mailproc.triage.evaluate import RuleSet, load_rules

log = logging.getLogger("mailproc.app")


def utc_now() -> datetime:
    return datetime.now(UTC)


def shifted_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that reads `start` now and runs on from it at the real pace (`mailproc --now`,
    a testing and preview aid): a daemon started with it behaves as if it were then."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


@dataclass
class App:
    config: Config
    store: Store
    renderer: Renderer
    translator: GuardedTranslator | None
    pipeline: Pipeline
    delivery: Delivery
    clock: Callable[[], datetime]

    def close(self) -> None:
        self.store.close()


def load_pepper(data_dir: Path) -> bytes:
    """The secret that keys sender hashes; created once with mode 0600."""
    path = data_dir / "pepper"
    if not path.exists():
        private_dir(data_dir)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def template_cache(config: Config) -> Path:
    """Where compiled templates are kept between starts (inside the private data directory)."""
    return config.data_dir / "cache" / "templates"


def load_triage(config: Config) -> RuleSet | None:
    """The triage rules in force; None (and a warning) when the rules file does not exist."""
    path = config.triage_rules
    if not path.exists():
        log.warning("no triage rules at %s: every human mail becomes a report", path)
        return None
    return load_rules(path, config.routes, config.conduct_address)


def make_translator(config: Config) -> GuardedTranslator | None:
    cfg = config.translation
    secret = cfg.api_key.reveal() if cfg.api_key else None
    inner = build_translator(cfg, secret)
    if inner is None:
        log.info("translation is off (translation.backend: none): reports in other languages "
                 "reach the committee as written")
        return None
    if cfg.backend.value != "libretranslate":
        log.info("translation: report text is sent to %s (translation.backend)",
                 cfg.backend.value)
    return GuardedTranslator(inner, timeout=cfg.timeout_seconds,
                             pause_after_failure=cfg.pause_after_failure_seconds)


def build_app(config: Config, *, clock: Callable[[], datetime] = utc_now,
              rng: random.Random | None = None,
              translator: GuardedTranslator | str | None = "config",
              reader_process: bool = False) -> App:
    """Open the store (taking its lock) and wire every adapter to the pipeline."""
    renderer = Renderer(config.templates_dir, cache_dir=template_cache(config))
    rules = load_triage(config)  # refuse to start on broken rules before taking the lock
    unlock(config)  # storage.encryption: the key, checked, for every file under the data dir
    store = Store(config.data_dir)
    store.open()
    store.refresh = lambda case, at: setattr(case, "sla", sla(case, config, at))
    chosen = make_translator(config) if translator == "config" else translator
    assert not isinstance(chosen, str)
    # langdetect loads its profiles on first use (~0.1 s): start now, on a thread, so that the
    # first acknowledgement after a start is not late; the load overlaps the mailbox login.
    # With a reader process, detection happens there (it loads them) unless it goes away.
    if not reader_process:
        load_profiles_in_background()
    pipeline = Pipeline(config, store, renderer, chosen, clock, rng or random.SystemRandom(),
                        load_pepper(config.data_dir), rules)
    return App(config, store, renderer, chosen, pipeline, build_delivery(config.outgoing), clock)
