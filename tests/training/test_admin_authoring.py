"""A 培训管理员 authors a course in the Wagtail admin (no Django shell): the course with chapters,
lessons of each kind, the quiz and its question bank; staff groups of this site's people. Saving
goes through training.services (search text, published_at); bad input names the field."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context

from roles.services import MEMBER, TRAINING_MANAGER, ensure_default_roles, grant_role
from training import services
from training.models import Chapter, Course, Lesson, Question, Quiz, TrainingGroup

from .factories import trainee

pytestmark = pytest.mark.django_db
ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"


def formset(prefix: str, rows: list[dict], *, initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data |= {f"{prefix}-{i}-{key}": value for key, value in row.items()}
    return data


def errors(response) -> str:
    form = response.context and response.context.get("form")
    return str(form.errors if form else response.status_code) + str(getattr(form, "non_field_errors", lambda: "")())


@pytest.fixture
def author():
    with schema_context("zhejiang"):
        ensure_default_roles()  # a kept test database may predate the authoring permissions
        user = trainee("zj_author")
        grant_role(user, TRAINING_MANAGER)
    client = Client()
    client.force_login(user)
    return client


def test_a_training_manager_authors_a_whole_course_in_the_admin(author):
    course_form = {
        "title": "非遗数字化保护实务",
        "summary": "非遗项目数字化采集、著录与利用。",
        "teacher": "李老师",
        "tier": "province",
        "audience": "staff",
        "category": "heritage",
        "credit_hours": "2.5",
        "hours_kind": "specialist",
        "completion_rule": "lessons_and_quiz",
        "open_enrolment": "on",
        "status": "draft",
        **formset("chapters", [{"title": "第一章 采集", "position": "0"}, {"title": "第二章 著录", "position": "1"}]),
    }
    response = author.post("/admin/training_courses/new/", course_form, HTTP_HOST=ZJ)
    assert response.status_code == 302, errors(response)
    with schema_context("zhejiang"):
        course = Course.objects.get(title="非遗数字化保护实务")
        first = course.chapters.get(position=0)
        assert course.chapters.count() == 2 and course.published_at is None

    lesson_fields = {"video": "", "video_url": "", "captions": "", "duration_seconds": "0", "document": ""}
    lessons = [
        {
            **lesson_fields,
            "title": "采集流程",
            "position": "0",
            "kind": "video",
            "body": "",
            "min_reading_seconds": "0",
        },
        {
            **lesson_fields,
            "title": "采集规范",
            "position": "1",
            "kind": "text",
            "body": "",
            "min_reading_seconds": "30",
        },
    ]
    chapter_form = {"course": course.pk, "title": "第一章 采集", "position": "0"}
    url = f"/admin/training_chapters/edit/{first.pk}/"
    refused = author.post(url, chapter_form | formset("lessons", lessons), HTTP_HOST=ZJ)
    page = refused.content.decode()
    assert refused.status_code == 200
    assert "视频课时：请选择视频文件或填写视频地址。" in page and "时长（秒）：视频课时必须填写时长" in page
    assert "正文：图文课时的正文不能为空。" in page
    lessons[0] |= {"video_url": "https://example.cn/caiji.mp4", "duration_seconds": "600"}
    lessons[1] |= {"body": "采集前应征得传承人同意。"}
    response = author.post(url, chapter_form | formset("lessons", lessons), HTTP_HOST=ZJ)
    assert response.status_code == 302, errors(response)

    response = author.post(
        "/admin/training_quizzes/new/",
        {
            "course": course.pk,
            "title": "结业测验",
            "draw_count": "1",
            "time_limit_minutes": "10",
            "max_attempts": "2",
            "pass_mark": "60",
        },
        HTTP_HOST=ZJ,
    )
    assert response.status_code == 302, errors(response)
    with schema_context("zhejiang"):
        quiz = Quiz.objects.get(course=course)
    question = {
        "quiz": quiz.pk,
        "kind": "single",
        "text": "采集前首先要做什么？",
        "explanation": "先定方案。",
        "position": "0",
    }
    two_right = formset(
        "choices",
        [
            {"text": "制定方案", "is_correct": "on", "position": "0"},
            {"text": "直接拍摄", "is_correct": "on", "position": "1"},
        ],
    )
    refused = author.post("/admin/training_questions/new/", question | two_right, HTTP_HOST=ZJ)
    assert refused.status_code == 200 and "单选题和判断题必须有且只有一个正确答案" in refused.content.decode(), errors(
        refused
    )
    one_right = formset(
        "choices", [{"text": "制定方案", "is_correct": "on", "position": "0"}, {"text": "直接拍摄", "position": "1"}]
    )
    response = author.post("/admin/training_questions/new/", question | one_right, HTTP_HOST=ZJ)
    assert response.status_code == 302, errors(response)

    # Publishing in the admin goes through services: published_at, the search text with lesson titles.
    response = author.post(
        f"/admin/training_courses/edit/{course.pk}/",
        course_form
        | {"status": "published"}
        | formset(
            "chapters",
            [
                {"id": str(c.pk), "title": c.title, "position": str(c.position)}
                for c in Chapter.objects.filter(course=course).order_by("position")
            ],
            initial=2,
        ),
        HTTP_HOST=ZJ,
    )
    assert response.status_code == 302, errors(response)
    with schema_context("zhejiang"):
        course.refresh_from_db()
        assert course.status == "published" and course.published_at is not None
        assert Lesson.objects.filter(chapter__course=course).count() == 2
        assert [c.is_correct for c in Question.objects.get(quiz=quiz).choices.all()] == [True, False]
        assert course in services.search_catalogue({"q": "采集规范"}).courses  # a lesson title
        # The learner side works on what the admin made.
        learner = trainee("zj_admin_learner")
        attempt = services.start_attempt(services.enrol(learner, course))
        assert len(attempt.question_ids) == 1
    assert "非遗数字化保护实务" in author.get("/training/?q=非遗", HTTP_HOST=ZJ).content.decode()
    # Another site has no such course, even for its own training manager.
    with schema_context("sichuan"):
        ensure_default_roles()
        grant_role(get_user_model().objects.get(username="zj_author"), TRAINING_MANAGER)
    assert author.get(f"/admin/training_courses/edit/{course.pk}/", HTTP_HOST=SC).status_code == 404


def test_staff_groups_list_only_this_sites_people_and_new_members_get_assigned_courses(author):
    from tests.training.factories import make_course

    with schema_context("zhejiang"):
        colleague, stranger = trainee("zj_colleague"), trainee("stranger_elsewhere")
        grant_role(colleague, MEMBER)
        course = make_course("分组指派课程")
        group = TrainingGroup.objects.create(name="业务部")
        manager = get_user_model().objects.get(username="zj_author")
        services.assign_course(course, group, services.timezone.localdate(), by=manager)
    form = author.get(f"/admin/training_groups/edit/{group.pk}/", HTTP_HOST=ZJ).content.decode()
    assert "zj_colleague" in form and "stranger_elsewhere" not in form
    response = author.post(
        f"/admin/training_groups/edit/{group.pk}/",
        {"name": "业务部", "organisation": "浙江图书馆", "members": [colleague.pk]},
        HTTP_HOST=ZJ,
    )
    assert response.status_code == 302, errors(response)
    refused = author.post(
        f"/admin/training_groups/edit/{group.pk}/", {"name": "业务部", "members": [stranger.pk]}, HTTP_HOST=ZJ
    )
    assert refused.status_code == 200
    with schema_context("zhejiang"):
        assert list(group.members.all()) == [colleague]
        assert services.Enrollment.objects.filter(course=course, user=colleague, source="assigned").exists()


def test_only_training_managers_author(client):
    with schema_context("zhejiang"):
        member = trainee("zj_plain_member")
        grant_role(member, MEMBER)
    client.force_login(member)
    assert client.get("/admin/training_courses/", HTTP_HOST=ZJ).status_code in (302, 403)
    assert client.get("/admin/training_courses/new/", HTTP_HOST=ZJ).status_code in (302, 403)
