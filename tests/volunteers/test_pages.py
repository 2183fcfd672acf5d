"""The pages people use: apply, opportunity, sign up, check in, my volunteering; coordinators'
dashboard and exports; roles and tenants kept apart; query budgets."""

import datetime
from io import BytesIO

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from volunteers import services
from volunteers.models import HourRecord, SignUp, Volunteer

from .factories import APPLICATION, PASSWORD, approved_volunteer, coordinator, opportunity, person, shift

pytestmark = pytest.mark.django_db
ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _form(**overrides):
    data = {**APPLICATION, **overrides}
    data["consent"] = "on" if data["consent"] else ""
    return data


def test_apply_through_the_page_then_a_second_time_is_refused(client):
    user = person()
    _login(client, user)
    response = client.post("/volunteers/apply/", _form(), HTTP_HOST=ZJ)
    assert response.status_code == 302
    with schema_context("zhejiang"):
        assert Volunteer.objects.get(user=user).status == "pending"
    again = client.get("/volunteers/apply/", HTTP_HOST=ZJ, follow=True)
    assert "您已提交过志愿者申请" in again.content.decode()
    page = client.get("/me/volunteer/", HTTP_HOST=ZJ).content.decode()
    assert "正在审核中" in page


def test_bad_application_shows_the_field_and_saves_nothing(client):
    user = person()
    _login(client, user)
    response = client.post("/volunteers/apply/", _form(mobile="123", real_name=""), HTTP_HOST=ZJ)
    html = response.content.decode()
    assert response.status_code == 400
    assert "姓名：请填写" in html and "手机号：手机号格式不正确" in html
    with schema_context("zhejiang"):
        assert not Volunteer.objects.filter(user=user).exists()


def test_anonymous_visitors_are_sent_to_sign_in():
    from django.test import Client

    client = Client()
    for url in ["/volunteers/apply/", "/me/volunteer/", "/volunteers/check/", "/volunteers/manage/"]:
        assert client.get(url, HTTP_HOST=ZJ).status_code == 302


def test_opportunity_page_shows_places_left_and_sign_up_works(client):
    page = opportunity()
    the_shift = shift(page, capacity=3)
    volunteer = approved_volunteer()
    _login(client, volunteer.user)
    html = client.get(_url(page), HTTP_HOST=ZJ).content.decode()
    assert "剩余 3 个名额" in html
    response = client.post(
        f"/volunteers/shifts/{the_shift.pk}/sign-up/", {"next": _url(page)}, HTTP_HOST=ZJ, follow=True
    )
    html = response.content.decode()
    assert "报名成功" in html and "剩余 2 个名额" in html and "您已报名" in html


def _url(page):
    with schema_context("zhejiang"):
        return page.get_url()


def test_signing_up_on_another_tenants_host_finds_no_shift(client):
    the_shift = shift(opportunity())
    volunteer = approved_volunteer("sichuan")
    _login(client, volunteer.user)
    response = client.post(f"/volunteers/shifts/{the_shift.pk}/sign-up/", HTTP_HOST=SC)
    assert response.status_code == 404
    with schema_context("zhejiang"):
        assert not SignUp.objects.filter(shift=the_shift).exists()


def test_full_shift_sign_up_says_so_and_changes_nothing(client):
    page = opportunity()
    the_shift = shift(page, capacity=1)
    with schema_context("zhejiang"):
        services.sign_up(approved_volunteer().user, the_shift)
    volunteer = approved_volunteer()
    _login(client, volunteer.user)
    response = client.post(
        f"/volunteers/shifts/{the_shift.pk}/sign-up/", {"next": _url(page)}, HTTP_HOST=ZJ, follow=True
    )
    assert "该时段已报满" in response.content.decode()
    with schema_context("zhejiang"):
        assert SignUp.objects.filter(shift=the_shift).count() == 1


def test_check_in_by_code_page_and_a_stale_code(client):
    the_shift = shift(opportunity(), starts_in=datetime.timedelta(minutes=5))
    volunteer = approved_volunteer()
    with schema_context("zhejiang"):
        services.sign_up(volunteer.user, the_shift)
        code = services.current_checkin_code(the_shift)[0]
    _login(client, volunteer.user)
    bad = client.post(
        f"/volunteers/check/?shift={the_shift.pk}",
        {"shift": the_shift.pk, "code": "000000" if code != "000000" else "111111", "action": "in"},
        HTTP_HOST=ZJ,
    )
    assert bad.status_code == 400 and "签到码：不正确或已过期" in bad.content.decode()
    good = client.post(
        f"/volunteers/check/?shift={the_shift.pk}", {"shift": the_shift.pk, "code": code, "action": "in"}, HTTP_HOST=ZJ
    )
    assert good.status_code == 200 and "签到成功" in good.content.decode()
    again = client.post(
        f"/volunteers/check/?shift={the_shift.pk}", {"shift": the_shift.pk, "code": code, "action": "in"}, HTTP_HOST=ZJ
    )
    assert "您已于" in again.content.decode() and "无需重复签到" in again.content.decode()
    other = client.get(f"/volunteers/check/?shift={the_shift.pk}&code={code}", HTTP_HOST=SC)
    assert other.status_code == 404 and "找不到这个服务时段" in other.content.decode()


def test_dashboard_and_exports_for_coordinators_only_of_this_tenant(client):
    member = approved_volunteer()
    _login(client, member.user)
    assert client.get("/volunteers/manage/", HTTP_HOST=ZJ).status_code == 403
    assert client.get("/volunteers/manage/export/volunteers.xlsx", HTTP_HOST=ZJ).status_code == 403
    client.logout()
    _login(client, coordinator("sichuan"))
    assert client.get("/volunteers/manage/", HTTP_HOST=ZJ).status_code == 403
    client.logout()
    _login(client, coordinator("zhejiang"))
    assert client.get("/volunteers/manage/", HTTP_HOST=ZJ).status_code == 200


def test_dashboard_lists_what_waits_and_approving_hours_moves_the_total(client):
    boss = coordinator()
    with schema_context("zhejiang"):
        services.apply(person(), **{**APPLICATION, "real_name": "赵小燕"})
    volunteer = approved_volunteer()
    past = shift(opportunity(), starts_in=-datetime.timedelta(hours=5), hours=2)
    short = shift(opportunity(title="博物馆讲解"), capacity=4)
    with schema_context("zhejiang"):
        record = HourRecord.objects.create(
            volunteer=volunteer, shift=past, kind="checked", minutes=120, served_on=past.starts_at.date()
        )
    _login(client, boss)
    html = client.get("/volunteers/manage/", HTTP_HOST=ZJ).content.decode()
    assert "赵**" in html and "赵小燕" not in html
    assert "博物馆讲解" in html and "还差 4 人" in html
    assert "待审核的服务时长" in html and f'value="{record.pk}"' in html
    response = client.post(
        "/volunteers/manage/hours/", {"record": [record.pk], "decision": "approve"}, HTTP_HOST=ZJ, follow=True
    )
    assert "已审核通过 1 条" in response.content.decode()
    with schema_context("zhejiang"):
        assert Volunteer.objects.get(pk=volunteer.pk).approved_minutes == 120
    assert short.pk


def test_exports_open_in_excel_with_masked_names_unless_the_role_allows(client):
    from django.contrib.auth.models import Group, Permission

    volunteer = approved_volunteer(real_name="钱学文")
    past = shift(opportunity(), starts_in=-datetime.timedelta(hours=5), hours=2)
    boss = coordinator()
    with schema_context("zhejiang"):
        services.add_makeup_hours(volunteer, past, minutes=60, reason='=HYPERLINK("x")', by=boss)
    _login(client, boss)
    response = client.get("/volunteers/manage/export/volunteers.xlsx", HTTP_HOST=ZJ)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["志愿者编号", "姓名", "手机号"]
    mine = next(row for row in rows if row[0] == volunteer.number)
    assert mine[1] == "钱**" and mine[2] == "138****5678"
    hours = openpyxl.load_workbook(
        BytesIO(client.get("/volunteers/manage/export/hours.xlsx", HTTP_HOST=ZJ).content)
    ).active
    hour_rows = [[c.value for c in row] for row in hours.iter_rows()]
    makeup = next(row for row in hour_rows if row[0] == volunteer.number)
    assert makeup[5] == "补录" and makeup[6] == 1.0 and makeup[8].startswith("'=")
    with schema_context("zhejiang"):
        Group.objects.get(name="志愿者管理员").permissions.add(Permission.objects.get(codename="view_personal_data"))
    full = openpyxl.load_workbook(
        BytesIO(client.get("/volunteers/manage/export/volunteers.xlsx", HTTP_HOST=ZJ).content)
    ).active
    mine = next([c.value for c in row] for row in full.iter_rows() if row[0].value == volunteer.number)
    assert mine[1] == "钱学文" and mine[2] == "13812345678"


def test_team_leader_manages_own_team_shifts_not_others(client):
    boss = coordinator()
    with schema_context("zhejiang"):
        team = services.create_team(name="图书馆服务队", created_by=boss)
        other = services.create_team(name="博物馆服务队", created_by=boss)
    leader = approved_volunteer()
    member = approved_volunteer()
    with schema_context("zhejiang"):
        services.add_team_member(team, leader, by=boss, is_leader=True)
    own = shift(opportunity(team=team))
    foreign = shift(opportunity(team=other))
    _login(client, leader.user)
    assert client.get("/volunteers/manage/", HTTP_HOST=ZJ).status_code == 200
    assert client.get(f"/volunteers/manage/shifts/{own.pk}/", HTTP_HOST=ZJ).status_code == 200
    assert client.get(f"/volunteers/manage/shifts/{foreign.pk}/", HTTP_HOST=ZJ).status_code == 403
    assert client.get(f"/volunteers/manage/teams/{other.pk}/", HTTP_HOST=ZJ).status_code == 403
    response = client.post(f"/volunteers/manage/teams/{team.pk}/", {"number": member.number}, HTTP_HOST=ZJ, follow=True)
    assert "已将 李** 加入服务队" in response.content.decode()
    code_page = client.get(f"/volunteers/manage/shifts/{own.pk}/code/", HTTP_HOST=ZJ).content.decode()
    with schema_context("zhejiang"):
        assert services.current_checkin_code(own)[0] in code_page
    assert "<svg" in code_page


def test_the_check_in_qr_carries_the_sites_primary_url_whatever_host_was_asked(client, settings):
    """The QR a volunteer scans opens on the tenant's primary public URL (scheme, host and port),
    never on the Host header the coordinator's browser happened to send (issue 10)."""
    from urllib.parse import urlsplit

    boss = coordinator()
    own = shift(opportunity())
    _login(client, boss)
    for asked in (ZJ, f"{ZJ}:9999"):
        response = client.get(f"/volunteers/manage/shifts/{own.pk}/code/", HTTP_HOST=asked)
        url = response.context["check_url"]
        assert url.startswith(f"http://{ZJ}:{settings.PLATFORM_PORT}/volunteers/check/?shift={own.pk}&code="), url
    parts = urlsplit(url)
    assert client.get(f"{parts.path}?{parts.query}", HTTP_HOST=parts.netloc).status_code == 200


def test_volunteer_page_and_dashboard_take_a_fixed_number_of_queries(client):
    volunteer = approved_volunteer()
    boss = coordinator()
    _login(client, volunteer.user)
    page = opportunity()

    def add(days):
        with schema_context("zhejiang"):
            past = shift(page, starts_in=-datetime.timedelta(days=days + 1), hours=2)
            HourRecord.objects.create(
                volunteer=volunteer, shift=past, kind="checked", minutes=120, served_on=past.starts_at.date()
            )
            services.sign_up(volunteer.user, shift(page, starts_in=datetime.timedelta(days=days + 2)))

    add(0)
    client.get("/me/volunteer/", HTTP_HOST=ZJ)
    with CaptureQueriesContext(connection) as few:
        client.get("/me/volunteer/", HTTP_HOST=ZJ)
    with schema_context("zhejiang"):
        for i in range(1, 6):
            past = shift(page, starts_in=-datetime.timedelta(days=i + 1), hours=2)
            HourRecord.objects.create(
                volunteer=volunteer, shift=past, kind="checked", minutes=120, served_on=past.starts_at.date()
            )
            services.sign_up(volunteer.user, shift(page, starts_in=datetime.timedelta(days=i + 2)))
    with CaptureQueriesContext(connection) as many:
        response = client.get("/me/volunteer/", HTTP_HOST=ZJ)
    assert response.status_code == 200 and "即将参加" in response.content.decode()
    # 12 including the 待评价 prompt's one (feedback/) and the session, user and search_path
    assert len(many) == len(few) and len(many) <= 12, "\n".join(q["sql"][:150] for q in many.captured_queries)
    client.logout()
    _login(client, boss)
    with CaptureQueriesContext(connection) as dashboard:
        assert client.get("/volunteers/manage/", HTTP_HOST=ZJ).status_code == 200
    assert len(dashboard) <= 12, "\n".join(q["sql"][:150] for q in dashboard.captured_queries)


def test_the_qr_link_fills_in_the_code_and_one_tap_checks_in(client):
    the_shift = shift(opportunity(), starts_in=datetime.timedelta(minutes=5))
    volunteer = approved_volunteer()
    with schema_context("zhejiang"):
        services.sign_up(volunteer.user, the_shift)
        code = services.current_checkin_code(the_shift)[0]
    _login(client, volunteer.user)
    page = client.get(f"/volunteers/check/?shift={the_shift.pk}&code={code}", HTTP_HOST=ZJ)
    html = page.content.decode()
    assert page.status_code == 200 and f'value="{code}"' in html and 'name="via" value="qr"' in html
    assert "签到码：" not in html  # no error before anything was submitted
    data = {"shift": the_shift.pk, "code": code, "action": "in", "via": "qr"}
    response = client.post(f"/volunteers/check/?shift={the_shift.pk}", data, HTTP_HOST=ZJ)
    assert "签到成功" in response.content.decode()
    with schema_context("zhejiang"):
        assert SignUp.objects.get(shift=the_shift, volunteer=volunteer).checkin_method == "qr"


def test_the_management_link_shows_for_team_leaders_and_coordinators_only(client):
    boss = coordinator()
    leader, member = approved_volunteer(), approved_volunteer()
    with schema_context("zhejiang"):
        team = services.create_team(name="西湖读书服务队", created_by=boss)
        services.add_team_member(team, leader, by=boss, is_leader=True)
        services.add_team_member(team, member, by=boss)
    link = "进入志愿服务管理"
    for user, sees in ((leader.user, True), (member.user, False), (boss, True)):
        client.logout()
        _login(client, user)
        page = client.get("/me/volunteer/", HTTP_HOST=ZJ).content.decode()
        assert (link in page) is sees, user
