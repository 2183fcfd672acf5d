"""Messages to one person on one site (消息), kept in the tenant's schema.

A message sent by 浙江文化云 lives in the `zhejiang` schema only: the same person signed in on
四川文化云 never sees it there (ARCHITECTURE §4).
"""

from django.conf import settings
from django.db import models


class Notification(models.Model):
    # The global account (public schema); the row itself lives in this tenant's schema.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="收件人"
    )
    # What the message is about, for filtering and templates: "bookings.confirmed", "volunteers.shift"...
    kind = models.CharField("类型", max_length=60)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    # A path on this site ("/me/bookings/…") or an absolute http(s) URL.
    link = models.CharField("链接", max_length=500, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)
    # Delivery outside the site, done by notifications.tasks after the sending transaction commits.
    emailed_at = models.DateTimeField(null=True, blank=True, editable=False)
    texted_at = models.DateTimeField(null=True, blank=True, editable=False)
    send_sms = models.BooleanField(default=True, editable=False)

    class Meta:
        verbose_name = "消息"
        verbose_name_plural = "消息"
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The personal centre's list and its unread count.
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient_recent"),
            models.Index(fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notif_recipient_unread"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
