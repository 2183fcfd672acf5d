"""Background work of the languages app (tenant tasks: they run in the schema that enqueued them)."""

from django_tasks import task


@task()
def sync_traditional_task(page_id: int) -> bool:
    """The zh-Hant version of a page just published (nothing when it is gone or unpublished)."""
    from wagtail.models import Page

    from . import services

    page = Page.objects.filter(pk=page_id).first()
    return page is not None and services.sync_traditional(page) is not None
