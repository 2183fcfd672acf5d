"""The one write path for messages: `notify` and marking them read (docs/notifications.md)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext, gettext_lazy

from .models import Notification

logger = logging.getLogger(__name__)


def _check_link(link: str) -> str:
    link = (link or "").strip()
    # A path on this site, or an absolute http(s) URL; never "//host" or "javascript:".
    if link and not ((link.startswith("/") and not link.startswith("//")) or link.startswith(("https://", "http://"))):
        raise ValidationError({"link": "消息链接必须是本站路径或 http(s) 地址。"})
    return link


# --- Messages in the person's language (docs/languages.md) ------------------------------------

# How a moment is written in a message: "12月9日 19:00" in Chinese, "9 Dec 19:00" in English.
MONTH_DAY_TIME = gettext_lazy("n月j日 H:i")
YEAR_MONTH_DAY = gettext_lazy("Y年n月j日")


def reading_language(user) -> str:
    """The language the person's messages are written in (accounts.User.language, else the default)."""
    language = getattr(user, "language", "") or ""
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _render(template, params: dict | None) -> str:
    # str() of a lazy string translates it into the active language; values are rendered the same
    # way (a Text or LocalTime inside is written in that language too).
    text = str(template)
    if params:
        text = text.format(**{name: str(value) for name, value in params.items()})
    return text


class Text:
    """A piece of a message, written in the language active when it becomes text.

    `Text(gettext_lazy("{time} 开始"), time=LocalTime(starts_at))`: the template is a lazy string
    with named placeholders, the values plain text (names, codes people typed) or other Text.
    """

    def __init__(self, template, **params):
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return _render(self.template, self.params)


class LocalTime:
    """A moment in the site's time zone, formatted for the language active when it becomes text."""

    def __init__(self, value, fmt=MONTH_DAY_TIME):
        self.value = value
        self.fmt = fmt

    def __str__(self) -> str:
        value = self.value
        if isinstance(value, datetime) and timezone.is_aware(value):
            value = timezone.localtime(value)
        return dateformat.format(value, str(self.fmt))


def notify(
    user, kind: str, title, body="", link: str = "", *, sms: bool = True, params: dict | None = None
) -> Notification:
    """Leave a message for `user` on the current site, and send it by email / SMS after commit.

    The message is stored in the current tenant's schema (it appears under 消息 in the personal
    centre of this site only). Email goes to the account's address when it has one, SMS to its
    mobile number when it has one and `sms` is true; both are sent by a background task once the
    caller's transaction commits, so a rolled-back booking never mails anyone.

    `title` and `body` are written in the person's language (`reading_language`): pass lazy
    strings (gettext_lazy, Chinese message ids) with named placeholders and their values in
    `params` (plain text, `Text`, `LocalTime`); they are rendered here under that language, so
    the stored message, the email and the SMS all read in it. Without `params` the text is taken
    as it is (a message staff typed may contain braces).
    """
    notification = draft(user, kind, title, body, link, sms=sms, params=params)
    leave(notification)
    return notification


def draft(
    user, kind: str, title, body="", link: str = "", *, sms: bool = True, params: dict | None = None
) -> Notification:
    """The message `notify` leaves, written in the person's language but not saved yet.

    For a caller that stores it in the same statement as its own row (core.inserts, the booking
    POST); it then calls `deliver_after_commit` itself.
    """
    if user is None or user.pk is None:
        raise ValueError("notify needs a saved user")
    with translation.override(reading_language(user)):
        title = _render(title, params)
        body = _render(body, params)
    return Notification(
        recipient=user,
        kind=kind[:60],
        title=title[:200],
        body=body,
        link=_check_link(link),
        send_sms=sms,
    )


def leave(notification: Notification) -> None:
    """Store a drafted message and send it by email / SMS once the transaction commits."""
    notification.save(force_insert=True)
    deliver_after_commit(notification)


def deliver_after_commit(notification: Notification) -> None:
    """Send a stored message by email / SMS from a background task once the transaction commits."""
    user = notification.recipient
    if _can_mail(user) or (notification.send_sms and _can_text(user)):
        from .tasks import deliver_notification_task

        transaction.on_commit(lambda: deliver_notification_task.enqueue(notification.pk))


def messages_for(user) -> QuerySet[Notification]:
    """The person's messages on this site, newest first."""
    return Notification.objects.filter(recipient=user)


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user, notification_id: int) -> Notification:
    """Mark one of the person's own messages read (again is harmless); another's raises DoesNotExist."""
    notification = Notification.objects.get(pk=notification_id, recipient=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def absolute_link(link: str) -> str:
    """The message's link on this tenant's own host (for email and SMS)."""
    if not link or link.startswith(("http://", "https://")):
        return link
    from core.urls_util import current_site_base_url

    return current_site_base_url() + link


def deliver(notification_id: int) -> None:
    """Send a stored message by email and SMS, each at most once (a retried task skips what was sent)."""
    from . import sms

    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    user = notification.recipient
    link = absolute_link(notification.link)
    if _can_mail(user) and notification.emailed_at is None:
        text = "\n\n".join(part for part in (notification.body, link) if part)
        send_mail(notification.title, text, settings.DEFAULT_FROM_EMAIL, [user.email])
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    if notification.send_sms and _can_text(user) and notification.texted_at is None:
        with translation.override(reading_language(user)):
            site_name = _site_name(reading_language(user))
        sms.send_sms(user.mobile, f"【{site_name}】{notification.title}" + (f" {link}" if link else ""))
        Notification.objects.filter(pk=notification.pk).update(texted_at=timezone.now())


def _can_mail(user) -> bool:
    # Only an address its owner proved: an unproven one may be someone else's mailbox.
    return bool(user.email and user.email_verified)


def _can_text(user) -> bool:
    return bool(user.mobile and user.mobile_verified)


def _site_name(language: str = settings.LANGUAGE_CODE) -> str:
    from django.db import connection
    from django_tenants.utils import get_tenant_model

    site = get_tenant_model().objects.filter(schema_name=connection.schema_name).first()
    name = site.name if site else gettext("文化云")
    if site and language != settings.LANGUAGE_CODE:
        # The name in the reader's language (the English name an editor gave, Traditional
        # characters), as the site's header shows it (themes.models.Branding.name_in).
        from themes.models import Branding

        branding = Branding.objects.filter(site__is_default_site=True).first()
        if branding and branding.site_name:
            name = branding.name_in(language)
    return name
