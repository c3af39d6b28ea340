"""Encryption at rest: the cipher that seals and opens the data directory's bytes, and its keys.

A sealed file is `MAGIC | key id (8) | nonce (12) | AES-256-GCM ciphertext and tag`, the first
twelve bytes authenticated with it: the header says that the file is sealed and with which key
(an HMAC of the key, never the key). A sealed line of an append-only log is that blob in
base64 (a plain JSON line starts with `{`, so the two cannot be confused). Nonces are random;
a key seals far fewer than the 2^32 messages AES-GCM allows with random nonces.

`Keyring` holds the key that seals and the keys that open (two while `mailproc rekey` rotates,
and plain bytes are accepted only while a plaintext directory is being encrypted). The keyring
of a data directory is registered here once per process (`register`), and every helper of
`store.files` finds it by the path it writes or reads (`ring_for`). That is the one piece of
process state in the store, on purpose: whatever writes under the data directory through those
helpers (the store, retention, status, revocations) is sealed without passing a key around.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"\xffMS1"  # never the first bytes of JSON, of a mail, or of any text
KEY_ID_BYTES = 8
NONCE_BYTES = 12
HEADER_BYTES = len(MAGIC) + KEY_ID_BYTES
KEY_BYTES = 32


class Unsealable(ValueError):
    """Bytes that cannot be opened with the keys at hand; the message names no content."""


def key_id(key: bytes) -> bytes:
    """What a sealed file records of its key: an HMAC of it, which tells nothing of the key."""
    return hmac.new(key, b"mailproc data key id", hashlib.sha256).digest()[:KEY_ID_BYTES]


def key_from_text(text: str) -> bytes:
    """A key as a key file or variable holds it: 32 bytes in base64 (`mailproc genkey`) or hex."""
    text = text.strip()
    try:
        key = bytes.fromhex(text) if len(text) == 2 * KEY_BYTES else base64.b64decode(
            text.encode("ascii"), altchars=b"-_" if ("-" in text or "_" in text) else None,
            validate=True)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ValueError("not a key: it must be 32 random bytes in base64 or hex (make one "
                         "with: mailproc genkey FILE)")
    return key


def new_key_text() -> str:
    """A fresh random key, as a key file holds it."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def sealed_with(data: bytes) -> bytes | None:
    """The key id a sealed blob names; None for plain bytes."""
    return data[len(MAGIC):HEADER_BYTES] if data[:len(MAGIC)] == MAGIC else None


def line_sealed_with(line: bytes) -> bytes | None:
    """The key id a sealed log line names; None for a plain (or unreadable) line."""
    line = line.strip()
    if not line or line[:1] == b"{":
        return None
    try:
        return sealed_with(base64.b64decode(line[:24], validate=True))
    except (ValueError, binascii.Error):
        return None


class Keyring:
    """The key that seals (None: write plain, while decrypting) and every key that opens."""

    def __init__(self, seal_key: bytes | None, open_keys: Iterable[bytes] = (), *,
                 plain_ok: bool = False, rotating: bool = False) -> None:
        self._raw = (seal_key, tuple(open_keys), plain_ok, rotating)
        keys = [k for k in (seal_key, *open_keys) if k is not None]
        self._open = {key_id(k): AESGCM(k) for k in keys}
        self.seal_id = key_id(seal_key) if seal_key is not None else None
        self._header = MAGIC + self.seal_id if self.seal_id is not None else b""
        self._seal = self._open[self.seal_id] if self.seal_id is not None else None
        self.plain_ok = plain_ok or seal_key is None
        self.rotating = rotating  # `mailproc rekey` at work: it keeps the directory's record

    def __reduce__(self) -> tuple[Any, ...]:  # for the reader process (AESGCM does not pickle)
        seal_key, open_keys, plain_ok, rotating = self._raw
        return (_keyring, (seal_key, open_keys, plain_ok, rotating))

    @property
    def seal_id_hex(self) -> str | None:
        return self.seal_id.hex() if self.seal_id is not None else None

    def opens(self, kid: bytes) -> bool:
        return kid in self._open

    def seal(self, data: bytes) -> bytes:
        if self._seal is None:
            return data
        nonce = os.urandom(NONCE_BYTES)
        return self._header + nonce + self._seal.encrypt(nonce, data, self._header)

    def open(self, data: bytes) -> bytes:
        """The plain bytes of a sealed blob (or of plain bytes, where those are accepted)."""
        kid = sealed_with(data)
        if kid is None:
            if self.plain_ok:
                return data
            raise Unsealable("not encrypted, but the data directory is")
        aead = self._open.get(kid)
        if aead is None:
            raise Unsealable(f"encrypted with key id {kid.hex()}, which was not given")
        nonce = data[HEADER_BYTES:HEADER_BYTES + NONCE_BYTES]
        try:
            return aead.decrypt(nonce, data[HEADER_BYTES + NONCE_BYTES:], data[:HEADER_BYTES])
        except InvalidTag:
            raise Unsealable("damaged or truncated (authentication failed)") from None

    def seal_line(self, line: bytes) -> bytes:
        """One log record's line (without its newline), sealed; plain when sealing plain."""
        if self._seal is None:
            return line
        return base64.b64encode(self.seal(line))

    def open_line(self, line: bytes) -> bytes:
        """A log line's plain bytes; Unsealable for a torn or damaged line; `Refused` for one
        sealed with a key not given, or a plain one where none is accepted."""
        line = line.strip()
        if line[:1] == b"{":
            if self.plain_ok:
                return line
            raise Refused("a line of this log is not encrypted, but the data directory is")
        try:
            blob = base64.b64decode(line, validate=True)
        except (ValueError, binascii.Error):
            raise Unsealable("not a sealed line (torn?)") from None
        kid = sealed_with(blob)
        if kid is not None and kid not in self._open:
            raise Refused(f"a log line is encrypted with key id {kid.hex()}, which was "
                             "not given")
        return self.open(blob)


class Refused(Unsealable):
    """Not damage (never skipped as a torn line is): sealed with a key this process was not
    given, or plain where everything is encrypted."""


def _keyring(seal_key: bytes | None, open_keys: tuple[bytes, ...], plain_ok: bool,
             rotating: bool) -> Keyring:
    return Keyring(seal_key, open_keys, plain_ok=plain_ok, rotating=rotating)


# ---------------------------------------------------------------- which directory has which keys

_rings: dict[str, Keyring] = {}  # data directory (absolute, ending in a separator) -> keyring


def register(root: Path, ring: Keyring | None) -> None:
    """From now on in this process, files under `root` are sealed with `ring` (None: plain)."""
    for name in {os.path.abspath(root), os.path.realpath(root)}:
        if ring is None:
            _rings.pop(name + os.sep, None)
        else:
            _rings[name + os.sep] = ring


def ring_for(path: str | os.PathLike[str]) -> Keyring | None:
    """The keyring of the data directory `path` lies in, if one was registered."""
    if not _rings:
        return None
    where = os.path.abspath(path)
    for root, ring in _rings.items():
        if where.startswith(root) or where + os.sep == root:
            return ring
    return None
