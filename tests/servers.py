"""Real servers for integration tests: a private Dovecot IMAP server and an aiosmtpd SMTP server.

Both listen on 127.0.0.1 on a port picked here, can be stopped and started again on the same
port (to simulate an outage), and know nothing about mailproc's workflow. The pytest fixtures
that hand them out live in conftest.py.
"""

from __future__ import annotations

import asyncio
import base64
import email
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from imapclient import IMAPClient

from mailproc.config.settings import ImapConfig

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    """Whether something accepts connections on loopback:port."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class CertPair:
    """A self-signed certificate for 127.0.0.1/localhost and its key (PEM files)."""

    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

    def server_context(self) -> ssl.SSLContext:
        """A server context presenting this certificate."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        return ctx


def make_cert(directory: Path) -> CertPair | None:
    """Create a self-signed certificate with the openssl tool; None when it is missing."""
    tool = shutil.which("openssl")
    if tool is None:
        return None
    pair = CertPair(directory / "cert.pem", directory / "key.pem")
    subprocess.run(
        [tool, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(pair.key),
         "-out", str(pair.cert), "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True)
    pair.key.chmod(0o644)  # Dovecot reads it as root, but keep the test dir readable anyway
    return pair


# --------------------------------------------------------------------------- Dovecot


def find_dovecot() -> str | None:
    """The dovecot binary, or None when it is not installed."""
    found = shutil.which("dovecot")
    if found is None and os.access("/usr/sbin/dovecot", os.X_OK):
        found = "/usr/sbin/dovecot"
    return found


_DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth2_mechanism}
first_valid_uid = {uid}
last_valid_uid = {uid}
{users}
mail_location = maildir:{root}/mail/%u
{oauth2_passdb}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
"""


# Only with DovecotServer(oauth2_token=...): XOAUTH2 checked by Dovecot's oauth2 passdb, which
# asks a token introspection endpoint (RFC 7662 style, POST token=...) on loopback.
_OAUTH2_PASSDB = """\
auth_failure_delay = 0
passdb {{
  driver = oauth2
  mechanisms = xoauth2
  args = {root}/oauth2.conf.ext
}}
"""

_OAUTH2_CONF = """\
introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
"""


class TokenEndpoint:
    """An OAuth2 token introspection endpoint on loopback: accepts the tokens it was told to.

    `asked` records every token Dovecot asked about, in order, so that a test can see what a
    client really sent.
    """

    def __init__(self, username: str) -> None:
        self.username = username
        self.accepted: set[str] = set()
        self.asked: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                token = parse_qs(self.rfile.read(length).decode()).get("token", [""])[0]
                endpoint.asked.append(token)
                answer = ({"active": "true", "username": endpoint.username}
                          if token in endpoint.accepted else {"active": "false"})
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self._httpd.server_address[1]}/introspect"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class DovecotServer:
    """A real Dovecot on loopback with one passwd-file user and Maildir storage."""

    password_env = "MAILPROC_TEST_IMAP_PASSWORD"

    def __init__(self, binary: str, *, user: str = "conduct", cert: CertPair | None = None,
                 oauth2_token: str | None = None):
        """`oauth2_token`: also offer AUTH=XOAUTH2 and accept this access token (more can be
        added to `self.oauth2.accepted`); password login keeps working as before."""
        self.binary = binary
        self.host = LOOPBACK
        self.port = free_port()
        self.tls_port: int | None = free_port() if cert else None
        self.user = user
        self.password = os.urandom(9).hex()
        self.cert = cert
        # pytest's tmp_path is private to root; the mail user must reach the Maildir.
        self.root = Path(tempfile.mkdtemp(prefix="mailproc-dovecot-"))
        self.root.chmod(0o755)
        self._proc: subprocess.Popen[bytes] | None = None
        self.oauth2: TokenEndpoint | None = None
        if oauth2_token is not None:
            self.oauth2 = TokenEndpoint(user)
            self.oauth2.accepted.add(oauth2_token)
        self._write_config()

    def _write_config(self) -> None:
        # As root Dovecot refuses uid 0 for mail: use Debian's `mail` user. Otherwise run
        # "rootless" as ourselves.
        entry = pwd.getpwnam("mail") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        group = grp.getgrgid(entry.pw_gid).gr_name
        users = "" if os.geteuid() == 0 else "\n".join((
            f"default_internal_user = {entry.pw_name}", f"default_login_user = {entry.pw_name}",
            f"default_internal_group = {group}"))
        ssl_conf = "ssl = no" if self.cert is None else (
            f"ssl = yes\nssl_cert = <{self.cert.cert}\nssl_key = <{self.cert.key}")
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        mail = self.root / "mail"
        mail.mkdir()
        os.chown(mail, entry.pw_uid, entry.pw_gid)
        if self.oauth2 is not None:
            (self.root / "oauth2.conf.ext").write_text(_OAUTH2_CONF.format(url=self.oauth2.url))
        (self.root / "dovecot.conf").write_text(_DOVECOT_CONF.format(
            root=self.root, ssl=ssl_conf, uid=entry.pw_uid, gid=entry.pw_gid, users=users,
            port=self.port, tls_port=self.tls_port or 0,
            oauth2_mechanism=" xoauth2" if self.oauth2 else "",
            oauth2_passdb=_OAUTH2_PASSDB.format(root=self.root) if self.oauth2 else ""))

    def start(self, timeout: float = 15.0) -> None:
        """Start Dovecot in the foreground as our child and wait until the port accepts."""
        if self._proc is not None:
            return
        with open(self.root / "stdout.log", "ab") as out:
            # Output goes to a file: Dovecot keeps stderr open, so a pipe would never see EOF.
            self._proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dovecot did not start:\n{self.log_text()}")
            time.sleep(0.02)
        time.sleep(0.05)
        if self._proc.poll() is not None:  # it may open the port and then die of a bad config
            self.stop()
            raise RuntimeError(f"dovecot exited after start:\n{self.log_text()}")

    def stop(self, graceful: bool = False, timeout: float = 20.0) -> None:
        """Stop Dovecot and its sessions; wait until the port is free again.

        By default the whole process group is killed at once, as in a crash (fast).
        graceful=True sends SIGTERM: sessions get `* BYE`, but only after Dovecot's ~10 s
        shutdown grace when any session is open (about 1 s otherwise).
        """
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if graceful:
            proc.terminate()
        else:
            os.killpg(proc.pid, signal.SIGKILL)  # our own session: master and its children
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
        deadline = time.monotonic() + timeout
        # Login processes hold the listening socket until they notice the master is gone.
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        """Stop the server (and its token endpoint) and delete its directory."""
        self.stop()
        if self.oauth2 is not None:
            self.oauth2.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        """Dovecot's own log and console output, for failure messages."""
        parts = [p.read_text(errors="replace") for p in
                 (self.root / "stdout.log", self.root / "dovecot.log") if p.exists()]
        return "\n".join(parts)

    def imap_config(self, **overrides: Any) -> ImapConfig:
        """An ImapConfig for this server (plain on loopback); keyword arguments override."""
        values: dict[str, Any] = {
            "host": self.host, "port": self.port, "tls": "plain", "username": self.user,
            "password": {"env": self.password_env}, "timeout_seconds": 10.0}
        values.update(overrides)
        return ImapConfig.model_validate(values)

    @contextmanager
    def client(self) -> Iterator[IMAPClient]:
        """A logged-in imapclient session of our own, closed afterwards."""
        imap = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        try:
            imap.login(self.user, self.password)
            yield imap
        finally:
            try:
                imap.logout()
            except Exception:
                imap.shutdown()

    def append(self, data: bytes, folder: str = "INBOX") -> None:
        """APPEND one message (creating the folder when missing)."""
        self.append_many([data], folder)

    def append_many(self, messages: Sequence[bytes], folder: str = "INBOX") -> None:
        """APPEND several messages in one MULTIAPPEND (fast seeding)."""
        with self.client() as imap:
            if not imap.folder_exists(folder):
                imap.create_folder(folder)
            imap.multiappend(folder, list(messages))

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """The raw messages of a folder in UID order, read without setting \\Seen."""
        return [data for data, _ in self._fetch(folder)]

    def flags(self, folder: str = "INBOX") -> list[set[str]]:
        """The flags of each message of a folder in UID order."""
        return [flags for _, flags in self._fetch(folder)]

    def _fetch(self, folder: str) -> list[tuple[bytes, set[str]]]:
        with self.client() as imap:
            if not imap.folder_exists(folder):
                return []
            imap.select_folder(folder, readonly=True)
            uids = sorted(imap.search(["ALL"]))
            got = imap.fetch(uids, ["BODY.PEEK[]", "FLAGS"]) if uids else {}
            # A daemon running beside the test may move a message between SEARCH and FETCH:
            # it is no longer in this folder.
            return [(got[u][b"BODY[]"], {f.decode() for f in got[u][b"FLAGS"]})
                    for u in uids if u in got and b"BODY[]" in got[u]]

    def folders(self) -> list[str]:
        """Every folder name, sorted."""
        with self.client() as imap:
            return sorted(str(name) for _, _, name in imap.list_folders())

    def delete_folder(self, folder: str) -> None:
        """Delete a folder and its messages (a later create gets a new UIDVALIDITY)."""
        with self.client() as imap:
            imap.delete_folder(folder)


# --------------------------------------------------------------------------- SMTP


@dataclass(frozen=True)
class RecordedMail:
    """One message accepted by the SMTP server, with its envelope."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None = None  # the AUTH user, when the client authenticated
    connection: int = 0  # which SMTP connection carried it (1, 2, … in order of opening)
    mail_options: tuple[str, ...] = ()  # MAIL FROM parameters, e.g. SMTPUTF8

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.default)


@dataclass
class _Recorder:
    """aiosmtpd handler: records mail, refuses chosen recipients, fails DATA on request, and
    can close a connection after a number of mails, as Gmail and Microsoft 365 do."""

    received: list[RecordedMail] = field(default_factory=list)
    rejects: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    per_connection: int | None = None  # then "421" and the connection is closed
    at_once: int | None = None  # connections past this number get "432" (Exchange Online)
    opened: int = 0  # connections that sent at least MAIL FROM
    carried: Counter[int] = field(default_factory=Counter)  # connection number -> mails

    def _connection(self, session: Any) -> int:
        number = getattr(session, "recorder_number", None)
        if number is None:
            self.opened += 1
            number = session.recorder_number = self.opened
        return int(number)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        number = self._connection(session)
        if self.at_once is not None and number > self.at_once:
            return "432 4.3.2 Concurrent connections limit exceeded"
        if self.per_connection is not None and self.carried[number] >= self.per_connection:
            asyncio.get_running_loop().call_later(0.01, server.transport.close)
            return "421 4.7.0 Too many messages on this connection, closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.rejects:
            return self.rejects[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.cond:
            if self.failures:
                return self.failures.pop(0)
            auth = session.auth_data if session.authenticated else None
            login = (auth.login.decode() if isinstance(auth, LoginPassword)
                     else auth if isinstance(auth, str) else None)
            number = self._connection(session)
            self.carried[number] += 1
            self.received.append(RecordedMail(
                envelope.mail_from, tuple(envelope.rcpt_tos),
                bytes(envelope.original_content or envelope.content), login, number,
                tuple(envelope.mail_options)))
            self.cond.notify_all()
        return "250 OK queued"


@dataclass
class _OAuthRecorder(_Recorder):
    """A recorder that also offers SASL XOAUTH2 and checks the bearer token."""

    accepted: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)  # every token presented, in order

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        try:
            fields = base64.b64decode(args[1], validate=True).decode().split("\x01")
            user = fields[0].removeprefix("user=")
            token = fields[1].removeprefix("auth=Bearer ")
        except (IndexError, ValueError):
            return AuthResult(success=False, message="501 5.5.2 Cannot decode XOAUTH2")
        self.asked.append(token)
        if token in self.accepted:
            return AuthResult(success=True, auth_data=user)
        # As Gmail does: a 334 challenge carrying a JSON error, the client's empty line, 535.
        await server.challenge_auth('{"status":"401","schemes":"bearer"}')
        return AuthResult(success=False, handled=False)


class SmtpServer:
    """aiosmtpd on loopback; `tls` is "plain", "starttls" or "implicit" (then `cert` is needed)."""

    def __init__(self, *, tls: str = "plain", cert: CertPair | None = None,
                 credentials: tuple[str, str] | None = None,
                 oauth2_tokens: set[str] | None = None, smtputf8: bool = False) -> None:
        """`oauth2_tokens`: offer AUTH XOAUTH2 (and require AUTH) accepting these tokens;
        `smtputf8`: announce SMTPUTF8 (RFC 6531) and take UTF-8 addresses."""
        if tls != "plain" and cert is None:
            raise ValueError("TLS needs a certificate")
        self.host = LOOPBACK
        self.port = free_port()
        self.tls = tls
        self.cert = cert
        self.credentials = credentials
        self.smtputf8 = smtputf8
        self._recorder = _Recorder() if oauth2_tokens is None else _OAuthRecorder(
            accepted=oauth2_tokens)
        self._controller: Controller | None = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and self.credentials is not None
              and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials)
        return AuthResult(success=ok, auth_data=auth_data)

    def start(self) -> None:
        """Listen (again) on this server's port."""
        if self._controller is not None:
            return
        kwargs: dict[str, Any] = {"enable_SMTPUTF8": self.smtputf8}
        if self.credentials is not None or isinstance(self._recorder, _OAuthRecorder):
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.tls != "plain")
        if self.tls == "starttls":
            assert self.cert is not None
            kwargs.update(tls_context=self.cert.server_context(), require_starttls=True)
        if self.tls == "implicit":
            assert self.cert is not None
            kwargs["ssl_context"] = self.cert.server_context()
        # A new controller each time: a stopped one has closed its event loop.
        self._controller = Controller(self._recorder, hostname=self.host, port=self.port,
                                      **kwargs)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening; open connections are cut."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def messages(self) -> list[RecordedMail]:
        with self._recorder.cond:
            return list(self._recorder.received)

    def clear(self) -> None:
        """Forget the recorded messages."""
        with self._recorder.cond:
            self._recorder.received.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedMail]:
        """Wait until at least `count` messages arrived; all of them, or AssertionError."""
        with self._recorder.cond:
            if not self._recorder.cond.wait_for(
                    lambda: len(self._recorder.received) >= count, timeout):
                got = len(self._recorder.received)
                raise AssertionError(f"expected {count} messages within {timeout}s, got {got}")
            return list(self._recorder.received)

    def reject_recipient(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        """Refuse RCPT TO for this address from now on."""
        self._recorder.rejects[address.lower()] = reply

    def close_after(self, mails: int | None) -> None:
        """Answer MAIL FROM with 421 and hang up once a connection has carried `mails`."""
        self._recorder.per_connection = mails

    def accept_token(self, token: str) -> None:
        """From now on, XOAUTH2 with this access token succeeds (an OAuth2 server only)."""
        assert isinstance(self._recorder, _OAuthRecorder)
        self._recorder.accepted.add(token)

    @property
    def tokens_asked(self) -> list[str]:
        """The XOAUTH2 tokens clients presented, in order (an OAuth2 server only)."""
        assert isinstance(self._recorder, _OAuthRecorder)
        return list(self._recorder.asked)

    def limit_connections(self, at_once: int | None) -> None:
        """Refuse MAIL FROM with 432 on every connection after the first `at_once`."""
        self._recorder.at_once = at_once

    @property
    def connections(self) -> int:
        """How many SMTP connections sent at least MAIL FROM so far."""
        return self._recorder.opened

    def fail_next(self, count: int = 1, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the next `count` DATA commands with this error instead of accepting."""
        with self._recorder.cond:
            self._recorder.failures.extend([reply] * count)
