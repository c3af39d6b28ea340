"""Inbound mail: raw bytes to a `ParsedMessage`, or `UnparseableMessage` with a content-free reason.

Who does what, as measured: stdlib `email` (compat32) builds the MIME tree once (policy.default
re-parses Content-Type on every lookup: 3-10x slower); policy.default's header parser reads only
attachment parameters (RFC 2231, 2047 in quotes, raw UTF-8); charsets and RFC 2047: `charsets`;
mail-parser reads addresses and dates (`headerfields`), not bodies: ISO-2022-JP came back undecoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value

from mailproc.mail.charsets import (
    decode_bytes,
    decode_header_value,
    decode_words,
    html_meta_charset,
)
from mailproc.mail.headerfields import addresses, date, message_id, message_ids, sender
from mailproc.mail.htmltext import html_to_text
from mailproc.model.parsed import ParsedAttachment, ParsedMessage

MAX_DEPTH = 100  # MIME nesting; real mail stays under 20, the stdlib parser dies near 1,000
MAX_HTML = 256 * 1024  # characters of one HTML body converted to text
_PARSER = BytesParser(policy=policy.compat32)
_SERIALISE = policy.compat32.clone(mangle_from_=False, max_line_length=0)
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_BODY_TYPES = frozenset({"text/plain", "text/html"})
_EXTENSIONS = {
    "application/octet-stream": ".bin",
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "text/rfc822-headers": ".txt",
    "application/pgp-signature": ".asc",
}


class UnparseableMessage(Exception):
    """Raised with a short, content-free reason (e.g. 'no headers', 'nesting too deep')."""

    reason: str

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse one raw RFC 5322 message; anything that cannot be read raises UnparseableMessage."""
    try:
        data = bytes(raw)
        if not data.strip():
            raise UnparseableMessage("empty input")
        return _parse(data)
    except UnparseableMessage:
        raise
    except RecursionError:
        raise UnparseableMessage("nesting too deep") from None
    except Exception as exc:  # chained text could carry content: keep only the class name
        raise UnparseableMessage(f"parser error: {type(exc).__name__}") from None


# --------------------------------------------------------------------------- body and parts


@dataclass
class _Walk:
    """What a walk over the MIME tree has collected so far."""

    linesep: str
    defects: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    from_html: bool = False
    charset: str | None = None  # of the first body part: a hint for raw 8-bit headers
    attachments: list[ParsedAttachment] = field(default_factory=list)
    parts: int = 0
    cache: dict[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


def _visit(part: Message, w: _Walk, depth: int, body: bool) -> None:
    """Sort one part into body text or attachments; `body` False drops inline text renderings."""
    if depth > MAX_DEPTH:
        raise UnparseableMessage("nesting too deep")
    index, w.parts = w.parts, w.parts + 1
    w.defects.extend(f"part {index}: {type(d).__name__}" for d in part.defects)
    ctype = part.get_content_type()
    if part.is_multipart() and ctype.startswith("multipart/"):
        _visit_children(part, ctype, w, depth, body)
    elif part.is_multipart():  # message/*: a mail of its own, never part of our body
        w.attachments.append(_attachment(part, ctype, _message_bytes(part, w, index), w))
    elif _is_body_text(part, ctype):
        if body:
            _add_text(part, ctype, w, index)
    else:
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        w.attachments.append(_attachment(part, ctype, data, w))


def _visit_children(part: Message, ctype: str, w: _Walk, depth: int, body: bool) -> None:
    """Visit a container's children; alternatives and related parts yield one body only."""
    children = [c for c in part.get_payload() if isinstance(c, Message)]
    chosen: Message | None = None
    if body and ctype == "multipart/alternative":
        chosen = _best_alternative(children, w)
    elif body and ctype == "multipart/related" and children:
        start = _param(part, "start").strip()
        roots = [c for c in children if start and str(c.get("content-id", "")).strip() == start]
        chosen = roots[0] if roots else children[0]
    for child in children:
        _visit(child, w, depth + 1, body if chosen is None else child is chosen)


def _best_alternative(children: list[Message], w: _Walk) -> Message | None:
    """Prefer text/plain, then a nested container (HTML with images), then HTML; skip blanks."""

    def rank(c: Message) -> int:
        ctype = c.get_content_type()
        if c.is_multipart():
            return 1 if ctype.startswith("multipart/") else 3
        return {"text/plain": 0, "text/html": 2}.get(ctype, 3) if _is_body_text(c, ctype) else 3

    for child in sorted(children, key=rank):
        if rank(child) == 3:
            break
        if child.is_multipart() or _leaf_text(child, child.get_content_type(), w)[0]:
            return child
    return None


def _is_body_text(part: Message, ctype: str) -> bool:
    """Inline text/plain or text/html without a file name is meant to be read as the body."""
    if ctype not in _BODY_TYPES and not ctype.startswith("multipart/"):
        return False  # a multipart that did not split (no boundary) is shown as text
    return part.get_content_disposition() != "attachment" and not part.get_filename()


def _add_text(part: Message, ctype: str, w: _Walk, index: int) -> None:
    text, defects = _leaf_text(part, ctype, w)
    w.defects.extend(f"part {index}: {defect}" for defect in defects)
    if text:
        w.texts.append(text)
        w.from_html = w.from_html or ctype == "text/html"
        w.charset = w.charset or part.get_content_charset()


def _leaf_text(part: Message, ctype: str, w: _Walk) -> tuple[str, tuple[str, ...]]:
    """Readable text of one leaf part and its defects; cached (alternatives are tried first)."""
    if id(part) in w.cache:
        return w.cache[id(part)]
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    charset = part.get_content_charset()
    if ctype == "text/html" and charset is None:
        charset = html_meta_charset(data)
    text, defect = decode_bytes(data, charset)
    defects = (defect,) if defect else ()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if ctype == "text/html":
        if len(text) > MAX_HTML:  # html2text needs ~1.3 s per MB; no report is this long
            text, defects = text[:MAX_HTML], (*defects, "html too long, only its start converted")
        text = html_to_text(text)
    elif _param(part, "format").lower() == "flowed":
        text = _unflow(text, _param(part, "delsp").lower() == "yes")
    w.cache[id(part)] = result = (text.strip(), defects)
    return result


def _param(part: Message, name: str) -> str:
    """A Content-Type parameter as text ('' when absent), RFC 2231 values collapsed."""
    value = part.get_param(name)
    return collapse_rfc2231_value(value) if isinstance(value, tuple) else str(value or "")


def _unflow(text: str, delsp: bool) -> str:
    """Join RFC 3676 soft line breaks so that paragraphs read (and translate) as one line."""
    out: list[tuple[int, str]] = []  # (quote depth, text)
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        body = line[depth:]
        body = body[1:] if body.startswith(" ") else body  # undo space-stuffing
        prev = out[-1] if out else None
        if prev is not None and prev[0] == depth and prev[1].endswith(" ") and prev[1] != "-- ":
            out[-1] = (depth, (prev[1][:-1] if delsp else prev[1]) + body)
        else:
            out.append((depth, body))
    return "\n".join(">" * d + (" " if d and b else "") + b for d, b in out)


def _attachment(part: Message, ctype: str, payload: bytes, w: _Walk) -> ParsedAttachment:
    number = len(w.attachments) + 1
    name = _filename(part, w) or f"attachment-{number}{_EXTENSIONS.get(ctype, '.bin')}"
    return ParsedAttachment(filename=name, content_type=ctype, payload=payload)


def _filename(part: Message, w: _Walk) -> str | None:
    """The part's file name, decoded by policy.default's parameter parser, as a base name."""
    name: str | None = None
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        raw = _raw_header(part, header)
        if raw is None or param not in raw.lower():
            continue
        try:
            parsed = policy.default.header_factory(header, "".join(raw.splitlines()))
            value = getattr(parsed, "params", {}).get(param)
        except Exception:  # policy.default's parser has crashed on odd input before
            w.defects.append(f"{header}: unparseable parameters")
            continue
        name = str(value) if value else None
        if name:
            break
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:255] if base not in ("", ".", "..") else None


def _raw_header(part: Message, name: str) -> str | None:
    """A header's raw value (compat32 turns 8-bit values into Header objects on `get`)."""
    return next((str(v) for k, v in part.raw_items() if k.lower() == name), None)


def _message_bytes(part: Message, w: _Walk, index: int) -> bytes:
    """Serialise an attached message (or delivery-status blocks) back to bytes."""
    pol = _SERIALISE.clone(linesep=w.linesep)
    blocks = [b for b in part.get_payload() if isinstance(b, Message)]
    try:
        return w.linesep.encode().join(b.as_bytes(policy=pol) for b in blocks)
    except Exception:  # keep the message: the raw original stays in the archive
        w.defects.append(f"part {index}: attached message not serialisable")
        return b""


# --------------------------------------------------------------------------- message


def _parse(raw: bytes) -> ParsedMessage:
    msg = _PARSER.parsebytes(raw)
    if not any(_FIELD_NAME.fullmatch(name) for name, _ in msg.raw_items()):
        raise UnparseableMessage("no headers")
    w = _Walk(linesep="\r\n" if b"\r\n" in raw[:4096] else "\n")
    _visit(msg, w, 0, True)
    defects = w.defects
    # Raw 8-bit bytes decoded once, here (the body's charset is the hint): every later reader,
    # message ids and dates included, gets text, never the parser's surrogate escapes.
    raw_items = [(name, decode_header_value(str(value), w.charset, defects, name.lower(),
                                            words=False)) for name, value in msg.raw_items()]
    headers = tuple((name, decode_words(value, defects, name.lower()))
                    for name, value in raw_items)
    first: dict[str, str] = {}
    for name, value in raw_items:
        first.setdefault(name.lower(), value)
    subject = next((v for k, v in headers if k.lower() == "subject"), "")
    return ParsedMessage(
        message_id=message_id(first.get("message-id"), defects),
        subject=subject,
        from_=sender(first.get("from"), w.charset, defects),
        to=addresses(_all(raw_items, "to"), "to", w.charset, defects),
        cc=addresses(_all(raw_items, "cc"), "cc", w.charset, defects),
        reply_to=addresses(_all(raw_items, "reply-to"), "reply-to", w.charset, defects),
        date=date(first.get("date"), defects),
        in_reply_to=message_ids(first.get("in-reply-to", "")),
        references=message_ids(first.get("references", "")),
        headers=headers,
        content_type=msg.get_content_type(),
        text="\n\n".join(w.texts),
        text_from_html=w.from_html,
        attachments=tuple(w.attachments),
        defects=tuple(dict.fromkeys(defects)),  # one header can be read twice (value, addresses)
    )


def _all(items: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in items if key.lower() == name]
