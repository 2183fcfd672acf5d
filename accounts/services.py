from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.crypto import blind_index
from accounts.personal_data import normalize_mobile, validate_id_number, validate_real_name


def ensure_account(username: str, password: str, *, display_name: str = "", is_superuser: bool = False):
    """Create a global account if it does not exist yet; an existing one is left untouched."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, first_name=display_name, is_staff=is_superuser, is_superuser=is_superuser)
        user.set_password(password)
        user.save()
    return user


# --- Real-name data ------------------------------------------------------------------

# Encrypted field -> (blind-index field, index kind). The kind is mixed into the HMAC so
# the same digits as a phone and as an ID number never share an index value.
PERSONAL_DATA_INDEXES: dict[str, tuple[str, str]] = {
    "id_number": ("id_number_index", "id_number"),
    "mobile": ("mobile_index", "mobile"),
}
DUPLICATE_MESSAGES = {
    "id_number": "该身份证号已被其他账号使用。",
    "mobile": "该手机号已被其他账号使用。",
}
_UNIQUE_CONSTRAINTS = {
    "accounts_user_id_number_index_unique": "id_number",
    "accounts_user_mobile_index_unique": "mobile",
}
_VALIDATORS: dict[str, Callable[[str], str]] = {
    "real_name": validate_real_name,
    "id_number": validate_id_number,
    "mobile": normalize_mobile,
}


def set_personal_data(user, *, real_name: str | None = None, id_number: str | None = None, mobile: str | None = None):
    """Validate, normalise, check for duplicates, encrypt and save a user's real-name data.

    None leaves a field as it is; an empty (or blank) string clears it. On any error a
    ValidationError maps each bad field to its Chinese message and nothing is saved —
    neither in the database nor on `user`. Returns `user` with the new values.
    """
    if user.pk is None:
        raise ValueError("set_personal_data needs a saved user")
    User = get_user_model()
    given = {"real_name": real_name, "id_number": id_number, "mobile": mobile}
    errors: dict[str, list[ValidationError]] = {}
    values: dict[str, str] = {}
    for field, raw in given.items():
        if raw is None:
            continue
        if isinstance(raw, str) and not raw.strip():
            values[field] = ""
            continue
        try:
            values[field] = _VALIDATORS[field](raw)
        except ValidationError as exc:
            errors[field] = exc.error_list
    if errors:
        raise ValidationError(errors)

    updates: dict[str, str] = dict(values)
    for field, (index_field, kind) in PERSONAL_DATA_INDEXES.items():
        if field in values:
            updates[index_field] = blind_index(kind, values[field]) if values[field] else ""

    others = User.objects.exclude(pk=user.pk)
    for field, (index_field, _kind) in PERSONAL_DATA_INDEXES.items():
        if updates.get(index_field) and others.filter(**{index_field: updates[index_field]}).exists():
            errors[field] = [ValidationError(DUPLICATE_MESSAGES[field], code=f"duplicate_{field}")]
    if errors:
        raise ValidationError(errors)
    if not updates:
        return user

    try:
        # A savepoint, so a duplicate that slipped in between the check above and this
        # write (a concurrent request) leaves the caller's transaction usable.
        with transaction.atomic():
            # update(), not save(): only these columns are written, and a failure
            # leaves the in-memory user untouched.
            User.objects.filter(pk=user.pk).update(**updates)
    except IntegrityError as exc:
        field = _violated_field(exc)
        if field is None:
            raise
        raise ValidationError({field: ValidationError(DUPLICATE_MESSAGES[field], code=f"duplicate_{field}")}) from None
    for name, value in updates.items():
        setattr(user, name, value)
    return user


def _violated_field(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    if constraint in _UNIQUE_CONSTRAINTS:
        return _UNIQUE_CONSTRAINTS[constraint]
    for name, field in _UNIQUE_CONSTRAINTS.items():
        if name in str(exc):
            return field
    return None


def find_user_by_mobile(mobile: str):
    """The account with this phone number (any spelling), through the blind index; None if none or invalid."""
    try:
        normalized = normalize_mobile(mobile)
    except ValidationError:
        return None
    return get_user_model().objects.filter(mobile_index=blind_index("mobile", normalized)).first()


def find_user_by_id_number(id_number: str):
    """The account with this ID number (any spelling), through the blind index; None if none or invalid."""
    try:
        normalized = validate_id_number(id_number)
    except ValidationError:
        return None
    return get_user_model().objects.filter(id_number_index=blind_index("id_number", normalized)).first()


# --- Registration and site membership ------------------------------------------------


def register_account(*, password: str, display_name: str = "", email: str = "", mobile: str = ""):
    """Create one global account identified by an email address or a mobile number.

    Raises ValidationError naming `email` or `mobile` for a duplicate; nothing is saved then.
    """
    import secrets

    User = get_user_model()
    email = (email or "").strip().lower()
    if email and User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "该邮箱已注册，请直接登录或找回密码。"})
    if mobile and find_user_by_mobile(mobile) is not None:
        raise ValidationError({"mobile": "该手机号已注册，请直接登录。"})
    with transaction.atomic():
        # The username is neither the phone nor the email: it is shown to staff of every site.
        user = User(username=f"u{secrets.token_hex(6)}", email=email, first_name=display_name)
        user.set_password(password)
        user.save()
        if mobile:
            set_personal_data(user, mobile=mobile)
    return user


def join_current_site(user) -> None:
    """Make the person a member of the tenant whose schema is active (no-op on the platform host)."""
    from django.db import connection
    from django_tenants.utils import get_public_schema_name

    if connection.schema_name != get_public_schema_name():
        from roles.services import join_as_member

        join_as_member(user)


def roles_in_current_site(user) -> list[str]:
    from django.db import connection
    from django_tenants.utils import get_public_schema_name

    if connection.schema_name == get_public_schema_name():
        return []
    from roles.services import role_names_of

    return role_names_of(user)


# --- Deactivation (accounts are never deleted) ------------------------------------------


def deactivate_account(user) -> None:
    """Stop an account everywhere: it can no longer sign in, and its open sessions end.

    The row stays: pages, revisions, bookings and volunteer hours in every tenant refer to it.
    """
    from django.contrib.sessions.models import Session

    from .models import AccountSession

    with transaction.atomic():
        type(user).objects.filter(pk=user.pk).update(is_active=False)
        keys = AccountSession.objects.filter(user=user).values_list("session_key", flat=True)
        Session.objects.filter(session_key__in=list(keys)).delete()
        AccountSession.objects.filter(user=user).delete()
    user.is_active = False
