"""The daemon's configuration: `rules/config.yaml` validated into typed, frozen models.

Unknown keys are errors; every problem is reported as `file:line: key.path: message`.
Secrets never sit in the YAML: passwords come from an environment variable or a file, named
here and read only when a connection is made (`Secret.reveal`).
Relative paths are resolved against the directory the config file sits in (its parent when the
file lives in `rules/`), so `make run` works from the repository root.
"""

from __future__ import annotations

import ipaddress
import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mailproc.config.yamlsource import ConfigError, Problem, load_yaml, validate
from mailproc.model.parsed import Folder, normalise_email

DEFAULT_CONFIG = Path("rules/config.yaml")
LANG_CODE = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsMode(StrEnum):
    IMPLICIT = "implicit"
    STARTTLS = "starttls"
    PLAIN = "plain"  # allowed only towards a loopback host


class Secret(Strict):
    """Where a secret comes from: an environment variable, a file, or a command's output.

    Never the YAML itself. A command (e.g. the admin's own OAuth2 token refresher) is run
    without a shell each time the secret is needed, with a 30-second limit.
    """

    env: str | None = None
    file: Path | None = None
    command: list[str] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [x for x in (self.env, self.file, self.command) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of env: (variable name), file: (path) or "
                             "command: [program, args...]")
        if self.command is not None and not self.command:
            raise ValueError("command: needs at least the program to run")
        return self

    def reveal(self) -> str:
        """Read the secret now; raises ValueError naming the source when it is missing."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise ValueError(f"environment variable {self.env} is not set")
            return value
        if self.command is not None:
            return _run_secret_command(self.command)
        assert self.file is not None
        try:
            return self.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read secret file {self.file}: {exc.strerror}") from exc


def _run_secret_command(command: list[str]) -> str:
    import subprocess

    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ValueError(f"secret command {command[0]} could not run: "
                         f"{type(exc).__name__}") from exc
    if done.returncode != 0 or not done.stdout.strip():
        raise ValueError(f"secret command {command[0]} failed (exit {done.returncode})")
    return done.stdout.strip()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Endpoint(Strict):
    host: str
    port: int = Field(ge=1, le=65535)
    tls: TlsMode = TlsMode.IMPLICIT
    username: str | None = None
    password: Secret | None = None
    # password: LOGIN/PLAIN with `password`; xoauth2: `oauth2_token` (Gmail, Microsoft 365)
    auth: Literal["password", "xoauth2"] = "password"
    oauth2_token: Secret | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    # The CA (PEM) that signed the server's certificate, for a private CA or a self-signed
    # certificate; unset: the system's trust store. The host name is checked either way.
    ca_file: Path | None = None

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> Self:
        if self.tls is TlsMode.PLAIN and not _is_loopback(self.host):
            raise ValueError("tls: plain is allowed only towards a loopback host; use implicit "
                             "or starttls")
        return self


class Folders(Strict):
    inbox: str = "INBOX"
    processed: str = "Processed"
    routed: str = "Routed"
    junk: str = "Junk"
    quarantine: str = "Quarantine"

    def name_of(self, folder: Folder) -> str:
        return str(getattr(self, folder.value))


class ImapConfig(Endpoint):
    port: int = Field(default=993, ge=1, le=65535)
    folders: Folders = Folders()
    idle: bool = True
    idle_renew_seconds: float = Field(default=25 * 60, gt=0, le=29 * 60)
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    batch_size: int = Field(default=200, ge=1, le=5000)
    reconnect_max_seconds: float = Field(default=300.0, gt=0)


class MaildirFolders(Strict):
    processed: str = ".Processed"
    routed: str = ".Routed"
    junk: str = ".Junk"
    quarantine: str = ".Quarantine"

    def name_of(self, folder: Folder) -> str:
        return str(getattr(self, folder.value))


class MailboxConfig(Strict):
    maildir: Path | None = None
    maildir_folders: MaildirFolders = MaildirFolders()
    imap: ImapConfig | None = None
    poll_interval_seconds: float = Field(default=2.0, gt=0)
    # Archive and read incoming mail in a second process (a second CPU core); `mailproc run`
    # falls back to doing it itself when the process is off, gone, or the machine has one core.
    reader_process: bool = True

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.maildir is None) == (self.imap is None):
            raise ValueError("give exactly one of maildir: (a path) or imap: (a server)")
        return self


class SmtpConfig(Endpoint):
    port: int = Field(default=465, ge=1, le=65535)
    # One connection carries a whole outbox flush, up to this many mails (servers limit it:
    # Gmail and Microsoft 365 close a connection after about 100), then a new one is opened.
    mails_per_connection: int = Field(default=50, ge=1, le=1000)
    # Connections a flush uses at once: each waits for the server's answers while the others
    # send. Providers limit concurrent sessions per account (Gmail: about 10): keep it small.
    connections: int = Field(default=3, ge=1, le=8)


class OutgoingConfig(Strict):
    outbox_dir: Path | None = None
    smtp: SmtpConfig | None = None
    retry_initial_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.outbox_dir is None) == (self.smtp is None):
            raise ValueError("give exactly one of outbox_dir: (a path) or smtp: (a server)")
        return self


class Member(Strict):
    name: str = Field(min_length=1)
    email: str
    languages: list[str] = Field(default_factory=lambda: ["en"])
    chair: bool = False
    # Other addresses and handles the member is known by (automatic recusal matching).
    aliases: list[str] = Field(default_factory=list)
    handles: list[str] = Field(default_factory=list)
    # A per-member secret: a command mail carrying it counts as authenticated.
    token: Secret | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _check_email(value)

    @field_validator("languages")
    @classmethod
    def _langs(cls, value: list[str]) -> list[str]:
        return _check_langs(value)


class TranslationBackend(StrEnum):
    NONE = "none"
    GOOGLE = "google"
    LIBRETRANSLATE = "libretranslate"
    MYMEMORY = "mymemory"
    DEEPL = "deepl"
    MICROSOFT = "microsoft"


class TranslationConfig(Strict):
    # Off unless the admin names a backend: no report text goes to a third party by default.
    backend: TranslationBackend = TranslationBackend.NONE
    url: str | None = None  # libretranslate: the server's base URL
    api_key: Secret | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # How long an acknowledgement may wait for a machine translation before English goes.
    ack_wait_seconds: float = Field(default=2.0, ge=0, le=30)
    # After a failure, skip the backend for this long (reports get translation_pending).
    pause_after_failure_seconds: float = Field(default=60.0, ge=0)

    @model_validator(mode="after")
    def _url_for_libre(self) -> Self:
        if self.backend is TranslationBackend.LIBRETRANSLATE and not self.url:
            raise ValueError("backend libretranslate needs url: (e.g. http://127.0.0.1:5000/)")
        return self


class LoggingConfig(Strict):
    format: Literal["plain", "json"] = "plain"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class AlertsConfig(Strict):
    """When the admin is mailed (never the committee), and how often at most per kind."""

    mailbox_unreachable_minutes: float = Field(default=15, gt=0)
    outbox_failure_minutes: float = Field(default=60, gt=0)
    translation_down_minutes: float = Field(default=30, gt=0)
    min_interval_minutes: float = Field(default=60, gt=0)
    check_interval_seconds: float = Field(default=30, gt=0, le=300)
    # The second channel, for when mail cannot reach the admin (SMTP is what fails): this
    # program runs (no shell, 30 s limit) with the alert's text on its standard input, e.g.
    # [/usr/local/bin/page-admin] or [sh, -c, "mail -s alert me@other.example"]. Under systemd
    # every alert is also a CRIT entry in the journal.
    command: list[str] | None = Field(default=None, min_length=1)


class AuthConfig(Strict):
    """How committee mail is authenticated (DESIGN.md rule 4); anything else is refused.

    A command counts from a roster address when the topmost Authentication-Results header
    written by one of `trusted_authserv_ids` shows DMARC pass or a DKIM pass aligned with the
    From domain, or when the mail carries the member's token, or when our own DKIM
    verification (dkimpy) passes and `verify_dkim` is on.
    """

    trusted_authserv_ids: list[str] = Field(default_factory=list)
    verify_dkim: bool = True
    token_header: str = "X-Mailproc-Token"  # the token may also be a line "#token VALUE"


class DecisionsConfig(Strict):
    rule: Literal["majority", "two-thirds", "consensus"] = "majority"
    quorum: int = Field(default=2, ge=1)  # votes needed before a motion can pass
    # Who may close (and reopen) a case: its lead only, anyone once a motion has passed, or
    # any cleared member. Both always need a #confirm round trip (or the member's token).
    close_by: Literal["lead", "motion", "any"] = "any"


class DeadlinesConfig(Strict):
    """The process's clocks (seeds 001, 003, 004); every deadline is derived from case state."""

    first_action_hours: float = Field(default=24, gt=0)  # a member cleared and a lead named
    decision_days: float = Field(default=7, gt=0)
    searching_update_hours: float = Field(default=24, gt=0)  # daily while #status searching
    event_mode: bool = False  # during an event: act within `event_action_hours`
    event_action_hours: float = Field(default=12, gt=0)
    reminder_before_hours: float = Field(default=12, ge=0)
    digest: bool = True  # the daily digest to each member
    digest_time: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class RetentionConfig(Strict):
    """How long closed cases keep what identifies people (seed 000's data policy; seed 003's
    hand-over is `mailproc purge --handover`). Null days: kept until someone decides."""

    # Raw mail and attachments of a closed case are deleted this many days after it closed.
    raw_days: int | None = Field(default=None, ge=0)
    # Names, addresses and texts of a case closed as not upheld become "expunged" after this.
    expunge_days: int | None = Field(default=None, ge=0)
    # Upheld cases too, after this many days (null: never).
    expunge_upheld_days: int | None = Field(default=None, ge=0)
    # Never purge an upheld case whose highest consequence ranks above this
    # (rules/consequences.yaml), nor a case about a person reported in more than one case.
    keep_rank_above: int = Field(default=2, ge=0)


class Limits(Strict):
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=0)
    max_message_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    acks_per_sender_per_day: int = Field(default=3, ge=0)


class Timeline(Strict):
    """What the acknowledgement promises (seed 004): hours to acknowledge, days to follow up."""

    acknowledge_hours: int = Field(default=24, ge=1)
    follow_up_days: int = Field(default=7, ge=1)
    update_every_days: int = Field(default=7, ge=1)


class TransparencyConfig(Strict):
    """The yearly public report (`mailproc transparency`): how small a count may show."""

    # A count below this is folded into "other" or shown as "fewer than N" (small-cell
    # suppression: a count of one or two can point at a person).
    min_cell: int = Field(default=3, ge=1)


class EncryptionConfig(Strict):
    """Encryption at rest of the data directory (README: Encryption at rest): the key, 32
    random bytes in base64 (`mailproc genkey FILE`), from a file, a variable or a command."""

    key: Secret


class StorageConfig(Strict):
    encryption: EncryptionConfig | None = None  # off unless a key is named



class Config(Strict):
    conduct_address: str
    committee_name: str = "Code of Conduct committee"
    community_name: str = "our community"
    admin_address: str | None = None
    data_dir: Path = Path("var/data")
    case_prefix: str = Field(default="COC", pattern=r"^[A-Z][A-Z0-9]{1,9}$")
    committee_languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    timezone: str = "UTC"
    emergency_contact: str = "your local emergency number"
    # Mail to a reporter also gets a Reply-To of conduct+KEY@domain (the case's key): only for a
    # mailbox that accepts plus-addressed mail, or the reporter's answers would bounce. The key
    # in our Message-IDs works everywhere; this adds a second way for clients that drop them.
    reply_address_tag: bool = False
    mailbox: MailboxConfig
    outgoing: OutgoingConfig
    roster: list[Member] = Field(default_factory=list)
    translation: TranslationConfig = TranslationConfig()
    limits: Limits = Limits()
    timeline: Timeline = Timeline()
    logging: LoggingConfig = LoggingConfig()
    alerts: AlertsConfig = AlertsConfig()
    auth: AuthConfig = AuthConfig()
    deadlines: DeadlinesConfig = DeadlinesConfig()
    decisions: DecisionsConfig = DecisionsConfig()
    retention: RetentionConfig = RetentionConfig()
    transparency: TransparencyConfig = TransparencyConfig()
    storage: StorageConfig = StorageConfig()
    templates_dir: Path = Path("templates")
    # Where triage rules send mail that is not about conduct: name -> address.
    routes: dict[str, str] = Field(default_factory=dict)
    triage_rules: Path = Path("rules/triage.yaml")
    consequences: Path = Path("rules/consequences.yaml")
    # Where this file was loaded from; set by `load_config`, not by the YAML.
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("conduct_address", "admin_address")
    @classmethod
    def _addr(cls, value: str | None) -> str | None:
        return None if value is None else _check_email(value)

    @field_validator("routes")
    @classmethod
    def _routes(cls, value: dict[str, str]) -> dict[str, str]:
        for name, address in value.items():
            if not re.match(r"^[a-z0-9]+(-[a-z0-9]+)*$", name):
                raise ValueError(f"route name {name!r} must be kebab-case (e.g. sponsorship)")
            _check_email(address)
        return value

    @field_validator("committee_languages")
    @classmethod
    def _langs(cls, value: list[str]) -> list[str]:
        return _check_langs(value)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as "
                             "Europe/Berlin)") from exc
        return value

    @model_validator(mode="after")
    def _roster_unique(self) -> Self:
        seen: set[str] = set()
        for member in self.roster:
            key = normalise_email(member.email)
            if key in seen:
                raise ValueError(f"roster lists {member.email} twice")
            if key == normalise_email(self.conduct_address):
                raise ValueError("a roster member cannot use the conduct address itself")
            seen.add(key)
        return self

    @property
    def committee_language(self) -> str:
        return self.committee_languages[0]

    @property
    def message_id_domain(self) -> str:
        return self.conduct_address.rpartition("@")[2].lower()

    def mailbox_folder_name(self, folder: Folder) -> str:
        """The real folder name a logical destination maps to for this mailbox."""
        if self.mailbox.imap is not None:
            return self.mailbox.imap.folders.name_of(folder)
        return self.mailbox.maildir_folders.name_of(folder)

    def member_by_email(self, email: str) -> Member | None:
        """The roster member using this address (their email or one of their aliases)."""
        key = normalise_email(email)
        return next((m for m in self.roster if key in
                     {normalise_email(a) for a in [m.email, *m.aliases]}), None)


def _check_email(value: str) -> str:
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or " " in value:
        raise ValueError(f"{value!r} is not an email address (expected name@domain.tld)")
    return value


def _check_langs(value: list[str]) -> list[str]:
    for code in value:
        if not re.match(LANG_CODE, code):
            raise ValueError(f"{code!r} is not a language code (use ISO 639-1 such as en, es)")
    return value


def config_path(explicit: Path | None) -> Path:
    """The config file to use: --config, else $MAILPROC_CONFIG, else rules/config.yaml."""
    if explicit is not None:
        return explicit
    env = os.environ.get("MAILPROC_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def _base_dir(path: Path) -> Path:
    parent = path.resolve().parent
    return parent.parent if parent.name == "rules" else parent


def load_config(path: Path) -> Config:
    """Load and validate a config file, resolving relative paths; raises ConfigError."""
    doc = load_yaml(path)
    config = validate(doc, Config)
    base = _base_dir(path)
    updates: dict[str, object] = {
        "source": path,
        "data_dir": _resolve(base, config.data_dir),
        "templates_dir": _resolve(base, config.templates_dir),
        "triage_rules": _resolve(base, config.triage_rules),
        "consequences": _resolve(base, config.consequences),
    }
    mailbox = config.mailbox
    if mailbox.maildir is not None:
        updates["mailbox"] = mailbox.model_copy(update={"maildir": _resolve(base, mailbox.maildir)})
    outgoing = config.outgoing
    if outgoing.outbox_dir is not None:
        updates["outgoing"] = outgoing.model_copy(
            update={"outbox_dir": _resolve(base, outgoing.outbox_dir)})
    _check_secrets(doc.file, doc.line_of, config)
    return config.model_copy(update=updates)


def _resolve(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path


def _check_secrets(file: str, line_of: object, config: Config) -> None:
    """Refuse an endpoint that has a username but no password source (a likely mistake)."""
    problems = []
    for key, endpoint in (("mailbox", config.mailbox.imap), ("outgoing", config.outgoing.smtp)):
        if endpoint is None:
            continue
        where = (key, "imap" if key == "mailbox" else "smtp")
        line = int(line_of(where)) if callable(line_of) else 1
        if endpoint.auth == "xoauth2" and endpoint.oauth2_token is None:
            problems.append(Problem(file, line, ".".join((*where, "oauth2_token")),
                                    "auth: xoauth2 needs oauth2_token: {command: [...]} or "
                                    "{file: PATH}"))
        elif endpoint.auth == "xoauth2" and not endpoint.username:
            problems.append(Problem(file, line, ".".join((*where, "username")),
                                    "auth: xoauth2 needs the mailbox's username"))
        elif endpoint.auth == "password" and endpoint.username and endpoint.password is None:
            problems.append(Problem(file, line, ".".join((*where, "password")),
                                    "username given without password: {env: VAR} or {file: PATH}"))
    if problems:
        raise ConfigError(problems)
