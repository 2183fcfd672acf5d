"""Sites tests make (and remove) never linger in the public directory or any site's switcher."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenants.models import CultureSite, Domain
from themes.services import forget_site_switcher, site_switcher_entries

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
PLATFORM = "culture.localhost"
NAME = "测试用临时站点"


def test_a_removed_test_site_leaves_the_switcher_and_the_directory(client):
    # A row like the ones tests create (no schema is needed to be listed).
    site = CultureSite.objects.create(
        schema_name="testsite_tmp",
        name=NAME,
        kind="city",
        region_code="330100",
        parent=CultureSite.objects.get(schema_name="zhejiang"),
    )
    Domain.objects.create(tenant=site, domain="testsite-tmp.culture.localhost", is_primary=True)
    forget_site_switcher()  # as tenants.services.create_culture_site does
    assert NAME in client.get("/", HTTP_HOST=ZJ).content.decode()  # the switcher, now cached
    with schema_context("zhejiang"):
        assert NAME in [entry["name"] for entry in site_switcher_entries()]

    # Removed the way the test fixtures (and an operator's shell) remove sites.
    Domain.objects.filter(tenant=site).delete()
    CultureSite.objects.filter(pk=site.pk).delete()

    with schema_context("zhejiang"):
        assert NAME not in [entry["name"] for entry in site_switcher_entries()]
    assert NAME not in client.get("/", HTTP_HOST=ZJ).content.decode()
    directory = client.get("/", HTTP_HOST=PLATFORM).content.decode()
    assert "浙江文化云" in directory and NAME not in directory
