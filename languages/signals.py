"""A Simplified page published → its zh-Hant version is brought up to date by the task worker."""

from django.conf import settings
from django.db import transaction
from wagtail.signals import page_published


def on_published(sender, instance, **kwargs):
    if instance.locale.language_code != settings.LANGUAGE_CODE:
        return
    from .tasks import sync_traditional_task

    page_id = instance.pk
    transaction.on_commit(lambda: sync_traditional_task.enqueue(page_id))


page_published.connect(on_published, dispatch_uid="languages_sync_traditional")
