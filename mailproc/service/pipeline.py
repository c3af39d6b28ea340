"""Ingest: raw messages in, decisions committed; the gather -> decide -> record loop of one batch.

Per batch: archive every raw message by sha256 and log it as received (durable, before acting);
read each one as far as it goes without the store (`prepare.Prepared`: machine mail from the
headers alone, then parse, detect and extract; done by the reader process, or here with the
same function); let the pure core decide; commit the whole batch in one store transaction.
Any failure on one message quarantines that message and never the batch. Server-side moves
happen after the commit (see `daemon`).
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from mailproc.adapters.mailbox import RawMessage
from mailproc.adapters.outbox import GivenUp
from mailproc.adapters.translation import GuardedTranslator
from mailproc.cases.bounces import bounced, our_message_ids
from mailproc.cases.followups import FollowupFacts, followup, mentioned
from mailproc.cases.intake import ack_translation_source, attach_ack, open_case, translation_arrived
from mailproc.cases.offboarding import offboard, removed_member, roster_changed
from mailproc.cases.routing import rule_outcome, triage_input
from mailproc.cases.workflow import (
    Context,
    Decision,
    Inbound,
    dropped,
    from_reporter,
    quarantined,
    thread_case,
)
from mailproc.config.consequences import load_ladder
from mailproc.config.settings import Config, Member
from mailproc.deadlines.clocks import sla
from mailproc.mail.bounces import bounced_recipients
from mailproc.mail.scrub import scrub_case, scrub_raw
from mailproc.mail.templates import Renderer
from mailproc.model.parsed import Folder, Outcome, normalise_email
from mailproc.model.records import Case
from mailproc.service.batch import BatchView, Handled
from mailproc.service.logsetup import where
from mailproc.service.memberflow import member_mail
from mailproc.service.prepare import Prepared, extract_fields, read_message, settings_for
from mailproc.service.reports import ReportReader
from mailproc.store.revocation import Revocations
from mailproc.store.store import Store, Transaction, sha256_hex
from mailproc.triage.evaluate import RuleSet, TriageDecision, evaluate

log = logging.getLogger("mailproc.pipeline")
MAX_ATTEMPTS = 3  # handled alone this often without finishing: quarantined, not retried
ROSTER_CHANGES = "roster-changes-applied"  # store counter: `members` changes the cases saw


class Pipeline:
    """Turns batches of raw messages into committed decisions."""

    def __init__(self, config: Config, store: Store, renderer: Renderer,
                 translator: GuardedTranslator | None, clock: Callable[[], datetime],
                 rng: random.Random, pepper: bytes, rules: RuleSet | None = None,
                 dry_run: bool = False) -> None:
        self.config, self.store, self.renderer = config, store, renderer
        self.rules = rules  # None: no triage rules file; every human mail is a report
        self.dry_run = dry_run  # `mailproc triage`: decide, but write nothing anywhere
        self.last_triage: TriageDecision | None = None  # for --explain
        self.ladder = load_ladder(config.consequences)
        self.full_config = config  # the roster as configured; `config` drops removed members
        self.settings = settings_for(config)
        self.reports = ReportReader(config, store, translator, dry_run)
        self.revocations = Revocations(config.data_dir)
        self.gone: frozenset[str] = frozenset()  # removed members (their roster address)
        self.removed: frozenset[str] = frozenset()  # and every alias of theirs
        self.joined: tuple[dict[str, Any], ...] = ()  # added with `mailproc members add`
        self.translator, self.clock, self.rng, self.pepper = translator, clock, rng, pepper
        self.survived: Counter[str] = Counter()  # failed attempts this process lived through

    def context(self) -> Context:
        return Context(self.config, self.renderer, self.clock(), self.rng, self.pepper)

    def handle_batch(self, raws: Sequence[RawMessage],
                     prepared: Mapping[str, Prepared] | None = None) -> list[Handled]:
        """Archive, decide and commit a batch; returns one line per message handled.

        `prepared` (by key, from the reader process): messages already archived and read
        there; a batch all of whose messages have one is not archived again.
        """
        self.store.recover()  # a commit cut off by a full disk is finished first
        self.apply_revocations()
        fresh = [r for r in raws if not self.store.is_done(r.key)]
        # A message received before but never finished was in a batch when the daemon died:
        # handle each of those alone, so that only the one that kills the daemon is blamed.
        suspects = [r for r in fresh if self.store.received[r.key] > 0]
        healthy = [r for r in fresh if self.store.received[r.key] == 0]
        try:
            handled = self._batch(healthy, prepared or {}) if healthy else []
            for raw in suspects:
                handled += self._batch([raw], {}, alone=True)
        except OSError:
            # The disk or the system failed, not the message: these attempts were survived,
            # so they do not count towards quarantining it as the message that kills us.
            self.survived.update(r.key for r in fresh if not self.store.is_done(r.key))
            raise
        return handled

    def _batch(self, raws: list[RawMessage], prepared: Mapping[str, Prepared],
               alone: bool = False) -> list[Handled]:
        ctx = self.context()
        preps = [prepared.get(r.key) for r in raws]
        if all(p is not None for p in preps):  # archived and synced where they were prepared
            shas = [p.sha256 for p in preps if p is not None]
        else:
            shas = [self.store.archive(r.data, sync=False) for r in raws]
            self.store.sync_archive()  # one filesystem sync for the batch, before anything acts
        self.store.record_received([(r.key, s, ctx.now) for r, s in zip(raws, shas, strict=True)])
        if alone:
            self.store.record_try(raws[0].key, shas[0], ctx.now)
        view = BatchView(self.store, Transaction())
        handled = []
        for raw, sha, prep in zip(raws, shas, preps, strict=True):
            decision, dup = self._decide_safely(raw, sha, view, ctx, prep)
            view.add(decision, ctx.now, dup)
            handled.append(Handled(raw.key, decision.outcome, decision.case_id,
                                   decision.language, decision.reason))
        self.store.commit(view.txn)
        return handled

    def apply_revocations(self) -> None:
        """Roster changes made with `mailproc members`: removed members out of the roster now,
        restored and added ones in; each change is carried into the cases once (a store
        counter says how many of the changes the cases have seen, across restarts)."""
        gone, joined = self.revocations.emails(), self.revocations.joined()
        if (gone, joined) != (self.gone, self.joined):
            self.gone, self.joined = gone, joined
            known = {normalise_email(m.email) for m in self.full_config.roster}
            roster = [*self.full_config.roster,
                      *(Member(name=j["name"], email=j["email"], languages=j["languages"])
                        for j in joined if j["email"] not in known)]
            # Every address of a removed member is refused, whichever one the removal named.
            self.removed = gone | {normalise_email(a) for m in roster
                                   if normalise_email(m.email) in gone for a in m.aliases}
            self.config = self.full_config.model_copy(update={"roster": [
                m for m in roster if normalise_email(m.email) not in gone]})
        records = self.revocations.records()
        seen = self.store.counter(ROSTER_CHANGES)
        if self.dry_run or len(records) <= seen:
            return
        fresh = records[seen:]
        emails = {action: [str(r["email"]) for r in fresh if r.get("action", "remove") == action]
                  for action in ("remove", "restore", "add")}
        ctx, cases = self.context(), self.store.all_cases()
        left = frozenset(e for e in emails["remove"] if e in gone)
        decisions = offboard(cases, left, ctx) if left else []
        decisions += roster_changed(cases, emails["add"], emails["restore"], ctx)
        view = BatchView(self.store, Transaction(counters={ROSTER_CHANGES: len(records)}))
        for decision in decisions:
            view.add(decision, ctx.now)
        self.store.commit(view.txn)

    def decide_one(self, raw: RawMessage) -> tuple[Decision, TriageDecision | None]:
        """Decide one message without archiving or committing anything (dry run)."""
        self.last_triage = None
        view = BatchView(self.store, Transaction())
        decision, _dup = self._decide_safely(raw, sha256_hex(raw.data), view, self.context())
        return decision, self.last_triage

    def _decide_safely(self, raw: RawMessage, sha: str, view: BatchView, ctx: Context,
                       prep: Prepared | None = None) -> tuple[Decision, str | None]:
        try:
            return self._decide(raw, sha, view, ctx, prep)
        except Exception as exc:  # one bad message must never stop the daemon or the batch
            log.error("internal error on message %s: %s at %s", sha[:12], type(exc).__name__,
                      where(exc))
            return quarantined(raw.key, sha, None, f"internal error ({type(exc).__name__})",
                               ctx), None

    def _decide(self, raw: RawMessage, sha: str, view: BatchView, ctx: Context,
                prep: Prepared | None) -> tuple[Decision, str | None]:
        if len(raw.data) > self.config.limits.max_message_bytes:
            return quarantined(raw.key, sha, None, "message larger than the size limit", ctx), None
        if self.store.tries[raw.key] - self.survived[raw.key] > MAX_ATTEMPTS:
            return quarantined(raw.key, sha, None, "processing failed repeatedly", ctx), None
        if prep is None or prep.failed:  # nobody read it yet, or the reader failed on it
            prep = read_message(raw, self.settings, sha)
        mid = prep.message_id
        earlier = view.duplicate_of(sha, mid)
        if earlier is not None:
            again = Decision(raw.key, sha, mid, earlier.outcome, earlier.folder, "duplicate",
                             related_case=earlier.case_id)
            return again, earlier.key
        if prep.machine is not None:
            decision = dropped(raw.key, sha, mid, prep.machine)
            if prep.machine.startswith("bounce"):
                self._our_bounce(decision, raw.data, view, ctx)
            return decision, None
        msg = prep.message
        if msg is None:
            return quarantined(raw.key, sha, mid, f"unparseable: {prep.unparseable}", ctx), None
        inbound = Inbound(raw.key, sha, msg)
        if msg.from_ and normalise_email(msg.from_.email) in self.removed:
            return removed_member(inbound, view, ctx), None
        member = self.config.member_by_email(msg.from_.email) if msg.from_ else None
        if member is not None:
            decided = member_mail(self, inbound, raw.data, member, view, ctx)
            if decided is not None:
                return decided, None
        case = thread_case(msg, view, self.config)
        if case is not None:
            via = from_reporter(msg, case, ctx)
            if via is not None:
                return followup(inbound, case, self._followup_facts(prep, case, via), ctx), None
        return self._report(inbound, raw.data, view, ctx, prep, mentions=case), None

    def _our_bounce(self, d: Decision, raw: bytes, view: BatchView, ctx: Context) -> None:
        """A delivery failure of our own mail: linked to its case and recipient."""
        for mid in our_message_ids(raw):
            case_id = view.case_for_message(mid)
            case = view.get_case(case_id) if case_id else None
            if case is not None:
                bounced(d, case, bounced_recipients(raw), ctx)
                return

    def _followup_facts(self, prep: Prepared, case: Case, via: str) -> FollowupFacts:
        """A follow-up's translation and what it says of danger (read like a report)."""
        msg = prep.message
        assert msg is not None
        translation = self.reports.translate_text(msg.text, case.language)
        fields = prep.fields if translation is None and prep.fields is not None else \
            extract_fields(msg.text, translation.text if translation else None,
                           case.language or prep.detection.language,
                           [self.config.conduct_address, msg.from_.email if msg.from_ else None])
        return FollowupFacts(via, translation, fields.urgent_reasons)

    def _report(self, inbound: Inbound, raw: bytes, view: BatchView, ctx: Context,
                prep: Prepared, mentions: Case | None = None) -> Decision:
        msg, detection = inbound.message, prep.detection
        translated = self.reports.translate(msg, detection)
        translation = translated[0]
        triage = self.last_triage = None
        if self.rules is not None:
            facts = triage_input(msg, len(raw), detection.language,
                                 translation.text if translation else None)
            triage = self.last_triage = evaluate(self.rules, facts)
            ruled = rule_outcome(inbound, raw, triage, detection.language, ctx, view)
            if ruled is not None:
                return ruled
        gathered = self.reports.gather(msg, detection, triage, prep.fields, translated)
        decision, plan = open_case(inbound, gathered, view, ctx)
        if mentions is not None and decision.case is not None:
            mentioned(decision, mentions, ctx)
        if plan is not None:
            ack = None
            if plan.wants_translation and self.translator is not None:
                ack = self.translator.translate(
                    ack_translation_source(plan, ctx), "en", plan.target_language,
                    timeout=self.config.translation.ack_wait_seconds)
            attach_ack(decision, plan, ack, ctx)
        if decision.case is not None:
            # The SLA record the deadline tick keeps: set now, so that the first tick does not
            # rewrite every case file opened since the last one just to add it.
            decision.case.sla = sla(decision.case, self.config, ctx.now)
        if decision.scrub_archive and decision.case is not None and not self.dry_run:
            decision.case = scrub_case(decision.case, inbound.message.from_)
            clean_sha = self.store.archive(scrub_raw(inbound.message))
            decision.case.source_sha256 = clean_sha
            view.txn.drop_archive.append(inbound.sha256)
        return decision

    def record_undeliverable(self, given_up: Sequence[GivenUp]) -> int:
        """Mail the SMTP server refused for good, on its case like a bounce: the recipients
        are unreachable, the diary says so, and whoever must know is told. Returns how many
        cases changed."""
        ctx, view, changed = self.context(), BatchView(self.store, Transaction()), 0
        for item in given_up:
            case = view.get_case(item.mail.case_id) if item.mail.case_id else None
            if case is None:
                continue
            d = Decision("", "", None, Outcome.DROPPED, Folder.PROCESSED, "undeliverable")
            bounced(d, case, set(item.refused), ctx,
                    how="was refused for good by our mail server")
            view.add(d, ctx.now)
            changed += 1
        self.store.commit(view.txn)
        return changed

    def retry_translations(self, limit: int = 20) -> int:
        """Translate cases opened while the translator was unavailable; returns how many."""
        pending = sorted(self.store.translation_pending)[:limit]
        if not pending or self.translator is None or not self.translator.available():
            return 0
        ctx, view, done = self.context(), BatchView(self.store, Transaction()), 0
        for case_id in pending:
            case = self.store.get_case(case_id)
            if case is None or not case.translation_pending or not case.language:
                continue
            result = self.translator.translate(case.original_text, case.language,
                                               self.config.committee_language)
            if result is None:
                break  # the translator is down again; the next run retries
            fields = extract_fields(case.original_text, result.text, case.language,
                                    [self.config.conduct_address, case.reporter.email],
                                    [case.reporter.name] if case.reporter.name else [])
            view.add(translation_arrived(case, result, fields, ctx), ctx.now)
            done += 1
        self.store.commit(view.txn)
        return done
