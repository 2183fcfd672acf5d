"""Chinese text for search: index text that cannot lose a word, and queries that match it.

Chinese has no spaces and PostgreSQL's text search splits on them, so text is turned into
space-separated tokens before indexing (`segment`) and queries are parsed the same way
(`parse_query`). Two kinds of tokens are indexed, in this order:

1. jieba's search-engine words, with the culture-domain user dictionary kept in the repository
   (core/data/culture_words.txt): "全国广场舞展演活动" → 全国 广场 广场舞 展演 活动. A query word that is
   one of these is a whole-word match and ranks higher.
2. every pair of adjacent characters of each run of Chinese text (character bigrams), in order:
   广场舞展演 → 广场 场舞 舞展 展演. A query word of n characters matches when its n-1 bigrams stand
   next to each other (a PostgreSQL phrase query, `<->`), i.e. exactly when the word occurs in
   the text, wherever jieba cut it ("浙江非遗传承人" cut 非/遗传/承人 still holds 非遗).

A query is cut with jieba's precise mode into words; every word of two or more characters must
occur (whole word or bigram phrase). One-character words (的, 在, 看 ...) do not filter a query
that has longer words, so a shared 舞 alone never makes 百姓大舞台 a result for 广场舞. The words are
also what the highlighter marks.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Raise when what `segment` indexes changes (including the user dictionary): `make run` then
# rebuilds every site's search index (tenants.services.refresh_search_indexes).
INDEX_VERSION = 2
USER_DICTIONARY = Path(__file__).resolve().parent / "data" / "culture_words.txt"

_lock = threading.Lock()
_SPACE = re.compile(r"\s+")
# Chinese characters (CJK unified ideographs, extension A, compatibility ideographs) and the
# syllables of the Yi script: runs of these get bigrams. Latin words and numbers are words as is.
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ua000-\ua48f]+")
_MAX_QUERY_WORDS = 12


@cache
def _tokenizer():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _lock:
        jieba.initialize()
        jieba.load_userdict(str(USER_DICTIONARY))
    return jieba


def _is_word(token: str) -> bool:
    # Punctuation is not a word: "(非遗)" must index 非遗, not "(".
    return any(ch.isalnum() for ch in token)


def bigrams(text: str) -> list[str]:
    """Adjacent character pairs of every run of Chinese characters, in order of appearance."""
    pairs: list[str] = []
    for run in _HAN_RUN.findall(text):
        pairs.extend(run[i : i + 2] for i in range(len(run) - 1))
    return pairs


def _index_bigrams(text: str) -> list[str]:
    """Bigrams of each run, then the run's last character alone: a one-character query (舞) is
    a prefix of the bigram that starts with it, or this last character."""
    tokens: list[str] = []
    for run in _HAN_RUN.findall(text):
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        tokens.append(run[-1])
    return tokens


def _words(text: str, search_mode: bool) -> list[str]:
    """jieba's words of the text, as written in the text.

    jieba's dictionary is Simplified: Traditional text is cut in its Simplified form and the words
    taken from the original at the same places (the conversion keeps every character's place).
    """
    from core.scripts import to_simplified

    simplified = to_simplified(text)
    if len(simplified) != len(text):
        simplified = text
    mode = "search" if search_mode else "default"
    return [text[start:end].strip().lower() for _, start, end in _tokenizer().tokenize(simplified, mode=mode)]


def segment(text: str) -> str:
    """Space-separated tokens for the search index: jieba's search-engine words, then bigrams."""
    if not text:
        return ""
    tokens = [w for w in _words(text, search_mode=True) if _is_word(w)]
    tokens.extend(_index_bigrams(text))
    return _SPACE.sub(" ", " ".join(tokens)).strip()


@dataclass(frozen=True)
class QueryWord:
    """One word of a query: matched as a whole indexed word or as the phrase of its bigrams."""

    text: str

    @property
    def bigrams(self) -> list[str]:
        return bigrams(self.text)

    @property
    def is_han(self) -> bool:
        return bool(_HAN_RUN.fullmatch(self.text))


def parse_query(query: str) -> list[QueryWord]:
    """The words a query asks for, longest first, without repeats.

    Neighbouring one-character words that jieba could not join (Traditional text, rare words)
    are read together as one word; a one-character word left alone (的, 看 ...) counts only when
    the query has nothing longer ("舞" alone).
    """
    if not query:
        return []
    tokens = _join_single_characters([w for w in _words(query[:200], search_mode=False) if _is_word(w)])
    longer = [w for w in tokens if len(w) > 1 or not _HAN_RUN.fullmatch(w)]
    chosen = longer or tokens
    unique = list(dict.fromkeys(chosen))[:_MAX_QUERY_WORDS]
    return [QueryWord(w) for w in sorted(unique, key=len, reverse=True)]


_FUNCTION_CHARACTERS = set("的了和与及在是之或把被对为中也都从向到个着过吗呢吧啊")


def _join_single_characters(tokens: list[str]) -> list[str]:
    joined: list[str] = []
    pending = ""
    for token in [*tokens, ""]:
        if len(token) == 1 and _HAN_RUN.fullmatch(token) and token not in _FUNCTION_CHARACTERS:
            pending += token
            continue
        if pending:
            joined.append(pending)
            pending = ""
        if token:
            joined.append(token)
    return joined


def _quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def word_tsquery(word: QueryWord) -> str:
    """PostgreSQL tsquery text (raw syntax) for one query word."""
    pairs = word.bigrams
    if not word.is_han or len(word.text) < 2:
        # Latin words and numbers as indexed; a lone Chinese character as the start of any word.
        return _quote(word.text) + (":*" if word.is_han else "")
    whole = _quote(word.text)
    if len(pairs) == 1:
        return whole
    return f"({whole} | {' <-> '.join(_quote(p) for p in pairs)})"


def tsquery(words: list[QueryWord]) -> str:
    """Raw tsquery text: every word must occur (whole word or adjacent bigrams)."""
    return " & ".join(word_tsquery(w) for w in words)


def whole_word_tsquery(word: QueryWord) -> str:
    """tsquery text matching the word only where it was indexed as a word of its own."""
    return _quote(word.text) + (":*" if word.is_han and len(word.text) < 2 else "")


def query_in_page_script(query: str) -> str:
    """The query in the script of the pages being searched: Traditional on zh-Hant pages,
    Simplified on zh-Hans pages (廣場舞 typed on a Simplified site finds 广场舞)."""
    from django.utils.translation import get_language

    from core.scripts import to_simplified, to_traditional

    language = (get_language() or "").lower()
    if language in ("zh-hant", "zh-tw", "zh-hk"):
        return to_traditional(query)
    if language.startswith("zh"):
        return to_simplified(query)
    return query
