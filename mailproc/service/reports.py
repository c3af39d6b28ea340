"""Gathering what a new report needs before the core opens its case.

The language comes from the message's `Prepared` reading; here the report is translated for
the committee (within the acknowledgement's short budget; later by `retry_translations` when
the translator is slow or down), its fields extracted from the original and the translation,
and its attachments stored as blobs. `#reclaim` and `#intake` (`memberflow`) gather the same
way as mail that arrives as a report.
"""

from __future__ import annotations

from mailproc.adapters.translation import GuardedTranslator
from mailproc.cases.intake import Gathered
from mailproc.config.settings import Config
from mailproc.model.parsed import ParsedMessage, ReportFields, Translation
from mailproc.model.records import AttachmentRecord
from mailproc.reading.detect import Detection
from mailproc.service.prepare import needs_translation, report_fields
from mailproc.store.store import Store, sha256_hex
from mailproc.triage.evaluate import TriageDecision


class ReportReader:
    """Translation, fields and attachments of a report; writes blobs unless a dry run."""

    def __init__(self, config: Config, store: Store, translator: GuardedTranslator | None,
                 dry_run: bool = False) -> None:
        self.config, self.store, self.translator = config, store, translator
        self.dry_run = dry_run

    def translate(self, msg: ParsedMessage, detection: Detection) -> tuple[Translation | None,
                                                                            bool]:
        """(translation, pending): pending when one is wanted but not at hand within the
        acknowledgement's budget (`translation.ack_wait_seconds`)."""
        if self.translator is None or not needs_translation(
                detection.language, msg.text, self.config.committee_languages):
            return None, False
        result = self.translator.translate(msg.text, detection.language,
                                           self.config.committee_language,
                                           timeout=self.config.translation.ack_wait_seconds)
        return result, result is None

    def translate_text(self, text: str, language: str | None) -> Translation | None:
        """A follow-up's text for the committee, within the acknowledgement's budget (None:
        not needed, or not at hand in time; the original is relayed then)."""
        if self.translator is None or language is None or not needs_translation(
                language, text, self.config.committee_languages):
            return None
        return self.translator.translate(text, language, self.config.committee_language,
                                         timeout=self.config.translation.ack_wait_seconds)

    def gather(self, msg: ParsedMessage, detection: Detection,
               triage: TriageDecision | None = None, fields: ReportFields | None = None,
               translated: tuple[Translation | None, bool] | None = None) -> Gathered:
        """Everything `cases.intake.open_case` needs of a report. `fields` extracted without
        a translation are used only when none came; `translated` when done already."""
        translation, pending = translated if translated is not None else \
            self.translate(msg, detection)
        if fields is None or translation is not None:
            fields = report_fields(msg, translation.text if translation else None,
                                   detection.language, self.config.conduct_address)
        return Gathered(detection, translation, pending, fields, self._attachments(msg), triage)

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
