"""A tenant's site admin changes name and colours in the Wagtail admin; other tenants are untouched."""

import pytest
from django_tenants.utils import schema_context

from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"


def branding_url() -> str:
    from wagtail.models import Site

    with schema_context("zhejiang"):
        return f"/admin/settings/themes/branding/{Site.objects.get().pk}/"


def test_site_admin_changes_branding_in_the_admin(client):
    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    url = branding_url()
    assert client.get(url, HTTP_HOST=ZJ).status_code == 200
    response = client.post(
        url,
        {
            "site_name": "浙江省文化馆云",
            "short_name": "浙文云",
            "primary_colour": "#0B6E4F",
            "accent_colour": "#C8A060",
            "footer_text": "浙江省文化馆 主办",
            "service_entrances-count": "0",
        },
        HTTP_HOST=ZJ,
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    html = client.get("/", HTTP_HOST=ZJ).content.decode()
    assert "--primary: #0B6E4F" in html
    assert "浙江省文化馆云" in html and "浙江省文化馆 主办" in html
    sichuan = client.get("/", HTTP_HOST="sichuan.culture.localhost").content.decode()
    assert "#0B6E4F" not in sichuan and "浙江省文化馆云" not in sichuan


def test_bad_colour_is_refused_with_a_message(client):
    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    response = client.post(
        branding_url(),
        {
            "site_name": "浙江文化云",
            "primary_colour": "red",
            "accent_colour": "#C8A060",
            "service_entrances-count": "0",
        },
        HTTP_HOST=ZJ,
    )
    assert response.status_code == 200
    assert "#RRGGBB" in response.content.decode()
    assert "--primary: red" not in client.get("/", HTTP_HOST=ZJ).content.decode()


def test_admin_of_one_tenant_cannot_edit_another_tenants_branding(client):
    assert client.login(username="sichuan_admin", password=DEMO_PASSWORD)
    response = client.get(branding_url(), HTTP_HOST=ZJ)
    assert response.status_code == 302  # sent to the login page: no admin access in zhejiang
