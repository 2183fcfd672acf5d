"""Sessions read from the shared Redis (core.sessions): no session query on signed-in pages,
signing out still ends every copy, and a Redis outage falls back to the database."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"


def _signed_in(username: str = "sichuan_editor") -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD}, HTTP_HOST=ZJ)
    assert response.status_code == 302
    return client


def test_a_signed_in_page_reads_its_session_without_a_query():
    client = _signed_in()
    assert client.get("/me/", HTTP_HOST=ZJ).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/me/", HTTP_HOST=SC).status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]


def test_signing_out_on_one_device_ends_the_cached_sessions_of_the_others():
    phone, laptop = _signed_in(), _signed_in()
    for device in (phone, laptop):
        assert device.get("/me/", HTTP_HOST=ZJ).status_code == 200  # both sessions now in Redis
    phone.post("/accounts/logout/", HTTP_HOST=ZJ)
    response = laptop.get("/me/", HTTP_HOST=SC)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_deactivating_an_account_ends_its_cached_session():
    from django.contrib.auth import get_user_model

    from accounts.services import deactivate_account

    client = _signed_in("zhejiang_editor")
    assert client.get("/me/", HTTP_HOST=ZJ).status_code == 200
    user = get_user_model().objects.get(username="zhejiang_editor")
    try:
        deactivate_account(user)
        assert client.get("/me/", HTTP_HOST=ZJ).status_code == 302
        session_key = client.cookies["sessionid"].value
        from core.sessions import SessionStore

        assert SessionStore(session_key).load() == {}
    finally:
        get_user_model().objects.filter(pk=user.pk).update(is_active=True)


def test_an_unreachable_redis_is_a_slower_database_read_not_an_error(settings):
    from core.sessions import SessionStore

    client = _signed_in()
    session_key = client.cookies["sessionid"].value
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2},
            "KEY_PREFIX": "shared",
        },
    }
    # A signed-in page that needs nothing else from Redis still knows who is there.
    response = client.get("/me/volunteer/", HTTP_HOST=ZJ)
    assert response.status_code == 200
    stored = SessionStore(session_key)
    assert stored.load().get("_auth_user_id")
    new = SessionStore()
    new["seen"] = 1
    new.save()  # written to the database although the cache refused it
    assert SessionStore(new.session_key).load() == {"seen": 1}
