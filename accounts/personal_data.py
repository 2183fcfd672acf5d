"""Real-name data (姓名, 身份证号, 手机号): validation, normalisation and masking.

Pure functions, no database access. Every error is a ValidationError whose Chinese
message names the field, so forms and services can show it as is. Inputs come from
people typing on phones: full-width digits, "+86 138-1234-5678", a lowercase x, pasted
invisible characters. Everything is NFKC-normalised first so that what we validate,
store, index and compare is one canonical spelling.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.regions import is_province_code

# Longer inputs are refused before any normalisation work: no legitimate value of these
# fields comes close, and it keeps pathological pastes cheap to reject.
_MAX_RAW_LENGTH = 200

# --- 手机号 -------------------------------------------------------------------

MOBILE_INVALID_MESSAGE = gettext_lazy("手机号格式不正确，请输入 11 位中国大陆手机号。")
_MOBILE_PATTERN = re.compile(r"^1[3-9][0-9]{9}$")
# Separators people type or paste between digit groups.
_MOBILE_SEPARATORS = re.compile(r"[\s\-()（）.]")


def normalize_mobile(value: str) -> str:
    """Return the 11-digit mainland mobile number, or raise ValidationError (手机号)."""
    if not isinstance(value, str):
        raise ValidationError(MOBILE_INVALID_MESSAGE, code="invalid_mobile")
    if len(value) > _MAX_RAW_LENGTH:
        raise ValidationError(MOBILE_INVALID_MESSAGE, code="invalid_mobile")
    text = _MOBILE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    if not text:
        raise ValidationError(_("请填写手机号。"), code="required_mobile")
    # Country code in its usual spellings: +86, 0086, or a bare 86 before 11 digits.
    for prefix in ("+86", "0086", "86"):
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            text = text[len(prefix) :]
            break
    # [0-9] rather than \d: \d also matches Arabic-Indic and other digits NFKC keeps.
    if not _MOBILE_PATTERN.match(text):
        raise ValidationError(MOBILE_INVALID_MESSAGE, code="invalid_mobile")
    return text


# --- 身份证号 (GB 11643-1999) ---------------------------------------------------

ID_NUMBER_LENGTH = 18
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")
_EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
# Residence permits for Taiwan residents (港澳台居民居住证) use address code 830000, which
# is not an administrative division and so is not in core.regions; 81/82 (HK/Macau) are.
_EXTRA_ID_PROVINCE_PREFIXES = frozenset({"83"})


def id_number_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def validate_id_number(value: str, *, today: datetime.date | None = None) -> str:
    """Return the normalised (uppercase, 18-character) ID number, or raise ValidationError (身份证号).

    Only the province part of the address code is checked: county codes are merged and
    renumbered over the years, and a person keeps the number issued under the old code.
    """
    if not isinstance(value, str):
        raise ValidationError(_("身份证号格式不正确。"), code="invalid_id_number")
    if len(value) > _MAX_RAW_LENGTH:
        raise ValidationError(
            _("身份证号应为 %(id_number_length)s 位。") % {"id_number_length": ID_NUMBER_LENGTH},
            code="id_number_length",
        )
    text = unicodedata.normalize("NFKC", value).strip().upper()
    if not text:
        raise ValidationError(_("请填写身份证号。"), code="required_id_number")
    if len(text) != ID_NUMBER_LENGTH:
        raise ValidationError(
            _("身份证号应为 %(id_number_length)s 位，当前为 %(length)s 位。")
            % {"id_number_length": ID_NUMBER_LENGTH, "length": len(text)},
            code="id_number_length",
        )
    if not _ID_PATTERN.match(text):
        raise ValidationError(_("身份证号前 17 位必须是数字，最后一位是数字或 X。"), code="id_number_characters")
    prefix = text[:2]
    if not (is_province_code(prefix + "0000") or prefix in _EXTRA_ID_PROVINCE_PREFIXES):
        raise ValidationError(_("身份证号前两位不是有效的省级行政区划代码。"), code="id_number_region")
    try:
        birth_date = datetime.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号中的出生日期无效。"), code="id_number_birth_date") from None
    latest = today or timezone.localdate()
    if not (_EARLIEST_BIRTH_DATE <= birth_date <= latest):
        raise ValidationError(
            _("身份证号中的出生日期不在有效范围内（1900-01-01 至今天）。"),
            code="id_number_birth_date_range",
        )
    if id_number_check_char(text[:17]) != text[17]:
        raise ValidationError(_("身份证号校验位不正确，请核对后重新输入。"), code="id_number_check_digit")
    return text


# --- 姓名 ---------------------------------------------------------------------

REAL_NAME_MIN_LENGTH = 2
REAL_NAME_MAX_LENGTH = 30
MIDDLE_DOT = "·"
# Look-alikes of the separator in transliterated names (阿卜杜拉·艾合买提) that IMEs and
# pasted text produce; NFKC leaves them alone, so they are mapped by hand.
_MIDDLE_DOT_VARIANTS = str.maketrans(dict.fromkeys("•・‧∙⋅", MIDDLE_DOT))
# Unified CJK ideographs (basic block, extension A, extensions B-I) and 〇, which
# appears in names. Rare characters beyond the basic block are common in real names.
_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002a6df\U0002a700-\U0002ee5f\U00030000-\U000323af"
_NAME_PATTERN = re.compile(rf"^[{_CJK}A-Za-z]+(?:(?: |{MIDDLE_DOT})[{_CJK}A-Za-z]+)*$")
_NAME_CHARACTERS_MESSAGE = gettext_lazy("姓名只能包含汉字、英文字母、空格和间隔号“·”。")


def validate_real_name(value: str) -> str:
    """Return the normalised name, or raise ValidationError (姓名)."""
    if not isinstance(value, str):
        raise ValidationError(_NAME_CHARACTERS_MESSAGE, code="invalid_real_name")
    if len(value) > _MAX_RAW_LENGTH:
        raise ValidationError(
            _("姓名不能超过 %(real_name_max_length)s 个字符。") % {"real_name_max_length": REAL_NAME_MAX_LENGTH},
            code="real_name_too_long",
        )
    text = unicodedata.normalize("NFKC", value).translate(_MIDDLE_DOT_VARIANTS).strip()
    # Control and format characters (RTL overrides, zero-width joiners, BOM) get their own
    # message: they are invisible, so "only Chinese characters allowed" would puzzle people.
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cs", "Cn"} for ch in text):
        raise ValidationError(_("姓名包含不可见的控制字符，请删除后重新输入。"), code="real_name_control")
    text = re.sub(r" +", " ", text)
    if not text:
        raise ValidationError(_("请填写姓名。"), code="required_real_name")
    if len(text) > REAL_NAME_MAX_LENGTH:
        raise ValidationError(
            _("姓名不能超过 %(real_name_max_length)s 个字符。") % {"real_name_max_length": REAL_NAME_MAX_LENGTH},
            code="real_name_too_long",
        )
    if len(text) < REAL_NAME_MIN_LENGTH:
        raise ValidationError(
            _("姓名至少 %(real_name_min_length)s 个字。") % {"real_name_min_length": REAL_NAME_MIN_LENGTH},
            code="real_name_too_short",
        )
    if not _NAME_PATTERN.match(text):
        raise ValidationError(_NAME_CHARACTERS_MESSAGE, code="invalid_real_name")
    return text


# --- Masks --------------------------------------------------------------------


def mask_id_number(value: str | None) -> str:
    """110101199003074258 → 110101********4258 (region kept, birth date and sequence hidden)."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_mobile(value: str | None) -> str:
    """13812345678 → 138****5678."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    """张三丰 → 张**: the family name only (first character), the rest hidden."""
    if not value:
        return ""
    if len(value) == 1:
        return "*"
    return value[0] + "*" * (len(value) - 1)


# --- 昵称 (display name) ------------------------------------------------------

DISPLAY_NAME_MAX = 30


def validate_display_name(value: str) -> str:
    """The name people chose to be shown by: 1–30 visible characters (NFKC), or ValidationError (昵称)."""
    if not isinstance(value, str) or len(value) > _MAX_RAW_LENGTH:
        raise ValidationError(
            _("昵称不能超过 %(display_name_max)s 个字。") % {"display_name_max": DISPLAY_NAME_MAX},
            code="display_name_too_long",
        )
    text = " ".join(unicodedata.normalize("NFKC", value).split())
    if not text:
        raise ValidationError(_("请填写昵称。"), code="required_display_name")
    if any(not ch.isprintable() or unicodedata.category(ch) in ("Cf", "Co", "Cs") for ch in text):
        raise ValidationError(_("昵称含有不可见字符。"), code="invalid_display_name")
    if len(text) > DISPLAY_NAME_MAX:
        raise ValidationError(
            _("昵称不能超过 %(display_name_max)s 个字。") % {"display_name_max": DISPLAY_NAME_MAX},
            code="display_name_too_long",
        )
    return text
