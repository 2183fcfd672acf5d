from __future__ import annotations

from django.contrib.auth import get_user_model


def ensure_account(username: str, password: str, *, display_name: str = "", is_superuser: bool = False):
    """Create a global account if it does not exist yet; an existing one is left untouched."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, first_name=display_name, is_staff=is_superuser, is_superuser=is_superuser)
        user.set_password(password)
        user.save()
    return user
