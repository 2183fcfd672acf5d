"""Login protection that cannot be turned against the people it protects (docs/decisions/0013).

Checked in the authentication backend, so every way in (our login page, Wagtail's admin login,
the account service's OIDC login) is covered. Counters are rows in the public schema, shared by
every web process.

Three counters, after OWASP's "slow down online guessing with device cookies":

- **account + address** (`pair:`): LOGIN_MAX_FAILURES wrong passwords for one account from one
  client address lock that pair only. Other accounts signing in from the same address (a
  library terminal, a carrier NAT) are untouched, and so is the owner at home. Each repeated
  lock-out of the pair doubles its length (15 min, 30 min, 1 h … at most a day).
- **account** (`account:`): LOGIN_ACCOUNT_MAX_FAILURES failures from anywhere (a guess spread over
  many addresses) lock the account for browsers that never signed in to it, again growing; the
  owner gets an email. A browser that has signed in to the account before carries a signed
  device cookie for it and is not subject to this lock — so a stranger cannot lock the owner
  out everywhere — while its own pair counter still applies.
- A password reset (proof of the mailbox) clears the account lock.

The account is counted however its identifier is typed: an identifier naming an account counts
against that account's id (username, email in any case, mobile with +86 / spaces / dashes /
full-width digits are one account); an unknown identifier counts against its normalised form.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from core.client_address import client_address

from .models import LoginThrottle

logger = logging.getLogger(__name__)

DEVICE_COOKIE = "culture_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 60 * 60
_DEVICE_SALT = "accounts.lockout.device"
_DEVICE_ACCOUNTS_KEPT = 5


def normalise_identifier(identifier: str) -> str:
    """One spelling per identifier: NFKC (full-width digits), trimmed, lower-case; mobiles as 11 digits."""
    from django.core.exceptions import ValidationError

    from .personal_data import normalize_mobile

    text = unicodedata.normalize("NFKC", identifier or "").strip().lower()
    if "@" not in text:
        try:
            return normalize_mobile(text)
        except ValidationError:
            pass
    return text


def account_identity(identifier: str, user=None) -> str:
    """What failures are counted against: the account itself when the identifier names one."""
    if user is not None and user.pk is not None:
        return f"user:{user.pk}"
    # Hashed: the table must not become a list of phone numbers and addresses people typed.
    return "id:" + hashlib.sha256(normalise_identifier(identifier).encode()).hexdigest()


class Attempt:
    """One sign-in attempt: who is being signed in to, from where, from which browser."""

    def __init__(self, request, identifier: str, user=None):
        self.identity = account_identity(identifier, user)
        self.address = client_address(request)
        self.pair_key = f"pair:{self.identity}:{self.address}"
        self.account_key = f"account:{self.identity}"
        self.trusted_device = user is not None and user.pk in device_accounts(request)
        self.user = user

    def locked_until(self) -> datetime | None:
        keys = [self.pair_key] if self.trusted_device else [self.pair_key, self.account_key]
        return (
            LoginThrottle.objects.filter(key__in=keys, locked_until__gt=timezone.now())
            .order_by("-locked_until")
            .values_list("locked_until", flat=True)
            .first()
        )

    def failed(self) -> None:
        _count_failure(self.pair_key, settings.LOGIN_MAX_FAILURES)
        if not self.trusted_device:
            newly_locked = _count_failure(self.account_key, settings.LOGIN_ACCOUNT_MAX_FAILURES)
            if newly_locked and self.user is not None:
                _tell_the_owner(self.user)

    def succeeded(self) -> None:
        # The pair is forgiven; the account-wide count of a spread-out guess is not.
        LoginThrottle.objects.filter(key=self.pair_key).delete()


def _lock_length(previous_lockouts: int) -> timedelta:
    seconds = settings.LOGIN_LOCKOUT_SECONDS * (2 ** min(previous_lockouts, 16))
    return timedelta(seconds=min(seconds, settings.LOGIN_LOCKOUT_MAX_SECONDS))


def _count_failure(key: str, threshold: int) -> bool:
    """Count one failure under `key`; True when this failure locked it."""
    now = timezone.now()
    window = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    LoginThrottle.objects.get_or_create(key=key)
    with transaction.atomic():
        throttle = LoginThrottle.objects.select_for_update().get(key=key)
        if throttle.last_failure_at and now - throttle.last_failure_at > window:
            throttle.failures = 0  # failures long ago do not count against a new attempt
        if throttle.last_failure_at and now - throttle.last_failure_at > timedelta(
            seconds=settings.LOGIN_LOCKOUT_MAX_SECONDS
        ):
            throttle.lockouts = 0  # a day of quiet: the next lock-out is short again
        throttle.failures += 1
        throttle.last_failure_at = now
        locked = throttle.failures >= threshold
        if locked:
            throttle.locked_until = now + _lock_length(throttle.lockouts)
            throttle.lockouts += 1
            throttle.failures = 0
        throttle.save()
    return locked


def forgive_account(user) -> None:
    """The owner proved they hold the mailbox (password reset): lift the account-wide lock."""
    LoginThrottle.objects.filter(key=f"account:{account_identity('', user)}").delete()


def _tell_the_owner(user) -> None:
    logger.warning("account %s locked for unknown browsers after repeated failed sign-ins", user.pk)
    if not user.email:
        return
    from django.core.mail import send_mail

    try:
        send_mail(
            "文化云账号登录保护提醒",
            "您的文化云账号在短时间内出现多次密码错误的登录尝试，为保护账号安全，"
            "陌生设备上的登录已暂时锁定；您常用的设备不受影响。\n"
            "如果不是您本人操作，建议通过“忘记密码”重设密码。",
            None,
            [user.email],
        )
    except Exception:  # the lock must hold even when the mail server is down
        logger.exception("could not mail the lock-out notice")


# --- device cookie ----------------------------------------------------------------------------


def device_accounts(request) -> list[int]:
    """Accounts this browser has signed in to (a signed cookie set at sign-in)."""
    if request is None:
        return []
    value = request.COOKIES.get(DEVICE_COOKIE)
    if not value:
        return []
    try:
        accounts = signing.loads(value, salt=_DEVICE_SALT, max_age=DEVICE_COOKIE_MAX_AGE)
    except signing.BadSignature:
        return []
    return [a for a in accounts if isinstance(a, int)] if isinstance(accounts, list) else []


def remember_device(request, response, user) -> None:
    """After a successful sign-in: this browser is known to `user`'s account from now on."""
    from core.middleware import shared_cookie_domain

    accounts = [user.pk] + [a for a in device_accounts(request) if a != user.pk]
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps(accounts[:_DEVICE_ACCOUNTS_KEPT], salt=_DEVICE_SALT),
        max_age=DEVICE_COOKIE_MAX_AGE,
        domain=shared_cookie_domain(request.get_host()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
