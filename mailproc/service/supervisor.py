"""Looking after the daemon: its status snapshot, systemd's watchdog, admin alerts, reloads.

The daemon reports each round's result here (`mailbox_ok`, `mailbox_failed`); the supervisor
keeps `status.json` current for `mailproc status` (with every failing part: translation,
refused rules or templates; see `health.Failure`), queues admin alerts through the store (one
commit with the alert's episode key, so an alert is mailed once even across restarts) and
hands each one to the second channel too (`notify.out_of_band`: `alerts.command` and, under
systemd, a CRIT journal entry). The "outbox failing" alert does not go through the outbox
that fails. Templates and rules are reloaded keeping the last good ones; a rules file put
back to the version in force ends the refusal without a signal.
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
from mailproc.mail.templates import Rendered, Renderer
from mailproc.model.parsed import Address
from mailproc.model.records import Outgoing
from mailproc.service.alerts import Alert, AlertState, candidate_alerts, due
from mailproc.service.app import App, template_cache
from mailproc.service.health import Failure, Snapshot
from mailproc.service.notify import out_of_band, sd_notify
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
        self._since: dict[str, datetime] = {}  # when each part began to fail (this outage)

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

    def failures(self) -> list[Failure]:
        """Translation, rules and templates failing now (the mailbox and the outbox are
        judged from the snapshot's mailbox fields and from the store)."""
        now, found = self.app.clock(), []
        translator = self.app.translator
        if translator is not None and translator.last_failure is not None:
            pending = len(self.app.store.translation_pending)
            found.append(("translation", translator.last_failure,
                          f"{pending} report(s) wait for their translation; acknowledgements "
                          "go in English"))
        for kind, (version, problems) in sorted(self.refused.items()):
            found.append((kind, f"{len(problems)} problem(s), the first: "
                                f"{problems[0] if problems else '?'}",
                          f"the last good {kind} stay in force; the edited file (version "
                          f"{version}) is not used until it checks out"))
        for gone in set(self._since) - {part for part, _c, _w in found}:
            del self._since[gone]
        return [Failure(part, cause, self._since.setdefault(part, now), waiting)
                for part, cause, waiting in found]

    def write(self) -> None:
        self.snapshot.failures = self.failures()
        sd_notify(f"STATUS={self.snapshot.status_line()}")  # no-op outside systemd
        self.snapshot.updated_at = self.app.clock()
        data = json.dumps(self.snapshot.to_json(), indent=1).encode()
        try:
            atomic_write(self.app.config.data_dir / "status.json", data, sync_dir=False)
        except OSError as exc:  # a full disk: the daemon waits for space, it must not die here
            log.warning("status.json not written: %s", exc.strerror or type(exc).__name__)

    # ------------------------------------------------------------------ alerts

    def alert_tick(self) -> list[Alert]:
        """Queue the admin alerts that are due; returns them, for `out_of_band` (the caller
        runs that off the event loop: a command may take a while)."""
        config, store, now = self.app.config, self.app.store, self.app.clock()
        if not config.admin_address and not config.alerts.command:
            return []
        translation = next((f for f in self.snapshot.failures if f.part == "translation"), None)
        found = candidate_alerts(config, now, self.snapshot.unreachable_since,
                                 self.snapshot.last_error, store.pending_outgoing(),
                                 self.refused, translation)
        state = {a.kind: _state(store.flag(f"alert:{a.kind}")) for a in found}
        chosen = due(found, state, config, now)
        if not chosen:
            return []
        txn = Transaction()
        for alert in chosen:
            # Never through the outbox that fails: that one goes by the second channel only.
            if config.admin_address and alert.kind != "outbox-failing":
                txn.outgoing.append(self._alert_mail(alert, now))
            txn.flags[f"alert:{alert.kind}"] = json.dumps({"key": alert.key,
                                                         "at": now.isoformat()})
            log.warning("admin alert: %s", alert.kind)
        store.commit(txn)
        return chosen

    def out_of_band(self, alerts: list[Alert]) -> None:
        """Each alert by the second channel: `alerts.command` and the journal (CRIT)."""
        now = self.app.clock()
        for alert in alerts:
            rendered = self._render(alert, now)
            out_of_band(f"Subject: {rendered.subject}\n\n{rendered.body}",
                        self.app.config.alerts.command, alert.kind)

    def _render(self, alert: Alert, now: datetime) -> Rendered:
        return self.app.pipeline.renderer.render("admin_alert", "en", {
            "kind": alert.kind, "summary": alert.summary, "details": list(alert.details),
            "since": format_time(now, self.app.config)})

    def _alert_mail(self, alert: Alert, now: datetime) -> Outgoing:
        app = self.app
        rendered = self._render(alert, now)
        assert app.config.admin_address is not None
        spec = MailSpec(to=(Address("", app.config.admin_address),), subject=rendered.subject,
                        body=rendered.body)
        return outgoing_mail(spec, None, "admin-alert", app.pipeline.context())

    # ------------------------------------------------------------------ reload

    def reload_rules(self, force: bool = False) -> bool:
        """Swap in edited triage rules if they load cleanly; otherwise keep the last good."""
        config, pipeline = self.app.config, self.app.pipeline
        path = config.triage_rules
        try:
            version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        except OSError as exc:
            if pipeline.rules is None:  # none at start either (said then): nothing refused
                return False
            if self.refused.get("rules", ("",))[0] != "missing":
                log.error("triage rules file unreadable (%s), keeping the last good rules",
                          exc.strerror)
            self.refused["rules"] = ("missing", (f"{path}: cannot read the file: "
                                                 f"{exc.strerror}",))
            return False
        current = pipeline.rules.version if pipeline.rules is not None else None
        refused = self.refused.get("rules", ("", ()))[0]
        if version == current and "rules" in self.refused:
            # The file is back to the rules in force (an edit undone): nothing is refused now.
            self.refused.pop("rules")
            log.info("triage rules file restored to the version in force (%s)", current)
            return True
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
    with every secret cut out, e.g. "IMAP connect failed: nothing accepts connections at
    host:993 … (ConnectionRefusedError: [Errno 111] Connection refused)"), else only the class
    name (other exceptions may carry content)."""
    if isinstance(exc, MailboxError) and str(exc):
        return str(exc)[:600]
    return type(exc).__name__
