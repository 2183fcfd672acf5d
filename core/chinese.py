"""Chinese word segmentation for search (jieba).

Chinese has no spaces, and PostgreSQL's text search splits on them: "全国广场舞展演活动" would
be one token that "广场舞" never matches. Text is segmented before indexing and queries before
searching, with the same function, so both sides agree on the words:
"全国广场舞展演活动" → "全国 广场 广场舞 展演 活动", "广场舞" → "广场 广场舞".
"""

from __future__ import annotations

import logging
import re
import threading
from functools import cache

_lock = threading.Lock()
_SPACE = re.compile(r"\s+")


@cache
def _tokenizer():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _lock:
        jieba.initialize()
    return jieba


def segment(text: str) -> str:
    """Space-separated words for the search index and for queries (search-engine granularity)."""
    if not text:
        return ""
    words = (w.strip() for w in _tokenizer().cut_for_search(text))
    # Punctuation is not a word: "(非遗)" must index 非遗, not "(".
    return _SPACE.sub(" ", " ".join(w for w in words if any(ch.isalnum() for ch in w))).strip()
