"""Fixtures for federation tests: pages to publish in a province, the national catalogue to read."""

from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import schema_context

from cms_pages import models as m


def new_resource(title: str = "越剧《梁山伯与祝英台》全本", *, push: bool = True, **fields) -> m.ResourcePage:
    """A published resource in the current schema (a real revision and publish, as editors do)."""
    index = m.ResourceIndexPage.objects.first()
    page = m.ResourcePage(
        title=title,
        kind="video",
        category="tradition",
        stream_url="https://video.example.cn/yueju.m3u8",
        duration=datetime.timedelta(hours=2, minutes=5),
        summary="浙江小百花越剧团演出的经典剧目。",
        creator="浙江小百花越剧团",
        subject="越剧；戏曲",
        push_to_national=push,
        **fields,
    )
    index.add_child(instance=page)
    page.save_revision().publish()
    return page


def national_record(uid):
    from federation.models import Record

    with schema_context("national"):
        return Record.objects.filter(uid=uid).first()


def quiet_push_policy() -> None:
    """In the current schema: no site-wide push policy and an empty outbox (the demo world pushes
    every resource and activity), so a test sees only what it does itself. Rolled back after it."""
    from wagtail.models import Site

    from federation.models import DeliveryAttempt, FederationSettings, OutboxEntry

    policy = FederationSettings.for_site(Site.objects.get(is_default_site=True))
    policy.push_news = policy.push_activities = policy.push_resources = False
    policy.save()
    DeliveryAttempt.objects.all().delete()
    OutboxEntry.objects.all().delete()


@pytest.fixture
def zhejiang():
    with schema_context("zhejiang"):
        quiet_push_policy()
        yield
