"""Looking after the daemon: its status snapshot, systemd's watchdog, admin alerts, reloads.

The daemon reports each round's result here (`mailbox_ok`, `mailbox_failed`); the supervisor
keeps `status.json` current for `mailproc status`, queues admin alerts through the store (one
commit with the alert's episode key, so an alert is mailed once even across restarts), and
reloads templates (and, once wired, rules) on SIGHUP keeping the last good ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import datetime
from pathlib import Path

from mailproc.adapters.mailbox import MailboxError
from mailproc.cases.workflow import format_time, outgoing_mail
from mailproc.config.yamlsource import ConfigError
from mailproc.mail.compose import MailSpec
from mailproc.mail.templates import Renderer
from mailproc.model.parsed import Address
from mailproc.model.records import Outgoing
from mailproc.service.alerts import Alert, AlertState, candidate_alerts, due
from mailproc.service.app import App, template_cache
from mailproc.service.health import Snapshot
from mailproc.service.notify import sd_notify
from mailproc.store.files import atomic_write
from mailproc.store.store import Transaction
from mailproc.triage.evaluate import load_rules

log = logging.getLogger("mailproc.supervisor")


def tree_version(root: Path, pattern: str = "**/*") -> str:
    """A short hash of every file's name and content under root (what is in force)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.glob(pattern) if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


class Supervisor:
    def __init__(self, app: App, mailbox_kind: str, mailbox_mode: str) -> None:
        self.app = app
        now = app.clock()
        self.snapshot = Snapshot(pid=os.getpid(), started_at=now, updated_at=now,
                                 mailbox_kind=mailbox_kind, mailbox_mode=mailbox_mode,
                                 templates_version=tree_version(app.config.templates_dir),
                                 rules_version=(app.pipeline.rules.version
                                                if app.pipeline.rules is not None else None))
        self.refused: dict[str, tuple[str, tuple[str, ...]]] = {}

    # ------------------------------------------------------------------ mailbox health

    def mailbox_ok(self, mode: str, waiting: int, reader: str) -> None:
        self.snapshot.reader = reader
        self.snapshot.last_contact = self.app.clock()
        self.snapshot.unreachable_since = None
        self.snapshot.last_error = None
        self.snapshot.mailbox_mode = mode
        self.snapshot.waiting = waiting
        self.write()

    def mailbox_failed(self, exc: BaseException) -> None:
        if self.snapshot.unreachable_since is None:
            self.snapshot.unreachable_since = self.app.clock()
        self.snapshot.last_error = failure_text(exc)
        self.write()

    def write(self) -> None:
        sd_notify(f"STATUS={self.snapshot.status_line()}")  # no-op outside systemd
        self.snapshot.updated_at = self.app.clock()
        data = json.dumps(self.snapshot.to_json(), indent=1).encode()
        try:
            atomic_write(self.app.config.data_dir / "status.json", data, sync_dir=False)
        except OSError as exc:  # a full disk: the daemon waits for space, it must not die here
            log.warning("status.json not written: %s", exc.strerror or type(exc).__name__)

    # ------------------------------------------------------------------ alerts

    def alert_tick(self) -> list[Alert]:
        """Queue the admin alerts that are due; returns them (for logs and tests)."""
        config, store, now = self.app.config, self.app.store, self.app.clock()
        if not config.admin_address:
            return []
        found = candidate_alerts(config, now, self.snapshot.unreachable_since,
                                 self.snapshot.last_error, store.pending_outgoing(),
                                 self.refused)
        state = {a.kind: _state(store.flag(f"alert:{a.kind}")) for a in found}
        chosen = due(found, state, config, now)
        if not chosen:
            return []
        txn = Transaction()
        for alert in chosen:
            txn.outgoing.append(self._alert_mail(alert, now))
            txn.flags[f"alert:{alert.kind}"] = json.dumps({"key": alert.key,
                                                         "at": now.isoformat()})
            log.warning("admin alert queued: %s", alert.kind)
        store.commit(txn)
        return chosen

    def _alert_mail(self, alert: Alert, now: datetime) -> Outgoing:
        app = self.app
        rendered = app.pipeline.renderer.render("admin_alert", "en", {
            "kind": alert.kind, "summary": alert.summary, "details": list(alert.details),
            "since": format_time(now, app.config)})
        assert app.config.admin_address is not None
        spec = MailSpec(to=(Address("", app.config.admin_address),), subject=rendered.subject,
                        body=rendered.body)
        return outgoing_mail(spec, None, "admin-alert", app.pipeline.context())

    # ------------------------------------------------------------------ reload

    def reload_rules(self, force: bool = False) -> bool:
        """Swap in edited triage rules if they load cleanly; otherwise keep the last good."""
        config, pipeline = self.app.config, self.app.pipeline
        path = config.triage_rules
        if not path.exists():
            return False
        version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        current = pipeline.rules.version if pipeline.rules is not None else None
        refused = self.refused.get("rules", ("", ()))[0]
        if not force and version in (current, refused):
            return False
        try:
            rules = load_rules(path, config.routes, config.conduct_address)
        except ConfigError as exc:
            problems = tuple(str(p) for p in exc.problems)
            self.refused["rules"] = (version, problems)
            log.error("triage rules refused, keeping the last good ones (%s): %d problem(s)",
                      current, len(problems))
            for problem in problems:
                log.error("  %s", problem)
            return False
        self.refused.pop("rules", None)
        pipeline.rules = rules
        self.snapshot.rules_version = rules.version
        log.info("triage rules reloaded (version %s, %d rules)", rules.version, len(rules.rules))
        return True

    def reload_templates(self) -> bool:
        """Swap in edited templates if they all check out; otherwise keep the old ones."""
        directory = self.app.config.templates_dir
        version = tree_version(directory)
        try:
            renderer = Renderer(directory, cache_dir=template_cache(self.app.config))
            problems = [str(p) for p in renderer.check()]
        except ConfigError as exc:
            problems = [str(p) for p in exc.problems]
        if problems:
            self.refused["templates"] = (version, tuple(problems))
            log.error("templates refused on reload, keeping the last good ones: %d problem(s)",
                      len(problems))
            for problem in problems:
                log.error("  %s", problem)
            return False
        self.refused.pop("templates", None)
        self.app.renderer = self.app.pipeline.renderer = renderer
        self.snapshot.templates_version = version
        log.info("templates reloaded (version %s)", version)
        return True


def _state(flag: str | None) -> AlertState:
    if not flag:
        return AlertState(None, None)
    doc = json.loads(flag)
    return AlertState(doc.get("key"), datetime.fromisoformat(doc["at"]) if doc.get("at")
                      else None)


def failure_text(exc: BaseException) -> str:
    """What an admin reads about a failure: a mailbox error's own words (written by the adapter
    with every secret cut out, e.g. "IMAP connect failed: ConnectionRefusedError: [Errno 111]
    Connection refused"), else only the class name (other exceptions may carry content)."""
    if isinstance(exc, MailboxError) and str(exc):
        return f"{type(exc).__name__}: {str(exc)[:300]}"
    return type(exc).__name__
