"""Push: a province's publish, unpublish and delete reach the national catalogue, exactly once."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from cms_pages import models as m
from federation import services
from federation.models import DeliveryAttempt, FederationSettings, OutboxEntry, Record

from .conftest import national_record, new_resource

pytestmark = pytest.mark.django_db


def test_pushed_resource_lands_in_the_national_catalogue_with_origin_and_identifier(zhejiang):
    page = new_resource()
    local = Record.objects.get(uid=page.uid)
    assert local.is_local and local.version == 1 and local.status == "live"
    entry = OutboxEntry.objects.get(record=local)
    assert entry.state == "pending"

    assert services.deliver_pending()["delivered"] == 1

    received = national_record(page.uid)
    assert received is not None and not received.is_local
    assert received.catalogue_id == f"urn:culture:330000:resource:{page.uid}"
    assert received.origin_code == "330000" and received.origin_name == "浙江文化云"
    assert received.title == "越剧《梁山伯与祝英台》全本"
    assert received.canonical_url.startswith("http://zhejiang.culture.localhost")
    assert received.canonical_url == page.get_full_url()
    assert received.envelope["attribution"] == "来源：浙江文化云"
    assert received.envelope["payload"]["dc"]["creator"] == "浙江小百花越剧团"
    entry.refresh_from_db()
    assert entry.state == "delivered"
    assert entry.catalogue_id == received.catalogue_id
    assert DeliveryAttempt.objects.get(outbox=entry).outcome == "accepted"


def test_page_not_marked_for_push_stays_home(zhejiang):
    page = new_resource("只在本省展示的资源", push=False)
    assert Record.objects.get(uid=page.uid).is_local  # in this site's own catalogue (OAI-PMH)
    assert not OutboxEntry.objects.exists()
    services.deliver_pending()
    assert national_record(page.uid) is None


def test_site_policy_pushes_every_resource(zhejiang):
    from wagtail.models import Site

    settings = FederationSettings.for_site(Site.objects.get(is_default_site=True))
    settings.push_resources = True
    settings.save()
    page = new_resource("按站点策略推送的资源", push=False)
    services.deliver_pending()
    assert national_record(page.uid).title == "按站点策略推送的资源"


def test_republishing_without_changes_sends_nothing_new(zhejiang):
    page = new_resource()
    page.save_revision().publish()
    assert Record.objects.get(uid=page.uid).version == 1
    assert OutboxEntry.objects.count() == 1


def test_edit_unpublish_and_delete_follow_upstream(zhejiang):
    page = new_resource()
    services.deliver_pending()
    page.title = "越剧《梁祝》全本（修复版）"
    page.save_revision().publish()
    services.deliver_pending()
    received = national_record(page.uid)
    assert (received.version, received.title, received.status) == (2, "越剧《梁祝》全本（修复版）", "live")

    page.unpublish()
    services.deliver_pending()
    assert national_record(page.uid).status == "unpublished"

    page.save_revision().publish()
    services.deliver_pending()
    assert national_record(page.uid).status == "live"

    uid = page.uid
    m.ResourcePage.objects.get(pk=page.pk).delete()
    services.deliver_pending()
    tombstone = national_record(uid)
    assert tombstone.status == "deleted" and tombstone.version == 5  # kept as a tombstone, not removed
    assert Record.objects.get(uid=uid).status == "deleted"


def test_unticking_push_withdraws_the_item_from_the_catalogue(zhejiang):
    page = new_resource()
    services.deliver_pending()
    page.push_to_national = False  # nothing else changes
    page.save_revision().publish()
    services.deliver_pending()
    assert national_record(page.uid).status == "unpublished"
    assert Record.objects.get(uid=page.uid).status == "live"  # still live at home


def test_outbox_row_is_written_in_the_transaction_of_the_publish(zhejiang):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        page = new_resource("回滚的发布")
        assert OutboxEntry.objects.filter(record__uid=page.uid).exists()
        raise Boom
    assert not Record.objects.filter(title="回滚的发布").exists()
    assert not OutboxEntry.objects.exists()


def test_duplicate_and_out_of_order_deliveries_change_nothing(zhejiang):
    page = new_resource()
    page.title = "第二版"
    page.save_revision().publish()
    first, second = OutboxEntry.objects.order_by("version")
    # Out of order: version 2 arrives first, then version 1 (stale), then version 2 again (duplicate).
    OutboxEntry.objects.filter(pk=first.pk).update(next_attempt_at=first.next_attempt_at.replace(year=2999))
    services.deliver_pending()
    national_seq = national_record(page.uid).seq
    OutboxEntry.objects.filter(pk=first.pk).update(next_attempt_at=second.created_at)
    services.deliver_pending()
    OutboxEntry.objects.filter(pk=second.pk).update(state="pending")
    services.deliver_pending()

    received = national_record(page.uid)
    assert (received.version, received.title, received.seq) == (2, "第二版", national_seq)
    outcomes = list(DeliveryAttempt.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["accepted", "stale", "duplicate"]
    with schema_context("national"):
        assert Record.objects.filter(uid=page.uid).count() == 1


def test_crash_after_the_receiver_accepted_resends_without_doubling(zhejiang):
    pages = [new_resource(f"批量资源 {i}") for i in range(3)]
    services.deliver_pending()
    # The sender crashed before it could mark the batch delivered: it sends all three again.
    OutboxEntry.objects.update(state="pending", delivered_at=None)
    counts = services.deliver_pending()
    assert counts["delivered"] == 3
    with schema_context("national"):
        assert Record.objects.filter(uid__in=[p.uid for p in pages]).count() == 3
    assert set(DeliveryAttempt.objects.filter(outbox__state="delivered").values_list("outcome", flat=True)) == {
        "accepted",
        "duplicate",
    }


def test_national_site_keeps_its_own_items_without_pushing_to_itself():
    with schema_context("national"):
        page = new_resource("国家级资源：中国京剧经典唱段")
        record = Record.objects.get(uid=page.uid)
        assert record.is_local and record.catalogue_id == f"urn:culture:100000:resource:{page.uid}"
        assert not OutboxEntry.objects.exists()


def test_news_and_activities_travel_too(zhejiang):
    news_index = m.NewsIndexPage.objects.first()
    news = m.NewsPage(title="浙江省第十届群众文化节开幕", summary="开幕式在杭州举行。", push_to_national=True)
    news_index.add_child(instance=news)
    news.save_revision().publish()
    services.deliver_pending()
    received = national_record(news.uid)
    assert received.kind == "news"
    assert received.catalogue_id == f"urn:culture:330000:news:{news.uid}"


def test_switching_a_policy_on_pushes_what_is_already_published(zhejiang, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult
    from wagtail.models import Site

    already = [p.uid for p in m.ResourcePage.objects.live()]
    assert already  # the demo content
    assert services.push_existing(["resource"]) == len(already)
    assert services.push_existing(["resource"]) == 0  # queued once only
    services.deliver_pending()
    for uid in already:
        assert national_record(uid).origin_code == "330000"

    settings = FederationSettings.for_site(Site.objects.get(is_default_site=True))
    settings.push_activities = True
    tasks = DBTaskResult.objects.filter(task_path="federation.tasks.push_existing_task")
    before = set(tasks.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        settings.save()  # queues a background task doing the same for activities
    (queued,) = tasks.exclude(pk__in=before)
    assert queued.args_kwargs["args"] == [["activity"]] and queued.args_kwargs["tenant"] == "zhejiang"
