"""Encryption at rest and blind indexes for personal data.

Keys come from settings (read from the environment in core/settings):

* ``PERSONAL_DATA_KEYS``: Fernet keys, newest first. The first one encrypts; every one
  of them decrypts, so a new key can be put in front, ``rotate_personal_data_keys`` run,
  and the old key dropped afterwards.
* ``PERSONAL_DATA_INDEX_KEY``: the HMAC-SHA256 key of the blind indexes, which let us
  find a user by phone or ID number (and refuse duplicates) without decrypting anything.

Without them (development, tests) both are derived from SECRET_KEY with HKDF under
distinct labels, so the encryption key never equals the index key. Production settings
refuse to start without explicit keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.lookups import Exact, IsNull

_ENCRYPTION_INFO = b"culture-cloud personal-data encryption v1"
_INDEX_INFO = b"culture-cloud personal-data blind-index v1"


class PersonalDataDecryptionError(Exception):
    """A stored value could not be decrypted with any configured key.

    Never swallowed: a wrong or missing key must stop the request, not show empty data
    that the next save would then overwrite.
    """


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


def _as_bytes(key: str | bytes) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


def _configured_keys() -> tuple[bytes, ...]:
    keys = getattr(settings, "PERSONAL_DATA_KEYS", None) or ()
    if isinstance(keys, str | bytes):
        # A single key given as a plain string rather than a list.
        keys = [keys]
    keys = tuple(_as_bytes(key).strip() for key in keys if key and _as_bytes(key).strip())
    if keys:
        return keys
    return (base64.urlsafe_b64encode(_derive(settings.SECRET_KEY, _ENCRYPTION_INFO)),)


@lru_cache(maxsize=8)
def _fernets(keys: tuple[bytes, ...]) -> tuple[MultiFernet, Fernet]:
    """All keys (decryption) and the primary one (encryption, "is this token current?").

    Cached per key tuple: settings can change at runtime (tests), keys rarely do.
    """
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError) as exc:
            # The position only: never echo key material into logs or tracebacks.
            raise ImproperlyConfigured(
                f"PERSONAL_DATA_KEYS: key #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; generate one with "
                '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).'
            ) from exc
    return MultiFernet(fernets), fernets[0]


def _fernet() -> MultiFernet:
    return _fernets(_configured_keys())[0]


def _primary() -> Fernet:
    return _fernets(_configured_keys())[1]


def _index_key() -> bytes:
    key = getattr(settings, "PERSONAL_DATA_INDEX_KEY", None)
    if key:
        key = _as_bytes(key).strip()
    if key:
        return key
    return _derive(settings.SECRET_KEY, _INDEX_INFO)


def encrypt(plaintext: str) -> str:
    """Encrypt with the primary key; the token is ASCII, safe for a text column."""
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt with whichever configured key fits; raise PersonalDataDecryptionError if none does."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise PersonalDataDecryptionError(
            "Personal data could not be decrypted: none of PERSONAL_DATA_KEYS fits the stored value "
            "(a key was removed before `manage.py rotate_personal_data_keys` ran, or the keys are wrong)."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token with the primary key (it may have been made with any configured key)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise PersonalDataDecryptionError(
            "Personal data could not be re-encrypted: none of PERSONAL_DATA_KEYS fits the stored value."
        ) from exc


def is_current(token: str) -> bool:
    """Whether the primary key alone decrypts the token (so rotating it would change nothing)."""
    try:
        _primary().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def blind_index(kind: str, normalized_value: str) -> str:
    """Keyed hash (hex HMAC-SHA256) of a normalised value, for equality lookups.

    `kind` is part of the MAC input so a phone number and an ID number never share an
    index value; the NUL separator keeps ("ab", "c") apart from ("a", "bc"). Callers pass
    the normalised value (personal_data.normalize_mobile / validate_id_number), so every
    spelling of one number maps to one index.
    """
    if not kind or "\x00" in kind:
        raise ValueError("blind_index: kind must be a non-empty string without NUL")
    message = kind.encode("utf-8") + b"\x00" + normalized_value.encode("utf-8")
    return hmac.new(_index_key(), message, hashlib.sha256).hexdigest()


# --- Model field ----------------------------------------------------------------


class _EmptyOnlyExact(Exact):
    """`field=""` still works (has the value been filled in?); `field="plaintext"` is refused.

    Ciphertexts are randomised, so comparing them with a freshly encrypted value would
    silently match nothing; equality lookups go through the blind index instead.
    """

    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise TypeError(
                f"{self.lhs.target.name} is encrypted: filter on its blind index "
                "(accounts.services.find_user_by_mobile / find_user_by_id_number), not on the value."
            )
        return super().get_prep_lookup()


class EncryptedCharField(models.TextField):
    """A text value stored as a Fernet token; Python code sees the plaintext.

    None and "" are stored as they are, so "not filled in" stays queryable. Only the
    `isnull` and empty-string `exact` lookups are allowed (see _EmptyOnlyExact).
    """

    description = "Encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        return None

    def get_transform(self, lookup_name):
        return None

    def formfield(self, **kwargs):
        # A one-line input, not the textarea of TextField: these are short values.
        return super().formfield(**{"widget": forms.TextInput, **kwargs})
