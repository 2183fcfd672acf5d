"""Satisfaction ratings: only after taking part, once per thing, 1–5, masked when published."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_context

from feedback import services
from feedback.models import Rating
from tests.feedback.conftest import attend, person, serve, study
from tests.websocket_helpers import SICHUAN, ZHEJIANG

pytestmark = pytest.mark.django_db


def _ratings(schema: str, user) -> list[Rating]:
    with schema_context(schema):
        return list(Rating.objects.filter(user=user))


def _post(client, kind: str, target_id: int, host: str = ZHEJIANG, **data):
    connection.set_schema_to_public()
    return client.post(f"/feedback/rate/{kind}/{target_id}/", data, HTTP_HOST=host)


def test_a_checked_in_visitor_rates_the_activity_once(signed_in):
    visitor = person("陈小春")
    activity = attend("zhejiang", visitor)
    client = signed_in(visitor)
    form = client.get(f"/feedback/rate/activity/{activity.pk}/", HTTP_HOST=ZHEJIANG)
    assert form.status_code == 200 and "提交评价" in form.content.decode()
    done = _post(client, "activity", activity.pk, score="4", comment="讲得很好")
    assert done.status_code == 302 and done["Location"] == "/me/feedback/"
    [rating] = _ratings("zhejiang", visitor)
    assert (rating.kind, rating.activity_id, rating.score, rating.comment) == ("activity", activity.pk, 4, "讲得很好")
    again = _post(client, "activity", activity.pk, score="1")
    assert again.status_code == 409
    assert f"评价对象：您已经评价过“{activity.title}”，每人只能评价一次" in again.content.decode()
    assert [r.score for r in _ratings("zhejiang", visitor)] == [4]


@pytest.mark.parametrize("status", ["confirmed", "no_show", "cancelled"])
def test_booking_without_checking_in_is_not_enough(signed_in, status):
    visitor = person()
    activity = attend("zhejiang", visitor, status=status)
    client = signed_in(visitor)
    page = client.get(f"/feedback/rate/activity/{activity.pk}/", HTTP_HOST=ZHEJIANG)
    assert page.status_code == 403 and "只能评价您已签到参加的活动" in page.content.decode()
    refused = _post(client, "activity", activity.pk, score="5")
    assert refused.status_code == 403
    assert "评价对象：只能评价您已签到参加的活动" in refused.content.decode()
    assert _ratings("zhejiang", visitor) == []


@pytest.mark.parametrize(
    ("score", "message"),
    [("0", "只能是 1 到 5 分"), ("6", "只能是 1 到 5 分"), ("五", "只能是 1 到 5 分"), ("", "请选择 1 到 5 分")],
)
def test_scores_outside_one_to_five_are_refused_naming_the_field(signed_in, score, message):
    visitor = person()
    activity = attend("zhejiang", visitor)
    refused = _post(signed_in(visitor), "activity", activity.pk, score=score)
    assert refused.status_code == 400
    assert f"评分：{message}" in refused.content.decode()
    assert _ratings("zhejiang", visitor) == []


def test_the_service_and_the_database_refuse_bad_scores_too():
    visitor = person()
    activity = attend("zhejiang", visitor)
    with schema_context("zhejiang"):
        with pytest.raises(services.FeedbackRefused) as refused:
            services.rate(visitor, "activity", activity.pk, 7)
        assert refused.value.message == "评分：只能是 1 到 5 分（收到 7）"
        with pytest.raises(IntegrityError), transaction.atomic():
            Rating.objects.create(user=visitor, kind="activity", activity=activity, score=6)
        with pytest.raises(IntegrityError), transaction.atomic():  # the kind must match its one target
            Rating.objects.create(user=visitor, kind="course", activity=activity, score=3)
        services.rate(visitor, "activity", activity.pk, 3)
        with pytest.raises(IntegrityError), transaction.atomic():  # once per person per thing
            Rating.objects.create(user=visitor, kind="activity", activity=activity, score=3)


def test_a_comment_too_long_is_refused_naming_the_field(signed_in):
    visitor = person()
    activity = attend("zhejiang", visitor)
    refused = _post(signed_in(visitor), "activity", activity.pk, score="5", comment="好" * 501)
    assert refused.status_code == 400
    assert "评价内容：最多 500 字，现在是 501 字" in refused.content.decode()
    assert _ratings("zhejiang", visitor) == []


def test_a_completed_course_can_be_rated_an_unfinished_one_cannot(signed_in):
    trainee = person()
    finished = study("zhejiang", trainee)
    unfinished = study("zhejiang", trainee, completed=False)
    client = signed_in(trainee)
    assert _post(client, "course", finished.pk, score="5").status_code == 302
    refused = _post(client, "course", unfinished.pk, score="5")
    assert refused.status_code == 403 and "评价对象：只能评价您已完成的课程" in refused.content.decode()
    assert [r.course_id for r in _ratings("zhejiang", trainee)] == [finished.pk]


def test_volunteering_can_be_rated_once_hours_are_approved(signed_in):
    approved, pending = person(), person()
    opportunity = serve("zhejiang", approved)
    serve("zhejiang", pending, approved=False)
    client = signed_in(approved)
    assert "您有 1 项志愿服务待评价" in client.get("/me/volunteer/", HTTP_HOST=ZHEJIANG).content.decode()
    assert _post(client, "volunteering", opportunity.pk, score="4").status_code == 302
    assert "待评价。" not in client.get("/me/volunteer/", HTTP_HOST=ZHEJIANG).content.decode()
    refused = _post(signed_in(pending), "volunteering", opportunity.pk, score="4")
    assert refused.status_code == 403
    assert "评价对象：只能评价您服务时长已审核通过的志愿服务" in refused.content.decode()
    assert _ratings("zhejiang", pending) == []


def test_an_unknown_kind_or_thing_is_a_404_not_a_500(signed_in):
    client = signed_in(person())
    assert _post(client, "museum", 1, score="5").status_code == 404
    assert _post(client, "activity", 999999, score="5").status_code == 404


def test_signed_out_people_are_sent_to_sign_in():
    from django.test import Client

    answer = Client().get("/feedback/rate/activity/1/", HTTP_HOST=ZHEJIANG)
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


def test_the_personal_pages_prompt_for_what_is_waiting_and_stop_once_rated(signed_in):
    visitor = person()
    activity = attend("zhejiang", visitor)
    course = study("zhejiang", visitor)
    client = signed_in(visitor)
    mine = client.get("/me/feedback/", HTTP_HOST=ZHEJIANG).content.decode()
    assert activity.title in mine and course.title in mine
    assert f"/feedback/rate/activity/{activity.pk}/" in mine
    bookings = client.get("/me/bookings/", HTTP_HOST=ZHEJIANG).content.decode()
    assert "您有 1 个活动待评价" in bookings
    assert "您有 1 门课程待评价" in client.get("/me/learning/", HTTP_HOST=ZHEJIANG).content.decode()
    assert "我的评价" in client.get("/me/", HTTP_HOST=ZHEJIANG).content.decode()
    _post(client, "activity", activity.pk, score="5")
    _post(client, "course", course.pk, score="4")
    mine = client.get("/me/feedback/", HTTP_HOST=ZHEJIANG).content.decode()
    assert f"/feedback/rate/activity/{activity.pk}/" not in mine and "暂无待评价" in mine
    assert "待评价。" not in client.get("/me/learning/", HTTP_HOST=ZHEJIANG).content.decode()
    assert "待评价。" not in client.get("/me/bookings/", HTTP_HOST=ZHEJIANG).content.decode()


def test_a_rating_stays_in_its_site(signed_in):
    """Taking part in zhejiang gives nothing in sichuan; sichuan never shows zhejiang's ratings."""
    visitor = person()
    activity = attend("zhejiang", visitor)
    client = signed_in(visitor)
    assert _post(client, "activity", activity.pk, score="5").status_code == 302
    elsewhere = _post(client, "activity", activity.pk, host=SICHUAN, score="5")
    assert elsewhere.status_code in (403, 404)
    assert _ratings("sichuan", visitor) == [] and len(_ratings("zhejiang", visitor)) == 1
    mine = client.get("/me/feedback/", HTTP_HOST=SICHUAN).content.decode()
    assert "还没有评价" in mine and "暂无待评价" in mine
