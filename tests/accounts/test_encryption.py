"""Real-name data at rest: encrypted columns, blind-index lookups, duplicates, key rotation."""

from __future__ import annotations

import base64
import io
import uuid

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from accounts import crypto
from accounts.personal_data import id_number_check_char
from accounts.services import ensure_account, find_user_by_id_number, find_user_by_mobile, set_personal_data

pytestmark = pytest.mark.django_db

ID_NUMBER = "110101199003074258"
OTHER_ID_NUMBER = "11010519491231002X"
MOBILE = "13812345678"
NAME = "张三丰"


def new_user():
    return ensure_account(f"pd-{uuid.uuid4().hex[:12]}", "Test-Password-2026")


def raw_row(user) -> dict:
    """The row as PostgreSQL holds it, bypassing the ORM's decryption."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT real_name, id_number, id_number_index, mobile, mobile_index FROM accounts_user WHERE id = %s",
            [user.pk],
        )
        columns = [col[0] for col in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def windows(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(len(text) - size + 1)]


@pytest.fixture(autouse=True)
def _only_this_tests_personal_data():
    """Key rotation counts and re-encrypts every account's values, and the demo world's visitors
    (bookings demo) carry real-name data: other accounts' values are cleared, inside the test's
    rolled-back transaction."""
    get_user_model().objects.update(real_name="", id_number="", id_number_index="", mobile="", mobile_index="")


@pytest.fixture
def user():
    return set_personal_data(new_user(), real_name=NAME, id_number=ID_NUMBER, mobile=MOBILE)


def test_raw_sql_shows_no_plaintext(user):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, mobile FROM accounts_user")
        rows = cursor.fetchall()
        cursor.execute("SELECT row_to_json(u)::text FROM accounts_user u WHERE id = %s", [user.pk])
        (whole_row,) = cursor.fetchone()
    stored = [value for row in rows for value in row if value]
    assert len(stored) >= 2
    # No stored value contains the number or any 7-character run of it (region, birth
    # date, sequence or phone groups); runs that long cannot appear in a token by chance.
    fragments = windows(ID_NUMBER, 7) + windows(MOBILE, 7)
    for text in [*stored, whole_row]:
        assert ID_NUMBER not in text
        assert MOBILE not in text
        assert NAME not in text
        assert not [fragment for fragment in fragments if fragment in text]
    row = raw_row(user)
    assert row["id_number"].startswith("gAAAAA")  # a Fernet token
    assert row["mobile"].startswith("gAAAAA")
    assert row["real_name"].startswith("gAAAAA")


def test_orm_returns_plaintext_and_masks(user):
    fresh = get_user_model().objects.get(pk=user.pk)
    assert (fresh.real_name, fresh.id_number, fresh.mobile) == (NAME, ID_NUMBER, MOBILE)
    assert fresh.masked_id_number == "110101********4258"
    assert fresh.masked_mobile == "138****5678"
    assert fresh.masked_real_name == "张**"
    assert get_user_model().objects.filter(pk=user.pk).values_list("mobile", flat=True).get() == MOBILE


def test_empty_values_stay_empty():
    plain = new_user()
    assert raw_row(plain)["id_number"] == ""
    assert get_user_model().objects.get(pk=plain.pk).id_number == ""
    assert get_user_model().objects.filter(pk=plain.pk, id_number="").exists()


def test_encrypt_decrypt_roundtrip():
    for text in ["", "张三丰", "阿卜杜拉·艾合买提", "𠀾", ID_NUMBER, "x" * 1000]:
        token = crypto.encrypt(text)
        assert crypto.decrypt(token) == text
    # Randomised: equal plaintexts give different tokens, so equality needs the blind index.
    assert crypto.encrypt(MOBILE) != crypto.encrypt(MOBILE)


def test_blind_index_is_keyed_and_kind_separated(settings):
    assert crypto.blind_index("mobile", MOBILE) == crypto.blind_index("mobile", MOBILE)
    assert crypto.blind_index("mobile", MOBILE) != crypto.blind_index("id_number", MOBILE)
    assert len(crypto.blind_index("mobile", MOBILE)) == 64
    before = crypto.blind_index("mobile", MOBILE)
    settings.PERSONAL_DATA_INDEX_KEY = "another index key"
    assert crypto.blind_index("mobile", MOBILE) != before
    with pytest.raises(ValueError):
        crypto.blind_index("", MOBILE)


def test_blind_index_lookup_decrypts_only_the_user_found(user, monkeypatch):
    for i in range(3):
        first17 = f"1101011990030700{i}"
        set_personal_data(new_user(), id_number=first17 + id_number_check_char(first17), mobile=f"1390000000{i}")
    calls = []
    real_decrypt = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: calls.append(token) or real_decrypt(token))

    with CaptureQueriesContext(connection) as queries:
        found = find_user_by_mobile("+86 138-1234-5678")
    assert found.pk == user.pk
    # One SELECT (django-tenants may add a SET search_path), filtered on the index.
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 1
    assert '"mobile_index" = ' in selects[0]
    # Only the found row's three encrypted fields, never the other accounts'.
    assert len(calls) == 3

    calls.clear()
    assert find_user_by_id_number(ID_NUMBER.lower()).pk == user.pk
    assert find_user_by_id_number("１１０１０１１９９００３０７４２５８").pk == user.pk
    assert len(calls) == 6
    assert find_user_by_mobile("13900009999") is None
    assert find_user_by_mobile("not a phone") is None
    assert find_user_by_id_number("110101199003074257") is None


def test_plaintext_filters_are_refused(user):
    User = get_user_model()
    with pytest.raises(TypeError, match="blind index"):
        list(User.objects.filter(mobile=MOBILE))
    with pytest.raises(FieldError):
        list(User.objects.filter(id_number__startswith="110101"))
    assert User.objects.filter(pk=user.pk, mobile__isnull=False).exists()


def test_duplicate_id_number_is_refused_and_nothing_saved(user):
    other = new_user()
    with pytest.raises(ValidationError) as exc_info:
        # Another spelling of the same number (full-width, lowercase) is still a duplicate.
        set_personal_data(other, real_name="李四", id_number=f" {ID_NUMBER} ", mobile="13900001111")
    assert exc_info.value.message_dict == {"id_number": ["该身份证号已被其他账号使用。"]}
    assert (other.real_name, other.id_number, other.mobile) == ("", "", "")
    row = raw_row(other)
    assert row == {"real_name": "", "id_number": "", "id_number_index": "", "mobile": "", "mobile_index": ""}


def test_duplicate_mobile_is_refused(user):
    other = new_user()
    with pytest.raises(ValidationError) as exc_info:
        set_personal_data(other, mobile="8613812345678")
    assert exc_info.value.message_dict == {"mobile": ["该手机号已被其他账号使用。"]}
    assert raw_row(other)["mobile"] == ""


def test_same_user_may_save_its_own_numbers_again(user):
    set_personal_data(user, id_number=ID_NUMBER, mobile=MOBILE)
    assert get_user_model().objects.get(pk=user.pk).id_number == ID_NUMBER


def test_concurrent_duplicate_caught_by_the_constraint(user, monkeypatch):
    # Simulate a duplicate written between the check and the save: skip the check.
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)
    other = new_user()
    with pytest.raises(ValidationError) as exc_info:
        set_personal_data(other, id_number=ID_NUMBER)
    assert exc_info.value.message_dict == {"id_number": ["该身份证号已被其他账号使用。"]}
    # The savepoint kept the surrounding transaction usable.
    assert raw_row(other)["id_number"] == ""


def test_bad_input_names_every_bad_field_and_saves_nothing():
    person = new_user()
    with pytest.raises(ValidationError) as exc_info:
        set_personal_data(person, real_name="张三😀", id_number="110101199002304258", mobile="123")
    errors = exc_info.value.message_dict
    assert set(errors) == {"real_name", "id_number", "mobile"}
    assert errors["real_name"][0].startswith("姓名")
    assert errors["id_number"][0].startswith("身份证号")
    assert "手机号" in errors["mobile"][0]
    assert raw_row(person) == {
        "real_name": "",
        "id_number": "",
        "id_number_index": "",
        "mobile": "",
        "mobile_index": "",
    }

    # One bad field blocks the good ones too.
    with pytest.raises(ValidationError):
        set_personal_data(person, real_name="李四", mobile="1" * 200)
    assert raw_row(person)["real_name"] == ""


def test_empty_string_clears_a_field(user):
    set_personal_data(user, mobile="")
    row = raw_row(user)
    assert (row["mobile"], row["mobile_index"]) == ("", "")
    assert row["id_number"]  # untouched
    assert find_user_by_mobile(MOBILE) is None
    # The number is free for another account now.
    set_personal_data(new_user(), mobile=MOBILE)


def test_key_rotation(settings):
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PERSONAL_DATA_KEYS = [key_a]
    person = set_personal_data(new_user(), real_name=NAME, id_number=ID_NUMBER, mobile=MOBILE)
    before = raw_row(person)
    assert Fernet(key_a).decrypt(before["id_number"].encode()) == ID_NUMBER.encode()

    # New key in front, old key kept for decryption until the rotation has run.
    settings.PERSONAL_DATA_KEYS = [key_b, key_a]
    assert get_user_model().objects.get(pk=person.pk).id_number == ID_NUMBER
    out = io.StringIO()
    call_command("rotate_personal_data_keys", "--batch-size", "2", stdout=out)
    assert "values re-encrypted: 3" in out.getvalue()
    after = raw_row(person)
    assert after["id_number"] != before["id_number"]
    assert Fernet(key_b).decrypt(after["id_number"].encode()) == ID_NUMBER.encode()
    assert Fernet(key_b).decrypt(after["real_name"].encode()).decode() == NAME
    assert after["id_number_index"] == before["id_number_index"]

    # Idempotent: a second run finds everything on the primary key.
    out = io.StringIO()
    call_command("rotate_personal_data_keys", stdout=out)
    assert "values re-encrypted: 0" in out.getvalue()
    assert "blind indexes rebuilt: 0" in out.getvalue()
    assert raw_row(person) == after

    # The old key can go.
    settings.PERSONAL_DATA_KEYS = [key_b]
    fresh = get_user_model().objects.get(pk=person.pk)
    assert (fresh.real_name, fresh.id_number, fresh.mobile) == (NAME, ID_NUMBER, MOBILE)
    assert find_user_by_mobile(MOBILE).pk == person.pk


def test_index_key_rotation_rebuilds_the_indexes(settings):
    settings.PERSONAL_DATA_INDEX_KEY = "index key one"
    person = set_personal_data(new_user(), id_number=ID_NUMBER, mobile=MOBILE)
    settings.PERSONAL_DATA_INDEX_KEY = "index key two"
    assert find_user_by_mobile(MOBILE) is None
    out = io.StringIO()
    call_command("rotate_personal_data_keys", stdout=out)
    assert "blind indexes rebuilt: 2" in out.getvalue()
    assert find_user_by_mobile(MOBILE).pk == person.pk
    assert find_user_by_id_number(ID_NUMBER).pk == person.pk


def test_wrong_key_fails_loudly(settings):
    settings.PERSONAL_DATA_KEYS = [Fernet.generate_key().decode()]
    person = set_personal_data(new_user(), id_number=ID_NUMBER)
    token = raw_row(person)["id_number"]

    settings.PERSONAL_DATA_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.PersonalDataDecryptionError):
        crypto.decrypt(token)
    with pytest.raises(crypto.PersonalDataDecryptionError):
        get_user_model().objects.get(pk=person.pk)
    with pytest.raises(CommandError, match=f"Account {person.pk}: field id_number"):
        call_command("rotate_personal_data_keys", stdout=io.StringIO())
    # Nothing was rewritten with the wrong key.
    assert raw_row(person)["id_number"] == token


def test_invalid_key_setting_is_reported_without_echoing_it(settings):
    settings.PERSONAL_DATA_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured) as exc_info:
        crypto.encrypt("x")
    assert "key #1" in str(exc_info.value)
    assert "not-a-fernet-key" not in str(exc_info.value)


def test_development_keys_are_derived_from_secret_key(settings):
    settings.PERSONAL_DATA_KEYS = []
    settings.PERSONAL_DATA_INDEX_KEY = ""
    token = crypto.encrypt(MOBILE)
    index = crypto.blind_index("mobile", MOBILE)
    assert crypto.decrypt(token) == MOBILE
    # Distinct HKDF labels: the index key is not the encryption key.
    (encryption_key,) = crypto._configured_keys()
    assert base64.urlsafe_b64decode(encryption_key) != crypto._index_key()
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(crypto.PersonalDataDecryptionError):
        crypto.decrypt(token)
    assert crypto.blind_index("mobile", MOBILE) != index
