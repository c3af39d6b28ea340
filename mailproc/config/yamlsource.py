"""YAML files with line numbers: load a document and say where each key path came from.

Every admin-edited file (config, triage rules) goes through here so that validation errors read
`file:line: key.path: what is wrong`, one per problem, as STYLE.md asks.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, printable as `file:line: path: message`."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class ConfigError(Exception):
    """Raised with every problem found; `str()` prints one line each."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class YamlDocument:
    file: str
    data: Any
    lines: dict[Loc, int]  # key path -> 1-based line

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest known prefix of `loc` (1 when nothing is known)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# libyaml's safe loader when PyYAML was built with it (every wheel is): 10x faster to start.
LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader",
                                                                  yaml.SafeLoader)


def _parse(text: str, loader_class: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
           ) -> tuple[yaml.Node | None, Any]:
    """One parse gives both the nodes (for line numbers) and the data built from them."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def load_yaml(path: Path) -> YamlDocument:
    """Parse a YAML file, raising ConfigError with the line of a syntax error."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(name, 1, "", f"cannot read file: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(name, 1, "", "file is not valid UTF-8")]) from exc
    try:
        node, data = _parse(text, LOADER)
    except yaml.YAMLError:
        try:  # libyaml found a problem: PyYAML's own parser words it better, same line
            node, data = _parse(text, yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            raise ConfigError([Problem(name, line, "", f"YAML syntax: {exc.problem}")]) from exc
        except yaml.YAMLError as exc:
            raise ConfigError([Problem(name, 1, "", f"YAML: {exc}")]) from exc
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlDocument(name, data, lines)


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*loc, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), lines)


SECRET_HINT = ("a secret is never written in this file: name where it is read from, "
               "{env: VARIABLE} or {file: /path/to/file} (or {command: [program, args]})")


def problems_from_validation(doc: YamlDocument, error: ValidationError,
                             model: type[BaseModel] | None = None) -> list[Problem]:
    """Turn pydantic's errors into one Problem each, pointing at the offending line; with the
    model, an unknown key gets the nearest allowed one ("did you mean")."""
    problems = []
    for err in error.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key" + _did_you_mean(model, loc)
        elif err["type"] == "missing":
            message = "required key is missing"
        elif err["type"] == "model_type" and isinstance(err.get("input"), str | int | float) \
                and _expects_secret(model, loc):
            message = SECRET_HINT  # never the value itself: it is the secret
        problems.append(Problem(doc.file, doc.line_of(loc), format_loc(loc), message))
    return problems


def _did_you_mean(model: type[BaseModel] | None, loc: Loc) -> str:
    allowed = _fields_at(model, loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]}?"
    if allowed and len(allowed) <= 8:
        return f" (allowed here: {', '.join(sorted(allowed))})"
    return " (check the spelling; see the shipped file for the keys allowed)"


def _model_at(model: type[BaseModel] | None, loc: Loc) -> type[BaseModel] | None:
    """The model validating the mapping at `loc` (None when not a model, e.g. a dict)."""
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue  # an item of a list: the list's model is already in hand
        field = model.model_fields.get(str(part))
        model = _model_in(field.annotation) if field is not None else None
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside X, X | None, or list[X]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _fields_at(model: type[BaseModel] | None, loc: Loc) -> list[str]:
    found = _model_at(model, loc)
    if found is None:
        return []
    return [name for name, info in found.model_fields.items() if not info.exclude]


def _expects_secret(model: type[BaseModel] | None, loc: Loc) -> bool:
    """Whether the value at `loc` must be a Secret (a model with env/file/command)."""
    found = _model_at(model, loc)
    return found is not None and {"env", "file", "command"} <= set(found.model_fields)


def validate(doc: YamlDocument, model: type[M]) -> M:
    """Validate a loaded document against a pydantic model or raise ConfigError."""
    if not isinstance(doc.data, dict):
        raise ConfigError([Problem(doc.file, 1, "", "expected a mapping of keys at the top")])
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(doc, exc, model)) from exc
