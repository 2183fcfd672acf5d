"""The platform operator creates and closes tenants from the platform host."""

import pytest

from accounts.services import ensure_account
from tenants.models import CultureSite

PLATFORM = "culture.localhost"


@pytest.fixture
def operator_client(client, committed_db):
    ensure_account("ops", "Ops-pass-2026", is_superuser=True)
    assert client.login(username="ops", password="Ops-pass-2026")
    # Global accounts are never deleted (their memberships live in every tenant schema).
    return client


@pytest.mark.django_db
def test_operator_pages_need_a_platform_operator(client):
    response = client.get("/operator/", HTTP_HOST=PLATFORM)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_operator_creates_a_site_from_the_form(operator_client):
    response = operator_client.post(
        "/operator/",
        {"slug": "ningbo", "name": "宁波文化云", "kind": "city", "region_code": "330200", "parent": "zhejiang"},
        HTTP_HOST=PLATFORM,
        follow=True,
    )
    assert response.status_code == 200
    assert "已创建站点“宁波文化云”" in response.content.decode()
    assert CultureSite.objects.get(schema_name="ningbo").parent.schema_name == "zhejiang"
    assert "<h1>宁波文化云</h1>" in operator_client.get("/", HTTP_HOST="ningbo.culture.localhost").content.decode()


def test_operator_form_names_the_bad_field(operator_client):
    response = operator_client.post(
        "/operator/",
        {"slug": "ningbo", "name": "宁波文化云", "kind": "city", "region_code": "999999", "parent": "zhejiang"},
        HTTP_HOST=PLATFORM,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "行政区划代码：未知的行政区划代码“999999”" in html
    assert not CultureSite.objects.filter(schema_name="ningbo").exists()


def test_operator_closes_and_reopens_a_site(operator_client):
    operator_client.post("/operator/sites/sichuan/active", {"active": "0"}, HTTP_HOST=PLATFORM)
    assert operator_client.get("/", HTTP_HOST="sichuan.culture.localhost").status_code == 503
    operator_client.post("/operator/sites/sichuan/active", {"active": "1"}, HTTP_HOST=PLATFORM)
    assert operator_client.get("/", HTTP_HOST="sichuan.culture.localhost").status_code == 200
