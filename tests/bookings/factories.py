"""Sessions and people for booking tests (inside the caller's schema)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from accounts.personal_data import id_number_check_char
from accounts.services import ensure_account, set_personal_data

PASSWORD = "Yuyue-2026-test"
_serial = itertools.count(1)


def id_number(serial: int) -> str:
    """A valid 身份证号, different for every serial below 20 million (birth date + sequence)."""
    from datetime import date

    born = date(1950, 1, 1) + timedelta(days=(serial // 1000) % 20000)
    first17 = f"330106{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + id_number_check_char(first17)


def person(username: str, *, real_name: str = "王小明", with_id: bool = True, email: str = ""):
    user = ensure_account(username, PASSWORD, display_name=real_name)
    if email:
        user.email = email
        user.save(update_fields=["email"])
    if with_id and not user.id_number:
        set_personal_data(user, real_name=real_name, id_number=id_number(next(_serial) + user.pk * 7))
    return user


def activity():
    from cms_pages.models import ActivityPage

    return ActivityPage.objects.live().filter(locale__language_code="zh-hans").first()


def session(**fields):
    from bookings.models import Session

    now = timezone.now()
    defaults = {
        "activity": activity(),
        "starts_at": now + timedelta(days=3),
        "ends_at": now + timedelta(days=3, hours=2),
        "capacity": 10,
        "opens_at": now - timedelta(days=1),
    }
    defaults.update(fields)
    return Session.objects.create(**defaults)
