from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    "id_number": gettext_lazy("该身份证号已被其他账号使用。"),
    "mobile": gettext_lazy("该手机号已被其他账号使用。"),
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

    updates: dict[str, object] = dict(values)
    if "mobile" in values:
        # A number typed in is not a proven one: confirm_mobile sets this after the texted code.
        updates["mobile_verified"] = False
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


CONSENT_REQUIRED_MESSAGE = gettext_lazy("请阅读并同意《隐私政策》和《用户协议》后再注册。")


def register_account(*, password: str, display_name: str = "", email: str = "", mobile: str = "", consented_to=None):
    """Create one global account identified by an email address or a mobile number.

    `consented_to`: the policies (accounts.policies.Policy) the person agreed to on this site;
    both the privacy policy and the user agreement are required, and the consent to each is
    recorded with its version and date (PIPL). Raises ValidationError naming `consent`,
    `email` or `mobile`; nothing is saved then.
    """
    import secrets

    from accounts.policies import KINDS

    if {p.kind for p in consented_to or ()} != set(KINDS):
        raise ValidationError({"consent": CONSENT_REQUIRED_MESSAGE})
    User = get_user_model()
    email = (email or "").strip().lower()
    if email and _verified_email_owner(email) is not None:
        raise ValidationError({"email": _("该邮箱已注册，请直接登录或找回密码。")})
    holder = find_user_by_mobile(mobile) if mobile else None
    if holder is not None and holder.mobile_verified:
        raise ValidationError({"mobile": _("该手机号已注册，请直接登录。")})
    with transaction.atomic():
        # The username is neither the phone nor the email: it is shown to staff of every site.
        # The email is kept unverified until its link is opened; the mobile number is attached
        # only once its texted code is entered (request_mobile_verification / confirm_mobile).
        user = User(username=f"u{secrets.token_hex(6)}", email=email, first_name=display_name)
        user.set_password(password)
        user.save()
        _record_consent(user, consented_to)
    if email:
        request_email_verification(user, email)
    if mobile:
        request_mobile_verification(user, mobile)
    return user


def _record_consent(user, policies) -> None:
    from django.db import connection

    from accounts.models import PolicyConsent

    PolicyConsent.objects.bulk_create(
        PolicyConsent(
            user=user,
            site_schema=connection.schema_name,
            kind=p.kind,
            version=p.version,
            policy_date=p.date,
            policy_url=p.url,
        )
        for p in policies
    )


def set_display_name(user, display_name: str) -> None:
    """The name people see for this account (header, /me/, comments): never the generated username."""
    from accounts.personal_data import validate_display_name

    value = validate_display_name(display_name)
    get_user_model().objects.filter(pk=user.pk).update(first_name=value)
    user.first_name = value


def remember_language(user, language: str | None) -> bool:
    """Record the language the person reads in (their messages are written in it, notifications.notify).

    Called when they sign in or register on a page in a language (the request's active language).
    Writes only when it differs from what is stored (blank counts as settings.LANGUAGE_CODE), so a
    person signing in again in the same language costs no query. Returns whether it wrote.
    """
    from django.conf import settings

    language = (language or "").lower()
    if user is None or user.pk is None or language not in dict(settings.LANGUAGES):
        return False
    if (user.language or settings.LANGUAGE_CODE) == language:
        return False
    get_user_model().objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return True


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
    from core.sessions import end_sessions

    from .models import AccountSession

    with transaction.atomic():
        type(user).objects.filter(pk=user.pk).update(is_active=False)
        end_sessions(AccountSession.objects.filter(user=user).values_list("session_key", flat=True))
        AccountSession.objects.filter(user=user).delete()
    user.is_active = False


# --- Verified email addresses and mobile numbers -------------------------------------------
# An address signs in and receives password resets only once its owner proved they hold it:
# a link mailed to the address, a code texted to the number. A change (on /me/, after
# registration) takes effect only then, so nobody can attach someone else's address to their
# own account and take over what that address unlocks.

EMAIL_TOKEN_SALT = "accounts.verify-email"  # noqa: S105 - a signing salt, not a secret
EMAIL_TOKEN_MAX_AGE = 3 * 24 * 60 * 60
MOBILE_CODE_SECONDS = 10 * 60
MOBILE_CODE_ATTEMPTS = 5
EMAIL_TAKEN = gettext_lazy("该邮箱已被其他账号使用。")
MOBILE_TAKEN = gettext_lazy("该手机号已被其他账号使用。")


def _verified_email_owner(email: str):
    return get_user_model().objects.filter(email__iexact=email, email_verified=True).first()


def normalise_email(email: str) -> str:
    from django import forms

    field = forms.EmailField(error_messages={"invalid": _("邮箱格式不正确。"), "required": _("请填写邮箱。")})
    return field.clean((email or "").strip()).lower()


def request_email_verification(user, email: str) -> str:
    """Mail a verification link to `email` for `user`; the address is used only once it is opened.

    Raises ValidationError({"email": …}) for a malformed address or one another account has proven.
    Returns the link (for the tests; the person gets it by mail only).
    """
    from django.core import signing
    from django.core.mail import send_mail
    from django.urls import reverse

    from core.urls_util import current_site_base_url

    try:
        email = normalise_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from None
    owner = _verified_email_owner(email)
    if owner is not None and owner.pk != user.pk:
        raise ValidationError({"email": EMAIL_TAKEN})
    token = signing.dumps({"u": user.pk, "e": email}, salt=EMAIL_TOKEN_SALT)
    link = current_site_base_url() + reverse("verify_email", args=[token])
    send_mail(
        _("请验证您的文化云邮箱"),
        _(
            "您好，\n\n请打开下面的链接，确认 %(email)s 是文化云账号 %(username)s 的邮箱（3 天内有效）：\n\n"
            "%(link)s\n\n验证后可以用这个邮箱登录和找回密码。如果不是您本人操作，请忽略这封邮件。\n\n文化云"
        )
        % {"email": email, "username": user.get_username(), "link": link},
        None,
        [email],
    )
    return link


def confirm_email(token: str):
    """Open a verification link: the address becomes the account's, verified. Returns the user.

    Raises ValidationError with a Chinese message for an expired, forged or outdated link, or an
    address another account proved in the meantime.
    """
    from django.core import signing

    try:
        data = signing.loads(token, salt=EMAIL_TOKEN_SALT, max_age=EMAIL_TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise ValidationError(_("验证链接无效或已过期，请重新发送验证邮件。")) from None
    User = get_user_model()
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    email = data.get("e") or ""
    if user is None or not email:
        raise ValidationError(_("验证链接无效或已过期，请重新发送验证邮件。"))
    owner = _verified_email_owner(email)
    if owner is not None and owner.pk != user.pk:
        raise ValidationError(EMAIL_TAKEN)
    user.email = email
    user.email_verified = True
    user._email_proven = True
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_verified"])
    except IntegrityError:
        raise ValidationError(EMAIL_TAKEN) from None
    return user


def _mobile_code_key(user) -> str:
    return f"accounts:mobile-code:{user.pk}"


def request_mobile_verification(user, mobile: str) -> None:
    """Text a six-digit code to `mobile`; the number becomes the account's once the code is entered.

    Raises ValidationError({"mobile": …}) for an invalid number or one another account has proven.
    """
    import hashlib
    import secrets

    from django.core.cache import caches

    from accounts.crypto import encrypt

    try:
        mobile = normalize_mobile(mobile)
    except ValidationError as exc:
        raise ValidationError({"mobile": exc.messages}) from None
    holder = find_user_by_mobile(mobile)
    if holder is not None and holder.pk != user.pk and holder.mobile_verified:
        raise ValidationError({"mobile": MOBILE_TAKEN})
    code = f"{secrets.randbelow(10**6):06d}"
    caches["shared"].set(
        _mobile_code_key(user),
        {
            "mobile": encrypt(mobile),
            "code": hashlib.sha256(f"{user.pk}:{code}".encode()).hexdigest(),
            "attempts": 0,
        },
        MOBILE_CODE_SECONDS,
    )
    from notifications.sms import send_sms

    # In the language the person is reading (they asked for the code themselves).
    send_sms(mobile, _("【文化云】您的验证码是 %(code)s，10 分钟内有效。请勿告诉他人。") % {"code": code})


def pending_mobile(user) -> str:
    """The number waiting for its code (masked by the caller), or ""."""
    from django.core.cache import caches

    from accounts.crypto import decrypt

    pending = caches["shared"].get(_mobile_code_key(user))
    return decrypt(pending["mobile"]) if pending else ""


def confirm_mobile(user, code: str):
    """Enter the texted code: the number becomes the account's, verified. Returns the user.

    Five wrong codes void it. An account that merely typed this number in earlier, without ever
    proving it, loses it: the number is this person's.
    """
    import hashlib
    import hmac

    from django.core.cache import caches

    from accounts.crypto import decrypt

    cache = caches["shared"]
    key = _mobile_code_key(user)
    pending = cache.get(key)
    if not pending:
        raise ValidationError({"code": _("验证码已过期，请重新获取。")})
    expected = hashlib.sha256(f"{user.pk}:{(code or '').strip()}".encode()).hexdigest()
    if not hmac.compare_digest(expected, pending["code"]):
        pending["attempts"] += 1
        if pending["attempts"] >= MOBILE_CODE_ATTEMPTS:
            cache.delete(key)
            raise ValidationError({"code": _("验证码错误次数过多，请重新获取。")})
        cache.set(key, pending, MOBILE_CODE_SECONDS)
        raise ValidationError({"code": _("验证码不正确。")})
    mobile = decrypt(pending["mobile"])
    User = get_user_model()
    with transaction.atomic():
        holder = find_user_by_mobile(mobile)
        if holder is not None and holder.pk != user.pk:
            if holder.mobile_verified:
                raise ValidationError({"code": MOBILE_TAKEN})
            User.objects.filter(pk=holder.pk).update(mobile="", mobile_index="", mobile_verified=False)
        set_personal_data(user, mobile=mobile)
        User.objects.filter(pk=user.pk).update(mobile_verified=True)
    user.mobile_verified = True
    cache.delete(key)
    return user
