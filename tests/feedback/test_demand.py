"""需求征集: the public form, its refusals and rate limit, triage by staff, people following theirs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from feedback import services
from feedback.models import DemandRequest
from notifications.models import Notification
from tests.feedback.conftest import person, staff
from tests.websocket_helpers import SICHUAN, ZHEJIANG

pytestmark = pytest.mark.django_db

GOOD = {"category": "heritage", "region_code": "330100", "text": "希望开设非遗剪纸体验课"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    connection.set_schema_to_public()
    return client


def _send(client, host: str = ZHEJIANG, **changes):
    connection.set_schema_to_public()
    return client.post("/feedback/demand/", {**GOOD, **changes}, HTTP_HOST=host, REMOTE_ADDR="203.0.113.7")


def _demands(schema: str, user) -> list[DemandRequest]:
    with schema_context(schema):
        return list(DemandRequest.objects.filter(user=user))


def test_the_form_offers_public_culture_categories_and_the_sites_own_districts():
    client = _client(person())
    zhejiang = client.get("/feedback/demand/", HTTP_HOST=ZHEJIANG).content.decode()
    for label in ("演出", "展览", "讲座", "培训", "阅读", "非遗", "体育健身", "其他"):
        assert f">{label}</option>" in zhejiang
    assert "杭州市" in zhejiang and "成都市" not in zhejiang
    sichuan = client.get("/feedback/demand/", HTTP_HOST=SICHUAN).content.decode()
    assert "成都市" in sichuan and "杭州市" not in sichuan


def test_signed_out_people_are_sent_to_sign_in():
    answer = Client().get("/feedback/demand/", HTTP_HOST=ZHEJIANG)
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert Client().post("/feedback/demand/", GOOD, HTTP_HOST=ZHEJIANG).status_code == 302


def test_a_request_is_stored_and_its_sender_follows_it():
    sender = person()
    client = _client(sender)
    sent = _send(client)
    assert sent.status_code == 302 and sent["Location"] == "/feedback/demand/mine/"
    [demand] = _demands("zhejiang", sender)
    assert (demand.category, demand.region_code, demand.text, demand.status) == (
        "heritage",
        "330100",
        "希望开设非遗剪纸体验课",
        "new",
    )
    mine = client.get("/feedback/demand/mine/", HTTP_HOST=ZHEJIANG).content.decode()
    assert "希望开设非遗剪纸体验课" in mine and "新提交" in mine and "杭州市" in mine


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"text": ""}, "需求内容：请填写"),
        ({"text": "   "}, "需求内容：请填写"),
        ({"text": "多" * 501}, "需求内容：最多 500 字，现在是 501 字"),
        ({"category": ""}, "需求类别：请选择一个类别"),
        ({"category": "casino"}, "需求类别：请从列表中选择一个类别"),
        ({"region_code": "510100"}, "所在区域：请从列表中选择本地区的区县，或选“全域”"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(changes, message):
    sender = person()
    refused = _send(_client(sender), **changes)
    assert refused.status_code == 400
    assert message in refused.content.decode()
    assert _demands("zhejiang", sender) == []


def test_the_service_refuses_the_same_things():
    sender = person()
    with schema_context("zhejiang"):
        for kwargs, field in [
            ({"category": "x", "region_code": "", "text": "好"}, "category"),
            ({"category": "other", "region_code": "999999", "text": "好"}, "region_code"),
            ({"category": "other", "region_code": "", "text": " "}, "text"),
        ]:
            with pytest.raises(services.FeedbackRefused) as refused:
                services.submit_demand(sender, **kwargs)
            assert refused.value.field == field
        assert not DemandRequest.objects.filter(user=sender).exists()


def test_spam_is_rate_limited_per_person_with_a_clear_message(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "demand": "3/h", "demand_address": "100/h"}
    sender = person()
    client = _client(sender)
    for number in range(3):
        assert _send(client, text=f"需求 {number}").status_code == 302
    limited = _send(client, text="第四条")
    assert limited.status_code == 429 and limited.has_header("Retry-After")
    assert "提交过于频繁" in limited.content.decode()
    assert len(_demands("zhejiang", sender)) == 3
    # Each site counts its own requests.
    assert _send(client, host=SICHUAN, region_code="").status_code == 302


def test_spam_is_rate_limited_per_address_across_accounts(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "demand": "100/h", "demand_address": "2/h"}
    first, second = person(), person()
    assert _send(_client(first)).status_code == 302
    assert _send(_client(second)).status_code == 302
    third = person()
    limited = _send(_client(third))
    assert limited.status_code == 429 and "提交过于频繁" in limited.content.decode()
    assert _demands("zhejiang", third) == []


def _triage(client, demand, host: str = ZHEJIANG, **data):
    connection.set_schema_to_public()
    return client.post(
        f"/admin/feedback/demands/{demand.pk}/triage/",
        {f"d{demand.pk}-{key}": value for key, value in data.items()},
        HTTP_HOST=host,
        follow=True,
    )


def test_staff_triage_declining_needs_a_reason_and_the_sender_sees_it():
    sender = person()
    with schema_context("zhejiang"):
        demand = services.submit_demand(sender, "fitness", "", "希望增加夜间健身场地")
    admin = _client(staff("zhejiang", "站点管理员"))
    listing = admin.get("/admin/feedback/demands/?status=new", HTTP_HOST=ZHEJIANG).content.decode()
    assert "希望增加夜间健身场地" in listing
    no_reason = _triage(admin, demand, status="declined", reason="")
    assert "处理说明：请填写" in no_reason.content.decode()
    with schema_context("zhejiang"):
        assert DemandRequest.objects.get(pk=demand.pk).status == "new"
    _triage(admin, demand, status="declined", reason="场地条件暂不具备")
    with schema_context("zhejiang"):
        kept = DemandRequest.objects.get(pk=demand.pk)
        assert (kept.status, kept.reason) == ("declined", "场地条件暂不具备")
        assert Notification.objects.filter(recipient=sender, kind="feedback_demand").exists()
    mine = _client(sender).get("/feedback/demand/mine/", HTTP_HOST=ZHEJIANG).content.decode()
    assert "暂不采纳" in mine and "场地条件暂不具备" in mine
    _triage(admin, demand, status="planned", reason="")
    with schema_context("zhejiang"):
        assert DemandRequest.objects.get(pk=demand.pk).status == "planned"
    bad = _triage(admin, demand, status="maybe")
    assert "状态：" in bad.content.decode()


def test_requests_stay_in_their_site():
    sender = person()
    with schema_context("zhejiang"):
        demand = services.submit_demand(sender, "film", "", "希望放映露天电影")
    sender_client = _client(sender)
    assert "希望放映露天电影" not in sender_client.get("/feedback/demand/mine/", HTTP_HOST=SICHUAN).content.decode()
    sichuan_admin = _client(staff("sichuan", "站点管理员"))
    assert "希望放映露天电影" not in sichuan_admin.get("/admin/feedback/demands/", HTTP_HOST=SICHUAN).content.decode()
    _triage(sichuan_admin, demand, host=SICHUAN, status="declined", reason="跨站处理")
    with schema_context("zhejiang"):
        assert DemandRequest.objects.get(pk=demand.pk).status == "new"
    zhejiang_editor = _client(staff("zhejiang", "编辑"))
    _triage(zhejiang_editor, demand, status="done")
    with schema_context("zhejiang"):
        assert DemandRequest.objects.get(pk=demand.pk).status == "new"


def _queries(client, path: str) -> int:
    connection.set_schema_to_public()
    client.get(path, HTTP_HOST=ZHEJIANG)  # warm: the site, its settings and the session are cached after
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, HTTP_HOST=ZHEJIANG).status_code == 200
    return len(queries)


def test_lists_take_a_fixed_number_of_queries():
    sender = person()
    client = _client(sender)
    admin = _client(staff("zhejiang", "站点管理员"))
    with schema_context("zhejiang"):
        services.submit_demand(sender, "reading", "", "第一条")
    mine, triage = _queries(client, "/feedback/demand/mine/"), _queries(admin, "/admin/feedback/demands/")
    with schema_context("zhejiang"):
        for number in range(8):
            services.submit_demand(sender, "reading", "330200", f"第 {number} 条")
            services.submit_demand(person(), "lecture", "", f"别人的第 {number} 条")
    assert mine <= 5 and triage <= 16  # the page's own queries, beside session, user, menu and permissions
    assert _queries(client, "/feedback/demand/mine/") == mine
    assert _queries(admin, "/admin/feedback/demands/") == triage
