"""The Maildir source, deliver(), open_source() and Backoff: real files in a temp directory."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from mailproc.adapters.mailbox import Backoff, MailboxError
from mailproc.adapters.maildir import MaildirSource, deliver
from mailproc.adapters.sources import open_source
from mailproc.config.settings import MailboxConfig, MaildirFolders
from mailproc.model.parsed import Folder


def _mail(n: int) -> bytes:
    return f"From: alex@example.org\r\nSubject: Report {n}\r\n\r\nMessage {n}.\r\n".encode()


def _never(key: str) -> bool:
    return False


def _age(maildir: Path, key: str, mtime: int) -> None:
    """Pretend a message was delivered at `mtime` (the source orders by delivery time)."""
    [path] = [p for sub in ("new", "cur") for p in (maildir / sub).iterdir()
              if p.name.split(":")[0] == key.removeprefix("maildir:")]
    os.utime(path, (mtime, mtime))


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    return tmp_path / "Maildir"


@pytest.fixture
def source(maildir: Path) -> MaildirSource:
    src = MaildirSource(maildir, MaildirFolders())
    src.open()
    return src


def test_open_creates_the_maildir(maildir: Path, source: MaildirSource) -> None:
    assert all((maildir / sub).is_dir() for sub in ("tmp", "new", "cur"))
    assert source.kind == "maildir" and source.mode == "poll"


def test_open_on_a_file_is_a_mailbox_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a maildir")
    with pytest.raises(MailboxError):
        MaildirSource(tmp_path / "file", MaildirFolders()).open()


def test_deliver_goes_through_tmp_into_new(maildir: Path) -> None:
    key = deliver(maildir, _mail(1))
    [path] = (maildir / "new").iterdir()
    assert key == f"maildir:{path.name}"
    assert path.read_bytes() == _mail(1)
    assert list((maildir / "tmp").iterdir()) == []
    assert deliver(maildir, _mail(2)) != key


def test_fetch_returns_unseen_messages_oldest_first(maildir: Path, source: MaildirSource) -> None:
    keys = [deliver(maildir, _mail(n)) for n in range(4)]
    for key, when in zip(keys, (300, 100, 400, 200), strict=True):
        _age(maildir, key, 1_700_000_000 + when)
    got = source.fetch_new(lambda key: key == keys[3])

    assert [m.key for m in got] == [keys[1], keys[0], keys[2]]
    assert [m.data for m in got] == [_mail(1), _mail(0), _mail(2)]
    assert source.last_contact is not None


def test_fetch_reads_cur_and_keys_drop_the_flags(maildir: Path, source: MaildirSource) -> None:
    (maildir / "cur" / "1700000000.M1P2Q3.host:2,S").write_bytes(_mail(1))
    (maildir / "new" / ".hidden").write_bytes(b"editor swap file")
    (maildir / "tmp" / "1700000001.M1P2Q4.host").write_bytes(_mail(2))  # still being written

    got = source.fetch_new(_never)
    assert [(m.key, m.data) for m in got] == [("maildir:1700000000.M1P2Q3.host", _mail(1))]


def test_fetch_stops_at_the_limit_and_then_wait_returns_at_once(maildir: Path) -> None:
    slept: list[float] = []
    src = MaildirSource(maildir, MaildirFolders(), sleep=slept.append)
    src.open()
    keys = [deliver(maildir, _mail(n)) for n in range(5)]
    for n, key in enumerate(keys):
        _age(maildir, key, 1_700_000_000 + n)

    first = src.fetch_new(_never, limit=3)
    src.wait_for_mail(30)
    rest = src.fetch_new({m.key for m in first}.__contains__, limit=3)

    assert [m.key for m in first] == keys[:3] and [m.key for m in rest] == keys[3:]
    assert slept == []


def test_a_file_vanishing_after_the_listing_is_skipped(
        maildir: Path, source: MaildirSource) -> None:
    keys = [deliver(maildir, _mail(n)) for n in range(3)]

    def is_seen(key: str) -> bool:
        # Called after the directory listing: another process takes message 1 meanwhile.
        for path in (maildir / "new").iterdir():
            if f"maildir:{path.name}" == keys[1]:
                path.unlink()
        return False

    got = source.fetch_new(is_seen)
    assert sorted(m.key for m in got) == sorted([keys[0], keys[2]])


def test_move_renames_into_maildirplus_folders(maildir: Path, source: MaildirSource) -> None:
    (maildir / "cur" / "1700000000.M1P2Q3.host:2,FS").write_bytes(_mail(0))
    keys = ["maildir:1700000000.M1P2Q3.host"] + [deliver(maildir, _mail(n)) for n in (1, 2)]
    source.fetch_new(_never)
    source.move({Folder.PROCESSED: keys[:2], Folder.JUNK: keys[2:], Folder.ROUTED: []})

    processed = sorted(p.name for p in (maildir / ".Processed" / "cur").iterdir())
    assert processed == sorted(["1700000000.M1P2Q3.host:2,FS",
                                f"{keys[1].removeprefix('maildir:')}:2,"])
    assert [p.read_bytes() for p in (maildir / ".Junk" / "cur").iterdir()] == [_mail(2)]
    assert (maildir / ".Processed" / "maildirfolder").exists()
    assert all((maildir / ".Junk" / sub).is_dir() for sub in ("tmp", "new", "cur"))
    assert not (maildir / ".Routed").exists()
    assert source.fetch_new(_never) == []


def test_move_ignores_gone_keys_and_follows_renamed_files(
        maildir: Path, source: MaildirSource) -> None:
    keys = [deliver(maildir, _mail(n)) for n in range(2)]
    source.fetch_new(_never)
    # A mail client marks message 0 as read after our fetch: new/x -> cur/x:2,S
    name = keys[0].removeprefix("maildir:")
    os.rename(maildir / "new" / name, maildir / "cur" / f"{name}:2,S")
    source.move({Folder.PROCESSED: [keys[0]]})
    assert [p.name for p in (maildir / ".Processed" / "cur").iterdir()] == [f"{name}:2,S"]

    source.move({Folder.PROCESSED: [keys[0], "maildir:1.gone.host", "imap:1:1"]})  # no-ops
    assert [p.name for p in (maildir / ".Processed" / "cur").iterdir()] == [f"{name}:2,S"]
    assert [m.key for m in source.fetch_new(_never)] == [keys[1]]


def test_wait_returns_early_when_mail_arrives(maildir: Path) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            deliver(maildir, _mail(1))

    src = MaildirSource(maildir, MaildirFolders(), sleep=sleep, poll_step=0.25)
    src.open()
    src.fetch_new(_never)
    src.wait_for_mail(60)
    assert slept == [0.25, 0.25, 0.25]


def test_wait_times_out_and_ignores_mail_already_listed(maildir: Path) -> None:
    slept: list[float] = []
    deliver(maildir, _mail(1))
    src = MaildirSource(maildir, MaildirFolders(), sleep=slept.append, poll_step=0.4)
    src.open()
    src.fetch_new(_never)
    src.wait_for_mail(1.0)
    assert slept == pytest.approx([0.4, 0.4, 0.2])


def test_folder_names_must_be_plain(maildir: Path) -> None:
    with pytest.raises(ValueError, match="plain name"):
        MaildirSource(maildir, MaildirFolders(junk="../elsewhere"))


def test_open_source_builds_a_maildir_source(maildir: Path) -> None:
    src = open_source(MailboxConfig(maildir=maildir))
    assert isinstance(src, MaildirSource) and src.path == maildir


# --------------------------------------------------------------------------- Backoff


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    backoff = Backoff(initial=1.0, maximum=10.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [1, 2, 4, 8, 10, 10, 10, 10]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)  # jittered: reconnecting clients do not align

    backoff.reset()
    assert 0.5 <= backoff.next_delay() <= 1.0


def test_backoff_is_reproducible_with_a_seeded_rng() -> None:
    one = Backoff(rng=random.Random(42))
    two = Backoff(rng=random.Random(42))
    assert [one.next_delay() for _ in range(5)] == [two.next_delay() for _ in range(5)]


def test_backoff_survives_very_many_failures() -> None:
    backoff = Backoff(initial=1.0, maximum=300.0, rng=random.Random(1))
    for _ in range(5000):
        delay = backoff.next_delay()
    assert 150.0 <= delay <= 300.0


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(initial=0)
    with pytest.raises(ValueError):
        Backoff(initial=10, maximum=5)
