"""The one write path for messages: `notify` and marking them read (docs/notifications.md)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Notification

logger = logging.getLogger(__name__)


def _check_link(link: str) -> str:
    link = (link or "").strip()
    # A path on this site, or an absolute http(s) URL; never "//host" or "javascript:".
    if link and not ((link.startswith("/") and not link.startswith("//")) or link.startswith(("https://", "http://"))):
        raise ValidationError({"link": "消息链接必须是本站路径或 http(s) 地址。"})
    return link


def notify(user, kind: str, title: str, body: str = "", link: str = "", *, sms: bool = True) -> Notification:
    """Leave a message for `user` on the current site, and send it by email / SMS after commit.

    The message is stored in the current tenant's schema (it appears under 消息 in the personal
    centre of this site only). Email goes to the account's address when it has one, SMS to its
    mobile number when it has one and `sms` is true; both are sent by a background task once the
    caller's transaction commits, so a rolled-back booking never mails anyone.
    """
    if user is None or user.pk is None:
        raise ValueError("notify needs a saved user")
    notification = Notification.objects.create(
        recipient=user,
        kind=kind[:60],
        title=title[:200],
        body=body,
        link=_check_link(link),
        send_sms=sms,
    )
    if _can_mail(user) or (sms and _can_text(user)):
        from .tasks import deliver_notification_task

        transaction.on_commit(lambda: deliver_notification_task.enqueue(notification.pk))
    return notification


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
        sms.send_sms(user.mobile, f"【{_site_name()}】{notification.title}" + (f" {link}" if link else ""))
        Notification.objects.filter(pk=notification.pk).update(texted_at=timezone.now())


def _can_mail(user) -> bool:
    # Only an address its owner proved: an unproven one may be someone else's mailbox.
    return bool(user.email and user.email_verified)


def _can_text(user) -> bool:
    return bool(user.mobile and user.mobile_verified)


def _site_name() -> str:
    from django.db import connection
    from django_tenants.utils import get_tenant_model

    site = get_tenant_model().objects.filter(schema_name=connection.schema_name).first()
    return site.name if site else "文化云"
