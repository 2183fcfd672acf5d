"""Validation, normalisation and masking of real-name data (pure functions, no database)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from accounts.personal_data import (
    MOBILE_INVALID_MESSAGE,
    id_number_check_char,
    mask_id_number,
    mask_mobile,
    mask_name,
    normalize_mobile,
    validate_id_number,
    validate_real_name,
)

VALID_ID = "110101199003074258"


def with_check_char(first17: str) -> str:
    """A number whose check character is right, so a test exercises exactly one other rule."""
    return first17 + id_number_check_char(first17)


def message(exc_info) -> str:
    return exc_info.value.messages[0]


# --- 身份证号 -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        (VALID_ID, VALID_ID),
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),  # lowercase x accepted
        ("１１０１０１１９９００３０７４２５８", VALID_ID),  # full-width digits
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),  # full-width lowercase x
        (f"  {VALID_ID}\n", VALID_ID),
        (with_check_char("81000019800101001"), with_check_char("81000019800101001")),  # Hong Kong
        (with_check_char("83000019800101001"), with_check_char("83000019800101001")),  # Taiwan permit
        # A county code that no longer exists: only the province is checked.
        (with_check_char("11010319800101001"), with_check_char("11010319800101001")),
    ],
)
def test_valid_id_numbers(raw, expected):
    assert validate_id_number(raw) == expected


@pytest.mark.parametrize(
    "raw, expected_start",
    [
        ("110101199003074257", "身份证号校验位不正确"),
        ("11010519491231002Y", "身份证号前 17 位必须是数字"),
        ("1101011990030742", "身份证号应为 18 位，当前为 16 位"),
        ("1101011990030742581", "身份证号应为 18 位，当前为 19 位"),
        ("1" * 200, "身份证号应为 18 位"),
        ("1" * 5000, "身份证号应为 18 位"),
        ("1101011990030X4258", "身份证号前 17 位必须是数字"),
        ("١١٠١٠١١٩٩٠٠٣٠٧٤٢٥٨", "身份证号前 17 位必须是数字"),  # Arabic-Indic digits
        (with_check_char("11010119900230001"), "身份证号中的出生日期无效"),  # 1990-02-30
        (with_check_char("11010119901301001"), "身份证号中的出生日期无效"),  # month 13
        (with_check_char("11010118991231001"), "身份证号中的出生日期不在有效范围内"),  # before 1900
        (with_check_char("11010120990101001"), "身份证号中的出生日期不在有效范围内"),  # future
        (with_check_char("99010119900307001"), "身份证号前两位不是有效的省级行政区划代码"),  # province 99
        (with_check_char("10000019900307001"), "身份证号前两位不是有效的省级行政区划代码"),  # 全国, not a province
        ("", "请填写身份证号"),
        ("   ", "请填写身份证号"),
        (f"{VALID_ID[:9]}\u200b{VALID_ID[9:]}", "身份证号应为 18 位"),  # zero-width space
        (None, "身份证号格式不正确"),
        (110101199003074258, "身份证号格式不正确"),
    ],
)
def test_invalid_id_numbers(raw, expected_start):
    with pytest.raises(ValidationError) as exc_info:
        validate_id_number(raw)
    assert message(exc_info).startswith(expected_start)
    assert "身份证号" in message(exc_info)


def test_birth_date_today_is_accepted_tomorrow_is_not():
    today = datetime.date(2024, 5, 6)
    assert validate_id_number(with_check_char("11010120240506001"), today=today)
    with pytest.raises(ValidationError, match="出生日期不在有效范围内"):
        validate_id_number(with_check_char("11010120240507001"), today=today)


def test_check_digit_ten_is_x():
    assert id_number_check_char("11010519491231002") == "X"


# --- 手机号 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138-1234-5678",
        "8613812345678",
        "+8613812345678",
        "008613812345678",
        "１３８１２３４５６７８",  # full-width
        "＋８６ １３８ １２３４ ５６７８",
        " 138 1234 5678 ",
        "(138)1234-5678",
    ],
)
def test_valid_mobiles(raw):
    assert normalize_mobile(raw) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    [
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "12812345678",  # second digit 2
        "23812345678",
        "0571-88888888",  # landline
        "+1 415 555 0100",
        "86138123456",  # "86" is only a country code before 11 digits
        "1381234567a",
        "١٣٨١٢٣٤٥٦٧٨",  # Arabic-Indic digits: \d would accept them
        "138\u202e12345678",  # RTL override
        "1" * 200,
        "1" * 5000,
        None,
        13812345678,
    ],
)
def test_invalid_mobiles(raw):
    with pytest.raises(ValidationError) as exc_info:
        normalize_mobile(raw)
    assert message(exc_info) == MOBILE_INVALID_MESSAGE


def test_empty_mobile_names_the_field():
    with pytest.raises(ValidationError) as exc_info:
        normalize_mobile("  ")
    assert "手机号" in message(exc_info)


# --- 姓名 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("张三", "张三"),
        ("  欧阳娜娜 ", "欧阳娜娜"),
        ("阿卜杜拉·艾合买提", "阿卜杜拉·艾合买提"),
        ("阿卜杜拉•艾合买提", "阿卜杜拉·艾合买提"),  # bullet look-alike → middle dot
        ("阿卜杜拉・艾合买提", "阿卜杜拉·艾合买提"),  # katakana middle dot
        ("John Smith", "John Smith"),
        ("John   Smith", "John Smith"),
        ("Ｊｏｈｎ Ｓｍｉｔｈ", "John Smith"),  # full-width letters
        ("王〇", "王〇"),
        ("李𠀾", "李𠀾"),  # extension B ideograph
        ("张" * 30, "张" * 30),
    ],
)
def test_valid_names(raw, expected):
    assert validate_real_name(raw) == expected


@pytest.mark.parametrize(
    "raw, expected_start",
    [
        ("张", "姓名至少 2 个字"),
        ("", "请填写姓名"),
        ("   ", "请填写姓名"),
        ("张" * 31, "姓名不能超过 30 个字符"),
        ("张" * 200, "姓名不能超过 30 个字符"),
        ("张" * 5000, "姓名不能超过 30 个字符"),
        ("张三😀", "姓名只能包含"),
        ("😀😀", "姓名只能包含"),
        ("张三3", "姓名只能包含"),
        ("张三１", "姓名只能包含"),  # full-width digit
        ("张三<script>", "姓名只能包含"),
        ("·张三", "姓名只能包含"),
        ("张三·", "姓名只能包含"),
        ("张··三", "姓名只能包含"),
        ("张三\u202e", "姓名包含不可见的控制字符"),  # RTL override, trailing
        ("\u202e张三", "姓名包含不可见的控制字符"),
        ("张\u200d三", "姓名包含不可见的控制字符"),  # zero-width joiner
        ("张\x00三", "姓名包含不可见的控制字符"),
        ("张\n三", "姓名包含不可见的控制字符"),
        ("김철수", "姓名只能包含"),  # Hangul is not a Chinese name here
        (None, "姓名只能包含"),
    ],
)
def test_invalid_names(raw, expected_start):
    with pytest.raises(ValidationError) as exc_info:
        validate_real_name(raw)
    assert message(exc_info).startswith(expected_start)
    assert "姓名" in message(exc_info)


# --- Masks ----------------------------------------------------------------------


def test_masks():
    assert mask_id_number("110101199003074258") == "110101********4258"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"
    assert mask_name("阿卜杜拉·艾合买提") == "阿********"


@pytest.mark.parametrize("mask", [mask_id_number, mask_mobile, mask_name])
def test_masks_of_empty_values(mask):
    assert mask("") == ""
    assert mask(None) == ""


def test_masks_of_short_values_hide_everything():
    assert mask_id_number("1234") == "****"
    assert mask_mobile("1234") == "****"
    assert mask_name("张") == "*"
