"""Pull: zhejiang subscribes to the national resources (loopback) and keeps its copies in step."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Max
from django_tenants.utils import schema_context
from wagtail.models import Page, WorkflowState

from cms_pages import models as m
from federation import pull, services
from federation.models import DeliveryAttempt, MediaAsset, Peer, Record, Subscription

from .conftest import new_resource
from .test_media import FileNode, png_bytes

pytestmark = pytest.mark.django_db


def national_live_uids() -> set[str]:
    with schema_context("national"):
        return {
            str(uid)
            for uid in Record.objects.filter(is_local=True, kind="resource", status="live").values_list(
                "uid", flat=True
            )
        }


def national_max_seq() -> int:
    with schema_context("national"):
        return Record.objects.filter(is_local=True, kind="resource").aggregate(m=Max("seq"))["m"]


def national_edit(uid, **fields):
    with schema_context("national"):
        page = m.ResourcePage.objects.get(uid=uid)
        for name, value in fields.items():
            setattr(page, name, value)
        page.save_revision().publish()
        return page


def subscribe(policy=Subscription.Policy.UPDATE_UNLESS_MODIFIED, auto_publish=True) -> Subscription:
    return pull.subscribe(
        peer=Peer.objects.get(is_uplink=True),
        set_spec="national-resources",
        parent_page=m.ResourceIndexPage.objects.get(),
        policy=policy,
        auto_publish=auto_publish,
        name="国家数字资源",
    )


def copy_of(uid) -> m.ResourcePage:
    return m.ResourcePage.objects.get(uid=uid)


def local_edit(uid, **fields):
    """What an editor does in the admin: a new revision of the copy, published."""
    latest = copy_of(uid).get_latest_revision_as_object()
    for name, value in fields.items():
        setattr(latest, name, value)
    latest.save_revision().publish()


@pytest.fixture
def national_resource(zhejiang):
    with schema_context("national"):
        return new_resource("国家图书馆·典籍里的中国", push=False)


def test_first_sync_imports_every_national_resource_published_through_revisions(national_resource):
    sub = subscribe(auto_publish=True)
    uids = national_live_uids()
    assert str(national_resource.uid) in uids

    counts = pull.sync_subscription(sub)

    assert counts["created"] == len(uids) and counts["failed"] == 0
    index = m.ResourceIndexPage.objects.get()
    copies = m.ResourcePage.objects.child_of(index).filter(uid__in=uids)
    assert copies.count() == len(uids)
    for page in copies:
        assert page.live and page.revisions.exists() and page.first_published_at
        record = Record.objects.get(uid=page.uid)
        assert not record.is_local and record.subscription == sub and record.page_id == page.pk
        assert record.sync_state == "synced" and record.imported_hash
    copy = copy_of(national_resource.uid)
    assert copy.title == "国家图书馆·典籍里的中国"
    assert copy.creator == "浙江小百花越剧团" and copy.stream_url == "https://video.example.cn/yueju.m3u8"
    record = Record.objects.get(uid=national_resource.uid)
    # Attribution: DC.source is the canonical page on the national site, the publisher its name.
    assert copy.source == record.canonical_url and copy.source.startswith("http://national.culture.localhost")
    assert copy.publisher == record.origin_name and record.origin_code == "100000"
    assert "来源" in str(copy.body)
    sub.refresh_from_db()
    assert sub.cursor == national_max_seq() and sub.last_run_at and sub.last_error == ""
    assert DeliveryAttempt.objects.filter(subscription=sub, direction="pull", outcome="pulled").exists()
    # A pulled copy is not this site's item: nothing queued for the national site.
    assert not Record.objects.filter(uid__in=uids, is_local=True).exists()


def test_without_auto_publish_copies_wait_in_the_review_workflow(national_resource):
    sub = subscribe(auto_publish=False)
    pull.sync_subscription(sub)
    copy = copy_of(national_resource.uid)
    assert not copy.live and copy.revisions.exists()
    state = WorkflowState.objects.get(object_id=str(copy.pk), status=WorkflowState.STATUS_IN_PROGRESS)
    assert state.workflow.name == "内容审核" and state.requested_by is None  # submitted by the system

    national_edit(national_resource.uid, summary="更新后的摘要")
    pull.sync_subscription(sub)
    # The newer version replaces what was waiting: one review in progress, on the new revision.
    states = WorkflowState.objects.filter(object_id=str(copy.pk), status=WorkflowState.STATUS_IN_PROGRESS)
    assert states.count() == 1
    assert copy_of(national_resource.uid).get_latest_revision_as_object().summary == "更新后的摘要"


def test_second_sync_without_changes_writes_nothing_in_bounded_queries(
    national_resource, django_assert_max_num_queries
):
    sub = subscribe()
    pull.sync_subscription(sub)
    revisions = m.ResourcePage.objects.filter(uid__in=national_live_uids()).values_list("latest_revision_id", flat=True)
    before = sorted(revisions)

    with django_assert_max_num_queries(12):
        counts = pull.sync_subscription(sub)

    assert not any(counts.values())
    assert (
        sorted(m.ResourcePage.objects.filter(uid__in=national_live_uids()).values_list("latest_revision_id", flat=True))
        == before
    )


def test_upstream_update_reaches_the_copy(national_resource):
    sub = subscribe()
    pull.sync_subscription(sub)
    national_edit(national_resource.uid, title="典籍里的中国（修订版）", summary="新摘要")

    counts = pull.sync_subscription(sub)

    assert counts["updated"] == 1
    copy = copy_of(national_resource.uid)
    assert copy.title == "典籍里的中国（修订版）" and copy.summary == "新摘要" and copy.live
    assert Record.objects.get(uid=national_resource.uid).version == 2


def test_overwrite_policy_replaces_a_local_edit(national_resource):
    sub = subscribe(Subscription.Policy.OVERWRITE)
    pull.sync_subscription(sub)
    local_edit(national_resource.uid, summary="本地改写的摘要")
    national_edit(national_resource.uid, summary="国家平台的新摘要")

    assert pull.sync_subscription(sub)["updated"] == 1
    assert copy_of(national_resource.uid).summary == "国家平台的新摘要"
    assert Record.objects.get(uid=national_resource.uid).sync_state == "synced"


def test_lock_policy_locks_the_copy_and_upstream_still_wins(national_resource):
    sub = subscribe(Subscription.Policy.LOCK)
    pull.sync_subscription(sub)
    copy = copy_of(national_resource.uid)
    assert copy.locked and copy.locked_by is None
    # Wagtail refuses edits of a page locked by nobody to every editor.
    assert copy.get_lock() is not None

    # An administrator unlocks and edits anyway; the next upstream version wins and locks again.
    Page.objects.filter(pk=copy.pk).update(locked=False)
    local_edit(national_resource.uid, summary="管理员解锁后的修改")
    national_edit(national_resource.uid, summary="国家平台的新摘要")
    pull.sync_subscription(sub)
    copy = copy_of(national_resource.uid)
    assert copy.summary == "国家平台的新摘要" and copy.locked


def test_update_unless_modified_keeps_the_local_edit_and_reports_the_difference(national_resource):
    sub = subscribe(Subscription.Policy.UPDATE_UNLESS_MODIFIED)
    pull.sync_subscription(sub)
    local_edit(national_resource.uid, summary="本地改写的摘要")
    national_edit(national_resource.uid, summary="国家平台的新摘要")

    counts = pull.sync_subscription(sub)

    assert counts["diverged"] == 1
    assert copy_of(national_resource.uid).summary == "本地改写的摘要"
    record = Record.objects.get(uid=national_resource.uid)
    assert record.sync_state == "diverged" and "第 2 版" in record.sync_message
    diff = pull.diff_against_upstream(record)
    assert {"field": "摘要", "upstream": "国家平台的新摘要", "local": "本地改写的摘要"} in diff
    assert all(row["field"] != "标题" for row in diff)


def test_update_unless_modified_updates_an_untouched_copy(national_resource):
    sub = subscribe(Subscription.Policy.UPDATE_UNLESS_MODIFIED)
    pull.sync_subscription(sub)
    national_edit(national_resource.uid, summary="国家平台的新摘要")
    assert pull.sync_subscription(sub)["updated"] == 1
    assert copy_of(national_resource.uid).summary == "国家平台的新摘要"


def test_fork_policy_makes_an_edited_copy_independent(national_resource):
    sub = subscribe(Subscription.Policy.FORK)
    pull.sync_subscription(sub)
    local_edit(national_resource.uid, summary="本地版本")
    national_edit(national_resource.uid, summary="国家平台第二版")
    pull.sync_subscription(sub)
    record = Record.objects.get(uid=national_resource.uid)
    assert record.sync_state == "forked"
    national_edit(national_resource.uid, summary="国家平台第三版", title="新标题")
    pull.sync_subscription(sub)
    copy = copy_of(national_resource.uid)
    assert copy.summary == "本地版本" and copy.title == "国家图书馆·典籍里的中国"


def test_unpublish_republish_and_delete_upstream(national_resource):
    sub = subscribe()
    pull.sync_subscription(sub)

    with schema_context("national"):
        m.ResourcePage.objects.get(uid=national_resource.uid).unpublish()
    assert pull.sync_subscription(sub)["unpublished"] == 1
    assert not copy_of(national_resource.uid).live
    assert Record.objects.get(uid=national_resource.uid).status == "unpublished"

    national_edit(national_resource.uid)  # published again
    assert pull.sync_subscription(sub)["updated"] == 1
    assert copy_of(national_resource.uid).live

    with schema_context("national"):
        m.ResourcePage.objects.get(uid=national_resource.uid).delete()
    assert pull.sync_subscription(sub)["deleted"] == 1
    copy = copy_of(national_resource.uid)  # kept for the editors, no longer public
    assert not copy.live
    record = Record.objects.get(uid=national_resource.uid)
    assert record.status == "deleted" and "删除" in record.sync_message


def test_crash_mid_batch_resumes_without_loss_or_duplicate(zhejiang, monkeypatch):
    with schema_context("national"):
        for i in range(3):
            new_resource(f"国家批量资源 {i}", push=False)
    uids = national_live_uids()
    assert len(uids) >= 5
    sub = subscribe()
    real_apply, calls = pull._apply, []

    def crashing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(pull, "_apply", crashing)
    with pytest.raises(RuntimeError, match="worker killed"):
        pull.sync_subscription(sub, page_size=2)
    monkeypatch.setattr(pull, "_apply", real_apply)

    assert m.ResourcePage.objects.filter(uid__in=uids).count() == 2
    sub.refresh_from_db()
    with schema_context("national"):
        seqs = sorted(Record.objects.filter(uid__in=uids).values_list("seq", flat=True))
    assert sub.cursor == seqs[1]
    assert "worker killed" in sub.last_error
    assert DeliveryAttempt.objects.filter(subscription=sub, direction="pull", outcome="retry").exists()

    counts = pull.sync_subscription(sub)
    assert counts["created"] == len(uids) - 2
    assert m.ResourcePage.objects.filter(uid__in=uids).count() == len(uids)
    assert Record.objects.filter(uid__in=uids).count() == len(uids)
    sub.refresh_from_db()
    assert sub.cursor == national_max_seq() and sub.last_error == ""


def test_slug_taken_by_a_local_page_gets_a_free_one(zhejiang):
    with schema_context("national"):
        national = new_resource("同名资源", push=False, slug="shared-slug")
    index = m.ResourceIndexPage.objects.get()
    local = new_resource("本地同名资源", push=False, slug="shared-slug")
    assert local.get_parent().pk == index.pk
    pull.sync_subscription(subscribe())
    copy = copy_of(national.uid)
    assert copy.slug == "shared-slug-2" and copy.get_parent().pk == index.pk


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_missing_image_imports_the_item_without_it_and_retries_later(zhejiang, media_root):
    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    data = png_bytes((30, 60, 90))
    with schema_context("national"):
        image = get_image_model()(title="封面", file=ImageFile(io.BytesIO(data), name="fed-cover.png"))
        image.save()
        national = new_resource("带封面的国家资源", push=False, cover_image=image)
        path = media_root / "national" / image.file.name
    path.rename(path.with_suffix(".gone"))  # the file disappears before zhejiang fetches it

    sub = subscribe()
    counts = pull.sync_subscription(sub)
    assert counts["failed"] == 0
    copy = copy_of(national.uid)
    assert copy.live and copy.cover_image_id is None
    record = Record.objects.get(uid=national.uid)
    assert record.sync_state == "pending" and "fed-cover.png" in record.sync_message

    path.with_suffix(".gone").rename(path)  # back again: the next sync completes the copy
    pull.sync_subscription(sub)
    copy = copy_of(national.uid)
    assert copy.cover_image is not None and copy.cover_image.width == 8
    assert MediaAsset.objects.get(image=copy.cover_image).sha256 == record.envelope["payload"]["cover_image"]
    assert Record.objects.get(uid=national.uid).sync_state == "synced"


def test_zhejiang_sync_never_writes_sichuan(national_resource):
    def sichuan_rows():
        with schema_context("sichuan"):
            return (
                Record.objects.count(),
                Page.objects.count(),
                Subscription.objects.count(),
                MediaAsset.objects.count(),
                DeliveryAttempt.objects.count(),
            )

    before = sichuan_rows()
    pull.sync_subscription(subscribe())
    assert sichuan_rows() == before
    with schema_context("sichuan"):
        assert not m.ResourcePage.objects.filter(uid=national_resource.uid).exists()


def test_subscribe_refuses_a_parent_of_the_wrong_type(zhejiang):
    peer = Peer.objects.get(is_uplink=True)
    with pytest.raises(ValidationError) as caught:
        pull.subscribe(
            peer=peer,
            set_spec="national-resources",
            parent_page=m.ActivityIndexPage.objects.get(),
            policy="overwrite",
            auto_publish=True,
            name="x",
        )
    assert "数字资源列表" in caught.value.message_dict["parent_page"][0]
    with pytest.raises(ValidationError) as caught:
        pull.subscribe(
            peer=peer,
            set_spec="national-news",
            parent_page=m.ResourceIndexPage.objects.get(),
            policy="overwrite",
            auto_publish=True,
            name="x",
        )
    assert "set_spec" in caught.value.message_dict
    activities = pull.subscribe(
        peer=peer,
        set_spec="national-activities",
        parent_page=m.ActivityIndexPage.objects.get(),
        policy="fork",
        auto_publish=False,
        name="",
    )
    assert activities.name == "国家活动" and activities.kind == "activity"


def test_national_activities_are_pulled_as_activities(zhejiang):
    sub = pull.subscribe(
        peer=Peer.objects.get(is_uplink=True),
        set_spec="national-activities",
        parent_page=m.ActivityIndexPage.objects.get(),
        policy="overwrite",
        auto_publish=True,
        name="国家活动",
    )
    counts = pull.sync_subscription(sub)
    assert counts["created"] >= 1 and counts["failed"] == 0
    copy = m.ActivityPage.objects.get(uid=Record.objects.filter(subscription=sub).first().uid)
    assert copy.live and copy.start and copy.end and copy.venue is None


@pytest.mark.parametrize(
    ("status", "delay"), [(401, 0.0), (503, 0.0), (200, 2.0)], ids=["unauthorised", "server-error", "timeout"]
)
def test_bad_feed_answers_leave_the_cursor_and_log_the_attempt(zhejiang, monkeypatch, status, delay):
    from federation import transport

    monkeypatch.setattr(transport, "READ_TIMEOUT", 0.5)
    node = FileNode()
    try:
        node.answer(status, b'{"error": "nope"}', delay)
        sub = subscribe()
        Peer.objects.filter(pk=sub.peer_id).update(base_url=node.url)
        sub.refresh_from_db()
        Subscription.objects.filter(pk=sub.pk).update(cursor=7)
        sub.cursor = 7

        counts = pull.sync_subscription(sub)
    finally:
        node.server.shutdown()
    assert not any(counts.values())
    sub.refresh_from_db()
    assert sub.cursor == 7 and sub.last_error
    attempt = DeliveryAttempt.objects.get(subscription=sub)
    assert attempt.direction == "pull" and attempt.outcome == "retry"
    assert node.requests and node.requests[0].startswith("/federation/feed/?set=national-resources&after=7")


def test_copies_are_never_pushed_back_even_when_the_site_pushes_every_resource(national_resource):
    from wagtail.models import Site

    from federation.models import FederationSettings, OutboxEntry

    policy = FederationSettings.for_site(Site.objects.get(is_default_site=True))
    policy.push_resources = True
    policy.save()
    pull.sync_subscription(subscribe())
    record = Record.objects.get(uid=national_resource.uid)
    assert not record.is_local and record.origin_code == "100000"
    assert not OutboxEntry.objects.filter(record__is_local=False).exists()
    # Nor when the policy is switched on again later ("push what is already published").
    services.push_existing(["resource"])
    assert not OutboxEntry.objects.filter(record__is_local=False).exists()


def test_a_copy_deleted_here_is_not_recreated(national_resource):
    sub = subscribe()
    pull.sync_subscription(sub)
    copy_of(national_resource.uid).delete()
    national_edit(national_resource.uid, summary="国家平台的新摘要")
    counts = pull.sync_subscription(sub)
    assert counts["skipped"] == 1 and counts["created"] == 0
    assert not m.ResourcePage.objects.filter(uid=national_resource.uid).exists()
    assert Record.objects.get(uid=national_resource.uid).page_id is None


def test_a_copy_points_search_engines_to_the_original(client, national_resource):
    """rel=canonical of a pulled copy is the national page it came from; a local page keeps its own."""
    pull.sync_subscription(subscribe())
    with schema_context("national"):
        original = national_resource.full_url
    copy = copy_of(national_resource.uid)
    assert copy.original_url == original and copy.canonical_url == original
    html = client.get(copy.url, HTTP_HOST="zhejiang.culture.localhost").content.decode()
    assert f'<link rel="canonical" href="{original}">' in html
    assert f'<meta property="og:url" content="{original}">' in html

    own = m.ResourcePage.objects.live().exclude(uid=national_resource.uid).filter(original_url="").first()
    html = client.get(own.url, HTTP_HOST="zhejiang.culture.localhost").content.decode()
    assert f'<link rel="canonical" href="{own.full_url}">' in html
