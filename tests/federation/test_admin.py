"""国家平台对接 in the Wagtail admin: status, delivery log, dead letters with retry, subscriptions.

Real requests through the Django test client on the tenant's own host, real PostgreSQL, the demo world.
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context

from federation import services
from federation.admin_views import inline_diff
from federation.models import DeliveryAttempt, OutboxEntry, Record, Subscription
from tenants.demo import DEMO_PASSWORD

from .conftest import national_record, new_resource, quiet_push_policy

pytestmark = pytest.mark.django_db
ZHEJIANG = "zhejiang.culture.localhost"
SICHUAN = "sichuan.culture.localhost"
NATIONAL = "national.culture.localhost"
BASE = "/admin/federation/"


def login(client, username: str) -> Client:
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


def menu_of(client, host: str) -> set[str]:
    """Admin URLs of 国家平台对接's menu items as the sidebar (drawn from JSON) would show them."""
    html = client.get("/admin/", HTTP_HOST=host).content.decode()
    if '"name": "federation"' not in html:
        return set()
    return set(re.findall(r'"url": "(/admin/federation/[^"]*)"', html))


def assert_denied(response) -> None:
    """Wagtail's admin answers a missing permission with a redirect to the dashboard (and a message)."""
    assert response.status_code == 403 or (response.status_code == 302 and response["Location"] == "/admin/"), (
        response.status_code,
        response.get("Location"),
    )


def text_of(response) -> str:
    return BeautifulSoup(response.content.decode(), "html.parser").get_text(" ", strip=True)


def status_rows(client, host: str, **params) -> dict[str, str]:
    """{title: federation status label} of the status list's rows."""
    response = client.get(BASE, params, HTTP_HOST=host)
    assert response.status_code == 200
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    rows = {}
    for row in soup.select("table.listing tbody tr[class^=federation-status-]"):
        title = next(text.strip() for text in row.find("td").strings if text.strip())
        rows[title] = row.select_one("[data-federation-status]").get_text(strip=True)
    return rows


def make_dead_letter(title: str) -> OutboxEntry:
    """In the current schema: a published resource whose delivery the national site refuses.

    The outbox snapshot is damaged (an unknown kind), so the receiver rejects it for real and the
    entry becomes a dead letter. Returns it with its original envelope in `.good_envelope`.
    """
    page = new_resource(title)
    entry = OutboxEntry.objects.get(record__uid=page.uid, state="pending")
    good = entry.envelope
    OutboxEntry.objects.filter(pk=entry.pk).update(envelope={**good, "kind": "poem"})
    services.deliver_pending()
    entry.refresh_from_db()
    assert entry.state == OutboxEntry.State.DEAD, entry.last_error
    entry.good_envelope = good
    return entry


def test_site_admin_sees_every_federation_page_on_a_province_and_on_national(client):
    login(client, "zhejiang_admin")
    assert menu_of(client, ZHEJIANG) == {BASE, BASE + "log/", BASE + "dead-letters/", BASE + "subscriptions/"}
    for path in ["", "?scope=received", "log/", "dead-letters/", "subscriptions/", "subscriptions/add/"]:
        response = client.get(BASE + path, HTTP_HOST=ZHEJIANG)
        assert response.status_code == 200, path
    # The demo world pushed zhejiang's resources: they show as synced with the national site.
    with schema_context("zhejiang"):
        pushed = Record.objects.filter(is_local=True, outbox__state="delivered").order_by("-changed_at").first()
    assert status_rows(client, ZHEJIANG, status="synced", kind=pushed.kind).get(pushed.title) == "已同步"
    log = client.get(BASE + "log/", {"direction": "push", "outcome": "accepted"}, HTTP_HOST=ZHEJIANG)
    assert "已接收" in text_of(log)

    client.logout()
    login(client, "national_admin")
    for path in ["", "?scope=received", "log/", "dead-letters/", "subscriptions/"]:
        assert client.get(BASE + path, HTTP_HOST=NATIONAL).status_code == 200, path
    received = text_of(client.get(BASE, {"scope": "received"}, HTTP_HOST=NATIONAL))
    assert "收到的记录" in received and "浙江文化云" in received and "四川文化云" in received
    assert pushed.title in received


def test_status_filter_shows_a_pending_item_as_pending_and_a_dead_letter_as_failed(client, zhejiang):
    with schema_context("zhejiang"):
        dead = make_dead_letter("被拒收的资源：青田石雕")
        new_resource("等待推送的资源：海宁皮影戏")  # its outbox entry waits for delivery
    login(client, "zhejiang_admin")

    pending = status_rows(client, ZHEJIANG, status="pending")
    assert pending == {"等待推送的资源：海宁皮影戏": "待同步"}
    failed = status_rows(client, ZHEJIANG, status="failed")
    assert failed == {"被拒收的资源：青田石雕": "失败"}
    page = client.get(BASE, {"status": "failed"}, HTTP_HOST=ZHEJIANG).content.decode()
    assert dead.last_error[:40] in page  # the receiver's reason, next to the item
    assert status_rows(client, ZHEJIANG, status="failed", kind="news") == {}
    # A wrong filter value is ignored rather than failing.
    assert client.get(BASE, {"status": "nonsense", "kind": "x", "p": "abc"}, HTTP_HOST=ZHEJIANG).status_code == 200


def test_status_list_links_to_the_page_in_the_admin_and_paginates(client, zhejiang):
    with schema_context("zhejiang"):
        page = new_resource("等待推送：绍兴黄酒酿制技艺")
        total = Record.objects.filter(is_local=True).count()
    login(client, "zhejiang_admin")
    html = client.get(BASE, {"status": "pending"}, HTTP_HOST=ZHEJIANG).content.decode()
    assert f'href="/admin/pages/{page.pk}/edit/"' in html
    if total > 50:
        second = client.get(BASE, {"p": 2}, HTTP_HOST=ZHEJIANG)
        assert second.status_code == 200 and "第 2 /" in second.content.decode()


def test_retrying_a_dead_letter_queues_it_again_and_the_next_delivery_succeeds(client, zhejiang):
    with schema_context("zhejiang"):
        entry = make_dead_letter("死信重试：东阳木雕")
        # The administrator fixed the cause (here: the damaged snapshot).
        OutboxEntry.objects.filter(pk=entry.pk).update(envelope=entry.good_envelope)
    login(client, "zhejiang_admin")
    listing = client.get(BASE + "dead-letters/", HTTP_HOST=ZHEJIANG)
    assert "死信重试：东阳木雕" in text_of(listing) and "重试" in text_of(listing)

    assert client.get(BASE + "dead-letters/retry/", HTTP_HOST=ZHEJIANG).status_code == 405  # POST only
    answer = client.post(BASE + "dead-letters/retry/", {"entry": entry.pk}, HTTP_HOST=ZHEJIANG, follow=True)
    assert answer.status_code == 200
    assert "已将 1 条重新加入推送队列" in text_of(answer)
    with schema_context("zhejiang"):
        entry.refresh_from_db()
        assert entry.state == OutboxEntry.State.PENDING
        assert services.deliver_pending()["delivered"] == 1
        entry.refresh_from_db()
        assert entry.state == OutboxEntry.State.DELIVERED
    assert national_record(entry.envelope["uid"]).title == "死信重试：东阳木雕"
    assert "没有死信" in text_of(client.get(BASE + "dead-letters/", HTTP_HOST=ZHEJIANG))


def test_retry_all_dead_letters_and_bad_input(client, zhejiang):
    with schema_context("zhejiang"):
        first = make_dead_letter("全部重试一：瓯塑")
        second = make_dead_letter("全部重试二：瓯绣")
    login(client, "zhejiang_admin")
    answer = client.post(BASE + "dead-letters/retry/", {"all": "1"}, HTTP_HOST=ZHEJIANG, follow=True)
    assert "已将 2 条重新加入推送队列" in text_of(answer)
    with schema_context("zhejiang"):
        assert set(OutboxEntry.objects.filter(pk__in=[first.pk, second.pk]).values_list("state", flat=True)) == {
            "pending"
        }
    bad = client.post(BASE + "dead-letters/retry/", {"entry": "abc"}, HTTP_HOST=ZHEJIANG, follow=True)
    assert bad.status_code == 200 and "请选择要重试的条目（entry）" in text_of(bad)
    gone = client.post(BASE + "dead-letters/retry/", {"entry": first.pk}, HTTP_HOST=ZHEJIANG)
    assert gone.status_code == 404  # no longer a dead letter


def test_retry_needs_a_csrf_token(zhejiang):
    with schema_context("zhejiang"):
        entry = make_dead_letter("CSRF：嘉兴灶头画")
    browser = login(Client(enforce_csrf_checks=True), "zhejiang_admin")
    assert browser.post(BASE + "dead-letters/retry/", {"entry": entry.pk}, HTTP_HOST=ZHEJIANG).status_code == 403
    listing = browser.get(BASE + "dead-letters/", HTTP_HOST=ZHEJIANG)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', listing.content.decode()).group(1)
    answer = browser.post(
        BASE + "dead-letters/retry/", {"entry": entry.pk, "csrfmiddlewaretoken": token}, HTTP_HOST=ZHEJIANG
    )
    assert answer.status_code == 302
    with schema_context("zhejiang"):
        entry.refresh_from_db()
        assert entry.state == OutboxEntry.State.PENDING


def test_editor_sees_status_but_cannot_retry_or_read_the_log(client, zhejiang):
    with schema_context("zhejiang"):
        entry = make_dead_letter("编辑无权重试：金华道情")
    login(client, "zhejiang_editor")
    assert client.get(BASE, HTTP_HOST=ZHEJIANG).status_code == 200
    assert menu_of(client, ZHEJIANG) == {BASE}  # 同步状态 only
    for path in ["log/", "dead-letters/", "subscriptions/", "subscriptions/add/"]:
        assert_denied(client.get(BASE + path, HTTP_HOST=ZHEJIANG))
    assert_denied(client.post(BASE + "dead-letters/retry/", {"entry": entry.pk}, HTTP_HOST=ZHEJIANG))
    assert_denied(client.post(BASE + "dead-letters/retry/", {"all": "1"}, HTTP_HOST=ZHEJIANG))
    with schema_context("zhejiang"):
        entry.refresh_from_db()
        assert entry.state == OutboxEntry.State.DEAD


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(BASE, HTTP_HOST=ZHEJIANG)
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_zhejiang_admin_never_sees_sichuan(client, zhejiang):
    with schema_context("sichuan"):
        quiet_push_policy()
        sichuan_page = new_resource("四川独有：川剧变脸")
        sichuan_record = Record.objects.get(uid=sichuan_page.uid)
        sichuan_dead = make_dead_letter("四川死信：蜀绣")
        sichuan_log = DeliveryAttempt.objects.filter(outbox=sichuan_dead).first()
    with schema_context("zhejiang"):
        # These ids are free here (in this test's transaction), so a 404 can only come from the
        # schema boundary and not from a coincidence of numbers.
        Record.objects.filter(pk=sichuan_record.pk).delete()
        OutboxEntry.objects.filter(pk=sichuan_dead.pk).delete()
    login(client, "zhejiang_admin")
    listing = text_of(client.get(BASE, HTTP_HOST=ZHEJIANG))
    assert "四川独有：川剧变脸" not in listing and "四川死信：蜀绣" not in listing
    assert "四川死信：蜀绣" not in text_of(client.get(BASE + "dead-letters/", HTTP_HOST=ZHEJIANG))
    assert sichuan_log.message[:30] not in text_of(client.get(BASE + "log/", HTTP_HOST=ZHEJIANG))
    assert client.get(f"{BASE}records/{sichuan_record.pk}/diff/", HTTP_HOST=ZHEJIANG).status_code == 404
    answer = client.post(BASE + "dead-letters/retry/", {"entry": sichuan_dead.pk}, HTTP_HOST=ZHEJIANG)
    assert answer.status_code == 404
    with schema_context("sichuan"):
        sichuan_dead.refresh_from_db()
        assert sichuan_dead.state == OutboxEntry.State.DEAD
    # On sichuan's own host the zhejiang admin is nobody.
    assert client.get(BASE, HTTP_HOST=SICHUAN).status_code == 302


def test_inline_diff_marks_deleted_and_inserted_text_and_escapes_html():
    html = inline_diff("越剧《梁祝》<b>", "越剧《梁山伯与祝英台》<b>")
    assert "<del>祝</del>" in html or "<ins>山伯与</ins>" in html
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_national_admin_features_a_received_item(client):
    if not hasattr(services, "set_featured"):
        pytest.skip("federation.services.set_featured is not installed yet")
    with schema_context("national"):
        record = Record.objects.filter(is_local=False, featured=False).order_by("pk").first()
    login(client, "national_admin")
    listing = client.get(BASE, {"scope": "received"}, HTTP_HOST=NATIONAL).content.decode()
    assert f"/admin/federation/records/{record.pk}/feature/" in listing
    answer = client.post(f"{BASE}records/{record.pk}/feature/", {"featured": "1"}, HTTP_HOST=NATIONAL, follow=True)
    assert "已推荐" in text_of(answer)
    with schema_context("national"):
        record.refresh_from_db()
        assert record.featured
    client.logout()
    login(client, "national_editor")
    denied = client.post(f"{BASE}records/{record.pk}/feature/", {"featured": "0"}, HTTP_HOST=NATIONAL)
    assert_denied(denied)


def test_featuring_is_only_for_the_national_site(client, zhejiang):
    with schema_context("zhejiang"):
        record = Record.objects.filter(is_local=True).first()
    login(client, "zhejiang_admin")
    assert_denied(client.post(f"{BASE}records/{record.pk}/feature/", {"featured": "1"}, HTTP_HOST=ZHEJIANG))
    with schema_context("zhejiang"):
        record.refresh_from_db()
        assert not record.featured


# --- Subscriptions ---------------------------------------------------------------------------------


def _index_pages():
    from cms_pages.models import ActivityIndexPage, ResourceIndexPage

    return ResourceIndexPage.objects.first(), ActivityIndexPage.objects.first()


def test_subscription_is_created_edited_synced_in_the_background_and_deactivated(client, zhejiang):
    with schema_context("zhejiang"):
        Subscription.objects.all().delete()  # the demo's 国家培训课程 (rolled back after the test)
        resources, activities = _index_pages()
        peer = services.uplink()
    login(client, "zhejiang_admin")
    form = {
        "name": "国家数字资源",
        "peer": peer.pk,
        "set_spec": "national-resources",
        "parent_page": activities.pk,  # the wrong list for resources
        "policy": "update_unless_modified",
    }
    refused = client.post(BASE + "subscriptions/add/", form, HTTP_HOST=ZHEJIANG)
    assert refused.status_code == 200
    assert "放在此栏目下：国家数字资源只能放在“数字资源列表”栏目下" in text_of(refused)
    unnamed = client.post(BASE + "subscriptions/add/", form | {"name": ""}, HTTP_HOST=ZHEJIANG)
    assert unnamed.status_code == 200 and "名称：必需字段" in text_of(unnamed)
    with schema_context("zhejiang"):
        assert not Subscription.objects.filter(set_spec="national-resources").exists()

    created = client.post(BASE + "subscriptions/add/", form | {"parent_page": resources.pk}, HTTP_HOST=ZHEJIANG)
    assert created.status_code == 302
    with schema_context("zhejiang"):
        subscription = Subscription.objects.get(set_spec="national-resources")
        assert subscription.parent_page_id == resources.pk and not subscription.auto_publish

    edit_url = f"{BASE}subscriptions/{subscription.pk}/"
    assert client.get(edit_url, HTTP_HOST=ZHEJIANG).status_code == 200
    edited = client.post(
        edit_url,
        {**form, "parent_page": resources.pk, "policy": "fork", "auto_publish": "on", "active": "on"},
        HTTP_HOST=ZHEJIANG,
    )
    assert edited.status_code == 302
    with schema_context("zhejiang"):
        subscription.refresh_from_db()
        assert subscription.policy == "fork" and subscription.auto_publish

    # 立即同步 queues a task in this tenant; nothing runs inside the request.
    queued_before = DBTaskResult.objects.filter(task_path="federation.tasks.sync_subscription_task").count()
    answer = client.post(f"{BASE}subscriptions/{subscription.pk}/sync/", HTTP_HOST=ZHEJIANG, follow=True)
    assert "已开始同步" in text_of(answer)
    with schema_context("zhejiang"):
        subscription.refresh_from_db()
        assert subscription.last_run_at is None and subscription.cursor == 0

    # The task is queued when the request's transaction commits; under the test transaction it
    # never commits, so queue it as the commit would and check where it runs.
    from django.db import connection

    with schema_context("zhejiang"):
        from federation.sync import enqueue_subscription_sync

        hooks_before = len(connection.run_on_commit)
        enqueue_subscription_sync(subscription)
        assert len(connection.run_on_commit) == hooks_before + 1
        connection.run_on_commit[-1][1]()
    task = DBTaskResult.objects.filter(task_path="federation.tasks.sync_subscription_task").order_by("-enqueued_at")
    assert task.count() == queued_before + 1
    assert task.first().args_kwargs["tenant"] == "zhejiang" and task.first().args_kwargs["args"] == [subscription.pk]

    off = client.post(f"{BASE}subscriptions/{subscription.pk}/active/", {"active": "0"}, HTTP_HOST=ZHEJIANG)
    assert off.status_code == 302
    with schema_context("zhejiang"):
        subscription.refresh_from_db()
        assert not subscription.active
    listing = text_of(client.get(BASE + "subscriptions/", HTTP_HOST=ZHEJIANG))
    assert "已停用" in listing and "立即同步" not in listing


def test_a_zhejiang_subscription_id_is_a_404_on_sichuan_and_editors_cannot_change_it(client, zhejiang):
    with schema_context("zhejiang"):
        resources, _ = _index_pages()
        subscription = Subscription.objects.create(
            name="国家数字资源", peer=services.uplink(), set_spec="national-resources", parent_page=resources
        )
    with schema_context("sichuan"):
        Subscription.objects.filter(pk=subscription.pk).delete()
    login(client, "sichuan_admin")
    assert client.get(f"{BASE}subscriptions/{subscription.pk}/", HTTP_HOST=SICHUAN).status_code == 404
    answer = client.post(f"{BASE}subscriptions/{subscription.pk}/active/", {"active": "0"}, HTTP_HOST=SICHUAN)
    assert answer.status_code == 404
    client.logout()
    login(client, "zhejiang_editor")
    denied = client.post(f"{BASE}subscriptions/{subscription.pk}/active/", {"active": "0"}, HTTP_HOST=ZHEJIANG)
    assert_denied(denied)
    with schema_context("zhejiang"):
        subscription.refresh_from_db()
        assert subscription.active


def test_diverged_copy_shows_upstream_and_local_side_by_side(client, zhejiang):
    from cms_pages import models as m
    from federation import pull

    with schema_context("national"):
        upstream = new_resource("国家图书馆·永乐大典", push=False)
    with schema_context("zhejiang"):
        subscription = pull.subscribe(
            peer=services.uplink(),
            set_spec="national-resources",
            parent_page=m.ResourceIndexPage.objects.get(),
            policy=Subscription.Policy.UPDATE_UNLESS_MODIFIED,
            auto_publish=True,
            name="国家数字资源",
        )
        pull.sync_subscription(subscription)
        copy = m.ResourcePage.objects.get(uid=upstream.uid).get_latest_revision_as_object()
        copy.summary = "浙江图书馆改写的介绍"
        copy.save_revision().publish()
    with schema_context("national"):
        page = m.ResourcePage.objects.get(uid=upstream.uid)
        page.summary = "国家图书馆的新介绍"
        page.save_revision().publish()
    with schema_context("zhejiang"):
        assert pull.sync_subscription(subscription)["diverged"] == 1
        record = Record.objects.get(uid=upstream.uid)

    login(client, "zhejiang_admin")
    rows = status_rows(client, ZHEJIANG, scope="received", status="diverged")
    assert rows == {"国家图书馆·永乐大典": "本地已修改"}
    listing = client.get(BASE, {"scope": "received", "status": "diverged"}, HTTP_HOST=ZHEJIANG).content.decode()
    assert f"/admin/federation/records/{record.pk}/diff/" in listing

    diff = client.get(f"{BASE}records/{record.pk}/diff/", HTTP_HOST=ZHEJIANG)
    assert diff.status_code == 200
    soup = BeautifulSoup(diff.content.decode(), "html.parser")
    cells = {
        row.find("th").get_text(strip=True): [td.get_text(strip=True) for td in row.find_all("td")]
        for row in soup.select("table.federation-diff tbody tr")
    }
    assert cells["摘要"][:2] == ["国家图书馆的新介绍", "浙江图书馆改写的介绍"]
    changes = str(soup.select_one("table.federation-diff tbody tr td.federation-diff-changes"))
    assert "<del>" in changes and "<ins>" in changes
    assert "标题" not in cells  # unchanged fields are not listed

    # An editor may look at the status and the difference, too.
    client.logout()
    login(client, "zhejiang_editor")
    assert client.get(f"{BASE}records/{record.pk}/diff/", HTTP_HOST=ZHEJIANG).status_code == 200


def test_lists_take_the_same_number_of_queries_however_many_rows(client, zhejiang):
    """No N+1: adding rows to the status list, the log and the dead letters adds no query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, "zhejiang_admin")

    def queries(path, **params) -> int:
        client.get(BASE + path, params, HTTP_HOST=ZHEJIANG)  # host and site caches warm, as in use
        with CaptureQueriesContext(connection) as captured:
            assert client.get(BASE + path, params, HTTP_HOST=ZHEJIANG).status_code == 200
        return len(captured)

    with schema_context("zhejiang"):
        make_dead_letter("查询预算一：湖笔")
    before = {
        "status": queries("", status="failed"),
        "log": queries("log/"),
        "dead": queries("dead-letters/"),
    }
    with schema_context("zhejiang"):
        for i in range(4):
            make_dead_letter(f"查询预算 {i}：宣纸")
    after = {
        "status": queries("", status="failed"),
        "log": queries("log/"),
        "dead": queries("dead-letters/"),
    }
    assert len(status_rows(client, ZHEJIANG, status="failed")) == 5
    assert after == before
