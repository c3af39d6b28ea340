"""The reader process: archiving and reading mail on a second core changes no decision.

`prepare_batch` (what the reader process runs) must lead the pipeline to exactly what it
decides inline, for every kind of mail in the corpus, with and without translation; the process
itself must archive durably, fall back when it dies, die with the daemon, and stay off when the
configuration says so.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_string
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from harness import REPO, mail, mailproc, write_config
from libretranslate import LibreTranslateServer

from mailproc.adapters.mailbox import RawMessage
from mailproc.adapters.maildir import deliver
from mailproc.config.settings import load_config
from mailproc.service.app import App, build_app
from mailproc.service.pipeline import Handled
from mailproc.service.prepare import Prepared, prepare_batch, settings_for
from mailproc.service.reader import ReaderProcess
from mailproc.store.files import archive_path

CORPUS = REPO / "tests" / "data" / "corpus"
ROUTES = {"sponsorship": "sponsors@example.org", "registration": "registration@example.org",
          "travel-grants": "grants@example.org", "speakers": "program@example.org",
          "press": "press@example.org", "general": "info@example.org"}
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _raws() -> list[RawMessage]:
    """The whole corpus, a follow-up-looking mail, a committee member's mail and junk bytes."""
    raws = [RawMessage(f"maildir:{p.stem}", p.read_bytes())
            for p in sorted(CORPUS.glob("*.eml"))]
    raws.append(RawMessage("maildir:member", mail(
        "alice@example.org", "Re: [COC-2026-0001] new case", "#clear\n")))
    raws.append(RawMessage("maildir:junk", b"\x00\xff not a mail at all \x00" * 10))
    raws.append(RawMessage("maildir:again", raws[0].data))  # the same bytes twice: a duplicate
    return raws


def _app(root: Path, **translation: Any) -> App:
    config = write_config(root, mailbox={"maildir": str(root / "var" / "mail")},
                          routes=ROUTES, triage_rules=str(REPO / "rules" / "triage.yaml"),
                          translation=translation or None)
    return build_app(load_config(config), clock=lambda: NOW, rng=random.Random(7))


def _cases(app: App) -> dict[str, dict[str, Any]]:
    keep = ("language", "language_probability", "status", "subject", "original_text",
            "translated_text", "translation_engine", "translation_pending", "reporter",
            "incident", "reported", "attachments", "triage", "escrow", "links", "identifiers",
            "code_name")
    out = {}
    for case in app.store.all_cases():
        record = json.loads(case.model_dump_json())
        assert set(keep) <= set(record), set(keep) - set(record)
        out[case.id] = {k: record[k] for k in keep}
        # Keyed with each data directory's own pepper: only how many can match.
        out[case.id]["identifiers"] = len(record["identifiers"])
    return out


def _mails(app: App) -> list[tuple[str, str, str]]:
    def subject(raw: str) -> str:
        return str(message_from_string(raw, policy=default)["Subject"])

    return sorted((m.purpose, ",".join(m.recipients), subject(m.raw))
                  for m in app.store.pending_outgoing())


@pytest.mark.parametrize("translating", [False, True], ids=["no-translation", "libretranslate"])
def test_prepared_batch_is_decided_exactly_as_inline(tmp_path: Path, translating: bool) -> None:
    raws = _raws()
    with LibreTranslateServer() as server:
        settings = {"backend": "libretranslate", "url": server.url} if translating else {}
        inline, prepared = _app(tmp_path / "inline", **settings), _app(tmp_path / "reader",
                                                                      **settings)
        try:
            ready = prepare_batch(raws, settings_for(prepared.config), prepared.config.data_dir)
            # Archived before anything is decided, byte for byte, once per distinct message.
            for raw, prep in zip(raws, ready, strict=True):
                assert prep.key == raw.key and not prep.failed
                assert archive_path(prepared.config.data_dir, prep.sha256).read_bytes() == raw.data
            by_key = {p.key: p for p in ready}
            assert by_key["maildir:report-ja-harassment-iso2022jp"].language == "ja"
            assert by_key["maildir:machine-bounce-dsn"].machine is not None
            assert by_key["maildir:junk"].message is None or by_key["maildir:junk"].unparseable
            assert (by_key["maildir:report-fr-propos-insultants"].fields is None) == translating

            lines_inline = inline.pipeline.handle_batch(raws)
            lines_prepared = prepared.pipeline.handle_batch(raws, by_key)
        finally:
            inline.close()
            prepared.close()
        assert translating == bool(server.requests)

    def row(h: Handled) -> tuple[str, str, str | None, str | None, str]:
        return h.key, h.outcome.value, h.case_id, h.language, h.reason

    assert [row(h) for h in lines_prepared] == [row(h) for h in lines_inline]
    outcomes = {h.outcome.value for h in lines_inline}
    assert {"report", "dropped", "routed", "quarantined"} <= outcomes
    assert _cases(prepared) == _cases(inline) and len(_cases(inline)) >= 10
    assert _mails(prepared) == _mails(inline)


def _read(reader: ReaderProcess, raws: list[RawMessage]) -> dict[str, Prepared] | None:
    """One batch through the reader, as the daemon's read-ahead hands it over."""
    reader.submit(raws)
    return reader.collect()


def _reader_then_app(root: Path, data_dir: Path | None = None) -> tuple[ReaderProcess, App]:
    """As `mailproc run` does it: fork the reader first, then build the app (which starts
    threads: a fork after that could copy a lock one of them holds)."""
    config = load_config(write_config(root, mailbox={"maildir": str(root / "var" / "mail")},
                                      routes=ROUTES,
                                      triage_rules=str(REPO / "rules" / "triage.yaml")))
    reader = ReaderProcess()
    reader.configure(settings_for(config), data_dir or config.data_dir)
    return reader, build_app(config, clock=lambda: NOW, rng=random.Random(7))


def test_reader_process_archives_prepares_and_is_replaced_when_it_dies(tmp_path: Path) -> None:
    raws = _raws()
    reader, app = _reader_then_app(tmp_path)
    try:
        assert reader.pid not in (None, os.getpid())
        ready = _read(reader, raws)
        assert ready is not None and set(ready) == {r.key for r in raws}
        report = ready["maildir:report-es-acoso"]
        assert report.language == "es" and report.message is not None
        assert "denunciar" in report.message.text and "acoso" in report.message.subject.lower()
        for raw in raws:
            assert archive_path(app.config.data_dir, ready[raw.key].sha256).read_bytes() == \
                raw.data
        handled = app.pipeline.handle_batch(raws, ready)
        assert len(handled) == len(raws)

        assert reader.pid is not None
        os.kill(reader.pid, signal.SIGKILL)  # gone: the daemon must notice and go on inline
        time.sleep(0.2)
        assert _read(reader, raws[:2]) is None
        assert not reader.alive
        assert _read(reader, raws[:2]) is None  # and does not try again
    finally:
        reader.close()
        app.close()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


SCRIPT = Path(sys.executable).parent / "mailproc"  # the console script: forks first thing


def _start(tmp_path: Path, script: bool = False,
           **mailbox: Any) -> tuple[subprocess.Popen[bytes], Path]:
    maildir = tmp_path / "var" / "mail"
    config = write_config(tmp_path, mailbox={"maildir": str(maildir),
                                             "poll_interval_seconds": 0.2, **mailbox})
    maildir.mkdir(parents=True)
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "mailproc.cli"]
    proc = subprocess.Popen([*command, "--config", str(config), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    return proc, maildir


def _first_line(proc: subprocess.Popen[bytes], word: bytes, seconds: float = 20.0) -> bytes:
    assert proc.stdout is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if word in line:
            return line
    raise AssertionError(f"no line with {word!r} within {seconds} s")


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the reader needs a second core")
@pytest.mark.parametrize("script", [False, True], ids=["python-m", "console-script"])
def test_daemon_reads_through_its_reader_which_dies_with_it(tmp_path: Path, script: bool) -> None:
    if script and not SCRIPT.exists():
        pytest.skip("mailproc is not installed as a script next to this Python")
    proc, maildir = _start(tmp_path, script)
    try:
        _first_line(proc, b"watching")
        deliver(maildir, mail("kim@example.net", "Harassment at the meetup",
                              "He followed me to the hotel and keeps sending messages."))
        assert _first_line(proc, b"report").split()[0] == b"report"
        children = [c for c in _children(proc.pid) if _alive(c)]
        assert len(children) == 1, "one reader process"
        reader = children[0]
        assert b"mailproc" in Path(f"/proc/{reader}/cmdline").read_bytes()
        proc.kill()  # SIGKILL: no cleanup runs in the daemon
        proc.wait(10)
        deadline = time.monotonic() + 5
        while _alive(reader) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(reader), "the reader must not outlive the daemon"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _status(tmp_path: Path) -> dict[str, Any]:
    run = mailproc(tmp_path / "rules" / "config.yaml", "status", "--json")
    doc: dict[str, Any] = json.loads(run.out)
    return doc


def _wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.1)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the reader needs a second core")
def test_a_reader_killed_under_the_daemon_leaves_it_reading_inline(tmp_path: Path) -> None:
    proc, maildir = _start(tmp_path)
    try:
        _first_line(proc, b"watching")
        deliver(maildir, mail("kim@example.net", "Harassment at the meetup",
                              "He followed me to the hotel and keeps sending messages."))
        assert _first_line(proc, b"report").split()[0] == b"report"
        _wait_for(lambda: _status(tmp_path)["mailbox"]["reader"] == "process", 10,
                  "status says a reader process reads")
        (reader,) = [c for c in _children(proc.pid) if _alive(c)]
        os.kill(reader, signal.SIGKILL)
        deliver(maildir, mail("lee@example.net", "Threats after the talk",
                              "Someone threatened me in the hallway after my talk."))
        line = _first_line(proc, b"report").split()
        assert line[0] == b"report" and line[2] == b"en"  # read, detected, opened: inline
        _wait_for(lambda: _status(tmp_path)["mailbox"]["reader"] == "inline", 10,
                  "status says the daemon reads inline")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err.decode()
    assert b"reader process unavailable" in err
    assert len(list((tmp_path / "var" / "outbox").glob("*-ack-*.eml"))) == 2


def test_reader_off_in_the_config_means_no_second_process(tmp_path: Path) -> None:
    """Even when the console script forked it before reading the configuration."""
    proc, maildir = _start(tmp_path, SCRIPT.exists(), reader_process=False)
    try:
        _first_line(proc, b"watching")
        deliver(maildir, mail("kim@example.net", "Harassment at the meetup",
                              "He followed me to the hotel and keeps sending messages."))
        assert _first_line(proc, b"report").split()[0] == b"report"
        assert [c for c in _children(proc.pid) if _alive(c)] == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert proc.returncode == 0


def _daemon_over_reports(root: Path, count: int, *, once: bool,
                         on_batch: Callable[[Any, list[Handled]], None]) -> dict[Any, list[str]]:
    """`count` reports delivered to the Maildir root/var/mail, one in-process `Daemon` run over
    them (`on_batch(daemon, handled)` after each batch); the store's pending moves after it."""
    import asyncio
    import io

    from mailproc.adapters.sources import open_source
    from mailproc.service.daemon import Daemon

    maildir = root / "var" / "mail"
    config = load_config(write_config(root, mailbox={"maildir": str(maildir)}))
    for i in range(count):
        deliver(maildir, mail(f"person{i}@example.net", f"Harassment report {i}",
                              "Someone kept insulting me in the chat."))
    app = build_app(config, clock=lambda: NOW, rng=random.Random(3))
    try:
        daemon = Daemon(app, open_source(config.mailbox), io.StringIO(), once=once,
                        on_batch=lambda handled: on_batch(daemon, handled))
        assert asyncio.run(daemon.run()) == 0
        return app.store.pending_moves()
    finally:
        app.close()


def test_a_backlog_is_read_in_growing_batches_so_the_first_acks_go_early(tmp_path: Path) -> None:
    """After a quiet inbox the first fetch takes FIRST_BATCH messages, then twice as many each
    time up to the configured batch: the first reports are answered before the backlog is read."""
    from mailproc.service.daemon import FIRST_BATCH

    sizes: list[int] = []
    _daemon_over_reports(tmp_path, 400, once=True,
                         on_batch=lambda _, handled: sizes.append(len(handled)))
    assert FIRST_BATCH == 20
    assert sizes == [20, 40, 80, 160, 100]  # doubling up to the Maildir batch of 200
    assert sum(1 for p in (tmp_path / "var" / "outbox").glob("*-ack-*.eml")) == 400
    maildir = tmp_path / "var" / "mail"
    assert not list((maildir / "new").iterdir()) and not list((maildir / "cur").iterdir())


def test_a_clean_stop_moves_the_last_committed_batch(tmp_path: Path) -> None:
    """A committed batch is moved during the next round; a stop that comes before it (SIGTERM
    right after the acknowledgements went out) still leaves the inbox empty, not to the next
    start."""
    pending = _daemon_over_reports(tmp_path, 3, once=False,  # a daemon, stopped after 1 batch
                                   on_batch=lambda daemon, _: daemon.stop.set())
    assert pending == {}
    maildir = tmp_path / "var" / "mail"
    assert not list((maildir / "new").iterdir()) and not list((maildir / "cur").iterdir())
    processed = [p for p in (maildir / ".Processed" / "cur").iterdir()]
    assert len(processed) == 3
    assert sum(1 for p in (tmp_path / "var" / "outbox").glob("*-ack-*.eml")) == 3


def test_a_batch_the_reader_cannot_archive_is_left_to_the_daemon(tmp_path: Path) -> None:
    """The reader cannot write its archive (here: a file where the directory should be): it
    answers with the error's name, the daemon does that batch inline (and reports the error
    there), and the reader serves the next batch once the cause is gone."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "archive").write_text("not a directory")
    raws = _raws()[:3]
    reader, app = _reader_then_app(tmp_path / "daemon", blocked)
    try:
        assert _read(reader, raws) is None
        assert reader.alive  # a failed batch is not a dead reader
        (blocked / "archive").unlink()
        ready = _read(reader, raws)
        assert ready is not None and set(ready) == {r.key for r in raws}
        assert all(archive_path(blocked, p.sha256).exists() for p in ready.values())
    finally:
        reader.close()
        app.close()


def test_a_fork_during_a_profile_load_leaves_the_child_a_clean_detector() -> None:
    """Forked while a thread of the parent loads langdetect's profiles (lock held, factory
    half-built), the child must start both afresh, not detect with half the languages."""
    import langdetect.detector_factory as factory

    from mailproc.reading import detect

    saved = factory._factory
    half_built = factory.DetectorFactory()  # no profiles: every detection would fail
    detect._init_lock.acquire()
    factory._factory = half_built
    try:
        pid = os.fork()
        if pid == 0:  # the child: a clean slate, and a real detection works
            ok = factory._factory is None and not detect._init_lock.locked() and \
                detect.detect_language("Bonjour, je voudrais signaler un harcèlement "
                                       "pendant la conférence de samedi.").language == "fr"
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        factory._factory = saved
        detect._init_lock.release()
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_reader_loads_no_configuration_models_and_warms_up_on_a_real_report() -> None:
    """The worker imports only what reading needs (the configuration's and the records'
    pydantic models and YAML cost ~0.2-0.3 s of its start), and its warm-up sample reads as a
    full report, so that the parser, language detection and field extraction are all loaded
    before the first batch."""
    code = ("import sys\n"
            "from mailproc.reading.detect import load_profiles\n"
            "from mailproc.service.prepare import prepare_batch\n"
            "from mailproc.service.reader import WARM_UP_SAMPLE, _warm_up\n"
            "_warm_up()\n"
            "print(sorted(m for m in ('mailproc.config.settings', 'yaml', 'pydantic',\n"
            "    'mailproc.model.records', 'mailproc.mail.parse', 'mailproc.reading.extract')\n"
            "    if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=REPO)
    assert done.stdout.split("\n")[0] == "['mailproc.mail.parse', 'mailproc.reading.extract']"

    from mailproc.service.prepare import Settings, prepare
    from mailproc.service.reader import WARM_UP_SAMPLE

    data = WARM_UP_SAMPLE.read_bytes()
    got = prepare(RawMessage("k", data), Settings("conduct@example.org", ("en",), len(data),
                                                  translating=False))
    assert not got.failed and got.machine is None and got.language == "en"
    assert got.fields is not None and got.fields.description


def test_the_console_script_collects_garbage_again_once_the_daemon_has_started(
        tmp_path: Path) -> None:
    """`mailproc run` keeps the garbage collector off while it starts; the daemon freezes what
    start-up built and turns the collector back on, or a long-running daemon would leak every
    reference cycle it makes."""
    maildir = tmp_path / "var" / "mail"
    config = write_config(tmp_path, mailbox={"maildir": str(maildir)})
    maildir.mkdir(parents=True)
    deliver(maildir, mail("kim@example.net", "Harassment at the meetup",
                          "He followed me to the hotel and keeps sending messages."))
    code = ("import gc, sys\n"
            f"sys.argv = ['mailproc', '--config', {str(config)!r}, 'run', '--once']\n"
            "from mailproc.cli.launch import main\n"
            "code = main()\n"
            "print('collector', code, gc.isenabled(), gc.get_freeze_count() > 1000)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=REPO, timeout=60)
    assert "report" in done.stdout, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "collector 0 True True"


@pytest.mark.parametrize(("argv", "command"), [
    (["run"], "run"),
    (["--config", "rules/run.yaml", "run", "--once"], "run"),
    (["--config=run.yaml", "run"], "run"),
    (["show", "run"], "show"),
    (["--config", "run", "cases", "--json"], "cases"),
    (["--now", "+3d", "run", "--once"], "run"),
    (["--help"], None),
])
def test_the_console_script_forks_and_pauses_collection_only_for_run(
        argv: list[str], command: str | None) -> None:
    """The script decides before argparse is imported; `mailproc show run` is not a daemon."""
    from mailproc.service.reader import command_of

    assert command_of(argv) == command
