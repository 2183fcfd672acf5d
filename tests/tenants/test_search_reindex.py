"""`make run` rebuilds the search index of every site indexed with an older segmentation."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from wagtail.search.models import IndexEntry

from core.chinese import INDEX_VERSION
from tenants import services
from tenants.models import CultureSite

pytestmark = pytest.mark.django_db


def test_only_sites_behind_are_rebuilt_and_then_marked_current():
    CultureSite.objects.filter(kind__in=CultureSite.SERVED_KINDS).update(search_index_version=INDEX_VERSION)
    CultureSite.objects.filter(schema_name="sichuan").update(search_index_version=INDEX_VERSION - 1)
    with schema_context("sichuan"):
        IndexEntry.objects.all().delete()
    with schema_context("zhejiang"):
        IndexEntry.objects.all().delete()

    assert services.refresh_search_indexes() == ["sichuan"]

    with schema_context("sichuan"):
        assert IndexEntry.objects.exists()
    with schema_context("zhejiang"):  # not behind: left alone
        assert not IndexEntry.objects.exists()
    assert CultureSite.objects.get(schema_name="sichuan").search_index_version == INDEX_VERSION


def test_nothing_to_do_costs_one_query():
    CultureSite.objects.update(search_index_version=INDEX_VERSION)
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as queries:
        assert services.refresh_search_indexes() == []
    assert len([q for q in queries if not q["sql"].startswith("SET search_path")]) == 1
