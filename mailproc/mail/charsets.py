"""Text decoding for inbound mail: body charsets, raw 8-bit headers and RFC 2047 encoded words.

Legacy labels are read as the superset their senders really use (GB2312 as GB18030, Shift_JIS as
cp932, EUC-KR as cp949, ISO-8859-1 as windows-1252, as browsers do). A label that is unknown or
wrong never raises: the text falls back to UTF-8, then windows-1252/Latin-1, and a defect says so.
"""

from __future__ import annotations

import codecs
import re
from email.errors import HeaderParseError
from email.header import decode_header
from functools import lru_cache

_SUPERSETS: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "euc-cn": ("gb18030",),
    "cp936": ("gb18030",),
    "gb18030": ("gb18030",),
    "big5": ("big5hkscs", "cp950"),
    "x-x-big5": ("big5hkscs", "cp950"),
    "big5-hkscs": ("big5hkscs", "cp950"),
    "cn-big5": ("big5hkscs", "cp950"),
    "shift_jis": ("cp932", "shift_jis"),
    "shift-jis": ("cp932", "shift_jis"),
    "sjis": ("cp932",),
    "x-sjis": ("cp932",),
    "ms_kanji": ("cp932",),
    "windows-31j": ("cp932",),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2"),
    "euc-kr": ("cp949",),
    "ks_c_5601-1987": ("cp949",),
    "ks_c_5601": ("cp949",),
    "ksc5601": ("cp949",),
    "x-windows-949": ("cp949",),
    "iso-8859-1": ("cp1252", "latin-1"),
    "latin1": ("cp1252", "latin-1"),
    "iso-8859-8-i": ("iso8859_8",),
    "x-mac-cyrillic": ("mac_cyrillic",),
    "x-mac-roman": ("mac_roman",),
    "unicode-1-1-utf-7": ("utf-7",),
}
# Text codecs Python accepts that no mail should ever be decoded with.
_REFUSED = frozenset({"unicode-escape", "raw-unicode-escape", "undefined", "idna", "punycode"})
_MAX_WORDS_VALUE = 16 * 1024  # the stdlib decoder is quadratic in the number of encoded words
_SURROGATE = re.compile("[\ud800-\udfff]")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r|\n")
_META_CHARSET = re.compile(
    rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.I
)


@lru_cache(maxsize=256)
def codecs_for(label: str | None) -> tuple[str, ...] | None:
    """Python codecs to try for a MIME charset label, best first; None when it is unknown."""
    name = (label or "utf-8").strip().strip("\"'").strip().lower()
    if name in _SUPERSETS:
        return _SUPERSETS[name]
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED:
        return None
    return (info.name,)


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode text by its declared charset; on failure fall back and return a defect string."""
    names = codecs_for(charset)
    for name in names or ():
        try:
            text = data.decode(name)
            text.encode("utf-8")  # utf-7 and friends can yield lone surrogates
            return text, None
        except UnicodeError:
            continue
    text, used = _fallback(data)
    label = _printable((charset or "none").strip().strip("\"'")[:40].lower())
    problem = "unknown" if names is None else "does not fit the bytes"
    return text, f"charset {label!r} {problem}, decoded as {used}"


def _fallback(data: bytes) -> tuple[str, str]:
    """UTF-8 if it is UTF-8 with little damage, else windows-1252, else Latin-1 (never fails)."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "replace")
    damaged = text.count("\ufffd")
    intact = sum(1 for ch in text if ord(ch) > 127) - damaged
    if intact > damaged:  # real multi-byte UTF-8 around a few bad bytes: damaged UTF-8
        return text, "utf-8 with replacement"
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def unfold(raw: str) -> str:
    """Undo header folding (RFC 5322 2.2.3); stray line breaks become nothing."""
    return _FOLD.sub("", raw)


def html_meta_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in a <meta> tag near its top, if any."""
    found = _META_CHARSET.search(data[:4096])
    return found.group(1).decode("ascii") if found else None


def decode_header_value(
    raw: str, hint: str | None, defects: list[str], name: str, words: bool = True
) -> str:
    """Decode a header value: unfold, raw 8-bit bytes, then RFC 2047 words (if `words`)."""
    value = unfold(raw)
    if not value.isascii():
        value = _decode_8bit(value, hint, defects, name)
    if words and "=?" in value and len(value) > _MAX_WORDS_VALUE:
        defects.append(f"{name[:40]}: too long to decode encoded words")
    elif words and "=?" in value:
        value = _decode_words(value, defects, name)
    return _one_line(value).strip()


def header_text(raw: str) -> str:
    """A header value as the stdlib parser keeps it, unfolded, with raw 8-bit bytes decoded
    (encoded words are left as they are): never a lone surrogate, never raises."""
    return decode_header_value(raw, None, [], "", words=False)


def decode_words(value: str, defects: list[str], name: str) -> str:
    """RFC 2047 encoded words of a value whose raw bytes are decoded already."""
    if "=?" not in value:
        return value.strip()
    if len(value) > _MAX_WORDS_VALUE:
        defects.append(f"{name[:40]}: too long to decode encoded words")
        return value.strip()
    return _one_line(_decode_words(value, defects, name)).strip()


def _one_line(text: str) -> str:
    """A line break decoded from a header (RFC 2047 words can carry CR and LF; raw bytes can
    be NEL or a line separator) is read as a space: a header value is one line wherever it
    goes next (our replies, a scrubbed copy)."""
    lines = text.splitlines()
    return " ".join(lines) if len(lines) > 1 or text[-1:] in _BREAKS else text


_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _printable(label: str) -> str:
    """A charset label fit for a defect string (its raw bytes could be anything)."""
    return label.encode("ascii", "replace").decode("ascii")


def _has_escapes(value: str) -> bool:
    """Whether `value` holds raw bytes as the stdlib parser keeps them (lone surrogates)."""
    return _SURROGATE.search(value) is not None


def _decode_8bit(value: str, hint: str | None, defects: list[str], name: str) -> str:
    """Raw bytes in a header (RFC 6532 allows UTF-8; legacy mailers send their own charset).

    The stdlib parser keeps each byte over 127 as a lone surrogate; text without any is decoded
    already (a value read twice, or built from a str) and is returned as it is.
    """
    if not _has_escapes(value):
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no parser makes from bytes: only "?" can stand in
        data = value.encode("utf-8", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text, defect = decode_bytes(data, hint)
    defects.append(f"{name[:40]}: raw 8-bit bytes, " + (defect or f"decoded as {hint}"))
    return text


def _decode_words(value: str, defects: list[str], name: str) -> str:
    """RFC 2047 by the stdlib, which rejoins a character split across two encoded words."""
    try:
        chunks = decode_header(value)
    except (HeaderParseError, ValueError, LookupError):
        defects.append(f"{name[:40]}: malformed encoded-word")
        return value
    # decode_header turns the unencoded text back into bytes with raw-unicode-escape
    plain = "ascii" if value.isascii() else "raw-unicode-escape"
    out: list[str] = []
    for data, charset in chunks:
        if isinstance(data, str):
            out.append(data)
        elif charset is None or charset == "unknown-8bit":
            out.append(data.decode(plain, "replace"))
        else:
            text, defect = decode_bytes(data, charset)
            if defect:
                defects.append(f"{name[:40]}: {defect}")
            out.append(text)
    return "".join(out)
