"""The data directory's encryption at rest: unlocking it at start, and changing its key.

`unlock` reads `storage.encryption.key`, checks it against what the directory records
(`encryption.json`: key ids, never keys) and registers the keyring for every file helper; a
missing, unreadable or wrong key is a `DataDirProblem` naming the setting (exit 2 at start).

`rekey` re-seals every file with a new key (or seals a plaintext directory, or opens one for
good), with the daemon stopped. It is crash-safe by construction: it first records that a
rotation from key A to key B is under way, then rewrites file by file (each an atomic
replacement, so every file opens with A or with B), then records B. A rekey that stops halfway
is run again and finishes; the daemon refuses to start meanwhile, and nothing is lost.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mailproc.config.settings import Config
from mailproc.store import sealing
from mailproc.store.files import ENCRYPTION_MARKER, DataDirLock, DataDirProblem, atomic_write
from mailproc.store.keyrecord import KEY_SETTING, check_encryption, read_marker, write_marker
from mailproc.store.sealing import Keyring, Unsealable
from mailproc.store.store import Store

MARKER_FORMAT = "mailproc-encryption"
_SKIPPED = {"LOCK", "pepper", ENCRYPTION_MARKER}  # plain on purpose (README); cache/ too


def config_key(config: Config) -> bytes | None:
    """The key `storage.encryption.key` names (None: encryption is off)."""
    encryption = config.storage.encryption
    if encryption is None:
        return None
    try:
        return sealing.key_from_text(encryption.key.reveal())
    except ValueError as exc:
        raise DataDirProblem(f"{KEY_SETTING}: {exc}") from None


def unlock(config: Config) -> Keyring | None:
    """Check the configured key against the data directory and register it (None: off)."""
    key = config_key(config)
    ring = Keyring(key) if key is not None else None
    check_encryption(config.data_dir, ring, writable=False)
    sealing.register(config.data_dir, ring)
    return ring


def describe(config: Config) -> str:
    """One line for `mailproc check`: whether the data directory is encrypted at rest."""
    if config.storage.encryption is None:
        return "encryption at rest: off (storage.encryption)"
    key = _config_key_or_none(config)
    return f"encryption at rest: on (key id {sealing.key_id(key).hex() if key else '?'})"


def key_problems(config: Config, where: Path | str) -> Iterator[str]:
    """For `mailproc check`: a key that cannot be read, is no key, or does not fit the data
    directory (`where`: the config file, to prefix the problem with)."""
    try:
        key = config_key(config)
        check_encryption(config.data_dir, Keyring(key) if key else None, writable=False)
    except DataDirProblem as exc:
        text = str(exc)
        yield f"{where}: {text if text.startswith('storage.') else 'storage.encryption: ' + text}"


@dataclass
class Rekeyed:
    """What a rekey did."""

    sealed: int = 0  # files written with the new key (or plain, when decrypting)
    already: int = 0  # files that were so already (a rekey run again after a stop)
    dropped_lines: int = 0  # damaged log lines nobody could read, not carried over
    target: str | None = None  # the new key id (None: the directory is plain now)


def rekey(config: Config, new_key: bytes | None, *, old_keys: Sequence[bytes] = (),
          on_file: Callable[[Path], None] | None = None) -> Rekeyed:
    """Re-seal the whole data directory with `new_key` (None: leave it unencrypted).

    The keys that open it now come from the config and `old_keys`. `on_file` is called after
    each file is rewritten (progress; tests stop a rekey halfway with it).
    """
    root = config.data_dir
    marker = read_marker(root)
    source = marker.get("key") if marker else None
    target = sealing.key_id(new_key).hex() if new_key is not None else None
    if marker and marker.get("rotating") and marker.get("to") != target:
        raise DataDirProblem(f"an earlier key change of {root} (to key id "
                             f"{marker.get('to') or 'none: unencrypted'}) was interrupted: "
                             "finish it first by running mailproc rekey again with that key")
    if not (marker and marker.get("rotating")) and source == target:
        return Rekeyed(target=target)
    known = {sealing.key_id(k).hex(): k for k in
             (*old_keys, *filter(None, [_config_key_or_none(config), new_key]))}
    if source is not None and source not in known:
        raise DataDirProblem(f"{root} is encrypted with key id {source}: name that key in "
                             f"{KEY_SETTING} or with --old-key-file")
    if DataDirLock(root).held_elsewhere():
        raise DataDirProblem(f"{root} is in use by a running mailproc: stop it first")
    old = known[source] if source is not None else None
    ring = Keyring(new_key, [k for k in (old,) if k is not None], plain_ok=old is None,
                   rotating=True)
    if root.exists():
        write_marker(root, {"format": MARKER_FORMAT, "key": source, "to": target,
                            "rotating": True})
    sealing.register(root, ring)
    store = Store(root)
    store.open()  # the journal replayed, the logs' torn ends cut, the lock held
    try:
        done = _reseal_all(root, ring, on_file)
        if not store.write_snapshot():  # the logs' offsets changed: record the new ones
            (root / "snapshot.json").unlink(missing_ok=True)
        write_marker(root, {"format": MARKER_FORMAT, "key": target} if target else None)
    finally:
        store.close()
    final = Keyring(new_key) if new_key is not None else None
    sealing.register(root, final)
    check_encryption(root, final, writable=False)
    done.target = target
    return done


def _config_key_or_none(config: Config) -> bytes | None:
    try:
        return config_key(config)
    except DataDirProblem:
        return None  # the admin may be naming the old key on the command line instead


def _reseal_all(root: Path, ring: Keyring, on_file: Callable[[Path], None] | None) -> Rekeyed:
    done = Rekeyed()
    for path in _files(root):
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            path.unlink()  # a write a crash interrupted: never read, and maybe plain text
            continue
        changed, dropped = _reseal(path, ring)
        done.dropped_lines += dropped
        if changed:
            done.sealed += 1
            if on_file is not None:
                on_file(path)
        else:
            done.already += 1
    return done


def _files(root: Path) -> Iterator[Path]:
    for top, dirs, names in os.walk(root):
        here = Path(top)
        if here == root:
            dirs[:] = [d for d in dirs if d != "cache"]  # compiled templates: no report text
            names = [n for n in names if n not in _SKIPPED]
        dirs.sort()
        for name in sorted(names):
            yield here / name


def _reseal(path: Path, ring: Keyring) -> tuple[bool, int]:
    """Rewrite one file with the ring's sealing key; (whether it changed, lines dropped)."""
    data = path.read_bytes()
    first = data.split(b"\n", 1)[0]
    if path.suffix == ".jsonl" or (sealing.sealed_with(data) is None
                                   and sealing.line_sealed_with(first) is not None):
        return _reseal_log(path, data, ring)
    if sealing.sealed_with(data) == ring.seal_id:
        return False, 0
    try:
        plain = ring.open(data)
    except Unsealable as exc:
        raise DataDirProblem(f"{path}: {exc}; move it out of the data directory and run "
                             "mailproc rekey again") from None
    atomic_write(path, ring.seal(plain), seal=False)
    return True, 0


def _reseal_log(path: Path, data: bytes, ring: Keyring) -> tuple[bool, int]:
    lines = data.splitlines()
    if all(sealing.line_sealed_with(line) == ring.seal_id for line in lines if line.strip()):
        return False, 0
    out: list[bytes] = []
    dropped = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            out.append(ring.seal_line(ring.open_line(line)))
        except sealing.Refused as exc:
            raise DataDirProblem(f"{path}: {exc}") from None
        except Unsealable:
            dropped += 1  # damaged: no reader could use it either
    atomic_write(path, b"".join(line + b"\n" for line in out), seal=False)
    return True, dropped
