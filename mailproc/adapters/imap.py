"""The IMAP mailbox source: imapclient, blocking (the daemon runs it in a thread).

Keys are "imap:<uidvalidity>:<uid>"; login (password or XOAUTH2) is in imapauth. Messages are read
with BODY.PEEK[] (\\Seen stays unset), moved with one UID MOVE per folder (COPY + \\Deleted + UID
EXPUNGE without MOVE), and awaited with IDLE (renewed before the 29-minute limit) or by polling.
Only a message this session fetched and never tried to move is moved blindly; any other move (a
retry after an error, or one left over by a daemon that died) first checks whether the copy is
in the destination already (imapcopies), so a server dying mid-MOVE leaves no duplicate.
Every socket or protocol failure becomes MailboxError, including a connection dead during IDLE.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from imapclient import DELETED, SEEN, IMAPClient

from mailproc.adapters.imapauth import log_in, read_credentials, redact
from mailproc.adapters.imapcopies import copies_in, digests_of
from mailproc.adapters.mailbox import MailboxError, RawMessage
from mailproc.adapters.netfail import explain, tls_context
from mailproc.config.settings import ImapConfig, TlsMode
from mailproc.model.parsed import Folder
from mailproc.store.files import sha256_hex

log = logging.getLogger("mailproc.imap")

_ERRORS = (imaplib.IMAP4.error, OSError)  # imapclient's errors subclass IMAP4.error
_CRLF = re.compile(rb"\r\n|\r|\n")
IDLE_STEP = 30.0  # longest single idle_check() wait
MAX_SUSPECT = 3  # early empty IDLE returns tolerated in one wait before giving up


def _uid_set(uids: Sequence[int]) -> str:
    """A compact IMAP sequence set: [1, 2, 3, 7] -> "1:3,7" (keeps MOVE lines short)."""
    parts: list[str] = []
    ordered = sorted(set(uids))
    start = prev = ordered[0]
    for uid in [*ordered[1:], None]:
        if uid is not None and uid == prev + 1:
            prev = uid
            continue
        parts.append(str(start) if start == prev else f"{start}:{prev}")
        if uid is not None:
            start = prev = uid
    return ",".join(parts)


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _has_exists(responses: Sequence[Any]) -> bool:
    return any(isinstance(r, tuple) and len(r) >= 2 and r[1] == b"EXISTS" for r in responses)


def _has_bye(responses: Sequence[Any]) -> bool:
    return any(isinstance(r, tuple) and r and r[0] == b"BYE" for r in responses)


class ImapSource:
    """Reads the configured inbox of an IMAP server; see the module docstring."""

    kind = "imap"

    def __init__(self, cfg: ImapConfig, sleep: Callable[[float], None] = time.sleep, *,
                 ssl_context: ssl.SSLContext | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.mode = "idle" if cfg.idle else "poll"
        self.last_contact: float | None = None
        self.uidvalidity: int | None = None
        self.capabilities: frozenset[str] = frozenset()
        self._sleep = sleep
        self._clock = clock
        # None: the system's trust store (or `ca_file`); the host name is always checked.
        self._ssl_context = ssl_context or tls_context(cfg.ca_file)
        self._client: IMAPClient | None = None
        self._folders: set[str] = set()  # destination folders known to exist
        self._high = 0  # highest inbox UID this session has listed
        self._more_pending = False
        self._fresh: set[int] = set()  # UIDs fetched by this session, no move tried yet

    # ----------------------------------------------------------------- connection

    @contextmanager
    def _guard(self, what: str, hide: tuple[str, ...] = ()) -> Iterator[None]:
        """Turn socket and IMAP errors into MailboxError and drop the broken connection.

        Secrets in `hide` are cut out of the message, and the original exception is not
        chained then (a traceback would print its text).
        """
        try:
            yield
        except _ERRORS as exc:
            self._drop()
            cfg = self.cfg
            cause = explain(exc, "the IMAP server", cfg.host, cfg.port, cfg.timeout_seconds)
            text = redact(f"IMAP {what} failed: {cause}", hide)[:600]
            if hide:
                raise MailboxError(text) from None
            raise MailboxError(text) from exc

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with suppress(*_ERRORS):
                client.shutdown()

    def _require(self) -> IMAPClient:
        if self._client is None:
            raise MailboxError("IMAP source is not connected")
        return self._client

    def _touch(self) -> None:
        self.last_contact = time.time()

    def open(self) -> None:
        """Connect, log in, read capabilities, select the inbox."""
        self._drop()
        creds = read_credentials(self.cfg)  # afresh each time: OAuth2 access tokens expire
        with self._guard("connect", hide=creds.hidden()):
            self._client = self._connect()
            log_in(self._client, creds)
            # MOVE and UIDPLUS are advertised only after login.
            self.capabilities = frozenset(
                c.decode().upper() for c in self._client.capabilities())
            self._select()
        self._touch()
        self._folders = set()
        self.mode = "idle" if self.cfg.idle and "IDLE" in self.capabilities else "poll"
        log.info("IMAP connected (tls %s, auth %s, uidvalidity %s, %s mode, MOVE %s)",
                 self.cfg.tls, creds.method, self.uidvalidity, self.mode,
                 "MOVE" in self.capabilities)

    def _connect(self) -> IMAPClient:
        implicit = self.cfg.tls is TlsMode.IMPLICIT
        client = IMAPClient(self.cfg.host, port=self.cfg.port, ssl=implicit,
                            ssl_context=self._ssl_context if implicit else None,
                            timeout=self.cfg.timeout_seconds)
        if self.cfg.tls is TlsMode.STARTTLS:
            try:
                client.starttls(self._ssl_context)
            except BaseException:
                with suppress(*_ERRORS):  # the socket may be half-wrapped already
                    client.shutdown()
                raise
        return client

    def _select(self) -> None:
        info = self._require().select_folder(self.cfg.folders.inbox)
        validity = int(info[b"UIDVALIDITY"])
        if self.uidvalidity is not None and validity != self.uidvalidity:
            # Old keys no longer name these messages; the daemon de-duplicates by content.
            self._fresh.clear()
            log.warning("inbox UIDVALIDITY changed from %s to %s: messages get new keys",
                        self.uidvalidity, validity)
        self.uidvalidity = validity
        self._high = 0

    def close(self) -> None:
        """Log out (best effort) and drop the connection; never raises."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except _ERRORS:
            with suppress(*_ERRORS):
                client.shutdown()

    # ----------------------------------------------------------------- reading

    def _key(self, uid: int) -> str:
        return f"imap:{self.uidvalidity}:{uid}"

    def fetch_new(self, is_seen: Callable[[str], bool], limit: int = 500) -> list[RawMessage]:
        """Unseen inbox messages, oldest (lowest UID) first, at most `limit`."""
        client = self._require()
        with self._guard("SEARCH"):
            client.noop()  # a session sees other sessions' APPENDs only after NOOP or IDLE
            uids = sorted(client.search(["UNDELETED"]))
        self._touch()
        if uids:
            self._high = max(self._high, uids[-1])
        todo = [uid for uid in uids if not is_seen(self._key(uid))]
        self._more_pending = len(todo) > limit
        out: list[RawMessage] = []
        for batch in _chunks(todo[:limit], self.cfg.batch_size):
            with self._guard("FETCH"):
                got = client.fetch(batch, ["BODY.PEEK[]"])
            self._touch()
            # A UID missing from the answer was expunged meanwhile by someone else.
            present = [uid for uid in batch if b"BODY[]" in got.get(uid, {})]
            out.extend(RawMessage(self._key(uid), bytes(got[uid][b"BODY[]"])) for uid in present)
            self._fresh.update(present)
        return out

    # ----------------------------------------------------------------- moving

    def move(self, moves: Mapping[Folder, Sequence[str]]) -> None:
        """One UID MOVE (or COPY + \\Deleted + UID EXPUNGE) per destination folder."""
        for folder, keys in moves.items():
            uids = self._current_uids(keys)
            if not uids:
                continue
            name = self.cfg.folders.name_of(folder)
            retried = [uid for uid in uids if uid not in self._fresh]
            self._fresh.difference_update(uids)  # from here on, any attempt is a retry
            with self._guard(f"move to {name}"):
                self._ensure_folder(name)
                if retried:
                    done = self._settle(retried, name)
                    uids = [uid for uid in uids if uid not in done]
                if uids:
                    self._move_uids(uids, name)
            self._touch()
            log.info("moved %d messages to %s", len(uids), name)

    def replace(self, key: str, folder: Folder, data: bytes) -> None:
        """APPEND `data` (seen) to the folder, then delete and expunge the original UID."""
        uids = self._current_uids([key])
        if not uids:
            return
        client, name = self._require(), self.cfg.folders.name_of(folder)
        # Stored with CRLF line ends whatever we send (imaplib converts): compare them so.
        data = _CRLF.sub(b"\r\n", data)
        retried = uids[0] not in self._fresh
        self._fresh.discard(uids[0])
        with self._guard(f"replace in {name}"):
            self._ensure_folder(name)
            if retried and not self._still_in_inbox(uids):
                return  # the earlier attempt finished; only its confirmation was lost
            if not retried or not self._copied_already(name, data):
                client.append(name, data, flags=[SEEN])
            self._delete(uids)
        self._touch()
        log.info("replaced 1 message in %s with its scrubbed copy", name)

    def _current_uids(self, keys: Sequence[str]) -> list[int]:
        """UIDs of keys from the current UIDVALIDITY; older or foreign keys are ignored."""
        prefix = f"imap:{self.uidvalidity}:"
        uids = [int(k[len(prefix):]) for k in keys
                if k.startswith(prefix) and k[len(prefix):].isdigit()]
        if len(uids) < len(keys):
            log.info("ignored %d keys of another UIDVALIDITY or source", len(keys) - len(uids))
        return uids

    def _settle(self, uids: Sequence[int], name: str) -> set[int]:
        """Of inbox UIDs whose earlier move may have been cut off half-way: expunge those whose
        copy is in `name` already, and return them with those no longer in the inbox."""
        found = digests_of(self._require(), uids)
        there = self._copies(name, [size for size, _ in found.values()])
        copied = []
        for uid, (_, sha) in found.items():
            if there[sha] > 0:  # one copy there answers for one message here
                there[sha] -= 1
                copied.append(uid)
        if copied:
            self._delete(copied)
            log.info("%d messages were in %s already (a move cut off half-way): "
                     "removed from the inbox only", len(copied), name)
        return set(uids) - (set(found) - set(copied))

    def _still_in_inbox(self, uids: Sequence[int]) -> bool:
        return bool(self._require().search(["UID", _uid_set(uids)]))

    def _copied_already(self, name: str, data: bytes) -> bool:
        """Whether `name` holds these bytes (as APPEND stored them: CRLF line ends)."""
        return self._copies(name, [len(data)])[sha256_hex(data)] > 0

    def _copies(self, name: str, sizes: Sequence[int]) -> Counter[str]:
        """Digests of `name`'s messages of these sizes; the inbox is selected again after.

        A UIDVALIDITY that changed meanwhile makes every UID in hand name other messages: that
        raises MailboxError, so that nothing is moved or expunged by an old UID.
        """
        if not sizes:
            return Counter()
        validity, high = self.uidvalidity, self._high
        try:
            return copies_in(self._require(), name, sizes)
        finally:
            self._select()
            if self.uidvalidity != validity:
                raise MailboxError("inbox UIDVALIDITY changed during a move; moving again later")
            self._high = high  # the same inbox: what was listed is still listed

    def folder_names(self) -> list[str]:
        """Every folder on the server (for `mailproc check --connect`)."""
        client = self._require()
        with self._guard("LIST"):
            return sorted(str(name) for _flags, _sep, name in client.list_folders())

    def _ensure_folder(self, name: str) -> None:
        client = self._require()
        if name in self._folders or client.folder_exists(name):
            self._folders.add(name)
            return
        try:
            client.create_folder(name)
        except imaplib.IMAP4.error:
            if not client.folder_exists(name):  # else: created by someone else meanwhile
                raise
        try:
            client.subscribe_folder(name)  # so that mail clients show it
        except imaplib.IMAP4.error:
            log.info("could not subscribe to folder %s", name)
        self._folders.add(name)

    def _move_uids(self, uids: Sequence[int], name: str) -> None:
        client, uid_set = self._require(), _uid_set(uids)
        if "MOVE" in self.capabilities:
            client.move(uid_set, name)
            return
        client.copy(uid_set, name)
        self._delete(uid_set)

    def _delete(self, uids: Sequence[int] | str) -> None:
        """Flag \\Deleted and expunge these UIDs (only these, where UIDPLUS allows)."""
        client = self._require()
        client.add_flags(uids, [DELETED], silent=True)
        if "UIDPLUS" in self.capabilities:
            client.uid_expunge(uids)
        else:
            client.expunge()  # without UIDPLUS this also expunges others' \Deleted mail

    # ----------------------------------------------------------------- waiting

    def wait_for_mail(self, timeout: float) -> None:
        """Return when new mail may have arrived (IDLE or polling), or after `timeout`."""
        if self._more_pending:
            return  # the last fetch stopped at its limit: more is waiting already
        if self.mode == "idle":
            self._wait_idle(timeout)
        else:
            self._wait_poll(timeout)

    def _arrived(self) -> bool:
        """Whether the inbox holds a UID above the highest one listed (one round trip)."""
        client = self._require()
        with self._guard("SEARCH"):
            client.noop()  # a session sees other sessions' APPENDs only after NOOP or IDLE
            # `UID SEARCH n:*` also returns the highest UID when n is above it: filter.
            # UNDELETED as in fetch_new: a \Deleted message left by another client is not mail
            # that came (it would wake every wait at once, for ever).
            uids = client.search(["UID", f"{self._high + 1}:*", "UNDELETED"])
        self._touch()
        return any(uid > self._high for uid in uids)

    def _wait_poll(self, timeout: float) -> None:
        waited = 0.0
        while waited < timeout:
            step = min(self.cfg.poll_interval_seconds, timeout - waited)
            self._sleep(step)
            waited += step
            if self._arrived():
                return

    def _wait_idle(self, timeout: float) -> None:
        deadline = self._clock() + timeout
        suspect = 0
        # The search before each round catches mail that came while we were not idling,
        # and proves the connection is alive between rounds.
        while not self._arrived() and (left := deadline - self._clock()) > 0:
            status = self._idle_round(min(left, self.cfg.idle_renew_seconds))
            if status == "mail":
                return
            if status == "suspect":
                suspect += 1
                if suspect >= MAX_SUSPECT:
                    self._drop()
                    raise MailboxError("IMAP IDLE keeps returning at once; reconnecting")

    def _idle_round(self, length: float) -> str:
        """One IDLE command of at most `length` seconds: "mail", "quiet" or "suspect"."""
        client = self._require()
        with self._guard("IDLE"):
            client.idle()
            status = self._idle_wait(length)
            # On a dead connection DONE fails: that is how a suspect round becomes an error.
            _, responses = client.idle_done()
        self._touch()
        return "mail" if _has_exists(responses) else status

    def _idle_wait(self, length: float) -> str:
        end = self._clock() + length
        while (left := end - self._clock()) > 0:
            asked = min(left, IDLE_STEP)
            started = self._clock()
            responses = self._idle_check(asked)
            if _has_exists(responses):
                return "mail"
            if _has_bye(responses):
                return "suspect"
            # idle_check() returns [] at once, forever, when the server closed the socket.
            if not responses and asked >= 0.05 and self._clock() - started < asked / 2:
                return "suspect"
        return "quiet"

    def _idle_check(self, timeout: float) -> list[Any]:
        """imapclient's idle_check (a seam for tests that count calls)."""
        return list(self._require().idle_check(timeout))
