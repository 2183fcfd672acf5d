"""The player's progress reports answered in front of Django (training.player_reports, decision 0025).

In process: the fast path answers the ordinary report with the view's answers and in four statements,
and leaves everything unusual (no session, failed CSRF, unknown host, closed site, inactive account)
to Django. Over HTTP against a live daphne: the same, through core.asgi as `make run` serves it.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.module_loading import import_string
from django_tenants.utils import schema_context

from tenants import services as tenant_services
from training import player_reports, services
from training.models import LessonProgress

from ..live_server import daphne_server, live_server_env  # noqa: F401 (fixtures)
from .factories import lessons, make_course, trainee

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"
CSRF = "playerreportcsrf0123456789abcdef"  # an unmasked 32-character secret, as Django accepts


def signed_in_session(user) -> str:
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "accounts.backends.AccountBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def scope(path: str, *, host: str = ZJ, session_key: str | None = None, csrf: str | None = CSRF) -> dict:
    cookies = [f"csrftoken={CSRF}"]
    if session_key:
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session_key}")
    headers = [
        (b"host", host.encode()),
        (b"content-type", b"application/json"),
        (b"cookie", "; ".join(cookies).encode()),
    ]
    if csrf:
        headers.append((b"x-csrftoken", csrf.encode()))
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }


def report(progress, seq: int, start: float = 0, end: float = 10, **extra) -> bytes:
    return json.dumps({"session": progress.session, "seq": seq, "start": start, "end": end, **extra}).encode()


@pytest.fixture
def in_test_transaction(monkeypatch):
    # The fast path hands its connection back at the end (as Django does after a request); inside
    # the test's transaction that must not happen, as Django's test client also prevents.
    monkeypatch.setattr(player_reports, "close_old_connections", lambda: None)


@pytest.fixture
def watching(db, in_test_transaction):
    user = trainee("fast_path_learner")
    with schema_context("zhejiang"):
        course = make_course("文化馆数字化服务实务")
        enrollment = services.enrol(user, course)
        progress = services.start_lesson(enrollment, lessons(course)[0])
    return user, progress


def direct(path: str, body: bytes, progress_id: int, **scope_args):
    return player_reports._answer_directly(scope(path, **scope_args), body, progress_id)


@pytest.mark.django_db
def test_an_ordinary_report_is_answered_in_four_statements(watching):
    user, progress = watching
    key = signed_in_session(user)
    direct("/training/progress/1/", b"{}", 1, session_key=key, csrf=None)  # caches the host → tenant lookup
    with CaptureQueriesContext(connection) as queries:
        answered = direct(f"/training/progress/{progress.pk}/", report(progress, 1), progress.pk, session_key=key)
    assert answered is not None and answered[0] == 200 and answered[1]["status"] == "ok"
    work = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # search_path (tenant, then public: the account is found through it), the account, the locked
    # row, its update; the session comes from the shared cache.
    assert len(work) == 4, "\n".join(work)
    assert work[0].startswith("SET search_path") and '"zhejiang"' in work[0]
    assert "FOR UPDATE" in work[2] and work[3].startswith("UPDATE")
    with schema_context("zhejiang"):
        assert LessonProgress.objects.get(pk=progress.pk).last_seq == 1


@pytest.mark.django_db
def test_the_fast_path_gives_the_views_answers(watching, client):
    user, progress = watching
    key = signed_in_session(user)
    client.force_login(user)
    path = f"/training/progress/{progress.pk}/"
    cases = [
        report(progress, 5),  # accepted
        report(progress, 5),  # the same seq again: ignored
        report(progress, 3),  # out of order: ignored
        report(progress, 9, session="another-window"),  # stale session: 409
        b"not json",
        report(progress, 10, start="x"),
        report(progress, 11, end=-1),
    ]
    for body in cases:
        fast = direct(path, body, progress.pk, session_key=key)
        via_django = client.post(path, body, content_type="application/json", HTTP_HOST=ZJ)
        assert fast is not None
        status, payload = fast
        # The same verdict and message (the seq moved on, so the second of each pair is a replay).
        assert status == via_django.status_code or (status == 200 and via_django.status_code == 200), body
        assert payload.get("message", "")[:4] == via_django.json().get("message", "")[:4] or status == 200, body
    # Under /en/ the same address answers the same way.
    fast = direct(f"/en{path}", report(progress, 50), progress.pk, session_key=key)
    assert fast is not None and fast[0] == 200


@pytest.mark.django_db
def test_the_unusual_cases_are_left_to_django(watching):
    user, progress = watching
    key = signed_in_session(user)
    path = f"/training/progress/{progress.pk}/"
    body = report(progress, 1)
    assert direct(path, body, progress.pk) is None  # no session cookie: Django answers 401
    assert direct(path, body, progress.pk, session_key="no-such-session") is None  # anonymous
    assert direct(path, body, progress.pk, session_key=key, csrf=None) is None  # Django answers 403
    assert direct(path, body, progress.pk, session_key=key, csrf="x" * 32) is None
    assert direct(path, body, progress.pk, session_key=key, host="nowhere.culture.localhost") is None
    assert direct(path, body, progress.pk, session_key=key, host="evil.example.com") is None  # not an allowed host
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert direct(path, body, progress.pk, session_key=key) is None
    user.is_active = True
    user.save(update_fields=["is_active"])
    tenant_services.set_site_active("zhejiang", False)
    try:
        assert direct(path, body, progress.pk, session_key=key) is None  # Django's closed-site page
    finally:
        connection.set_schema_to_public()
        tenant_services.set_site_active("zhejiang", True)
    with schema_context("zhejiang"):
        assert LessonProgress.objects.get(pk=progress.pk).last_seq == 0  # nothing was counted


@pytest.mark.django_db
def test_a_report_on_another_tenants_host_reaches_nothing(watching):
    user, progress = watching
    key = signed_in_session(user)
    answered = direct(f"/training/progress/{progress.pk}/", report(progress, 1), progress.pk, session_key=key, host=SC)
    assert answered == (404, {"message": "没有这个学习记录。"})
    with schema_context("zhejiang"):
        assert LessonProgress.objects.get(pk=progress.pk).last_seq == 0


# --- over HTTP, through core.asgi on a live daphne -------------------------------------------------


@pytest.fixture
def committed_watching(committed_db):
    from django.contrib.auth import get_user_model

    user = trainee("fast_path_live")
    with schema_context("zhejiang"):
        course = make_course("公共图书馆阅读推广实务")
        enrollment = services.enrol(user, course)
        progress = services.start_lesson(enrollment, lessons(course)[0])
    yield user, progress
    with schema_context("zhejiang"):  # the account's tenant rows (roles, enrolments) are found here
        course.delete()
        get_user_model().objects.filter(pk=user.pk).delete()


def test_reports_over_http(daphne_server, committed_watching):  # noqa: F811
    import requests

    user, progress = committed_watching
    key = signed_in_session(user)
    url = daphne_server.url(f"/training/progress/{progress.pk}/")
    headers = {**daphne_server.headers(ZJ), "Content-Type": "application/json", "X-CSRFToken": CSRF}
    signed_in = {"csrftoken": CSRF, settings.SESSION_COOKIE_NAME: key}

    first = requests.post(url, data=report(progress, 1), headers=headers, cookies=signed_in, timeout=30)
    assert first.status_code == 200, daphne_server.log()[-3000:]
    assert first.json()["status"] == "ok" and first.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in first.headers
    replay = requests.post(url, data=report(progress, 1), headers=headers, cookies=signed_in, timeout=30)
    assert replay.status_code == 200 and replay.json()["status"] == "ignored"
    anonymous = requests.post(url, data=report(progress, 2), headers=headers, cookies={"csrftoken": CSRF}, timeout=30)
    assert anonymous.status_code == 401 and "登录" in anonymous.json()["message"]
    no_token = {k: v for k, v in headers.items() if k != "X-CSRFToken"}
    forged = requests.post(url, data=report(progress, 2), headers=no_token, cookies=signed_in, timeout=30)
    assert forged.status_code == 403
    elsewhere = {**headers, **daphne_server.headers(SC)}
    across = requests.post(url, data=report(progress, 2), headers=elsewhere, cookies=signed_in, timeout=30)
    assert across.status_code == 404
    with schema_context("zhejiang"):
        assert LessonProgress.objects.get(pk=progress.pk).last_seq == 1


def test_a_report_leaves_the_lesson_shared_by_every_trainee_unlocked(committed_watching):
    """Only the person's own progress row is locked: a report must not wait for the lesson row,
    which every trainee of the lesson shares (the ORM's select_for_update locked it too)."""
    from django.db import connections

    user, progress = committed_watching
    other = connections.create_connection("default")
    other.set_schema("zhejiang")
    try:
        with other.cursor() as cursor:  # another transaction holds the lesson row
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM training_lesson WHERE id = %s FOR UPDATE", [progress.lesson_id])
        with schema_context("zhejiang"):
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
            try:
                outcome = services.record_progress(
                    progress.pk, user=user, session=progress.session, seq=1, start=0, end=5
                )
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = DEFAULT")
        assert outcome.status == "ok"
    finally:
        with other.cursor() as cursor:
            cursor.execute("ROLLBACK")
        other.close()
