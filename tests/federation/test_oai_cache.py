"""OAI-PMH answers kept in a cache per tenant (federation.oai.serve): a repeated harvest page costs
one query, never answers another site's request, and a change to the records shows at once."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from federation import oai

from .conftest import new_resource
from .test_oai import NATIONAL, NS, SICHUAN, ZHEJIANG, error_of, harvest, identifiers, oai_id, records_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_oai_cache():
    from django.core.cache import caches

    caches[oai.CACHE_ALIAS].clear()


def test_a_repeated_page_is_served_from_the_cache_with_one_query(client, settings, django_assert_num_queries):
    """The same first page and resumed page again: the records version lookup only, whatever the
    page size (before the cache a first page cost 6 queries and a resumed page 2)."""
    harvest(client, NATIONAL, verb="Identify")  # the host → tenant lookup is cached from now on
    for page_size in (5, 10):
        settings.OAI_PAGE_SIZE = page_size
        first = harvest(client, NATIONAL, verb="ListRecords", metadataPrefix="culture")
        token = first.findtext("o:ListRecords/o:resumptionToken", namespaces=NS)
        resumed = harvest(client, NATIONAL, verb="ListRecords", resumptionToken=token)
        # search_path and the records version: no lock, no count, no records read
        with django_assert_num_queries(2):
            again = harvest(client, NATIONAL, verb="ListRecords", metadataPrefix="culture")
        with django_assert_num_queries(2):
            resumed_again = harvest(client, NATIONAL, verb="ListRecords", resumptionToken=token)
        assert identifiers(again) == identifiers(first) and len(identifiers(first)) == page_size
        assert identifiers(resumed_again) == identifiers(resumed)
        assert again.findtext("o:ListRecords/o:resumptionToken", namespaces=NS) == token


def test_a_miss_costs_one_query_more_than_the_uncached_answer(client, settings):
    harvest(client, NATIONAL, verb="Identify")
    settings.OAI_PAGE_SIZE = 10
    with CaptureQueriesContext(connection) as cached:
        harvest(client, NATIONAL, verb="ListRecords", metadataPrefix="oai_dc", set="type:resource")
    settings.OAI_CACHE_SECONDS = 0  # off: the answer as before the cache
    with CaptureQueriesContext(connection) as uncached:
        harvest(client, NATIONAL, verb="ListRecords", metadataPrefix="oai_dc", set="type:resource")
    assert len(cached) == len(uncached) + 1


def test_a_tenants_cached_answer_never_answers_another_tenant(client, monkeypatch):
    """Even when both sites' records versions are the same (seq counts per schema), zhejiang's
    answers stay zhejiang's: sichuan gets its own repository, identifiers and records."""
    monkeypatch.setattr(oai, "records_version", lambda: (7, "2026-01-01T00:00:00+00:00"))
    requests = [
        {"verb": "Identify"},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
    ]
    for params in requests:
        zhejiang = harvest(client, ZHEJIANG, **params)
        sichuan = harvest(client, SICHUAN, **params)
        assert sichuan.findtext("o:request", namespaces=NS) == f"http://{SICHUAN}:8000/oai/"
        if params["verb"] == "Identify":
            name = sichuan.findtext("o:Identify/o:repositoryName", namespaces=NS)
            assert name != zhejiang.findtext("o:Identify/o:repositoryName", namespaces=NS)
            continue
        own = {oai_id(SICHUAN, r) for r in records_of("sichuan", is_local=True)}
        assert identifiers(sichuan) and set(identifiers(sichuan)) <= own
        assert not set(identifiers(sichuan)) & set(identifiers(zhejiang))


def test_a_change_to_the_records_shows_at_once(client):
    before = harvest(client, ZHEJIANG, verb="ListIdentifiers", metadataPrefix="oai_dc", set="type:resource")
    assert harvest(client, ZHEJIANG, verb="ListIdentifiers", metadataPrefix="oai_dc", set="type:resource")
    with schema_context("zhejiang"):
        page = new_resource("缓存之后发布的越剧资源")
    (record,) = records_of("zhejiang", uid=page.uid)
    after = harvest(client, ZHEJIANG, verb="ListIdentifiers", metadataPrefix="oai_dc", set="type:resource")
    assert oai_id(ZHEJIANG, record) in identifiers(after)
    assert oai_id(ZHEJIANG, record) not in identifiers(before)
    got = harvest(client, ZHEJIANG, verb="GetRecord", identifier=oai_id(ZHEJIANG, record), metadataPrefix="oai_dc")
    assert error_of(got) is None

    # Unpublished: the cached list now reports it deleted.
    with schema_context("zhejiang"):
        page.refresh_from_db()
        page.unpublish()
    again = harvest(client, ZHEJIANG, verb="ListIdentifiers", metadataPrefix="oai_dc", set="type:resource")
    header = next(
        h
        for h in again.iter(f"{{{oai.OAI_NS}}}header")
        if h.findtext("o:identifier", namespaces=NS) == oai_id(ZHEJIANG, record)
    )
    assert header.get("status") == "deleted"


def test_a_site_renamed_is_answered_with_its_new_name(client):
    from tenants.models import CultureSite

    harvest(client, SICHUAN, verb="Identify")
    CultureSite.objects.filter(schema_name="sichuan").update(name="四川文化云（新）")
    connection.set_schema_to_public()
    from django.core.cache import caches

    caches["default"].clear()  # the host → tenant lookup, cached per process
    root = harvest(client, SICHUAN, verb="Identify")
    assert root.findtext("o:Identify/o:repositoryName", namespaces=NS) == "四川文化云（新）"


def _repo(schema: str = "zhejiang"):
    from tenants.models import CultureSite

    return oai.repository_for(CultureSite.objects.get(schema_name=schema))


def test_a_cached_answer_gets_the_current_response_date(settings):
    repo = _repo()
    monday = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    tuesday = monday + dt.timedelta(days=1)
    with schema_context("zhejiang"):
        first = ET.fromstring(oai.serve(repo, {"verb": ["Identify"]}, now=monday))
        second = ET.fromstring(oai.serve(repo, {"verb": ["Identify"]}, now=tuesday))
    assert first.findtext("o:responseDate", namespaces=NS) == "2026-03-02T08:00:00Z"
    assert second.findtext("o:responseDate", namespaces=NS) == "2026-03-03T08:00:00Z"
    assert ET.tostring(first.find("o:Identify", NS)) == ET.tostring(second.find("o:Identify", NS))


def test_a_cached_first_page_keeps_the_moment_its_list_was_fixed(settings):
    """A harvester's next incremental harvest starts from the first page's responseDate: the
    moment the list's end was read. Served again later, unchanged records and all, it still says
    that moment, never a later one (a change being committed meanwhile could fall between)."""
    repo = _repo()
    arguments = {"verb": ["ListIdentifiers"], "metadataPrefix": ["oai_dc"]}
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with schema_context("zhejiang"):
        first = ET.fromstring(oai.serve(repo, arguments))
        again = ET.fromstring(oai.serve(repo, arguments, now=later))
    fixed_at = first.findtext("o:responseDate", namespaces=NS)
    assert again.findtext("o:responseDate", namespaces=NS) == fixed_at != oai._stamp(later)


def test_malformed_requests_are_answered_without_a_query_or_an_entry(client, django_assert_num_queries):
    from django.core.cache import caches

    def oai_entries() -> int:
        return sum(1 for key in caches[oai.CACHE_ALIAS]._cache if ":oai:" in key)  # locmem in tests

    harvest(client, ZHEJIANG, verb="Identify")
    stored = oai_entries()
    assert stored == 1
    with django_assert_num_queries(0):  # not even the records version
        root = harvest(client, ZHEJIANG, verb="ListRecords", metadataPrefix="oai_dc", until="yesterday")
    assert error_of(root) == "badArgument"
    assert oai_entries() == stored
