"""Hosts reach their own tenant, in the shared theme; the platform host shows the directory."""

import pytest
from django_tenants.utils import schema_context

pytestmark = pytest.mark.django_db


def test_each_tenant_serves_its_own_home_page(client):
    for host, name in [
        ("national.culture.localhost", "国家公共文化云"),
        ("zhejiang.culture.localhost", "浙江文化云"),
        ("sichuan.culture.localhost", "四川文化云"),
        ("dalian.culture.localhost", "大连文化云"),
    ]:
        response = client.get("/", HTTP_HOST=host)
        assert response.status_code == 200, host
        html = response.content.decode()
        assert f"<h1>{name}</h1>" in html
        assert "themes/culture.css" in html  # the shared theme
        others = {"国家公共文化云", "浙江文化云", "四川文化云", "大连文化云"} - {name}
        assert not any(f"<h1>{other}</h1>" in html for other in others)


def test_port_in_host_is_ignored(client):
    response = client.get("/", HTTP_HOST="zhejiang.culture.localhost:8000")
    assert "<h1>浙江文化云</h1>" in response.content.decode()


def test_second_domain_serves_the_same_tenant(client):
    response = client.get("/", HTTP_HOST="dalian-culture.localhost")
    assert response.status_code == 200
    assert "<h1>大连文化云</h1>" in response.content.decode()


def test_platform_host_lists_tenants_without_wagtail(client):
    response = client.get("/", HTTP_HOST="culture.localhost")
    assert response.status_code == 200
    html = response.content.decode()
    assert "文化云站点目录" in html
    for name, url in [
        ("浙江文化云", "http://zhejiang.culture.localhost:8000/"),
        ("大连文化云", "http://dalian-culture.localhost:8000/"),
    ]:
        assert name in html and url in html
    assert "站点模板" not in html  # the template is never listed
    # No Wagtail on the platform host: its tables are not in the public schema.
    assert client.get("/admin/", HTTP_HOST="culture.localhost").status_code == 404


@pytest.mark.parametrize("host", ["unknown.culture.localhost", "example.com", "template.culture.localhost"])
def test_unknown_host_gets_friendly_chinese_404(client, host):
    response = client.get("/some/page/", HTTP_HOST=host)
    assert response.status_code == 404
    html = response.content.decode()
    assert "找不到这个站点" in html
    assert "Traceback" not in html


def test_each_tenant_has_its_own_wagtail_admin(client):
    response = client.get("/admin/login/", HTTP_HOST="sichuan.culture.localhost")
    assert response.status_code == 200
    assert "四川文化云" in response.content.decode() or "wagtail" in response.content.decode().lower()


def test_colliding_primary_keys_each_serve_their_own_content(client):
    """Both tenants were cloned from one template, so their pages share primary keys."""
    from cms_pages.models import HomePage

    with schema_context("zhejiang"):
        zj = HomePage.objects.get()
        zj.title = "浙江：同号页面"
        zj.save_revision().publish()
    with schema_context("sichuan"):
        sc = HomePage.objects.get()
        sc.title = "四川：同号页面"
        sc.save_revision().publish()
    assert zj.pk == sc.pk
    assert "<h1>浙江：同号页面</h1>" in client.get("/", HTTP_HOST="zhejiang.culture.localhost").content.decode()
    assert "<h1>四川：同号页面</h1>" in client.get("/", HTTP_HOST="sichuan.culture.localhost").content.decode()
    # The other tenant's page id through this tenant's admin shows this tenant's page.
    with schema_context("sichuan"):
        assert HomePage.objects.get(pk=zj.pk).title == "四川：同号页面"


def test_site_root_paths_cache_stays_per_tenant(client):
    """Wagtail caches the site root paths; with a shared key the second tenant would get the first's."""
    from wagtail.models import Site

    client.get("/", HTTP_HOST="zhejiang.culture.localhost")
    client.get("/", HTTP_HOST="sichuan.culture.localhost")
    with schema_context("zhejiang"):
        zhejiang_paths = [p.site_id and p.root_url for p in Site.get_site_root_paths()]
    with schema_context("sichuan"):
        sichuan_paths = [p.root_url for p in Site.get_site_root_paths()]
    assert zhejiang_paths == ["http://zhejiang.culture.localhost"]
    assert sichuan_paths == ["http://sichuan.culture.localhost"]


def test_closed_site_answers_with_site_closed_page(client):
    from tenants.services import set_site_active

    set_site_active("sichuan", False)
    response = client.get("/", HTTP_HOST="sichuan.culture.localhost")
    assert response.status_code == 503
    assert "四川文化云已关闭" in response.content.decode()
    assert client.get("/admin/", HTTP_HOST="sichuan.culture.localhost").status_code == 503
    assert client.get("/", HTTP_HOST="zhejiang.culture.localhost").status_code == 200
    set_site_active("sichuan", True)
    assert client.get("/", HTTP_HOST="sichuan.culture.localhost").status_code == 200
