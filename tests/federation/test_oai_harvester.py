"""An independent harvester (Sickle, from PyPI) harvests the national catalogue over real HTTP.

The server is daphne in a subprocess (tests/live_server.py) on the session's test database, with
a small OAI page size so every list is split into several pages joined by resumption tokens.
It sees committed data only: the demo world, where every province and city pushed its resources
and activities to the national site.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from sickle import Sickle
from sickle.oaiexceptions import IdDoesNotExist

from federation.models import Record
from tests.live_server import daphne_server, live_server_env  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

PAGE_SIZE = 7
NATIONAL = "national.culture.localhost"
ZHEJIANG = "zhejiang.culture.localhost"


@pytest.fixture(scope="module")
def live_server_env():  # noqa: F811 (overrides the imported default)
    return {"CULTURE_OAI_PAGE_SIZE": str(PAGE_SIZE)}


def harvester(server, host: str, **options) -> Sickle:
    # Sickle hands extra keyword arguments to requests: the Host header names the tenant.
    return Sickle(server.url("/oai/"), headers=server.headers(host), timeout=30, max_retries=0, **options)


def catalogue(schema: str = "national", **filters) -> dict[str, Record]:
    with schema_context(schema):
        return {r.catalogue_id: r for r in Record.objects.filter(**filters)}


def oai_id(repository: str, catalogue_id: str) -> str:
    return f"oai:{repository}:{catalogue_id}"


def test_identify(daphne_server):  # noqa: F811
    identify = harvester(daphne_server, NATIONAL).Identify()
    assert identify.repositoryName == "国家公共文化云"
    assert identify.baseURL == f"http://{NATIONAL}:{daphne_server.port}/oai/"
    assert identify.protocolVersion == "2.0"
    assert identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"


def test_list_records_in_dublin_core_sees_every_live_record_across_pages(daphne_server):  # noqa: F811
    live = catalogue(status="live")
    assert len(live) > 2 * PAGE_SIZE  # the harvest has to follow resumption tokens
    records = list(harvester(daphne_server, NATIONAL).ListRecords(metadataPrefix="oai_dc", ignore_deleted=True))
    harvested = {r.header.identifier: r for r in records}
    assert len(harvested) == len(records)  # no item twice
    assert set(harvested) == {oai_id(NATIONAL, cid) for cid in live}
    for catalogue_id, record in live.items():
        metadata = harvested[oai_id(NATIONAL, catalogue_id)].metadata
        assert metadata["title"] == [record.title]
        assert catalogue_id in metadata["identifier"]
        assert record.origin_name in metadata["publisher"] or record.is_local


def test_list_records_in_the_rich_format_with_post(daphne_server):  # noqa: F811
    live = catalogue(status="live")
    sickle = harvester(daphne_server, NATIONAL, http_method="POST")
    records = list(sickle.ListRecords(metadataPrefix="culture", ignore_deleted=True))
    assert len(records) == len(live)
    for item in records:
        catalogue_id = item.header.identifier.removeprefix(f"oai:{NATIONAL}:")
        metadata = item.metadata  # Sickle flattens the culture record into element name → values
        assert metadata["catalogueId"] == [catalogue_id]
        assert metadata["origin"] == [live[catalogue_id].origin_name]
        assert metadata["kind"] == [live[catalogue_id].kind]
        if live[catalogue_id].kind == "resource":
            assert "resourceKind" in metadata
        if live[catalogue_id].kind == "activity":
            assert "start" in metadata


def test_list_identifiers_and_sets(daphne_server):  # noqa: F811
    everything = catalogue()
    sickle = harvester(daphne_server, NATIONAL)
    headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc"))
    assert sorted(h.identifier for h in headers) == sorted(oai_id(NATIONAL, cid) for cid in everything)
    for header in headers:
        record = everything[header.identifier.removeprefix(f"oai:{NATIONAL}:")]
        assert header.deleted == (record.status != "live")
        assert f"type:{record.kind}" in header.setSpecs and f"origin:{record.origin_code}" in header.setSpecs

    specs = {s.setSpec: s.setName for s in sickle.ListSets()}
    assert {f"origin:{r.origin_code}" for r in everything.values()} <= set(specs)
    assert specs["type:resource"] == "数字资源"

    sichuan = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="origin:510000"))
    expected = {oai_id(NATIONAL, cid) for cid, r in everything.items() if r.origin_code == "510000"}
    assert expected and {h.identifier for h in sichuan} == expected


def test_get_record_and_the_province_repository(daphne_server):  # noqa: F811
    resource = next(r for r in catalogue(status="live", kind="resource").values() if r.origin_code == "330000")
    national = harvester(daphne_server, NATIONAL)
    record = national.GetRecord(identifier=oai_id(NATIONAL, resource.catalogue_id), metadataPrefix="oai_dc")
    assert record.metadata["title"] == [resource.title]
    assert record.header.datestamp == resource.changed_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    zhejiang = harvester(daphne_server, ZHEJIANG)
    own = catalogue("zhejiang", is_local=True)
    assert {h.identifier for h in zhejiang.ListIdentifiers(metadataPrefix="oai_dc")} == {
        oai_id(ZHEJIANG, cid) for cid in own
    }
    sichuan_item = next(r for r in catalogue().values() if r.origin_code == "510000")
    with pytest.raises(IdDoesNotExist):
        zhejiang.GetRecord(identifier=sichuan_item.catalogue_id, metadataPrefix="oai_dc")
