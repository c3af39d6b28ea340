"""Ingest: raw messages in, decisions committed; the gather -> decide -> record loop of one batch.

Per batch: archive every raw message by sha256 and log it as received (durable, before acting);
classify machine mail from the headers alone (no full parse for 90% of a public address's mail);
parse, detect, translate within a short budget and extract for the rest; let the pure core
decide; commit the whole batch in one store transaction. Any failure on one message quarantines
that message and never the batch. Server-side moves happen after the commit (see `daemon`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from mailproc.classify import machine_reason
from mailproc.clocks import sla
from mailproc.config import Config
from mailproc.consequences import load_ladder
from mailproc.detect import Detection
from mailproc.intake import (
    Gathered,
    ack_translation_source,
    attach_ack,
    open_case,
    translation_arrived,
)
from mailproc.language import GuardedTranslator, Translation
from mailproc.mailbox import RawMessage
from mailproc.model import (
    AttachmentRecord,
    Case,
    Outcome,
    ParsedMessage,
    ReportFields,
    normalise_email,
)
from mailproc.offboarding import offboard, removed_member
from mailproc.prepare import Prepared, envelope_of, needs_translation, report_fields
from mailproc.render import Renderer
from mailproc.revocation import Revocations
from mailproc.routing import rule_outcome, triage_input
from mailproc.scrub import scrub_case, scrub_raw
from mailproc.store import Done, Store, Transaction, sha256_hex
from mailproc.triage import RuleSet, TriageDecision, evaluate
from mailproc.workflow import Context, Decision, Inbound, dropped, quarantined, route

log = logging.getLogger("mailproc.pipeline")
MAX_ATTEMPTS = 3  # handled alone this often without finishing: quarantined, not retried


@dataclass(frozen=True)
class Handled:
    """One line of what happened, safe to print and log (no content, no addresses)."""

    key: str
    outcome: Outcome
    case_id: str | None
    language: str | None
    reason: str


class BatchView:
    """The store as the core sees it, including what this batch already decided."""

    def __init__(self, store: Store, txn: Transaction) -> None:
        self.store, self.txn = store, txn

    def case_for_message(self, message_id: str) -> str | None:
        return self.txn.message_index.get(message_id) or \
            self.store.message_to_case.get(message_id)

    def get_case(self, case_id: str) -> Case | None:
        return self.txn.cases.get(case_id) or self.store.get_case(case_id)

    def counter(self, name: str) -> int:
        return self.txn.counters.get(name, self.store.counter(name))

    def code_name_taken(self, name: str) -> bool:
        return name in self.store.code_names or \
            any(c.code_name == name for c in self.txn.cases.values())

    def acks_on(self, sender_hash: str, day: str) -> int:
        batch = sum(1 for d in self.txn.done
                    if d.ack_to == sender_hash and d.at.date().isoformat() == day)
        return self.store.acks_on(sender_hash, day) + batch

    def related_cases(self, identifiers: list[str]) -> list[Case]:
        wanted = set(identifiers)
        found = {c.id: c for c in self.store.related_cases(identifiers)}
        found.update({c.id: c for c in self.txn.cases.values() if wanted & set(c.identifiers)})
        return [found[k] for k in sorted(found)]

    def duplicate_of(self, sha: str, message_id: str | None) -> Done | None:
        for done in self.txn.done:
            if done.sha256 == sha or (message_id and done.message_id == message_id):
                return done
        return self.store.duplicate_of(sha, message_id)

    def add(self, d: Decision, at: datetime, duplicate_of: str | None = None) -> None:
        if d.case is not None:
            self.txn.cases[d.case.id] = d.case
        self.txn.diary.extend(d.diary)
        self.txn.outgoing.extend(d.outgoing)
        self.txn.message_index.update(d.message_index)
        self.txn.counters.update(d.counters)
        if d.routed is not None:
            self.txn.routed.append({**d.routed, "at": at.isoformat()})
        self.txn.done.append(Done(
            key=d.key, sha256=d.sha256, message_id=d.message_id, outcome=d.outcome,
            folder=d.folder, at=at, case_id=d.case_id, reason=d.reason,
            ack_to=d.ack_to, duplicate_of=duplicate_of))


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
        self.revocations = Revocations(config.data_dir)
        self.removed: frozenset[str] = frozenset()
        self.translator, self.clock, self.rng, self.pepper = translator, clock, rng, pepper

    def context(self) -> Context:
        return Context(self.config, self.renderer, self.clock(), self.rng, self.pepper)

    def handle_batch(self, raws: Sequence[RawMessage],
                     prepared: Mapping[str, Prepared] | None = None) -> list[Handled]:
        """Archive, decide and commit a batch; returns one line per message handled.

        `prepared` (by key, from `mailproc.prepare`): messages already archived and read
        elsewhere; a batch all of whose messages have one is not archived again.
        """
        self.apply_revocations()
        fresh = [r for r in raws if not self.store.is_done(r.key)]
        # A message received before but never finished was in a batch when the daemon died:
        # handle each of those alone, so that only the one that kills the daemon is blamed.
        suspects = [r for r in fresh if self.store.received[r.key] > 0]
        healthy = [r for r in fresh if self.store.received[r.key] == 0]
        handled = self._batch(healthy, prepared or {}) if healthy else []
        for raw in suspects:
            handled += self._batch([raw], {}, alone=True)
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
        txn = Transaction()
        view = BatchView(self.store, txn)
        handled = []
        for raw, sha, prep in zip(raws, shas, preps, strict=True):
            decision, dup = self._decide_safely(raw, sha, view, ctx, prep)
            view.add(decision, ctx.now, dup)
            handled.append(Handled(raw.key, decision.outcome, decision.case_id,
                                   decision.language, decision.reason))
        self.store.commit(txn)
        return handled

    def apply_revocations(self) -> None:
        """Members removed since the last batch: out of the roster now, their cases flagged."""
        gone = self.revocations.emails()
        if gone == self.removed:
            return
        new, self.removed = gone - self.removed, gone
        self.config = self.full_config.model_copy(update={"roster": [
            m for m in self.full_config.roster if normalise_email(m.email) not in gone]})
        if new and not self.dry_run:
            self.store.commit(offboard(self.store.all_cases(), new, self.context()))

    def decide_one(self, raw: RawMessage) -> tuple[Decision, TriageDecision | None]:
        """Decide one message without archiving or committing anything (dry run)."""
        self.last_triage = None
        view = BatchView(self.store, Transaction())
        decision, _dup = self._decide_safely(raw, sha256_hex(raw.data), view, self.context())
        return decision, self.last_triage

    def _decide_safely(self, raw: RawMessage, sha: str, view: BatchView, ctx: Context,
                       prep: Prepared | None = None) -> tuple[Decision, str | None]:
        try:
            return self._decide(raw, sha, view, ctx, None if prep is None or prep.failed else prep)
        except Exception as exc:  # one bad message must never stop the daemon or the batch
            log.error("internal error on message %s: %s at %s", sha[:12], type(exc).__name__,
                      where(exc))
            return quarantined(raw.key, sha, None, f"internal error ({type(exc).__name__})",
                               ctx), None

    def _decide(self, raw: RawMessage, sha: str, view: BatchView, ctx: Context,
                prep: Prepared | None) -> tuple[Decision, str | None]:
        if len(raw.data) > self.config.limits.max_message_bytes:
            return quarantined(raw.key, sha, None, "message larger than the size limit", ctx), None
        if self.store.tries[raw.key] > MAX_ATTEMPTS:
            return quarantined(raw.key, sha, None, "processing failed repeatedly", ctx), None
        if prep is None:
            env, mid = envelope_of(raw.data)
            reason = machine_reason(env, self.config.conduct_address)
        else:
            mid, reason = prep.message_id, prep.machine
        earlier = view.duplicate_of(sha, mid)
        if earlier is not None:
            again = Decision(raw.key, sha, mid, earlier.outcome, earlier.folder, "duplicate",
                             related_case=earlier.case_id)
            return again, earlier.key
        if reason is not None:
            return dropped(raw.key, sha, mid, reason), None
        msg, unparseable = (prep.message, prep.unparseable) if prep is not None else (None, None)
        if msg is None and unparseable is None:
            # Imported where used: with a reader process, the daemon never loads these itself.
            from mailproc.parse import UnparseableMessage, parse_message

            try:
                msg = parse_message(raw.data)
            except UnparseableMessage as exc:
                unparseable = exc.reason
        if msg is None:
            return quarantined(raw.key, sha, mid, f"unparseable: {unparseable}", ctx), None
        inbound = Inbound(raw.key, sha, msg)
        if msg.from_ and normalise_email(msg.from_.email) in self.removed:
            return removed_member(inbound, view, ctx), None
        member = self.config.member_by_email(msg.from_.email) if msg.from_ else None
        if member is not None:
            from mailproc.memberflow import member_mail

            decided = member_mail(self, inbound, raw.data, member, view, ctx)
            if decided is not None:
                return decided, None
        routed = route(inbound, view, ctx)
        if routed is not None:
            return routed, None
        return self._report(inbound, raw.data, view, ctx, prep), None

    def _report(self, inbound: Inbound, raw: bytes, view: BatchView, ctx: Context,
                prep: Prepared | None = None) -> Decision:
        msg = inbound.message
        detection, translation, pending = self.read(msg, prep)
        triage = self.last_triage = None
        if self.rules is not None:
            facts = triage_input(msg, len(raw), detection.language,
                                 translation.text if translation else None)
            triage = self.last_triage = evaluate(self.rules, facts)
            ruled = rule_outcome(inbound, raw, triage, detection.language, ctx)
            if ruled is not None:
                return ruled
        fields = prep.fields if prep is not None and translation is None else None
        gathered = self.gather(msg, detection, translation, pending, triage, fields)
        decision, plan = open_case(inbound, gathered, view, ctx)
        if plan is not None:
            translation = None
            if plan.wants_translation and self.translator is not None:
                translation = self.translator.translate(
                    ack_translation_source(plan, ctx), "en", plan.target_language,
                    timeout=self.config.translation.ack_wait_seconds)
            attach_ack(decision, plan, translation, ctx)
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

    def read(self, msg: ParsedMessage,
             prep: Prepared | None = None) -> tuple[Detection, Translation | None, bool]:
        """Language and translation (within the acknowledgement's short budget)."""
        from mailproc.detect import detect_language

        detection = Detection(prep.language, prep.probability) \
            if prep is not None and prep.language is not None else \
            detect_language(f"{msg.subject}\n{msg.text}", self.config.committee_languages)
        translation, pending = self.translate_report(msg.text, detection.language,
                                                     self.config.translation.ack_wait_seconds)
        return detection, translation, pending

    def gather(self, msg: ParsedMessage, detection: Detection, translation: Translation | None,
               pending: bool, triage: TriageDecision | None = None,
               fields: ReportFields | None = None) -> Gathered:
        """Report fields (unless extracted already) and stored attachments, for a new case."""
        if fields is None:
            fields = report_fields(msg, translation.text if translation else None,
                                   detection.language, self.config.conduct_address)
        return Gathered(detection, translation, pending, fields, self._attachments(msg), triage)

    def translate_report(self, text: str, language: str,
                         budget: float) -> tuple[Translation | None, bool]:
        """(translation, pending): pending when one is wanted but not at hand in `budget`."""
        target = self.config.committee_language
        if self.translator is None or \
                not needs_translation(language, text, self.config.committee_languages):
            return None, False
        result = self.translator.translate(text, language, target, timeout=budget)
        return result, result is None

    def retry_translations(self, limit: int = 20) -> int:
        """Translate cases opened while the translator was unavailable; returns how many."""
        pending = sorted(self.store.translation_pending)[:limit]
        if not pending or self.translator is None or not self.translator.available():
            return 0
        from mailproc.extract import extract_report

        ctx, txn, done = self.context(), Transaction(), 0
        for case_id in pending:
            case = self.store.get_case(case_id)
            if case is None or not case.translation_pending or not case.language:
                continue
            result = self.translator.translate(case.original_text, case.language,
                                               self.config.committee_language)
            if result is None:
                break  # the translator is down again; the next run retries
            ignore = [self.config.conduct_address] + (
                [case.reporter.email] if case.reporter.email else [])
            fields = extract_report(case.original_text, result.text, case.language,
                                    ignore_emails=ignore)
            decision = translation_arrived(case, result, fields, ctx)
            assert decision.case is not None
            txn.cases[case_id] = decision.case
            txn.diary.extend(decision.diary)
            txn.outgoing.extend(decision.outgoing)
            txn.message_index.update(decision.message_index)
            done += 1
        self.store.commit(txn)
        return done

    def _attachments(self, msg: ParsedMessage) -> tuple[AttachmentRecord, ...]:
        cap = self.config.limits.max_attachment_bytes
        records = []
        for att in msg.attachments:
            if att.size > cap:
                records.append(AttachmentRecord(
                    filename=att.filename, content_type=att.content_type, size=att.size,
                    sha256=None, note=f"kept out of the case: {att.size} bytes is over the "
                                      f"{cap}-byte limit; the full message is in the archive"))
                continue
            sha = sha256_hex(att.payload) if self.dry_run else self.store.put_blob(att.payload)
            records.append(AttachmentRecord(filename=att.filename,
                                            content_type=att.content_type,
                                            size=att.size, sha256=sha))
        return tuple(records)


def where(exc: BaseException) -> str:
    """file:line of the innermost frame, for logs that must not carry exception text."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"
