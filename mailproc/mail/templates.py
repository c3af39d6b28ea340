"""Mail templates: load, compile, check and render `templates/<lang>/<name>.txt.j2`.

Owns the file format (a `Subject:` line, a blank line, the body), the sandboxed Jinja2 setup,
every error as the file's own `file:line`, and the sample contexts `check()` renders with.
How a rendered plain-text mail is shaped (wrapping, one-line subjects) is `mailproc.mail.plaintext`.

Compiling all ~100 template parts takes 0.1-0.2 s, a third of the daemon's start, and a run
uses a few of them (acknowledgements and notices). So a part is compiled when it is first
rendered; at load each part is only parsed, and the filters and tests it names are looked
up (the two things Jinja's compiler would refuse), so that a broken template is still
reported at start, with its file and line. With a `cache_dir` (the daemon passes one inside
its private data directory) Jinja2's own bytecode cache keeps compiled code keyed by each
source's checksum: a part found there is loaded at once and not parsed again, an edited one
is checked and compiled again. A cache that cannot be read or written is only slower.
Measured: the renderer at start 0.19 -> 0.05 s on a new data directory.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mailproc.config.settings import LANG_CODE
from mailproc.config.yamlsource import ConfigError, Problem
from mailproc.mail.plaintext import format_date, keep_lines, one_line, tidy_body

__all__ = ["SAMPLE_CONTEXTS", "Rendered", "Renderer", "TemplateProblem", "format_date"]

log = logging.getLogger("mailproc.render")

SUFFIX = ".txt.j2"
FALLBACK_LANGUAGE = "en"
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
SUBJECT_LINE = re.compile(r"^Subject:[ \t]*(.*)$", re.IGNORECASE)
BODY_FIRST_LINE = 3  # line 1 is the Subject line, line 2 is blank

Source = tuple[str, str, Callable[[], bool]]


@dataclass(frozen=True)
class Rendered:
    """One rendered mail: a one-line subject and a plain-text body."""

    subject: str  # one line, no newline
    body: str  # plain text, ends with a newline
    language: str  # the language of the template actually used
    template: str  # "ack", "notice", ...


class TemplateProblem(Exception):
    """A template failed to render; `problem` says where (file and line) and why."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


@dataclass
class _Part:
    name: str  # the loader's name for it: "<lang>/<name>#subject" or "#body"
    source: str
    first_line: int  # line of the file where this part's line 1 sits
    template: jinja2.Template | None  # None until first rendered (unless the cache had it)

    def file_line(self, line: int) -> int:
        return self.first_line + max(line, 1) - 1

    def compiled(self, env: jinja2.Environment) -> jinja2.Template:
        """The compiled template, compiled now (through the bytecode cache) on first use."""
        if self.template is None:
            self.template = env.get_template(self.name)
        return self.template


@dataclass(frozen=True)
class _Compiled:
    file: str
    subject: _Part
    body: _Part


class Renderer:
    """Every template of a templates directory, checked at load and compiled on first use."""

    def __init__(self, templates_dir: Path, *, cache_dir: Path | None = None) -> None:
        self._dir = templates_dir
        self._sources: dict[str, Source] = {}
        # Immutable: a template cannot change the lists and dicts callers pass in.
        self._env = ImmutableSandboxedEnvironment(
            loader=jinja2.FunctionLoader(self._sources.get), undefined=jinja2.StrictUndefined,
            autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
            auto_reload=False, bytecode_cache=_bytecode_cache(cache_dir))
        self._env.filters["date"] = format_date
        self._env.filters["verbatim"] = keep_lines
        self._templates: dict[tuple[str, str], _Compiled] = {}
        problems: list[Problem] = []
        for lang, name, path in _template_files(templates_dir, problems):
            try:
                self._templates[(name, lang)] = self._compile(path, f"{lang}/{name}")
            except ConfigError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ConfigError(problems)

    def languages(self, name: str) -> list[str]:
        """The languages a template exists in, sorted."""
        return sorted(lang for n, lang in self._templates if n == name)

    def has(self, name: str, lang: str) -> bool:
        """Whether template `name` exists in language `lang`."""
        return (name, lang) in self._templates

    def render(self, name: str, lang: str, context: Mapping[str, object]) -> Rendered:
        """Render one template; KeyError if absent, TemplateProblem if it fails."""
        compiled = self._templates.get((name, lang))
        if compiled is None:
            raise KeyError(f"no template {lang}/{name}{SUFFIX}")
        subject = _render_part(self._env, compiled.subject, compiled.file, context)
        body = _render_part(self._env, compiled.body, compiled.file, context)
        return Rendered(one_line(subject), tidy_body(body), lang, name)

    def check(self) -> list[Problem]:
        """Render every template in every language with its sample context; list problems."""
        problems: list[Problem] = []
        for name in sorted({n for n, _ in self._templates} | set(SAMPLE_CONTEXTS)):
            problems.extend(self._check_name(name))
        return list(dict.fromkeys(problems))

    def _check_name(self, name: str) -> list[Problem]:
        problems = []
        if not self.has(name, FALLBACK_LANGUAGE):
            problems.append(Problem(self._path(FALLBACK_LANGUAGE, name), 1, "",
                                    f"template {name!r} has no English version; English is the "
                                    f"fallback for every language, add it"))
        sample = SAMPLE_CONTEXTS.get(name)
        for lang in self.languages(name):
            compiled = self._templates[(name, lang)]
            if sample is None:
                problems.append(Problem(compiled.file, 1, "",
                                        f"no sample context for template {name!r} in "
                                        "mailproc.mail.templates.SAMPLE_CONTEXTS, so it cannot be "
                                        "checked"))
            else:
                problems.extend(self._check_one(name, lang, compiled, sample))
        return problems

    def _check_one(self, name: str, lang: str, compiled: _Compiled,
                   sample: Mapping[str, object]) -> list[Problem]:
        known = set(sample) | set(self._env.globals)
        problems = [Problem(compiled.file, line, "", message)
                    for part in (compiled.subject, compiled.body)
                    for line, message in self._unknown_names(part, known)]
        for variant in _variants(sample):
            try:
                rendered = self.render(name, lang, variant)
            except TemplateProblem as exc:
                problems.append(exc.problem)
                continue
            if not rendered.subject:
                problems.append(Problem(compiled.file, 1, "", "the Subject line renders empty"))
        return problems

    def _unknown_names(self, part: _Part, known: set[str]) -> Iterator[tuple[int, str]]:
        """Variables a template reads that its sample context lacks, even in branches not taken."""
        ast = self._env.parse(part.source)
        for var in sorted(meta.find_undeclared_variables(ast) - known):
            line = next((n.lineno for n in ast.find_all(nodes.Name) if n.name == var), 1)
            yield part.file_line(line), f"{var!r} is not in the context for this template"

    def _compile(self, path: Path, key: str) -> _Compiled:
        file = str(path)
        parts, problems = [], []
        for part, source, first_line in zip(("subject", "body"), _split(path, file),
                                            (1, BODY_FIRST_LINE), strict=True):
            name = f"{key}#{part}"
            self._sources[name] = (source, file, lambda: True)
            cached = self._cached(name, source, file)
            if cached is None:
                problems += [Problem(file, first_line + line - 1, "", message)
                             for line, message in self._errors(source)]
            parts.append(_Part(name, source, first_line, cached))
        if problems:
            raise ConfigError(problems)
        return _Compiled(file, parts[0], parts[1])

    def _cached(self, name: str, source: str, file: str) -> jinja2.Template | None:
        """The part from the bytecode cache, when it holds code for exactly this source (code
        is only ever stored there after it compiled)."""
        cache = self._env.bytecode_cache
        if cache is None:
            return None
        code = cache.get_bucket(self._env, name, file, source).code
        if code is None:
            return None
        return self._env.template_class.from_code(self._env, code, self._env.make_globals(None),
                                                  lambda: True)

    def _errors(self, source: str) -> list[tuple[int, str]]:
        """(line, message) of what would stop a part from compiling: a syntax error, or a
        filter or test that does not exist (parsing lets those through, Jinja's compiler
        does not; an unknown one is refused here even in a branch, where Jinja would only
        fail once the branch runs)."""
        try:
            ast = self._env.parse(source)
        except jinja2.TemplateSyntaxError as exc:
            return [(exc.lineno or 1, exc.message or "syntax error")]
        errors = [(node.lineno, f"no filter named {node.name!r}")
                  for node in ast.find_all(nodes.Filter) if node.name not in self._env.filters]
        errors += [(node.lineno, f"no test named {node.name!r}")
                   for node in ast.find_all(nodes.Test) if node.name not in self._env.tests]
        return errors

    def _path(self, lang: str, name: str) -> str:
        return str(self._dir / lang / f"{name}{SUFFIX}")


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja2's file cache, where a failed write (full disk, permissions) is not an error."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:
            log.warning("template cache not written (%s): templates compile at each start",
                        exc.strerror)


def _bytecode_cache(directory: Path | None) -> jinja2.BytecodeCache | None:
    if directory is None:
        return None
    try:
        # Every directory made on the way is private (0700): the cache lives inside the data
        # directory, which the daemon refuses to use when others can read it.
        for missing in reversed([d for d in (directory, *directory.parents) if not d.exists()]):
            missing.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        log.warning("no template cache at %s (%s)", directory, exc.strerror)
        return None
    return _QuietBytecodeCache(str(directory), "%s.jinja")


def _template_files(root: Path, problems: list[Problem]) -> Iterator[tuple[str, str, Path]]:
    """(language, name, path) of every `<lang>/<name>.txt.j2`; other files are ignored."""
    if not root.is_dir():
        problems.append(Problem(str(root), 1, "", "templates directory not found"))
        return
    for lang_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if lang_dir.name.startswith("."):
            continue
        if not re.match(LANG_CODE, lang_dir.name):
            problems.append(Problem(str(lang_dir), 1, "", "not a language code: template "
                                    "folders are named by language (en, es, pt-BR...)"))
            continue
        for path in sorted(lang_dir.glob(f"*{SUFFIX}")):
            name = path.name[: -len(SUFFIX)]
            if re.match(NAME_PATTERN, name):
                yield lang_dir.name, name, path
            else:
                problems.append(Problem(str(path), 1, "", "template names use a-z, 0-9 and _ "
                                        "and start with a letter"))


def _split(path: Path, file: str) -> tuple[str, str]:
    """The Subject line's template and the body's template of one file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError([Problem(file, 1, "", f"cannot read: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(file, 1, "", "file is not valid UTF-8")]) from exc
    first, _, rest = text.partition("\n")
    blank, _, body = rest.partition("\n")
    match = SUBJECT_LINE.match(first)
    if match is None:
        raise ConfigError([Problem(file, 1, "", "the first line must be 'Subject: ...'")])
    if blank.strip():
        raise ConfigError([Problem(file, 2, "", "line 2 must be blank: it separates the "
                                   "Subject line from the body")])
    if not body.strip():
        raise ConfigError([Problem(file, BODY_FIRST_LINE, "", "the body is empty")])
    return match.group(1), body


def _render_part(env: jinja2.Environment, part: _Part, file: str,
                 context: Mapping[str, object]) -> str:
    try:
        return part.compiled(env).render(context)
    except Exception as exc:  # any failure of an admin-edited template is a TemplateProblem
        # What only Jinja's compiler refuses (a block defined twice...) shows on first use.
        compiled_at = exc.lineno if isinstance(exc, jinja2.TemplateSyntaxError) else None
        line = part.file_line(compiled_at or _template_line(exc, file))
        raise TemplateProblem(Problem(file, line, "", _describe(exc, context))) from exc


def _template_line(exc: BaseException, file: str) -> int:
    """The innermost template line in a traceback Jinja rewrote (its frames carry the file)."""
    line = 1
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == file:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(exc: Exception, context: Mapping[str, object]) -> str:
    # Jinja's messages name variables, attributes and types; other exceptions may quote the
    # values, which can be report text, so only their type is shown.
    if isinstance(exc, jinja2.UndefinedError):
        return f"{exc.message}; the context has: {', '.join(sorted(context))}"
    if isinstance(exc, jinja2.TemplateError):
        return f"{type(exc).__name__}: {exc.message}"
    return f"{type(exc).__name__} while rendering (details withheld: they may quote report data)"


def _variants(sample: Mapping[str, object]) -> Iterator[dict[str, object]]:
    """The sample, then one copy per bool flipped and per list emptied (nested mappings
    included), so that check() walks the branches a single render would miss."""
    yield dict(sample)
    for key, value in sample.items():
        if isinstance(value, bool):
            yield {**sample, key: not value}
        elif isinstance(value, list) and value:
            yield {**sample, key: []}
        elif isinstance(value, Mapping):
            for inner in _variants(value):
                if inner != value:
                    yield {**sample, key: inner}


_CASE: dict[str, object] = {
    "id": "COC-2026-0007", "code_name": "amber falcon",
    "received_at": "2026-03-14 09:30 UTC", "subject": "Something that happened at the sprint",
}
_COMMITTEE: dict[str, object] = {
    "committee_name": "Example Community Code of Conduct committee",
    "conduct_address": "conduct@example.org",
}

# The context each template is documented to receive: check() renders with these, and they
# are the contract for callers.
SAMPLE_CONTEXTS: dict[str, dict[str, object]] = {
    "ack": {
        "case": _CASE, "reporter_name": "Sam Rivera", "anonymous": False, "escrow": False,
        "urgent": False, "on_behalf": False,
        "committee": ["Alice Moreno", "Bashir Rahimi", "Chen Wei"],
        "community_name": "the Example Community",
        "emergency_contact": "the local emergency number (112 in Europe, 911 in North America)",
        "timeline": {"acknowledge_hours": 24, "follow_up_days": 7, "update_every_days": 7},
        **_COMMITTEE,
    },
    "notice": {
        "member_name": "Alice Moreno",
        "case": {"id": "COC-2026-0007", "code_name": "amber falcon",
                 "received_at": "2026-03-14 09:30 UTC", "urgent": True, "escrow": False,
                 "language": "Spanish"},
        "reported": [{"name": "Jordan Example", "handle": "@jordan", "email": None,
                      "automatic": True},
                     {"name": None, "handle": "jx_42", "email": "jx@example.net",
                      "automatic": False}],
        "where": None,
        "urgent_reasons": ["physical-danger", "threat"],
        **_COMMITTEE,
    },
    "quarantine_alert": {
        "reason": "message could not be parsed (RecursionError)",
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "received_at": "2026-03-14 09:30 UTC", "folder": "Quarantine",
    },
    "translated_notice": {"language_name": "Spanish", "original_language_name": "English"},
    "route_forward": {
        "rule": "route-sponsorship", "route_name": "sponsorship",
        "conduct_address": "conduct@example.org",
        "committee_name": "Example Community Code of Conduct committee",
    },
    "route_reply": {
        "route_name": "sponsorship", "route_address": "sponsors@example.org",
        "subject": "Sponsoring your conference", "conduct_address": "conduct@example.org",
        "committee_name": "Example Community Code of Conduct committee",
        "community_name": "the Example Community",
    },
    "followup_relay": {
        "member_name": "Bashir Rahimi", "case": _CASE, "urgent": True,
        "urgent_reasons": ["physical-danger"], "via_key": False, "engine": "libretranslate",
        "text": "He knows where I live. He was outside my hotel tonight.",
        "original": "Él sabe dónde vivo. Esta noche estaba fuera de mi hotel.",
        "committee_name": "Example Community Code of Conduct committee",
    },
    "urgent_notice": {
        "member_name": "Bashir Rahimi", "case": _CASE, "urgent_reasons": ["threat"],
        "committee_name": "Example Community Code of Conduct committee",
    },
    "auth_failed": {
        "member_name": "Alice Moreno", "reason": "dmarc=fail",
        "conduct_address": "conduct@example.org",
        "committee_name": "Example Community Code of Conduct committee",
    },
    "anonymous": {
        "case": {"id": "COC-2026-0007"},
        "committee_name": "Example Community Code of Conduct committee",
        "conduct_address": "conduct@example.org",
    },
    "followup_receipt": {
        "case": {"id": "COC-2026-0007"}, "held": False, "consent": None, "request": None,
        "committee_name": "Example Community Code of Conduct committee",
        "conduct_address": "conduct@example.org", "emergency_contact": "+1 555 0100",
    },
    "relay": {
        "member_name": "Bashir Rahimi", "from_name": "Alice Moreno",
        "text": "I can lead this one. Has anyone seen the chat logs?",
        "case": _CASE, "committee_name": "Example Community Code of Conduct committee",
    },
    "committee_update": {
        "member_name": "Bashir Rahimi", "lines": ["Motion 1 proposed: a warning."],
        "case": _CASE, "committee_name": "Example Community Code of Conduct committee",
    },
    "transcript": {
        "member_name": "Alice Moreno", "case": _CASE,
        "lines": ["#clear\n   -> noted: no conflict."],
        "committee_name": "Example Community Code of Conduct committee",
    },
    "disclosure": {
        "member_name": "Alice Moreno", "case": _CASE,
        "committee_name": "Example Community Code of Conduct committee",
        "report": {
            "status": "new", "language": "es", "subject": "Denuncia", "taker": None,
            "original_text": "Texto de la denuncia.", "translated_text": "Report text.",
            "translation_engine": "libretranslate", "translation_pending": False,
            "reporter": {"name": "Lucía", "email": "lucia@example.net", "anonymous": False,
                         "on_behalf_of": None},
            "triage": {"urgent": False, "priority": "P3", "category": "harassment"},
            "reported": [{"name": "Marcos", "handle": "@m", "email": None, "automatic": True}],
            "incident": {"when": "Saturday", "where": "room 3", "ongoing": None,
                         "witnesses": ["Ana"], "links": []},
            "attachments": [{"filename": "a.png", "content_type": "image/png", "size": 10,
                             "note": None}],
            "followups": [{"at": "2026-03-15T10:00:00+00:00", "via": "address",
                           "text": "Él sabe dónde vivo.",
                           "translated_text": "He knows where I live.",
                           "urgent_reasons": ["physical-danger"]}],
        },
        "related": {"count": 2, "outcomes": ["COC-2025-0003: closed (a warning)"],
                    "conflicted": 1, "highest": "A verbal or emailed warning"},
    },
    "committee_reply": {
        "case": {"id": "COC-2026-0007"}, "text": "Gracias por tu paciencia.",
        "original": "Thank you for your patience.",
        "committee_name": "Example Community Code of Conduct committee",
    },
    "escrow_consent": {
        "case": {"id": "COC-2026-0003"},
        "committee_name": "Example Community Code of Conduct committee",
    },
    "admin_alert": {
        "kind": "outbox-failing", "summary": "2 outgoing mail(s) undelivered for over 60 minutes",
        "details": ["ack for COC-2026-0001: SMTPConnectError"], "since": "2026-03-14 09:30 UTC",
    },
}

# Issue 5 (mailproc.deadlines.contexts builds these). Reporter-facing: update, searching, outcome.
# Committee-facing (reminder, escalation, digest, statement): no reporter identity, ever.
_DEADLINE_CASE: dict[str, object] = {**_CASE, "status": "investigating"}
del _DEADLINE_CASE["subject"]
SAMPLE_CONTEXTS.update({
    "update": {"case": _DEADLINE_CASE, "reporter_name": "Sam Rivera",
               "next_update": "2026-03-28", "news": "decided", **_COMMITTEE},
    "searching": {"case": _DEADLINE_CASE, "reporter_name": "Sam Rivera",
                  "next_update": "2026-03-16",
                  "emergency_contact": "the local emergency number (112 in Europe)",
                  **_COMMITTEE},
    "outcome": {"case": _DEADLINE_CASE, "reporter_name": "Sam Rivera",
                "outcome": "We found that the behaviour you reported broke our code of conduct. "
                           "The person has received a written warning.",
                "outcome_original": None,
                **_COMMITTEE},
    "reminder": {"case": _DEADLINE_CASE, "deadline": "decision",
                 "what": "a decision: a motion passed by the cleared members, or the case "
                         "closed",
                 "due_at": "2026-03-21 09:30 UTC", "due_in": "12 hours", "overdue_for": "",
                 "role": "", "nobody_cleared": False,
                 "actions": ["Propose a decision with #propose violation=yes|no "
                             "consequences=... PLAN.",
                             "Close the case with #close SUMMARY if it needs no decision."],
                 "next_steps": ["the case's lead (you)", "the secondary owner (Chen Wei)",
                                "the chair (Alice Moreno)"],
                 "next_in": "12 hours", "in_digest": True, **_COMMITTEE},
    "escalation": {"case": _DEADLINE_CASE, "deadline": "decision",
                   "what": "a decision: a motion passed by the cleared members, or the case "
                           "closed",
                   "due_at": "2026-03-21 09:30 UTC", "due_in": "", "overdue_for": "3 hours",
                   "role": "the case's lead", "nobody_cleared": False,
                   "actions": ["Vote on motion 1 with #vote yes, #vote no or #vote abstain."],
                   "next_steps": ["the chair (Alice Moreno)"], "next_in": "12 hours",
                   "in_digest": True, **_COMMITTEE},
    "digest": {
        "member_name": "Alice Moreno", "date": "2026-03-15",
        "cleared": [{"id": "COC-2026-0007", "code_name": "amber falcon",
                     "status": "investigating", "next_deadline": "decision",
                     "next_deadline_at": "2026-03-21 09:30 UTC", "reporter_wrote": 2,
                     "you_relayed": 3}],
        "notices": [{"id": "COC-2026-0008", "code_name": "quiet harbour",
                     "received_at": "2026-03-15 07:10 UTC"}],
        "overdue": [{"id": "COC-2026-0007", "code_name": "amber falcon",
                     "deadline": "decision", "due_at": "2026-03-14 09:30 UTC",
                     "overdue_for": "1 day and 2 hours", "holder": "lead: Bashir Rahimi"}],
        "routed": [{"key": "a1b2c3", "domain": "sponsor.example", "rule": "route-sponsorship",
                    "subject": "Sponsoring your conference", "at": "2026-03-14 18:02 UTC",
                    "reclaim": "#reclaim a1b2c3"}],
        **_COMMITTEE,
    },
    "statement": {"case": {"id": "COC-2026-0007", "code_name": "amber falcon"},
                  "summary": "During the sprint, a participant made repeated unwelcome "
                             "comments to others.",
                  "violation": True, "actions": ["A written warning"],
                  "community_name": "the Example Community", **_COMMITTEE},
})
