"""A Simplified page published → its zh-Hant version is brought up to date by the task worker."""

from django.db import transaction
from wagtail.signals import page_published


def on_published(sender, instance, **kwargs):
    from .services import is_original_language
    from .tasks import sync_traditional_task

    if not is_original_language(instance):
        return

    page_id = instance.pk
    transaction.on_commit(lambda: sync_traditional_task.enqueue(page_id))


page_published.connect(on_published, dispatch_uid="languages_sync_traditional")
