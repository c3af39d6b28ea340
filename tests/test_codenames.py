"""Code names stay words, not numbers, however many cases a committee has had."""

from __future__ import annotations

import random

from mailproc.cases.codenames import ADJECTIVES, NOUNS, new_code_name


def _draw(count: int, seed: int = 1) -> list[str]:
    rng, taken = random.Random(seed), set[str]()
    for _ in range(count):
        taken.add(new_code_name(rng, taken.__contains__))
    return sorted(taken)


def test_names_are_unique_words_from_the_lists() -> None:
    names = _draw(500)
    assert len(names) == 500
    for name in names:
        *adjectives, noun = name.split("-")
        assert noun in NOUNS and all(a in ADJECTIVES for a in adjectives)
        assert len(adjectives) == 1  # a young committee only ever sees two words


def test_past_the_pairs_three_words_and_no_numbers() -> None:
    pairs = len(ADJECTIVES) * len(NOUNS)
    names = _draw(pairs + 2000, seed=7)
    assert len(names) == pairs + 2000  # more cases than there are pairs: all distinct
    numbered = [n for n in names if n.split("-")[-1].isdigit()]
    three = [n for n in names if n.count("-") == 2 and not n.split("-")[-1].isdigit()]
    assert numbered == []
    assert len(three) >= 2000
    assert all(n.split("-")[0] != n.split("-")[1] for n in three)  # no "quiet-quiet-moss"


def test_when_everything_is_taken_a_number_still_makes_it_unique() -> None:
    rng = random.Random(3)
    name = new_code_name(rng, lambda candidate: not candidate[-1].isdigit())
    assert name.split("-")[-1].isdigit() and name.count("-") == 2
