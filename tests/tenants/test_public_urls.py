"""Every absolute URL the platform writes opens: one primary public URL per tenant (issue 10).

Canonical links, og:url, og:image, hreflang alternates, sitemap <loc>, RSS links and guids, OAI-PMH
dc:identifier / culture URLs and the national catalogue's "查看原文" are collected from every demo
site (the own-domain city included, asked on both of its hosts) and each is fetched: it must answer
200 on the host and port it names. Feeds parse with feedparser (no bozo), sitemaps with ultimate-sitemap-parser.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import feedparser
import pytest
from django_tenants.utils import schema_context
from usp.tree import sitemap_from_str

from federation import oai
from federation.models import Record
from tenants import services
from tenants.services import ProvisioningError

pytestmark = pytest.mark.django_db

PLATFORM_HOSTS = [
    "national.culture.localhost",
    "zhejiang.culture.localhost",
    "sichuan.culture.localhost",
    "liaoning.culture.localhost",
]
DALIAN_PRIMARY = "dalian-culture.localhost"
DALIAN_OTHER = "dalian.culture.localhost"
CANONICAL = re.compile(r'<link rel="canonical" href="([^"]+)"')
OG_URL = re.compile(r'<meta property="og:url" content="([^"]+)"')
OG_IMAGE = re.compile(r'<meta property="og:image" content="([^"]+)"')
ALTERNATE = re.compile(r'<link rel="alternate" hreflang="[^"]+" href="([^"]+)"')
ORIGINAL = re.compile(r'<a class="button" href="([^"]+)">查看原文')


def page(client, host: str, path: str) -> str:
    response = client.get(path, HTTP_HOST=host)
    assert response.status_code == 200, (host, path, response.status_code)
    return response.content.decode()


def sitemap_urls(client, host: str) -> list[str]:
    response = client.get("/sitemap.xml", HTTP_HOST=host)
    assert response.status_code == 200, (host, response.status_code)
    parsed = sitemap_from_str(response.content.decode())
    urls = [p.url for p in parsed.all_pages()]
    assert urls, f"no pages in the sitemap of {host}"
    return urls


def feed_urls(client, host: str) -> list[str]:
    response = client.get("/rss.xml", HTTP_HOST=host)
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.entries, f"no items in the feed of {host}"
    urls = [feed.feed.link]
    urls += [link["href"] for link in feed.feed.get("links", []) if link.get("rel") == "self"]
    for entry in feed.entries:
        urls += [entry.link, entry.id]
    return urls


def oai_urls(client, host: str) -> list[str]:
    urls = []
    for prefix in ("oai_dc", "culture"):
        params = {"verb": "ListRecords", "metadataPrefix": prefix}
        while params:
            root = ET.fromstring(client.get("/oai/", params, HTTP_HOST=host).content)
            if root.find(f"{{{oai.OAI_NS}}}error") is not None:
                break
            urls.append(root.findtext(f"{{{oai.OAI_NS}}}request"))
            tags = {f"{{{oai.DC_NS}}}identifier", f"{{{oai.CULTURE_NS}}}canonicalUrl", f"{{{oai.CULTURE_NS}}}originUrl"}
            for element in root.iter():
                if element.tag in tags and element.text.startswith("http"):
                    urls.append(element.text)
            token = root.findtext(f".//{{{oai.OAI_NS}}}resumptionToken")
            params = {"verb": "ListRecords", "resumptionToken": token} if token else None
    return urls


def assert_every_url_opens(client, settings, urls: set[str]) -> None:
    """Each URL is on the platform's scheme and port and answers 200 (no redirect) on its host."""
    failures = []
    for url in sorted(urls):
        parts = urlsplit(url)
        if parts.scheme != settings.PLATFORM_SCHEME or str(parts.port) != str(settings.PLATFORM_PORT):
            failures.append(f"{url}: not on {settings.PLATFORM_SCHEME}://…:{settings.PLATFORM_PORT}")
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.get(path, HTTP_HOST=parts.netloc)
        if response.status_code != 200:
            failures.append(f"{url}: HTTP {response.status_code}")
    assert not failures, "\n".join(failures)


def test_every_absolute_url_on_every_site_opens(client, settings):
    urls: set[str] = set()
    for host in [*PLATFORM_HOSTS, DALIAN_PRIMARY]:
        for path in ["/", *{urlsplit(u).path for u in sitemap_urls(client, host)}]:
            html = page(client, host, path)
            urls |= set(CANONICAL.findall(html)) | set(OG_URL.findall(html))
            urls |= set(OG_IMAGE.findall(html)) | set(ALTERNATE.findall(html))
        urls |= set(sitemap_urls(client, host))
        urls |= set(feed_urls(client, host))
        urls |= set(oai_urls(client, host))
    catalogue = page(client, "national.culture.localhost", "/catalogue/")
    details = set(re.findall(r'href="(/catalogue/[0-9a-f-]{36}/)"', catalogue))
    assert details
    for path in details:
        urls |= set(ORIGINAL.findall(page(client, "national.culture.localhost", path)))
    with schema_context("national"):
        urls |= {r.canonical_url for r in Record.objects.filter(status=Record.Status.LIVE) if r.canonical_url}
    # the own-domain city's URLs are on its own domain, and nobody else's are on it
    assert any(urlsplit(u).hostname == DALIAN_PRIMARY for u in urls)
    assert not any(urlsplit(u).hostname == DALIAN_OTHER for u in urls)
    assert len(urls) > 50
    assert_every_url_opens(client, settings, urls)


def test_sitemaps_list_the_training_catalogue_and_each_sites_own_courses(client, settings):
    """Public pages outside Wagtail are in the sitemap too, on the primary URL (every <loc> opens:
    the test above); a course pulled from another site is in that site's sitemap only."""
    from training.models import Course

    listed = {}
    for schema, host in (("national", "national.culture.localhost"), ("zhejiang", "zhejiang.culture.localhost")):
        base = f"http://{host}:{settings.PLATFORM_PORT}"
        urls = sitemap_urls(client, host)
        assert f"{base}/training/" in urls
        with schema_context(schema):
            published = Course.objects.filter(status=Course.Status.PUBLISHED)
            own = {f"{base}{c.get_absolute_url()}" for c in published.filter(origin_code="")}
            pulled = {f"{base}{c.get_absolute_url()}" for c in published.exclude(origin_code="")}
        assert own <= set(urls) and not pulled & set(urls), schema
        listed[schema] = own
    assert listed["national"]  # the demo's national course


def test_another_host_of_the_tenant_canonicalises_to_the_primary_url(client, settings):
    base = f"http://{DALIAN_PRIMARY}:{settings.PLATFORM_PORT}"
    html = page(client, DALIAN_OTHER, "/")
    assert CANONICAL.findall(html) == [f"{base}/"] and OG_URL.findall(html) == [f"{base}/"]
    assert all(u.startswith(base + "/") for u in feed_urls(client, DALIAN_OTHER))
    response = client.get("/sitemap.xml", HTTP_HOST=DALIAN_OTHER)
    assert (response.status_code, response["Location"]) == (301, f"{base}/sitemap.xml")
    assert all(u.startswith(base + "/") for u in sitemap_urls(client, DALIAN_PRIMARY))


# --- the helper and the operator's setting ---------------------------------------------------------


def test_public_base_url_defaults_from_the_platform_settings(settings):
    settings.PLATFORM_SCHEME, settings.PLATFORM_PORT = "http", "8107"
    assert services.public_base_url("zhejiang") == "http://zhejiang.culture.localhost:8107"
    assert services.absolute_url("zhejiang", "/news/") == "http://zhejiang.culture.localhost:8107/news/"
    assert services.public_base_url("dalian") == "http://dalian-culture.localhost:8107"
    settings.PLATFORM_SCHEME, settings.PLATFORM_PORT = "https", "443"
    assert services.public_base_url("zhejiang") == "https://zhejiang.culture.localhost"
    with schema_context("sichuan"):  # None: the tenant whose schema is active
        assert services.public_base_url() == "https://sichuan.culture.localhost"
    assert services.public_base_url("public") == "https://culture.localhost"


@pytest.fixture
def forget_zhejiang_hosts():
    """The test's change is rolled back in the database, not in the caches: drop what they learnt."""
    yield
    from core.middleware import forget_cached_hosts
    from themes.services import forget_site_switcher

    with schema_context("public"):
        forget_cached_hosts(["zhejiang.culture.localhost", "wenhua.zj.example.cn"])
    forget_site_switcher()


def test_operator_sets_the_primary_url_and_every_absolute_url_follows(client, settings, forget_zhejiang_hosts):
    services.set_primary_address("zhejiang", "wenhua.zj.example.cn", scheme="https", port=8443)
    base = "https://wenhua.zj.example.cn:8443"
    assert services.public_base_url("zhejiang") == base
    assert services.public_base_url("sichuan") == f"http://sichuan.culture.localhost:{settings.PLATFORM_PORT}"
    html = page(client, "zhejiang.culture.localhost", "/")
    assert CANONICAL.findall(html) == [f"{base}/"]
    assert all(u.startswith(base + "/") for u in feed_urls(client, "zhejiang.culture.localhost"))
    identify = client.get("/oai/", {"verb": "Identify"}, HTTP_HOST="zhejiang.culture.localhost").content.decode()
    assert f"<baseURL>{base}/oai/</baseURL>" in identify
    robots = page(client, "wenhua.zj.example.cn", "/robots.txt")
    assert f"Sitemap: {base}/sitemap.xml" in robots
    assert all(u.startswith(base + "/") for u in sitemap_urls(client, "wenhua.zj.example.cn"))
    # the old host still answers (and canonicalises to the new one)
    assert CANONICAL.findall(page(client, "zhejiang.culture.localhost", "/news/")) == [f"{base}/news/"]


def test_run_platform_on_another_port_writes_urls_with_that_port(monkeypatch, settings):
    """`manage.py run_platform --port 8112`: what it serves is written on 8112, not on CULTURE_PORT's
    default, in this process and in the server and worker it starts (they read CULTURE_PORT)."""
    import os

    from tenants.management.commands.run_platform import write_urls_with_port

    monkeypatch.setenv("CULTURE_PORT", "8000")  # restored after the test
    settings.PLATFORM_PORT = "8000"  # ditto, through the settings fixture
    write_urls_with_port(8112)
    assert os.environ["CULTURE_PORT"] == "8112"
    assert services.public_base_url("zhejiang") == "http://zhejiang.culture.localhost:8112"
    assert services.absolute_url("dalian", "/rss.xml") == "http://dalian-culture.localhost:8112/rss.xml"


@pytest.mark.parametrize(
    ("hostname", "scheme", "port", "field"),
    [
        ("national.culture.localhost", "", None, "domain"),  # another tenant's
        ("culture.localhost", "", None, "domain"),  # the platform's
        ("bad host", "", None, "domain"),
        ("www.zj.example.cn", "", None, "domain"),  # hosts are matched without www.
        ("zj.example.cn", "ftp", None, "scheme"),
        ("zj.example.cn", "", 70000, "port"),
    ],
)
def test_a_bad_primary_address_is_refused_naming_the_field(hostname, scheme, port, field):
    with pytest.raises(ProvisioningError) as refused:
        services.set_primary_address("zhejiang", hostname, scheme=scheme, port=port)
    assert field in refused.value.message_dict
    assert services.public_base_url("zhejiang").startswith("http://zhejiang.culture.localhost")
    with schema_context("public"):
        assert not services.Domain.objects.filter(domain="zj.example.cn").exists()


def test_the_operator_command_sets_the_address_and_refuses_bad_input():
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("set_site_address", "sichuan", domain="wenhua.sc.example.cn", scheme="https", stdout=out)
    assert out.getvalue().strip() == "sichuan: https://wenhua.sc.example.cn:8000/"
    call_command("set_site_address", "sichuan", port=443, domain="wenhua.sc.example.cn", scheme="https", stdout=out)
    assert services.public_base_url("sichuan") == "https://wenhua.sc.example.cn"
    with pytest.raises(CommandError, match="联系邮箱"):
        call_command("set_site_address", "sichuan", contact_email="not-an-address")
    with pytest.raises(CommandError, match="已被其他站点使用"):
        call_command("set_site_address", "sichuan", domain="zhejiang.culture.localhost")
    assert services.public_base_url("sichuan") == "https://wenhua.sc.example.cn"
