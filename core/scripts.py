"""Simplified → Traditional Chinese (OpenCC, pure Python: opencc-python-reimplemented).

zh-Hant pages and strings start as an automatic conversion of the Simplified ones that editors
then correct (docs/languages.md). "s2tw" converts characters to the Taiwan standard forms
(群 not 羣, 裡 not 裏), which readers in Taiwan and Hong Kong both read naturally; it does not
swap vocabulary (视频 stays 視頻), so the text is still the author's.
"""

from __future__ import annotations

import threading
from functools import cache

_lock = threading.Lock()


@cache
def _converter():
    from opencc import OpenCC

    return OpenCC("s2tw")


def to_traditional(text: str) -> str:
    """The text in Traditional characters (unchanged where nothing converts)."""
    if not text:
        return text
    converter = _converter()
    with _lock:  # the converter keeps state while it works
        return converter.convert(text)


@cache
def _simplifier():
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """The text in Simplified characters (for segmenting Traditional text with jieba)."""
    if not text:
        return text
    converter = _simplifier()
    with _lock:
        return converter.convert(text)
