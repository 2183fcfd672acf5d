"""Two deployments, two PostgreSQL databases, real HTTP between them.

Deployment A is the session's test database (the demo world). Deployment B is a second database
built here: migrated, with a platform row, the template and a national site only (plus its demo
content, so there is something to pull); it is served by daphne (tests/live_server.py) and
dropped at the end. B's national site answers on `127.0.0.1` (an extra domain of the site), so A
reaches it at `http://127.0.0.1:<port>` without any name resolution trick: a deployment reached
by its address, as in production behind a reverse proxy with its own domain.

Keys are issued on B with `manage.py federation_issue_key` (a process of deployment B) and set on
A with `federation_set_uplink` (the secret on stdin), as an operator links two deployments.
The same code over the loopback transport, inside one deployment: tests/federation/test_push.py.

Everything A does happens inside the test's rolled-back transaction; what B receives is committed
in B (another process, another database). Each test therefore publishes its own new pages.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from federation import services
from federation.models import DeliveryAttempt, OutboxEntry, Record
from tests.live_server import running_server

from .conftest import new_resource

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
B_HOST = "127.0.0.1"  # B's national site answers on this host (an extra domain of the site)
NATIONAL_NAME = "国家公共文化云"


# --- deployment B: its database, its processes ------------------------------------------------------


def provision_national_only() -> None:
    """Run inside a process of deployment B: migrate, then a national site with demo content."""
    from django.core.management import call_command as run_command

    from cms_pages.demo import seed_demo_content
    from tenants import services as tenants

    run_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    tenants.ensure_platform_tenant()
    tenants.ensure_template()
    site = tenants.create_culture_site(
        tenants.NewSite(
            slug="national", name=NATIONAL_NAME, kind="national", region_code="100000", extra_domains=[B_HOST]
        )  # fmt: skip
    )
    with schema_context(site.schema_name):
        seed_demo_content(site.name, site.schema_name)


@dataclass
class Deployment:
    """Deployment B as seen from A: its database, how to run its commands, its server's address."""

    db_name: str
    env: dict
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{B_HOST}:{self.port}"

    def manage(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=self.env, input=stdin,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"manage.py {' '.join(args)} failed in B:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def query(self, sql: str, params=()) -> list[tuple]:
        conn = psycopg2.connect(**_libpq(connection.settings_dict, self.db_name))
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            conn.close()

    def national_record(self, uid) -> dict | None:
        rows = self.query(
            "SELECT catalogue_id, status, version, seq, origin_code, origin_name, title, is_local "
            "FROM national.federation_record WHERE uid = %s",
            [str(uid)],
        )
        names = ("catalogue_id", "status", "version", "seq", "origin_code", "origin_name", "title", "is_local")
        return dict(zip(names, rows[0], strict=True)) if rows else None

    def issue_key(self, code: str, slug: str, name: str) -> tuple[str, str]:
        """A key for A's site `slug`, registered with that site's address in A (the URLs of its
        envelopes must be on it)."""
        from tenants.models import CultureSite

        origin_url = CultureSite.objects.get(schema_name=slug).primary_url()
        out = self.manage("federation_issue_key", "--tenant", "national", "--origin-code", code,
                          "--origin-slug", slug, "--origin-name", name, "--origin-url", origin_url)  # fmt: skip
        return re.search(r"^key id: (\S+)$", out, re.M).group(1), re.search(r"^secret: (\S+)$", out, re.M).group(1)


def _libpq(settings_dict: dict, db_name: str) -> dict:
    params = {"dbname": db_name, "user": settings_dict["USER"], "host": settings_dict["HOST"]}
    if settings_dict.get("PORT"):
        params["port"] = settings_dict["PORT"]
    if settings_dict.get("PASSWORD"):
        params["password"] = settings_dict["PASSWORD"]
    return params


def _admin(sql: str) -> None:
    conn = psycopg2.connect(**_libpq(connection.settings_dict, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


def _env(db_name: str, port: int = 0) -> dict:
    env = dict(os.environ)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = "core.settings.test"
    env["LOG_LEVEL"] = "WARNING"
    if port:
        env["CULTURE_PORT"] = str(port)
    if env.get("DATABASE_URL"):
        env["DATABASE_URL"] = urlunsplit(urlsplit(env["DATABASE_URL"])._replace(path=f"/{db_name}"))
    else:
        env["CULTURE_DB_NAME"] = db_name
    return env


@pytest.fixture(scope="module")
def deployment_b(django_db_setup, django_db_blocker):
    """A second deployment (national site only) in its own database, served by daphne."""
    with django_db_blocker.unblock():
        db_a = connection.settings_dict["NAME"]
        assert db_a.startswith("test_"), "deployment B is only built beside a test database"
        db_name = f"{db_a}_b"
        _admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{db_name}"')
    b = Deployment(db_name=db_name, env=_env(db_name))
    try:
        provision = subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); "
             "from tests.federation.test_two_deployments import provision_national_only as p; p()"],
            cwd=REPO_ROOT, env=b.env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert provision.returncode == 0, f"provisioning deployment B failed:\n{provision.stderr[-4000:]}"
        with running_server(db_name, label="deployment-b") as server:
            b.port = server.port
            b.env = _env(db_name, server.port)
            yield b
    finally:
        with django_db_blocker.unblock():
            _admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


@pytest.fixture
def zhejiang_links_to_b(deployment_b, zhejiang):
    """zhejiang (in A) pushes to B's national site, with a key B issued (rolled back after the test)."""
    key_id, secret = deployment_b.issue_key("330000", "zhejiang", "浙江文化云")
    out = io.StringIO()
    call_command("federation_set_uplink", "--tenant", "zhejiang", "--name", NATIONAL_NAME,
                 "--url", deployment_b.base_url + "/", "--key-id", key_id, "--check",
                 stdin=io.StringIO(secret + "\n"), stdout=out)  # fmt: skip
    assert "check: the uplink accepted a signed request (HTTP 200)" in out.getvalue()
    return deployment_b


# --- push: A's province to B's national site ---------------------------------------------------


def test_push_over_http_lands_in_the_other_deployments_catalogue(zhejiang_links_to_b):
    b = zhejiang_links_to_b
    page = new_resource("跨部署推送：越剧《五女拜寿》")
    counts = services.deliver_pending()
    assert counts["delivered"] == 1

    received = b.national_record(page.uid)
    assert received is not None and not received["is_local"]
    assert received["catalogue_id"] == f"urn:culture:330000:resource:{page.uid}"
    assert (received["origin_code"], received["origin_name"]) == ("330000", "浙江文化云")
    assert (received["title"], received["status"], received["version"]) == ("跨部署推送：越剧《五女拜寿》", "live", 1)
    entry = OutboxEntry.objects.get(record__uid=page.uid)
    assert entry.state == "delivered" and entry.catalogue_id == received["catalogue_id"]
    # A's own national site (same deployment as zhejiang) never saw it: the uplink is B now.
    with schema_context("national"):
        assert not Record.objects.filter(uid=page.uid).exists()


def test_redelivery_over_http_is_a_duplicate(zhejiang_links_to_b):
    b = zhejiang_links_to_b
    page = new_resource("跨部署重复投递的资源")
    services.deliver_pending()
    seq = b.national_record(page.uid)["seq"]
    # The sender crashed before it marked the entry delivered: it sends it again.
    OutboxEntry.objects.filter(record__uid=page.uid).update(state="pending", delivered_at=None)
    assert services.deliver_pending()["delivered"] == 1
    outcomes = list(DeliveryAttempt.objects.filter(outbox__record__uid=page.uid).order_by("pk"))
    assert [a.outcome for a in outcomes] == ["accepted", "duplicate"]
    assert b.national_record(page.uid)["seq"] == seq  # nothing written on B
    assert b.query("SELECT count(*) FROM national.federation_record WHERE uid = %s", [str(page.uid)]) == [(1,)]


def test_unpublish_and_delete_propagate_over_http(zhejiang_links_to_b):
    from cms_pages import models as m

    b = zhejiang_links_to_b
    page = new_resource("跨部署撤回的资源")
    services.deliver_pending()
    page.unpublish()
    services.deliver_pending()
    assert (b.national_record(page.uid)["status"], b.national_record(page.uid)["version"]) == ("unpublished", 2)
    uid = page.uid
    m.ResourcePage.objects.get(pk=page.pk).delete()
    services.deliver_pending()
    assert b.national_record(uid)["status"] == "deleted"  # a tombstone in B's catalogue


def test_a_key_of_another_site_cannot_speak_for_zhejiang(zhejiang_links_to_b):
    """B issued sichuan's key: zhejiang's envelopes signed with it are rejected (dead letter)."""
    b = zhejiang_links_to_b
    key_id, secret = b.issue_key("510000", "sichuan", "四川文化云")
    services.set_uplink(name=NATIONAL_NAME, base_url=b.base_url, key_id=key_id, secret=secret)
    page = new_resource("冒名推送的资源")
    counts = services.deliver_pending()
    assert counts["dead"] == 1
    entry = OutboxEntry.objects.get(record__uid=page.uid)
    assert entry.state == "dead" and "origin.code does not match" in entry.last_error
    assert b.national_record(page.uid) is None


def test_a_key_from_another_deployment_is_refused_with_401(zhejiang_links_to_b):
    """Keys are per deployment: a key A's national site issued means nothing to B."""
    b = zhejiang_links_to_b
    with schema_context("national"):
        key_id, secret = services.issue_inbound_key(
            origin_code="330000", origin_slug="zhejiang", origin_name="浙江文化云"
        )
    services.set_uplink(name=NATIONAL_NAME, base_url=b.base_url, key_id=key_id, secret=secret)
    page = new_resource("错部署密钥推送的资源")
    counts = services.deliver_pending()
    assert counts["retry"] == 1
    attempt = DeliveryAttempt.objects.get(outbox__record__uid=page.uid)
    assert attempt.status_code == 401 and "unknown key id" in attempt.message
    assert b.national_record(page.uid) is None


def test_b_serves_its_own_national_site_on_its_address(deployment_b):
    """Cross-tenant sanity: B's host selects B's national site, and B has no provinces at all."""
    conn = http.client.HTTPConnection(B_HOST, deployment_b.port, timeout=10)
    try:
        conn.request("GET", "/", headers={"Host": B_HOST})
        answer = conn.getresponse()
        body = answer.read().decode()
    finally:
        conn.close()
    assert answer.status == 200 and NATIONAL_NAME in body
    schemas = deployment_b.query("SELECT schema_name FROM public.tenants_culturesite ORDER BY schema_name")
    assert [s for (s,) in schemas if s not in ("public", "template")] == ["national"]


# --- pull: a tenant of A subscribes to B's national resources --------------------------------------


UNPUBLISH_ONE_ON_B = """
from django_tenants.utils import schema_context
from cms_pages.models import ResourcePage
with schema_context("national"):
    page = ResourcePage.objects.live().get(uid="{uid}")
    page.unpublish()
    print("unpublished", page.uid)
"""


def test_a_tenant_pulls_the_other_deployments_national_resources(deployment_b):
    from cms_pages.models import ResourceIndexPage, ResourcePage
    from federation import pull

    b = deployment_b
    national_items = dict(
        b.query(
            "SELECT uid::text, title FROM national.federation_record "
            "WHERE is_local AND kind = 'resource' AND status = 'live'"
        )
    )
    assert national_items  # B's national demo resources
    key_id, secret = b.issue_key("510000", "sichuan", "四川文化云")
    # B is reached by address; its pages and files are published on its national site's domain.
    canonical = b.query("SELECT envelope->>'canonical_url' FROM national.federation_record WHERE is_local LIMIT 1")
    public_url = "{0.scheme}://{0.netloc}".format(urlsplit(canonical[0][0]))
    call_command("federation_set_uplink", "--tenant", "sichuan", "--name", NATIONAL_NAME, "--url", b.base_url,
                 "--public-url", public_url, "--key-id", key_id, stdin=io.StringIO(secret),
                 stdout=io.StringIO())  # fmt: skip

    with schema_context("sichuan"):
        parent = ResourceIndexPage.objects.first()
        subscription = pull.subscribe(
            peer=services.uplink(), set_spec="national-resources", parent_page=parent,
            auto_publish=True, name="国家数字资源",
        )  # fmt: skip
        counts = pull.sync_subscription(subscription)
        assert counts["created"] == len(national_items) and counts["failed"] == 0

        copies = {str(p.uid): p for p in ResourcePage.objects.child_of(parent).filter(uid__in=list(national_items))}
        assert {uid: p.title for uid, p in copies.items()} == national_items
        assert all(p.live for p in copies.values())
        uid = sorted(national_items)[0]
        record = Record.objects.get(uid=uid)
        assert not record.is_local and record.subscription_id == subscription.pk
        assert record.catalogue_id == f"urn:culture:100000:resource:{uid}"

        # Nothing changed on B: a second run writes nothing and the cursor stays.
        subscription.refresh_from_db()
        cursor = subscription.cursor
        again = pull.sync_subscription(subscription)
        assert again["created"] == again["updated"] == again["unpublished"] == 0
        subscription.refresh_from_db()
        assert subscription.cursor == cursor

    # An editor of B withdraws one resource; the next pull withdraws the copy in sichuan.
    assert "unpublished" in b.manage("shell", "-c", UNPUBLISH_ONE_ON_B.format(uid=uid))
    with schema_context("sichuan"):
        counts = pull.sync_subscription(subscription)
        assert counts["unpublished"] == 1
        assert not ResourcePage.objects.get(uid=uid).live
        assert Record.objects.get(uid=uid).status == "unpublished"
