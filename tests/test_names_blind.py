"""Who is reported, measured over a corpus written blind (before reading the finder).

`tests/data/names_blind/*.eml` are 44 reports, four per language, written without looking at
`mailproc/reading/` or the first names corpus; `expected.json` gives who each reports and who it
names only as its writer, a forwarder, a friend or a witness. They go through the same entry
point as `test_names_corpus.py` (parse, then `report_fields` with no translation).

Three numbers per language are printed: reported persons found (the same name, allowing another
inflection or a missing accent: "Tomasza Kowalskiego" is Tomasz Kowalski), writers and witnesses
shown as reported (a leak to the whole committee: must stay 0), and names invented where the
report names nobody. The floors below are the measured levels, so that a regression fails.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from mailproc.mail.parse import parse_message
from mailproc.reading.roles import reported_names
from mailproc.service.prepare import report_fields

DATA = Path(__file__).parent / "data" / "names_blind"
EXPECTED: dict[str, dict[str, list[str]]] = json.loads(
    (DATA / "expected.json").read_text(encoding="utf-8"))
LANGS = ("en", "es", "fr", "de", "pt", "it", "nl", "pl", "ru", "ja", "zh")
# Measured after the changes of branch `names2` (see README): 36 of 38 found, 0 writers or
# witnesses shown, 0 names invented; before them: 22 of 38 found, 5 writers or witnesses shown,
# 5 names invented where nobody is named. Still missed: a first name given in brackets after a
# nickname (fr) and a report forwarded as an attached message, whose text is not read (nl).
FOUND_AT_LEAST = 36
OTHER_WRONG_AT_MOST = 1  # 小刚, the nickname of the reported 刘刚, shown beside him
# Titles the finder may keep in front of a name without it being another person.
_TITLES = frozenset("mr mrs ms dr prof herr frau m mme pan pani sr sra".split())


def _language(file: str) -> str:
    return file.split("-", 1)[0]


@cache
def _shown(file: str) -> tuple[str, ...]:
    msg = parse_message((DATA / file).read_bytes())
    fields = report_fields(msg, None, _language(file), "conduct@example.org")
    assert all(p.automatic for p in fields.reported if p.name)  # a guess, marked as one
    return tuple(p.name for p in fields.reported if p.name)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _tokens(name: str) -> list[str]:
    return [t.strip(".,") for t in _fold(name).replace("-", " ").split() if t.strip(".,")]


def _cjk(name: str) -> bool:
    return any("\u3040" <= c <= "\u9fff" for c in name)


def _same_word(a: str, b: str) -> bool:
    """The same word, or one inflection of it: a shared stem with at most three letters off
    ("kowalskiego" / "kowalski", "дмитрия" / "дмитрий")."""
    if a == b:
        return True
    pairs = zip(a, b, strict=False)
    common = next((k for k, (x, y) in enumerate(pairs) if x != y), min(len(a), len(b)))
    shorter, longer = sorted((len(a), len(b)))
    return common >= max(3, shorter - 2) and longer - common <= 3


def same_person(expected: str, shown: str) -> bool:
    """Whether `shown` is the `expected` name (titles in front allowed)."""
    if _cjk(expected) or _cjk(shown):
        return "".join(expected.split()) == "".join(shown.split())
    want, have = _tokens(expected), [t for t in _tokens(shown) if t not in _TITLES]
    return len(want) == len(have) and all(_same_word(w, h) for w, h in zip(want, have, strict=True))


def shares_a_name(person: str, shown: str) -> bool:
    """Whether `shown` shows (part of) `person`: any of its words, in any inflection."""
    if _cjk(person) or _cjk(shown):
        return "".join(person.split()) in "".join(shown.split())
    theirs = [t for t in _tokens(person) if len(t) > 2]
    return any(_same_word(t, s) for t in theirs for s in _tokens(shown) if len(s) > 2)


@dataclass
class Tally:
    found: Counter[str] = field(default_factory=Counter)
    wanted: Counter[str] = field(default_factory=Counter)
    leaks: list[tuple[str, str]] = field(default_factory=list)  # writer or witness shown
    invented: list[tuple[str, str]] = field(default_factory=list)  # where nobody is named
    others: list[tuple[str, str]] = field(default_factory=list)  # another wrong name
    missed: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)


def measure() -> Tally:
    t = Tally()
    for file, spec in sorted(EXPECTED.items()):
        lang, shown = _language(file), _shown(file)
        for person in spec["reported"]:
            t.wanted[lang] += 1
            hit = any(same_person(person, s) for s in shown)
            t.found[lang] += hit
            if not hit:
                t.missed.append((file, person, shown))
        for s in shown:
            if any(shares_a_name(p, s) for p in spec["not_reported"]):
                t.leaks.append((file, s))
            elif not spec["reported"]:
                t.invented.append((file, s))
            elif not any(same_person(p, s) for p in spec["reported"]):
                t.others.append((file, s))
    return t


def _table(t: Tally) -> str:
    per = Counter(_language(f) for f, _ in t.leaks)
    inv = Counter(_language(f) for f, _ in t.invented)
    oth = Counter(_language(f) for f, _ in t.others)
    rows = ["lang  found  writer/witness shown  invented  other wrong"]
    rows += [f"{lang:<4}  {t.found[lang]}/{t.wanted[lang]:<3}  {per[lang]:>20}  {inv[lang]:>8}"
             f"  {oth[lang]:>11}" for lang in LANGS]
    rows.append(f"all   {sum(t.found.values())}/{sum(t.wanted.values()):<3}  {len(t.leaks):>19}"
                f"  {len(t.invented):>8}  {len(t.others):>11}")
    rows += [f"missed {p!r} in {f} (shown: {list(s)})" for f, p, s in t.missed]
    rows += [f"LEAK {s!r} in {f}" for f, s in t.leaks]
    rows += [f"invented {s!r} in {f}" for f, s in t.invented]
    rows += [f"other wrong name {s!r} in {f}" for f, s in t.others]
    return "\n".join(rows)


def test_blind_corpus_found_and_never_a_writer_or_witness_shown() -> None:
    t = measure()
    print("\nblind names corpus:\n" + _table(t))
    assert set(t.wanted) == set(LANGS)
    assert t.leaks == []  # privacy: never the reporter, a forwarder or a witness
    assert sum(t.found.values()) >= FOUND_AT_LEAST
    assert t.invented == []
    assert len(t.others) <= OTHER_WRONG_AT_MOST


@pytest.mark.parametrize("file", [f for f, s in sorted(EXPECTED.items()) if not s["reported"]])
def test_a_blind_report_that_names_nobody_shows_nobody(file: str) -> None:
    assert _shown(file) == ()


def test_the_measure_itself_tells_names_apart() -> None:
    assert same_person("Tomasz Kowalski", "Tomasza Kowalskiego")
    assert same_person("Дмитрий Соколов", "Дмитрия Соколова")
    assert same_person("Pablo García", "pablo garcia")
    assert same_person("Klaus Müller-Lüdenscheid", "Dr. Klaus Müller-Lüdenscheid")
    assert not same_person("Juan Carlos de la Cruz", "Juan Carlos")
    assert not same_person("Anna Schmidt", "Anna Schneider")
    assert not same_person("田中太郎", "田中")
    assert shares_a_name("Ana Ruiz", "Ana") and shares_a_name("Игорь Попов", "Игоре Попове")
    assert not shares_a_name("Sarah Kim", "Declan O'Brien")


# Sentences that are in no corpus, one per rule added for the blind corpus: the rules hold beyond
# the files they were found on (lower case, co-presence, "my friend", forwarding, companies).
HELD_OUT = [
    ("en", "hi all. i went to the party last night. mark jones kept grabbing my arm and my friend"
           " lisa brown saw it. i left early. thanks", ["Mark Jones"]),
    ("en", "Hi,\nDuring the sprint, Omar Haddad insulted me in front of Nina Petrova and Leo Grant."
           "\nRegards\nSam", ["Omar Haddad"]),
    ("en", "Hello,\n\nAt the booth of Globex in Berlin a man shouted at me. My friend Kate Wells"
           " was with me.\n\nBest,\nJo Park", []),
    ("en", "Forwarding on behalf of Dana Cole, with her permission: Victor Hale groped her at the"
           " bar.\nRay", ["Victor Hale"]),
    ("de", "Hallo,\n\ngestern hat Thomas Becker mich vor allen beleidigt, während Jana Roth daneben"
           " stand.\n\nGruß\nMia", ["Thomas Becker"]),
    ("fr", "bonjour. je voulais signaler que le bénévole du vestiaire m'a insulté. merci. léa", []),
    ("nl", "Hoi,\nTijdens de meetup in Utrecht heeft iemand van Philips mij uitgescholden.\nGroet,"
           "\nBram", []),
    ("es", "Hola:\n\nQuiero denunciar a Pedro Ruiz, que me insultó en la cena.\n\nAna",
     ["Pedro Ruiz"]),
    ("pl", "Dzień dobry,\nw Warszawie na konferencji prelegent mnie obraził.\nPozdrawiam\nEwa", []),
    ("ru", "Привет. В Москве на митапе организатор кричал на меня. Спасибо. Лена", []),
    ("zh", "在工作坊上，黄磊当着周杰的面对我大喊大叫。", ["黄磊"]),
    ("ja", "懇親会で、田中太郎さんが佐藤花子さんの前で私に暴言を言いました。", ["田中太郎"]),
]


@pytest.mark.parametrize(("lang", "text", "want"), HELD_OUT)
def test_the_rules_hold_on_sentences_of_no_corpus(lang: str, text: str, want: list[str]) -> None:
    assert reported_names(text, None, lang, ()) == want
