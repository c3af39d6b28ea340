"""What a data directory records of its encryption, and the check every open makes against it.

`encryption.json` (plain, on purpose: key ids, never keys) says which key seals the directory,
or that `mailproc rekey` is moving it from one key to another. `check_encryption` compares it
with the key this process was given, and refuses, saying what to do, when they do not fit.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from mailproc.store.files import (
    ENCRYPTION_MARKER,
    DataDirProblem,
    atomic_write,
    forget_marks,
    fsync_dir,
)
from mailproc.store.sealing import Keyring


def read_marker(root: Path) -> dict[str, Any] | None:
    """What the data directory says of its encryption (key ids only); None: never encrypted."""
    try:
        doc = json.loads((root / ENCRYPTION_MARKER).read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        raise DataDirProblem(f"{root / ENCRYPTION_MARKER} is damaged: it should say which "
                             "key encrypts the data directory") from None
    if not isinstance(doc, dict):
        raise DataDirProblem(f"{root / ENCRYPTION_MARKER} is damaged")
    return doc


def write_marker(root: Path, doc: dict[str, Any] | None) -> None:
    """Record which key seals the directory (or, with None, that nothing does any more)."""
    forget_marks()
    if doc is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(root / ENCRYPTION_MARKER)
        fsync_dir(root)
        return
    atomic_write(root / ENCRYPTION_MARKER, json.dumps(doc).encode("ascii") + b"\n", seal=False)


KEY_SETTING = "storage.encryption.key"
_NOT_DATA = {"LOCK", "pepper", ENCRYPTION_MARKER}


def check_encryption(root: Path, ring: Keyring | None, *, writable: bool) -> None:
    """Refuse a data directory that this process's key (or lack of one) does not fit, saying
    what to do; a writable open of a new directory with a key records that key."""
    marker = read_marker(root)
    if ring is not None and ring.rotating:
        return  # `mailproc rekey` keeps the record itself
    if marker is not None and marker.get("rotating"):
        raise DataDirProblem(f"storage.encryption: a key change of {root} was interrupted; "
                             "run mailproc rekey again as before (nothing is lost: every file "
                             "opens with the old or the new key)")
    recorded = marker.get("key") if marker is not None else None
    if ring is None:
        if recorded:
            raise DataDirProblem(f"{KEY_SETTING} is not set, but {root} is encrypted (key id "
                                 f"{recorded}): set storage.encryption: {{key: {{file: PATH}}}}")
        return
    if recorded is None:
        if holds_data(root):
            raise DataDirProblem(f"{KEY_SETTING} is set, but {root} holds unencrypted data: "
                                 "stop the daemon and encrypt it once with: mailproc rekey")
        if writable:
            write_marker(root, {"format": "mailproc-encryption", "key": ring.seal_id_hex})
        return
    if recorded != ring.seal_id_hex:
        raise DataDirProblem(f"{KEY_SETTING}: this key (id {ring.seal_id_hex}) does not open "
                             f"{root}, which is encrypted with key id {recorded} (after "
                             "mailproc rekey, the config must name the new key)")


def holds_data(root: Path) -> bool:
    """Whether anything but the lock, the pepper and caches was ever written in `root`."""
    for top, dirs, names in os.walk(root):
        if Path(top) == root:
            dirs[:] = [d for d in dirs if d != "cache"]
            names = [n for n in names if n not in _NOT_DATA]
        if any(not (n.startswith(".") and n.endswith(".tmp")) for n in names):
            return True
    return False
