"""Trainee and manager pages through the Django test client, per tenant and role."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from roles.services import TRAINING_MANAGER, grant_role
from training import services
from training.models import Course, HoursCredit, LessonProgress, TrainingGroup

from .factories import lessons, make_course, trainee

pytestmark = pytest.mark.django_db
ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"
User = get_user_model()


@pytest.fixture
def course():
    with schema_context("zhejiang"):
        return make_course("非遗保护工作实务培训", category=Course.Category.HERITAGE)


@pytest.fixture
def learner(client):
    user = trainee()
    client.force_login(user)
    return user


@pytest.fixture
def manager(client):
    user = trainee("zj_manager")
    with schema_context("zhejiang"):
        grant_role(user, TRAINING_MANAGER)
    client.force_login(user)
    return user


def test_catalogue_finds_courses_by_chinese_words_and_filters(client, course):
    html = client.get("/training/?q=非遗", HTTP_HOST=ZJ).content.decode()
    assert "非遗保护工作实务培训" in html
    html = client.get("/training/?q=非遗&tier=national", HTTP_HOST=ZJ).content.decode()
    assert "非遗保护工作实务培训" not in html
    # 四川 has its own catalogue: 浙江's course is not there.
    assert "非遗保护工作实务培训" not in client.get("/training/?q=非遗", HTTP_HOST=SC).content.decode()


def test_catalogue_bad_filter_names_the_field(client, course):
    response = client.get("/training/?tier=galactic&q=非遗", HTTP_HOST=ZJ)
    assert response.status_code == 400
    assert "级别：没有这个选项" in response.content.decode()


def test_enrol_watch_and_report_progress_over_http(client, learner, course):
    assert client.post(f"/training/courses/{course.pk}/enrol/", HTTP_HOST=ZJ).status_code == 302
    with schema_context("zhejiang"):
        video, _ = lessons(course)
    html = client.get(f"/training/courses/{course.pk}/lessons/{video.pk}/", HTTP_HOST=ZJ).content.decode()
    assert 'id="player-config"' in html and "player.js" in html and "<script>" not in html
    with schema_context("zhejiang"):
        progress = LessonProgress.objects.get(lesson=video, enrollment__user=learner)
    url = f"/training/progress/{progress.pk}/"
    answer = client.post(
        url,
        json.dumps({"session": progress.session, "seq": 1, "start": 0, "end": 90}),
        content_type="application/json",
        HTTP_HOST=ZJ,
    )
    assert answer.status_code == 200
    assert answer.json()["watched"] < 5  # the request came a moment after the page: almost nothing counted
    bad = client.post(url, "not json", content_type="application/json", HTTP_HOST=ZJ)
    assert bad.status_code == 400 and "格式错误" in bad.json()["message"]
    wrong = client.post(
        url,
        json.dumps({"session": progress.session, "seq": 2, "start": "x", "end": 1}),
        content_type="application/json",
        HTTP_HOST=ZJ,
    )
    assert wrong.status_code == 400 and "start" in wrong.json()["message"]


def test_a_progress_report_is_one_short_transaction(client, learner, course):
    """Every player sends one every 10 s: the busiest write of the platform. Its statements:
    search_path, the user, the locked row, its update (no session query, no savepoint)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with schema_context("zhejiang"):
        enrollment = services.enrol(learner, course)
        progress = services.start_lesson(enrollment, lessons(course)[0])
    client.get("/me/", HTTP_HOST=ZJ)  # the session is read once, then from the shared cache
    body = {"session": progress.session, "start": 0, "end": 10}
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(
            f"/training/progress/{progress.pk}/", json.dumps({**body, "seq": 1}), "application/json", HTTP_HOST=ZJ
        )
    assert answer.status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    # The test runs inside a transaction of its own, so record_progress's is a savepoint here; a
    # request-wide transaction around it would add a second one.
    savepoints = [s for s in statements if s.startswith("SAVEPOINT")]
    work = [s for s in statements if "SAVEPOINT" not in s and s not in ("BEGIN", "COMMIT")]
    assert len(savepoints) == 1 and len(work) <= 4, "\n".join(statements)
    assert not [s for s in statements if "django_session" in s]


def test_progress_and_courses_do_not_cross_tenants(client, learner, course):
    with schema_context("zhejiang"):
        enrollment = services.enrol(learner, course)
        progress = services.start_lesson(enrollment, lessons(course)[0])
    assert client.get(f"/training/courses/{course.pk}/", HTTP_HOST=SC).status_code == 404
    answer = client.post(
        f"/training/progress/{progress.pk}/",
        json.dumps({"session": progress.session, "seq": 1, "start": 0, "end": 1}),
        content_type="application/json",
        HTTP_HOST=SC,
    )
    assert answer.status_code == 404


def test_lesson_needs_enrolment(client, learner, course):
    with schema_context("zhejiang"):
        video, _ = lessons(course)
    response = client.get(f"/training/courses/{course.pk}/lessons/{video.pk}/", HTTP_HOST=ZJ)
    assert response.status_code == 302 and response["Location"] == f"/training/courses/{course.pk}/"


def test_quiz_through_the_browser_forms_with_tampered_ids(client, learner, course):
    client.post(f"/training/courses/{course.pk}/enrol/", HTTP_HOST=ZJ)
    response = client.post(f"/training/courses/{course.pk}/quiz/", HTTP_HOST=ZJ)
    attempt_url = response["Location"]
    page = client.get(attempt_url, HTTP_HOST=ZJ).content.decode()
    assert "提交答卷" in page and "is_correct" not in page
    tampered = client.post(attempt_url, {"q999999": ["1"]}, HTTP_HOST=ZJ)
    assert tampered.status_code == 400 and "不属于本次作答" in tampered.content.decode()
    done = client.post(attempt_url, {}, HTTP_HOST=ZJ, follow=True).content.decode()
    assert "得分" in done and "未通过" in done and "正确答案" in done


def test_manager_pages_need_the_role_in_this_tenant(client, learner):
    assert client.get("/training/manage/", HTTP_HOST=ZJ).status_code == 403
    assert client.get("/training/manage/report/", HTTP_HOST=ZJ).status_code == 403
    with schema_context("sichuan"):
        grant_role(learner, TRAINING_MANAGER)
    assert client.get("/training/manage/", HTTP_HOST=ZJ).status_code == 403  # a manager in 四川 only
    assert client.get("/training/manage/", HTTP_HOST=SC).status_code == 200


def test_assignment_enrols_the_group_with_a_due_date_and_refuses_bad_input(client, manager, course):
    with schema_context("zhejiang"):
        group = TrainingGroup.objects.create(name="测试分组")
        member = trainee("group_member")
        group.members.add(member)
    bad = client.post("/training/manage/", {"course": course.pk, "group": group.pk, "due_date": "明天"}, HTTP_HOST=ZJ)
    assert bad.status_code == 400 and "截止日期" in bad.content.decode()
    past = client.post(
        "/training/manage/", {"course": course.pk, "group": group.pk, "due_date": "2020-01-01"}, HTTP_HOST=ZJ
    )
    assert past.status_code == 400 and "不能早于今天" in past.content.decode()
    ok = client.post(
        "/training/manage/", {"course": course.pk, "group": group.pk, "due_date": "2099-12-31"}, HTTP_HOST=ZJ
    )
    assert ok.status_code == 302
    with schema_context("zhejiang"):
        enrollment = course.enrollments.get(user=member)
        assert enrollment.source == "assigned" and str(enrollment.due_date) == "2099-12-31"


def test_import_keeps_good_rows_lists_bad_ones_and_never_counts_twice(client, manager):
    trainee("import_person")
    csv = (
        "账号,姓名,培训名称,日期,学时,学时类型,主办单位\n"
        "import_person,甲,馆长培训班,2026-03-01,16,专业,省厅\n"
        "nobody_here,乙,馆长培训班,2026-03-01,16,专业,省厅\n"
        "import_person,甲,,2026-03-01,abc,其他,省厅\n"
        "import_person,甲,理论学习,2026-04-01,8,公需,省委\n"
    ).encode()
    upload = io.BytesIO(csv)
    upload.name = "hours.csv"
    html = client.post("/training/manage/import/", {"file": upload}, HTTP_HOST=ZJ).content.decode()
    assert "新增 2 条" in html and "2 行未导入" in html
    assert "找不到" in html and "学时类型" in html and "培训名称：不能为空" in html
    upload = io.BytesIO(csv)
    upload.name = "hours.csv"
    html = client.post("/training/manage/import/", {"file": upload}, HTTP_HOST=ZJ).content.decode()
    assert "新增 0 条" in html and "已导入过 2 条" in html
    with schema_context("zhejiang"):
        assert HoursCredit.objects.filter(user__username="import_person").count() == 2
    wrong = io.BytesIO("姓名,学时\n甲,3\n".encode())
    wrong.name = "wrong.csv"
    response = client.post("/training/manage/import/", {"file": wrong}, HTTP_HOST=ZJ)
    assert response.status_code == 400 and "缺少列" in response.content.decode()


def test_report_and_excel_export(client, manager, monkeypatch):
    from openpyxl import load_workbook

    from training import views

    person = trainee("report_person")
    with schema_context("zhejiang"):
        services.import_offline_hours(
            "x.csv",
            "账号,培训名称,日期,学时,学时类型\nreport_person,培训,2026-02-01,61,专业\nreport_person,培训二,2026-02-02,29,公需\n".encode(),
            by=manager,
        )
        summary = services.year_summary(person, 2026)
        assert summary.total == 90 and summary.met
    html = client.get("/training/manage/report/?year=2026", HTTP_HOST=ZJ).content.decode()
    assert "report_person" in html
    response = client.get("/training/manage/report/?year=2026&format=xlsx", HTTP_HOST=ZJ)
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True)}
    assert rows["report_person"][3:6] == (29, 61, 90) and rows["report_person"][8] == "达标"
    # The page shows a page of people at a time; the Excel file has everyone.
    trainee("report_person_two")
    with schema_context("zhejiang"):
        TrainingGroup.objects.create(name="报表分页").members.add(
            person, User.objects.get(username="report_person_two")
        )
    monkeypatch.setattr(views, "REPORT_PAGE_SIZE", 1)
    first = client.get("/training/manage/report/?year=2026", HTTP_HOST=ZJ).content.decode()
    assert "第 1 / " in first and 'rel="next"' in first and "report_person_two" not in first
    pages = int(first.split("第 1 / ")[1].split(" 页")[0])
    last = client.get(f"/training/manage/report/?year=2026&page={pages}", HTTP_HOST=ZJ).content.decode()
    assert 'rel="prev"' in last and 'rel="next"' not in last


def test_my_learning_shows_courses_and_hours(client, learner, course):
    with schema_context("zhejiang"):
        services.enrol(learner, course)
    html = client.get("/me/learning/", HTTP_HOST=ZJ).content.decode()
    assert "我的学习" in html and "非遗保护工作实务培训" in html and "/ 90.0 学时" in html


def test_an_uploaded_video_is_served_in_byte_ranges_to_enrolled_people_only(client, learner, course):
    from django.core.files.base import ContentFile
    from wagtail.documents import get_document_model

    with schema_context("zhejiang"):
        document = get_document_model()(title="范围请求测试视频")
        document.file.save("range-test.mp4", ContentFile(bytes(range(256)) * 4), save=False)
        document.save()
        video, _ = lessons(course)
        video.video = document
        video.save()
    url = f"/training/courses/{course.pk}/lessons/{video.pk}/video"
    assert client.get(url, HTTP_HOST=ZJ).status_code == 404  # not enrolled
    with schema_context("zhejiang"):
        services.enrol(learner, course)
    whole = client.get(url, HTTP_HOST=ZJ)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes" and len(b"".join(whole)) == 1024
    part = client.get(url, HTTP_HOST=ZJ, HTTP_RANGE="bytes=256-259")
    assert part.status_code == 206 and part["Content-Range"] == "bytes 256-259/1024"
    assert b"".join(part) == bytes([0, 1, 2, 3])
    assert b"".join(client.get(url, HTTP_HOST=ZJ, HTTP_RANGE="bytes=-2")) == bytes([254, 255])
    assert client.get(url, HTTP_HOST=ZJ, HTTP_RANGE="bytes=5000-").status_code == 416
    # Another tenant has no such lesson.
    assert client.get(url, HTTP_HOST=SC).status_code == 404
    page = client.get(f"/training/courses/{course.pk}/lessons/{video.pk}/", HTTP_HOST=ZJ).content.decode()
    assert f'src="{url}"' in page
