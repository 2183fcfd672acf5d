"""Staff and ratings in the admin: who may see them, averages, answers, publishing (masked)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from feedback import services
from feedback.models import Rating
from notifications.models import Notification
from tests.feedback.conftest import attend, person, staff, study
from tests.websocket_helpers import SICHUAN, ZHEJIANG

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ("/admin/feedback/ratings/", "/admin/feedback/demands/")


def _rated(schema: str = "zhejiang", *, score: int = 2, name: str = "欧阳娜娜", comment: str = "入口难找"):
    visitor = person(name)
    activity = attend(schema, visitor)
    with schema_context(schema):
        return services.rate(visitor, "activity", activity.pk, score, comment)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    connection.set_schema_to_public()
    return client


@pytest.mark.parametrize("role", ["站点管理员", "审核员"])
def test_site_admins_and_moderators_see_ratings_and_requests(role):
    client = _client(staff("zhejiang", role))
    for path in ADMIN_PAGES:
        assert client.get(path, HTTP_HOST=ZHEJIANG).status_code == 200, path
    menu = client.get("/admin/", HTTP_HOST=ZHEJIANG).content.decode()
    assert "/admin/feedback/ratings/" in menu and "/admin/feedback/demands/" in menu


@pytest.mark.parametrize("role", ["编辑", "志愿者管理员", "培训管理员", "成员"])
def test_other_roles_see_neither(role):
    client = _client(staff("zhejiang", role))
    for path in ADMIN_PAGES:
        assert client.get(path, HTTP_HOST=ZHEJIANG).status_code in (302, 403), path
    if role != "成员":  # the others have an admin, without these two menu items
        assert "/admin/feedback/" not in client.get("/admin/", HTTP_HOST=ZHEJIANG).content.decode()
    rating = _rated()
    answer = client.post(
        f"/admin/feedback/ratings/{rating.pk}/answer/",
        {f"r{rating.pk}-answer": "改了", f"r{rating.pk}-published": "on"},
        HTTP_HOST=ZHEJIANG,
    )
    assert answer.status_code in (302, 403)
    with schema_context("zhejiang"):
        assert Rating.objects.get(pk=rating.pk).answer == ""


def test_a_role_in_one_site_gives_nothing_in_another():
    client = _client(staff("zhejiang", "站点管理员"))
    assert client.get("/admin/feedback/ratings/", HTTP_HOST=SICHUAN).status_code in (302, 403)


def test_the_overview_shows_counts_and_averages_per_activity():
    first = _rated(score=2)
    with schema_context("zhejiang"):
        visitor = person("李雷")
        attend("zhejiang", visitor, activity=first.activity)
        services.rate(visitor, "activity", first.activity_id, 5)
        expected = Rating.objects.filter(activity=first.activity).values_list("score", flat=True)
        average = round(sum(expected) / len(expected), 2)
    client = _client(staff("zhejiang", "站点管理员"))
    overview = client.get("/admin/feedback/ratings/?kind=activity", HTTP_HOST=ZHEJIANG).content.decode()
    assert first.activity.title in overview and f"<td>{average}</td>" in overview
    detail = client.get(f"/admin/feedback/ratings/activity/{first.activity_id}/", HTTP_HOST=ZHEJIANG)
    text = detail.content.decode()
    assert "入口难找" in text and "欧***" in text and "欧阳娜娜" not in text


def test_an_answer_published_shows_on_the_activity_page_with_the_name_masked():
    rating = _rated()
    client = _client(staff("zhejiang", "审核员"))
    field = f"r{rating.pk}"
    no_answer = client.post(
        f"/admin/feedback/ratings/{rating.pk}/answer/", {f"{field}-published": "on"}, HTTP_HOST=ZHEJIANG, follow=True
    )
    assert "回复：公开前请先填写回复" in no_answer.content.decode()
    with schema_context("zhejiang"):
        assert not Rating.objects.get(pk=rating.pk).published
    page_url = rating.activity.url
    connection.set_schema_to_public()
    before = Client().get(page_url, HTTP_HOST=ZHEJIANG).content.decode()
    assert "入口难找" not in before
    client.post(
        f"/admin/feedback/ratings/{rating.pk}/answer/",
        {f"{field}-answer": "已增设指示牌，谢谢提醒", f"{field}-published": "on"},
        HTTP_HOST=ZHEJIANG,
    )
    connection.set_schema_to_public()
    after = Client().get(page_url, HTTP_HOST=ZHEJIANG).content.decode()
    assert "入口难找" in after and "已增设指示牌，谢谢提醒" in after
    assert "欧***" in after and "欧阳娜娜" not in after
    with schema_context("zhejiang"):
        scores = list(Rating.objects.filter(activity=rating.activity).values_list("score", flat=True))
    assert f"满意度 {round(sum(scores) / len(scores), 1)} 分（满分 5 分），共 {len(scores)} 人评价" in after
    with schema_context("zhejiang"):  # the rater is told about the answer
        told = Notification.objects.get(recipient=rating.user, kind="feedback_answer")
    assert told.body == "已增设指示牌，谢谢提醒" and told.link == "/me/feedback/"
    # Withdrawn: gone from the page again (its cached copy too).
    client.post(f"/admin/feedback/ratings/{rating.pk}/answer/", {f"{field}-answer": "已增设指示牌"}, HTTP_HOST=ZHEJIANG)
    connection.set_schema_to_public()
    assert "入口难找" not in Client().get(page_url, HTTP_HOST=ZHEJIANG).content.decode()


def test_an_answer_too_long_is_refused_and_nothing_changes():
    rating = _rated()
    client = _client(staff("zhejiang", "站点管理员"))
    answer = client.post(
        f"/admin/feedback/ratings/{rating.pk}/answer/",
        {f"r{rating.pk}-answer": "谢" * 501},
        HTTP_HOST=ZHEJIANG,
        follow=True,
    )
    assert "回复：最多 500 字，现在是 501 字" in answer.content.decode()
    with schema_context("zhejiang"):
        assert Rating.objects.get(pk=rating.pk).answer == ""


def test_another_sites_staff_cannot_reach_a_rating_by_its_id():
    rating = _rated("zhejiang")
    sichuan_admin = _client(staff("sichuan", "站点管理员"))
    with schema_context("sichuan"):
        colliding = Rating.objects.filter(pk=rating.pk).first()
    sichuan_admin.post(
        f"/admin/feedback/ratings/{rating.pk}/answer/",
        {f"r{rating.pk}-answer": "跨站回复", f"r{rating.pk}-published": "on"},
        HTTP_HOST=SICHUAN,
    )
    with schema_context("zhejiang"):
        assert Rating.objects.get(pk=rating.pk).answer == ""
    overview = sichuan_admin.get("/admin/feedback/ratings/", HTTP_HOST=SICHUAN).content.decode()
    assert "入口难找" not in overview
    detail = sichuan_admin.get(f"/admin/feedback/ratings/activity/{rating.activity_id}/", HTTP_HOST=SICHUAN)
    assert "入口难找" not in detail.content.decode()
    if colliding is None:
        with schema_context("sichuan"):
            assert not Rating.objects.filter(answer="跨站回复").exists()


def test_list_pages_take_a_fixed_number_of_queries(signed_in):
    from django.test.utils import CaptureQueriesContext

    admin = _client(staff("zhejiang", "站点管理员"))
    visitor = person()
    client = signed_in(visitor)

    def count(c, path):
        connection.set_schema_to_public()
        c.get(path, HTTP_HOST=ZHEJIANG)  # warm: the site, its settings and the session are cached after
        connection.set_schema_to_public()
        with CaptureQueriesContext(connection) as queries:
            assert c.get(path, HTTP_HOST=ZHEJIANG).status_code == 200
        return len(queries)

    activity = attend("zhejiang", visitor)
    with schema_context("zhejiang"):
        services.rate(visitor, "activity", activity.pk, 4)
    few = {p: count(admin, p) for p in ("/admin/feedback/ratings/", f"/admin/feedback/ratings/activity/{activity.pk}/")}
    mine_few = count(client, "/me/feedback/")
    for name in ("甲", "乙", "丙", "丁", "戊"):
        other = person(name)
        attend("zhejiang", other, activity=activity)
        with schema_context("zhejiang"):
            services.rate(other, "activity", activity.pk, 3, "还行")
        study("zhejiang", visitor)  # more to rate for the visitor
    assert max(few.values()) <= 17 and mine_few <= 9
    for path, queries in few.items():
        assert count(admin, path) == queries, path
    assert count(client, "/me/feedback/") == mine_few
