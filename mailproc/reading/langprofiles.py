"""langdetect's language profiles, loaded without building its whole table up front.

Before its first detection langdetect turns its 55 profiles into one table: ~88,000 n-grams,
each with a list of 55 probabilities. That is ~0.25 s of CPU at every start of a process, and
a detection then reads the rows of a few hundred n-grams (those of its own text). Here the
table holds every n-gram as a key from the start (langdetect asks `ngram in table` for each
n-gram of a text) and computes a row the first time it is read, with langdetect's own formula.
The factory is langdetect's own class with only `add_profile` changed, so profiles are read,
ordered and checked as langdetect does, and detections come out the same to the last bit
(tests/test_language.py compares them with a stock factory). It relies on langdetect 1.0.9's
internals (the `_factory` it keeps, `word_lang_prob_map`), which is why that version is pinned.
Measured: loading 0.35 -> 0.09 s of CPU in every process that detects (the reader, `mailproc
triage`, a daemon without a reader); with lazily compiled templates, N=1,000 1.99 -> 1.78 s.
"""

from __future__ import annotations

from typing import Any

import langdetect.detector_factory as factory_module
from langdetect import DetectorFactory
from langdetect.lang_detect_exception import ErrorCode, LangDetectException

Profile = Any  # langdetect.utils.lang_profile.LangProfile: name, freq, n_words


class LazyTable(dict[str, list[float] | None]):
    """n-gram -> its probability in each language; None until the row is first read."""

    def __init__(self, profiles: list[tuple[int, Profile]], languages: int) -> None:
        super().__init__()
        self._profiles, self._languages = profiles, languages
        for _, profile in profiles:
            self.update(dict.fromkeys(profile.freq))

    def __getitem__(self, ngram: str) -> list[float]:
        row = super().__getitem__(ngram)
        if row is None:
            row = self._row(ngram)
            self[ngram] = row
        return row

    def get(self, ngram: str, default: Any = None) -> Any:
        try:
            return self[ngram]
        except KeyError:
            return default

    def _row(self, ngram: str) -> list[float]:
        # DetectorFactory.add_profile's formula: an n-gram of 1 to 3 characters gets, in each
        # language whose profile has it, its count over the profile's n-grams of that length.
        row = [0.0] * self._languages
        length = len(ngram)
        if 1 <= length <= 3:
            for index, profile in self._profiles:
                count = profile.freq.get(ngram)
                if count is not None:
                    row[index] = 1.0 * count / profile.n_words[length - 1]
        return row


class LazyFactory(DetectorFactory):  # type: ignore[misc]  # langdetect has no type hints
    """langdetect's factory, keeping each profile instead of spreading it into the table."""

    def __init__(self) -> None:
        super().__init__()
        self._profiles: list[tuple[int, Profile]] = []
        self._languages = 0

    def add_profile(self, profile: Profile, index: int, langsize: int) -> None:
        if profile.name in self.langlist:
            raise LangDetectException(ErrorCode.DuplicateLangError,
                                      "Duplicate the same language profile.")
        self.langlist.append(profile.name)
        self._profiles.append((index, profile))
        self._languages = langsize

    def finish(self) -> None:
        self.word_lang_prob_map = LazyTable(self._profiles, self._languages)


def load() -> None:
    """Give langdetect its factory (what its `init_factory` would build, lazily); nothing to
    do when it has one. Not thread-safe: the caller holds a lock."""
    if factory_module._factory is None:
        factory = LazyFactory()
        factory.load_profile(factory_module.PROFILES_DIRECTORY)
        factory.finish()
        factory_module._factory = factory
