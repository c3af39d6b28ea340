"""Names in Japanese and Chinese reports: fugashi + unidic-lite (人名) and jieba (`nr`).

Both libraries ship their dictionaries in their wheels and are imported only when a report
holds Japanese or Chinese text (fugashi ~15 ms and ~70 MB; jieba ~1 s and ~100 MB the first
time in a process). Roles as in `reading.names`: the writer introduces herself (私は…です,
我叫…) or signs the last line; a witness saw it (見ていた, 目撃, 看到, 目击); a reported person
is the agent of what was done (…に触られた, 被…骚扰, …对我…). No network, no clock.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from mailproc.reading.names import OTHER, REPORTED, WITNESS, WRITER, Mention

_KANA_OR_HAN = re.compile(r"[\u3040-\u30ff]")
_JA_HONORIFIC = ("さん", "氏", "様", "くん", "君", "ちゃん", "先生", "さま")
_JA_SELF_BEFORE = re.compile(r"(?:私は|わたしは|私の名前は|僕は|名前は)\s*$")
_JA_SELF_AFTER = re.compile(r"^\s*(?:と申します|といいます|です。|と言います)")
_JA_WITNESS = re.compile(
    r"^(?:の(?:目の)?前で|[^。！？、\n]{0,12}?(?:見て|見た|目撃|証人|見ていま|見ていた|一緒にいた))")
_JA_WITNESS_BEFORE = re.compile(r"(?:目撃者|証人)[はがも：:\s]*$")
_JA_REPORT = re.compile(
    r"^[^。！？\n]{0,40}?(?:され|られ|触|嫌がらせ|ハラスメント|セクハラ|脅|つきまと|暴言|侮辱"
    r"|怒鳴|送って|送られ|言われ|晒|私に|私を|私の)")
_ZH_SELF_BEFORE = re.compile(r"(?:我叫|我是|我的名字是|本人|我名叫)\s*$")
_ZH_WITNESS = re.compile(r"^[^。！？，,\n]{0,8}?(?:看到|看见|目击|作证|在场|也看|证人)")
# "当着周杰的面" (in front of 周杰): there, not the one who did it.
_ZH_WITNESS_BEFORE = re.compile(r"(?:(?:证人|目击者)[是有：:\s]*|当着|在场的)$")
_ZH_REPORT_BEFORE = re.compile(r"(?:被|遭到|受到|来自)\s*$")
_ZH_REPORT = re.compile(
    r"^[^。！？\n]{0,30}?(?:骚扰|对我|给我|跟踪|威胁|辱骂|摸|侮辱|纠缠|发了|发给我|说我|骂|推|打了"
    r"|公开了|曝光)")
_NAME_POS = frozenset({"nr", "nrfg", "nrt"})


@cache
def _tagger() -> Any:
    import fugashi

    return fugashi.Tagger()


@cache
def _jieba() -> Any:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)  # it announces its dictionary on stderr otherwise
    return jieba.posseg


def is_japanese(text: str) -> bool:
    """Kana mark Japanese; Han characters alone are read as Chinese."""
    return bool(_KANA_OR_HAN.search(text))


def _last_line_start(text: str) -> int:
    lines = text.rstrip().split("\n")
    if len(lines) < 3 or len(lines[-1].strip()) > 12:
        return len(text)
    return len(text.rstrip()) - len(lines[-1])


def japanese_mentions(text: str, writers: Iterable[str] = ()) -> list[Mention]:
    """Person names (UniDic 固有名詞,人名, surname and given name joined) and their roles."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for word in _tagger()(text):
        start = text.find(word.surface, pos)
        if start < 0:
            continue
        pos = start + len(word.surface)
        feature = word.feature
        if feature.pos2 == "固有名詞" and feature.pos3 == "人名":
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], pos)
            else:
                spans.append((start, pos))
    found: list[Mention] = []
    signed, own = _last_line_start(text), _compact(writers)
    for start, end in spans:
        name = text[start:end]
        rest = text[end:]
        for honorific in _JA_HONORIFIC:
            if rest.startswith(honorific):
                rest = rest[len(honorific):]
                break
        found.append(Mention(name, _ja_role(text[:start], rest,
                                            start >= signed or _owned(name, own))))
    return found


def _ja_role(before: str, after: str, writer: bool) -> str:
    if writer or _JA_SELF_BEFORE.search(before) or _JA_SELF_AFTER.match(after):
        return WRITER
    if _JA_WITNESS_BEFORE.search(before) or _JA_WITNESS.match(after):
        return WITNESS
    return REPORTED if _JA_REPORT.match(after) else OTHER


def chinese_mentions(text: str, writers: Iterable[str] = ()) -> list[Mention]:
    """Person names (jieba `nr`) and their roles."""
    found: list[Mention] = []
    pos = 0
    signed, own = _last_line_start(text), _compact(writers)
    for pair in _jieba().cut(text):
        start = text.find(pair.word, pos)
        if start < 0:
            continue
        pos = start + len(pair.word)
        if pair.flag not in _NAME_POS or len(pair.word) < 2:
            continue
        before, after = text[max(0, start - 10):start], text[pos:]
        if start >= signed or _owned(pair.word, own) or _ZH_SELF_BEFORE.search(before):
            role = WRITER
        elif _ZH_WITNESS_BEFORE.search(before) or _ZH_WITNESS.match(after):
            role = WITNESS
        elif _ZH_REPORT_BEFORE.search(before) or _ZH_REPORT.match(after):
            role = REPORTED
        else:
            role = OTHER
        found.append(Mention(pair.word, role))
    return found


def _compact(names: Iterable[str]) -> set[str]:
    return {"".join(n.split()) for n in names if n}


def _owned(name: str, own: set[str]) -> bool:
    """The name is (part of) the writer's own name, as the From header gives it."""
    return any(name in o or o in name for o in own)
