"""Sign in with a username, an email address or a mobile number; permissions per tenant."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied, ValidationError

from . import lockout
from .personal_data import normalize_mobile


def find_account(identifier: str):
    """The account an identifier names, or None. A mobile number is found through its blind
    index (accounts.services), never by decrypting stored numbers."""
    from .services import find_user_by_mobile

    User = get_user_model()
    identifier = (identifier or "").strip()
    if not identifier or len(identifier) > 254:
        return None
    # An email address or a mobile number signs in only once its owner proved it (a link opened,
    # a texted code entered): typing someone else's address into an account gains nothing.
    if "@" in identifier:
        return User.objects.filter(email__iexact=identifier, email_verified=True).first()
    try:
        mobile = normalize_mobile(identifier)
    except ValidationError:
        return User.objects.filter(username=identifier).first()
    holder = find_user_by_mobile(mobile)
    if holder is not None and holder.mobile_verified:
        return holder
    return User.objects.filter(username=identifier).first()


class AccountBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = find_account(username)
        attempt = lockout.Attempt(request, username, user)
        until = attempt.locked_until()
        if until is not None:
            if request is not None:
                request.login_locked_until = until
            # PermissionDenied stops Django from trying any other backend.
            raise PermissionDenied
        if user is None:
            # Spend the same time as a real check, so response time does not reveal accounts.
            get_user_model()().set_password(password)
        elif user.check_password(password) and self.user_can_authenticate(user):
            attempt.succeeded()
            return user
        attempt.failed()
        return None
