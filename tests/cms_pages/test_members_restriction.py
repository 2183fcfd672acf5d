""" "Signed in" page restrictions with platform-wide accounts: the admin offers "any Culture Cloud
account" and "members of this site only", named apart, and each admits whom it says."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django_tenants.utils import schema_context
from wagtail.models import PageViewRestriction

from cms_pages import models as m
from cms_pages.models import MembersOnlyRestriction
from cms_pages.privacy import ANY_ACCOUNT_LABEL, MEMBERS_ONLY_LABEL, set_members_only
from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"
BODY = "只给登录用户看的正文"


@pytest.fixture(autouse=True)
def _empty_caches():
    caches["pages"].clear()
    caches["default"].clear()
    yield
    caches["pages"].clear()
    caches["default"].clear()


def restricted_news(schema: str, *, members_only: bool) -> str:
    with schema_context(schema):
        page = m.NewsPage(title="成员通讯", summary=BODY)
        m.NewsIndexPage.objects.get().add_child(instance=page)
        page.save_revision().publish()
        restriction = PageViewRestriction.objects.create(page=page, restriction_type="login")
        set_members_only(restriction, members_only)
        return page.url_path.removeprefix("/home")


def view(client, path: str, host: str = ZJ, username: str | None = None):
    if username:
        assert client.login(username=username, password=DEMO_PASSWORD)
    return client.get(path, HTTP_HOST=host)


def test_any_account_admits_a_person_registered_on_another_site(client):
    path = restricted_news("zhejiang", members_only=False)
    response = view(client, path)
    assert response.status_code == 302 and "login" in response["Location"]
    response = view(client, path, username="sichuan_editor")  # no role at all in zhejiang
    assert response.status_code == 200 and BODY in response.content.decode()


def test_members_only_admits_members_of_this_site_and_no_one_else(client):
    path = restricted_news("zhejiang", members_only=True)
    response = view(client, path)
    assert response.status_code == 302 and "login" in response["Location"]

    response = view(client, path, username="sichuan_editor")
    assert response.status_code == 403
    html = response.content.decode()
    assert "仅限本站成员访问" in html and BODY not in html

    client.logout()
    response = view(client, path, username="zhejiang_editor")
    assert response.status_code == 200 and BODY in response.content.decode()


def test_membership_is_per_site(client):
    path = restricted_news("sichuan", members_only=True)
    assert view(client, path, host=SC, username="zhejiang_editor").status_code == 403
    client.logout()
    assert view(client, path, host=SC, username="sichuan_editor").status_code == 200


def test_the_admin_names_both_options_and_stores_the_choice(client):
    with schema_context("zhejiang"):
        page = m.NewsPage.objects.live().first()
    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    url = f"/admin/pages/{page.pk}/privacy/"
    dialog = client.get(url, HTTP_HOST=ZJ)
    assert dialog.status_code == 200
    html = dialog.json()["html"]
    assert ANY_ACCOUNT_LABEL in html and MEMBERS_ONLY_LABEL in html

    def choose(value: str):
        answer = client.post(url, {"restriction_type": value}, HTTP_HOST=ZJ)
        assert answer.status_code == 200 and answer.json()["step"] == "set_privacy_done"
        with schema_context("zhejiang"):
            restriction = PageViewRestriction.objects.filter(page=page).first()
            members = MembersOnlyRestriction.objects.filter(restriction__page=page).exists()
        return (restriction.restriction_type if restriction else None), members

    assert choose("members") == ("login", True)
    assert MEMBERS_ONLY_LABEL in client.get(url, HTTP_HOST=ZJ).json()["html"]
    assert choose("login") == ("login", False)
    assert choose("members") == ("login", True)
    assert choose("none") == (None, False)


def test_another_sites_admin_cannot_set_privacy_here(client):
    with schema_context("zhejiang"):
        page = m.NewsPage.objects.live().first()
    assert client.login(username="sichuan_admin", password=DEMO_PASSWORD)
    answer = client.post(f"/admin/pages/{page.pk}/privacy/", {"restriction_type": "members"}, HTTP_HOST=ZJ)
    assert answer.status_code in (302, 403)
    with schema_context("zhejiang"):
        assert not PageViewRestriction.objects.filter(page=page).exists()
