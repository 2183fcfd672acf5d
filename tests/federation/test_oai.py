"""OAI-PMH 2.0 at /oai/ on every tenant host: the national catalogue and each site's own records."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from cms_pages import models as m
from federation import oai, services
from federation.models import Record

from .conftest import new_resource

pytestmark = pytest.mark.django_db

NATIONAL = "national.culture.localhost"
PORT = "8000"  # PLATFORM_PORT of the test settings: the port of every absolute URL written
ZHEJIANG = "zhejiang.culture.localhost"
SICHUAN = "sichuan.culture.localhost"
NS = {
    "o": oai.OAI_NS,
    "dc": oai.DC_NS,
    "oai_dc": oai.OAI_DC_NS,
    "c": oai.CULTURE_NS,
    "id": oai.OAI_ID_NS,
    "xsi": oai.XSI_NS,
}


def harvest(client, host: str, method: str = "get", **params) -> ET.Element:
    """One OAI-PMH request; the parsed answer (always HTTP 200 and XML, errors included)."""
    if method == "post":
        body = urlencode(params, doseq=True)
        response = client.post("/oai/", body, content_type="application/x-www-form-urlencoded", HTTP_HOST=host)
    else:
        response = client.get("/oai/", params, HTTP_HOST=host)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.content)
    assert root.tag == f"{{{oai.OAI_NS}}}OAI-PMH"
    assert root.get(f"{{{oai.XSI_NS}}}schemaLocation") == f"{oai.OAI_NS} {oai.OAI_SCHEMA}"
    return root


def error_of(root: ET.Element) -> str | None:
    error = root.find("o:error", NS)
    return error.get("code") if error is not None else None


def identifiers(root: ET.Element) -> list[str]:
    return [h.findtext("o:identifier", namespaces=NS) for h in root.iter(f"{{{oai.OAI_NS}}}header")]


def harvest_all(client, host: str, verb: str = "ListIdentifiers", **params) -> tuple[list[ET.Element], list[str]]:
    """Follows resumption tokens to the end; (pages, identifiers in order)."""
    params.setdefault("metadataPrefix", "oai_dc")
    pages = [harvest(client, host, verb=verb, **params)]
    while True:
        token = pages[-1].find(f"o:{verb}/o:resumptionToken", NS)
        if token is None or not token.text:
            break
        pages.append(harvest(client, host, verb=verb, resumptionToken=token.text))
    return pages, [i for page in pages for i in identifiers(page)]


def records_of(schema: str, **filters) -> list[Record]:
    with schema_context(schema):
        return list(Record.objects.filter(**filters).order_by("seq"))


def oai_id(host: str, record: Record) -> str:
    return f"oai:{host}:{record.catalogue_id}"


def pushed_resource(title: str = "越剧《梁山伯与祝英台》全本", **fields) -> m.ResourcePage:
    """A resource published in zhejiang and delivered to the national catalogue."""
    with schema_context("zhejiang"):
        page = new_resource(title, **fields)
        services.deliver_pending()
    return page


@pytest.fixture
def small_pages(settings):
    settings.OAI_PAGE_SIZE = 3
    return 3


# --- Identify, formats, sets ---------------------------------------------------------------------


def test_identify_describes_the_national_repository(client):
    root = harvest(client, NATIONAL, verb="Identify")
    request = root.find("o:request", NS)
    assert request.text == f"http://{NATIONAL}:{PORT}/oai/" and request.get("verb") == "Identify"
    body = root.find("o:Identify", NS)
    assert body.findtext("o:repositoryName", namespaces=NS) == "国家公共文化云"
    assert body.findtext("o:baseURL", namespaces=NS) == f"http://{NATIONAL}:{PORT}/oai/"
    assert body.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert body.findtext("o:adminEmail", namespaces=NS) == "contact@national.culture.localhost"  # its contact
    assert body.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert body.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    earliest = min(r.changed_at for r in records_of("national"))
    assert body.findtext("o:earliestDatestamp", namespaces=NS) == earliest.strftime("%Y-%m-%dT%H:%M:%SZ")
    scheme = body.find("o:description/id:oai-identifier", NS)
    assert scheme.findtext("id:repositoryIdentifier", namespaces=NS) == NATIONAL
    sample = scheme.findtext("id:sampleIdentifier", namespaces=NS)
    assert sample.startswith(f"oai:{NATIONAL}:urn:culture:")
    assert root.findtext("o:responseDate", namespaces=NS).endswith("Z")
    # the sample is a real item: GetRecord answers it
    found = harvest(client, NATIONAL, verb="GetRecord", identifier=sample, metadataPrefix="oai_dc")
    assert error_of(found) is None and identifiers(found) == [sample]


def test_identify_admin_email_is_the_sites_configured_contact(client):
    from tenants.services import set_contact_email

    set_contact_email("zhejiang", "oai-admin@zjlib.example.cn")
    body = harvest(client, ZHEJIANG, verb="Identify").find("o:Identify", NS)
    assert body.findtext("o:adminEmail", namespaces=NS) == "oai-admin@zjlib.example.cn"


def test_identify_on_a_province_names_the_province(client):
    body = harvest(client, ZHEJIANG, verb="Identify").find("o:Identify", NS)
    assert body.findtext("o:repositoryName", namespaces=NS) == "浙江文化云"
    assert body.findtext("o:baseURL", namespaces=NS) == f"http://{ZHEJIANG}:{PORT}/oai/"


def test_post_form_answers_like_get(client):
    by_get = harvest(client, NATIONAL, verb="ListMetadataFormats")
    by_post = harvest(client, NATIONAL, method="post", verb="ListMetadataFormats")
    assert ET.tostring(by_get.find("o:ListMetadataFormats", NS)) == ET.tostring(
        by_post.find("o:ListMetadataFormats", NS)
    )


def test_metadata_formats_dublin_core_and_the_rich_format(client):
    national = records_of("national")[0]
    for params in ({}, {"identifier": oai_id(NATIONAL, national)}):
        root = harvest(client, NATIONAL, verb="ListMetadataFormats", **params)
        formats = {
            f.findtext("o:metadataPrefix", namespaces=NS): (
                f.findtext("o:schema", namespaces=NS),
                f.findtext("o:metadataNamespace", namespaces=NS),
            )
            for f in root.iterfind("o:ListMetadataFormats/o:metadataFormat", NS)
        }
        assert formats == {
            "oai_dc": (oai.OAI_DC_SCHEMA, oai.OAI_DC_NS),
            "culture": (f"http://{NATIONAL}:{PORT}/oai/culture.xsd", oai.CULTURE_NS),
        }


def test_culture_schema_is_served_and_validates_a_record(client):
    from lxml import etree

    response = client.get("/oai/culture.xsd", HTTP_HOST=ZHEJIANG)
    assert response.status_code == 200 and response["Content-Type"] == "text/xml; charset=utf-8"
    schema = etree.XMLSchema(etree.fromstring(response.content))
    page = pushed_resource()
    record = records_of("national", uid=page.uid)[0]
    answer = client.get(
        "/oai/",
        {"verb": "GetRecord", "identifier": oai_id(NATIONAL, record), "metadataPrefix": "culture"},
        HTTP_HOST=NATIONAL,
    )
    rich = etree.fromstring(answer.content).find(f".//{{{oai.CULTURE_NS}}}record")
    assert schema.validate(rich), schema.error_log


def test_sets_by_type_origin_and_resource_category(client):
    def sets(host):
        root = harvest(client, host, verb="ListSets")
        return {
            s.findtext("o:setSpec", namespaces=NS): s.findtext("o:setName", namespaces=NS)
            for s in root.iter(f"{{{oai.OAI_NS}}}set")
        }

    national = sets(NATIONAL)
    assert national["type:resource"] == "数字资源" and national["type:activity"] == "活动"
    assert national["origin:330000"] == "浙江文化云（330000）"
    assert {"origin:510000", "origin:210000", "origin:210200", "origin:100000"} <= set(national)
    assert national["category:tradition"] == "中华优秀传统文化"
    zhejiang = sets(ZHEJIANG)
    assert [s for s in zhejiang if s.startswith("origin:")] == ["origin:330000"]


# --- Records ---------------------------------------------------------------------------------------


def test_national_lists_every_record_it_holds_zhejiang_only_its_own(client, settings):
    settings.OAI_PAGE_SIZE = 1000
    _, national = harvest_all(client, NATIONAL)
    assert national == [oai_id(NATIONAL, r) for r in records_of("national")]
    origins = {i.split(":")[4] for i in national}
    assert {"330000", "510000"} <= origins  # zhejiang's and sichuan's pushed records

    _, zhejiang = harvest_all(client, ZHEJIANG)
    own = records_of("zhejiang", is_local=True)
    assert zhejiang == [oai_id(ZHEJIANG, r) for r in own]
    assert all(i.startswith(f"oai:{ZHEJIANG}:urn:culture:330000:") for i in zhejiang)
    sichuan_ids = {r.catalogue_id for r in records_of("national", origin_code="510000")}  # pushed by sichuan
    assert sichuan_ids and not sichuan_ids & {i.removeprefix(f"oai:{ZHEJIANG}:") for i in zhejiang}
    assert sichuan_ids <= {i.removeprefix(f"oai:{NATIONAL}:") for i in national}


def test_pulled_copies_are_not_a_province_repository_items(client):
    # A copy of a sichuan resource pulled into zhejiang (as a subscription would make it).
    sichuan_item = records_of("national", origin_code="510000")[0]
    fields = ("uid", "catalogue_id", "origin_code", "origin_slug", "origin_name", "kind", "title", "envelope")
    with schema_context("zhejiang"):
        services.lock_records()
        Record.objects.create(
            **{name: getattr(sichuan_item, name) for name in fields},
            content_hash=sichuan_item.content_hash,
            origin_updated_at=sichuan_item.origin_updated_at,
            seq=services.next_seq(),
            is_local=False,
        )
    root = harvest(client, ZHEJIANG, verb="GetRecord", identifier=sichuan_item.catalogue_id, metadataPrefix="oai_dc")
    assert error_of(root) == "idDoesNotExist"
    root = harvest(client, ZHEJIANG, verb="ListIdentifiers", metadataPrefix="oai_dc", set="origin:510000")
    assert error_of(root) == "noRecordsMatch"
    root = harvest(client, SICHUAN, verb="GetRecord", identifier=sichuan_item.catalogue_id, metadataPrefix="oai_dc")
    assert error_of(root) is None


def test_get_record_in_dublin_core(client):
    page = pushed_resource(rights="CC BY-NC 4.0")
    record = records_of("national", uid=page.uid)[0]
    root = harvest(client, NATIONAL, verb="GetRecord", identifier=oai_id(NATIONAL, record), metadataPrefix="oai_dc")
    request = root.find("o:request", NS)
    assert request.get("identifier") == oai_id(NATIONAL, record) and request.get("metadataPrefix") == "oai_dc"
    header = root.find("o:GetRecord/o:record/o:header", NS)
    assert header.get("status") is None
    assert header.findtext("o:datestamp", namespaces=NS) == record.changed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [s.text for s in header.iterfind("o:setSpec", NS)] == [
        "type:resource",
        "origin:330000",
        "category:tradition",
    ]
    dc = root.find("o:GetRecord/o:record/o:metadata/oai_dc:dc", NS)

    def values(name):
        return [e.text for e in dc.iterfind(f"dc:{name}", NS)]

    assert values("title") == ["越剧《梁山伯与祝英台》全本"]
    assert values("creator") == ["浙江小百花越剧团"]
    assert values("subject") == ["越剧", "戏曲", "中华优秀传统文化"]
    assert values("description") == ["浙江小百花越剧团演出的经典剧目。"]
    assert values("publisher") == ["浙江文化云"]
    assert values("type") == ["MovingImage"]
    assert values("identifier")[:2] == [record.catalogue_id, record.canonical_url]
    assert record.canonical_url.startswith("http://zhejiang.culture.localhost")
    assert values("rights") == ["CC BY-NC 4.0", "来源：浙江文化云"]
    payload = record.envelope["payload"]
    assert values("language") == [payload["dc"].get("language") or payload["language"]]


def test_get_record_in_the_rich_format_carries_origin_resource_and_assets(client):
    page = pushed_resource()
    record = records_of("national", uid=page.uid)[0]
    # The bare catalogue identifier is accepted too.
    root = harvest(client, NATIONAL, verb="GetRecord", identifier=record.catalogue_id, metadataPrefix="culture")
    rich = root.find("o:GetRecord/o:record/o:metadata/c:record", NS)
    assert rich.findtext("c:catalogueId", namespaces=NS) == record.catalogue_id
    origin = rich.find("c:origin", NS)
    assert (origin.text, origin.get("code"), origin.get("slug")) == ("浙江文化云", "330000", "zhejiang")
    assert rich.find("c:kind", NS).text == "resource"
    assert rich.find("c:category", NS).get("code") == "tradition"
    assert rich.findtext("c:canonicalUrl", namespaces=NS) == record.canonical_url
    assert rich.findtext("c:attribution", namespaces=NS) == "来源：浙江文化云"
    assert rich.findtext("c:version", namespaces=NS) == "1"
    assert rich.findtext("c:resource/c:durationSeconds", namespaces=NS) == "7500"
    assert rich.findtext("c:resource/c:streamUrl", namespaces=NS) == "https://video.example.cn/yueju.m3u8"
    assert rich.findtext("c:dc/dc:creator", namespaces=NS) == "浙江小百花越剧团"


def test_rich_format_of_an_activity_has_its_dates_and_venue(client, settings):
    settings.OAI_PAGE_SIZE = 1000
    activity = records_of("national", kind="activity", status="live")[0]
    root = harvest(client, NATIONAL, verb="GetRecord", identifier=oai_id(NATIONAL, activity), metadataPrefix="culture")
    payload = activity.envelope["payload"]
    rich = root.find("o:GetRecord/o:record/o:metadata/c:record", NS)
    assert rich.findtext("c:activity/c:start", namespaces=NS) == payload["start"]
    assert rich.findtext("c:activity/c:end", namespaces=NS) == payload["end"]
    if payload.get("venue_name"):
        assert rich.findtext("c:activity/c:venueName", namespaces=NS) == payload["venue_name"]
    dc = harvest(client, NATIONAL, verb="GetRecord", identifier=oai_id(NATIONAL, activity), metadataPrefix="oai_dc")
    assert "Event" in [e.text for e in dc.iter(f"{{{oai.DC_NS}}}type")]


def test_withdrawn_and_deleted_items_are_headers_marked_deleted(client):
    withdrawn = pushed_resource("将撤回的资源")
    deleted = pushed_resource("将删除的资源")
    with schema_context("zhejiang"):
        m.ResourcePage.objects.get(pk=withdrawn.pk).unpublish()
        m.ResourcePage.objects.get(pk=deleted.pk).delete()
        services.deliver_pending()
    for host, schema in ((NATIONAL, "national"), (ZHEJIANG, "zhejiang")):
        for page, status in ((withdrawn, "unpublished"), (deleted, "deleted")):
            record = records_of(schema, uid=page.uid)[0]
            assert record.status == status
            root = harvest(client, host, verb="GetRecord", identifier=oai_id(host, record), metadataPrefix="oai_dc")
            item = root.find("o:GetRecord/o:record", NS)
            assert item.find("o:header", NS).get("status") == "deleted"
            assert item.find("o:metadata", NS) is None
    root = harvest(client, NATIONAL, verb="ListRecords", metadataPrefix="culture", set="type:resource")
    statuses = {
        h.findtext("o:identifier", namespaces=NS): h.get("status") for h in root.iter(f"{{{oai.OAI_NS}}}header")
    }
    tombstone = records_of("national", uid=deleted.uid)[0]
    assert statuses[oai_id(NATIONAL, tombstone)] == "deleted"


def test_sets_filter_the_lists(client, settings):
    settings.OAI_PAGE_SIZE = 1000
    page = pushed_resource()
    for spec, expected in (
        ("type:resource", lambda r: r.kind == "resource"),
        ("type:news", lambda r: r.kind == "news"),
        ("origin:510000", lambda r: r.origin_code == "510000"),
        ("category:tradition", lambda r: r.kind == "resource" and r.category == "tradition"),
        ("origin", lambda r: True),
    ):
        wanted = [oai_id(NATIONAL, r) for r in records_of("national") if expected(r)]
        if not wanted:
            continue
        _, got = harvest_all(client, NATIONAL, metadataPrefix="oai_dc", set=spec)
        assert got == wanted, spec
        for header in harvest(client, NATIONAL, verb="ListIdentifiers", metadataPrefix="oai_dc", set=spec).iter(
            f"{{{oai.OAI_NS}}}header"
        ):
            assert spec in [s.text for s in header.iterfind("o:setSpec", NS)] or ":" not in spec
    national_uid = records_of("national", uid=page.uid)[0].catalogue_id
    _, tradition = harvest_all(client, NATIONAL, metadataPrefix="oai_dc", set="category:tradition")
    assert f"oai:{NATIONAL}:{national_uid}" in tradition


# --- Datestamps ------------------------------------------------------------------------------------


@pytest.fixture
def dated(client):
    """Three zhejiang resources on the national site with known datestamps (and nothing older)."""
    pages = [pushed_resource(f"定时资源 {i}") for i in range(3)]
    stamps = [
        dt.datetime(2001, 5, 1, 8, 0, 0, 250000, tzinfo=dt.UTC),
        dt.datetime(2001, 5, 1, 9, 0, 0, 999999, tzinfo=dt.UTC),
        dt.datetime(2001, 5, 2, 0, 0, 0, tzinfo=dt.UTC),
    ]
    with schema_context("national"):
        for page, stamp in zip(pages, stamps, strict=True):
            Record.objects.filter(uid=page.uid).update(changed_at=stamp)
        return [oai_id(NATIONAL, Record.objects.get(uid=page.uid)) for page in pages]


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"from": "2001-05-01T08:00:00Z", "until": "2001-05-01T09:00:00Z"}, [0, 1]),  # both ends inclusive
        ({"from": "2001-05-01T08:00:01Z", "until": "2001-05-01T09:00:00Z"}, [1]),
        ({"from": "2001-05-01T08:00:00Z", "until": "2001-05-01T08:59:59Z"}, [0]),
        ({"from": "2001-05-01", "until": "2001-05-01"}, [0, 1]),  # until a day: to its end
        ({"until": "2001-05-02"}, [0, 1, 2]),
        ({"until": "2001-05-02T00:00:00Z"}, [0, 1, 2]),
        ({"from": "2001-05-02", "until": "2001-05-02T00:00:00Z"}, None),  # granularities differ
        ({"from": "2001-05-01T09:00:00Z", "until": "2001-05-01T08:00:00Z"}, None),  # from after until
    ],
)
def test_from_and_until_are_inclusive_at_seconds_granularity(client, dated, bounds, expected):
    root = harvest(client, NATIONAL, verb="ListIdentifiers", metadataPrefix="oai_dc", **bounds)
    if expected is None:
        assert error_of(root) == "badArgument"
        assert root.find("o:request", NS).attrib == {}
        return
    got = [i for i in identifiers(root) if i in dated]
    assert got == [dated[i] for i in expected]
    assert len(identifiers(root)) == len(expected)  # nothing else is that old


def test_identify_earliest_datestamp_follows_the_oldest_record(client, dated):
    body = harvest(client, NATIONAL, verb="Identify").find("o:Identify", NS)
    assert body.findtext("o:earliestDatestamp", namespaces=NS) == "2001-05-01T08:00:00Z"


# --- Paging --------------------------------------------------------------------------------------


def test_resumption_over_several_pages(client, small_pages):
    own = records_of("zhejiang", is_local=True)
    assert len(own) > 2 * small_pages
    pages, got = harvest_all(client, ZHEJIANG, verb="ListRecords", metadataPrefix="oai_dc")
    assert got == [oai_id(ZHEJIANG, r) for r in own]
    assert len(pages) == -(-len(own) // small_pages)
    tokens = [p.find("o:ListRecords/o:resumptionToken", NS) for p in pages]
    assert [int(t.get("cursor")) for t in tokens] == [i * small_pages for i in range(len(pages))]
    assert {int(t.get("completeListSize")) for t in tokens} == {len(own)}
    assert tokens[-1].text is None  # the last page: an empty token closes the list
    # A resumed page echoes only the token in its request element.
    second = pages[1].find("o:request", NS).attrib
    assert set(second) == {"verb", "resumptionToken"}


def test_resumption_token_through_post(client, small_pages):
    first = harvest(client, ZHEJIANG, method="post", verb="ListIdentifiers", metadataPrefix="culture")
    token = first.find("o:ListIdentifiers/o:resumptionToken", NS).text
    second = harvest(client, ZHEJIANG, method="post", verb="ListIdentifiers", resumptionToken=token)
    assert len(identifiers(second)) == small_pages
    assert not set(identifiers(first)) & set(identifiers(second))


def test_tampered_or_foreign_tokens_are_refused(client, small_pages):
    first = harvest(client, ZHEJIANG, verb="ListRecords", metadataPrefix="oai_dc")
    token = first.find("o:ListRecords/o:resumptionToken", NS).text
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    for host, verb, value in (
        (ZHEJIANG, "ListRecords", tampered),
        (ZHEJIANG, "ListRecords", "nonsense"),
        (ZHEJIANG, "ListIdentifiers", token),  # a token of another verb
        (SICHUAN, "ListRecords", token),  # another repository's token
        (ZHEJIANG, "ListSets", token),
    ):
        root = harvest(client, host, verb=verb, resumptionToken=value)
        assert error_of(root) == "badResumptionToken", (host, verb)


def test_changes_during_a_paged_harvest_are_neither_doubled_nor_lost(client, small_pages):
    own = records_of("zhejiang", is_local=True, status="live")
    assert len(own) > small_pages + 1
    first = harvest(client, ZHEJIANG, verb="ListIdentifiers", metadataPrefix="oai_dc")
    started = first.findtext("o:responseDate", namespaces=NS)
    delivered = identifiers(first)
    already, not_yet = own[0], own[-1]  # delivered on the first page / not yet delivered
    assert oai_id(ZHEJIANG, already) in delivered and oai_id(ZHEJIANG, not_yet) not in delivered

    with schema_context("zhejiang"):
        for record in (already, not_yet):
            page = record.page.specific
            page.title += "（修订）"
            page.save_revision().publish()
        added = new_resource("收割期间新发布的资源")
        changed = {r.uid: r for r in Record.objects.filter(uid__in=[already.uid, not_yet.uid, added.uid])}
    assert all(r.seq > max(x.seq for x in own) for r in changed.values())

    token = first.find("o:ListIdentifiers/o:resumptionToken", NS).text
    rest = [first]
    while token:
        rest.append(harvest(client, ZHEJIANG, verb="ListIdentifiers", resumptionToken=token))
        token = rest[-1].findtext("o:ListIdentifiers/o:resumptionToken", namespaces=NS)
    listed = [i for page in rest for i in identifiers(page)]
    assert len(listed) == len(set(listed))  # no item twice in one list
    assert oai_id(ZHEJIANG, not_yet) not in listed  # it moved past the list's end ...

    # ... and the next incremental harvest, from the first page's responseDate, gets every change.
    _, incremental = harvest_all(client, ZHEJIANG, metadataPrefix="oai_dc", **{"from": started})
    assert {oai_id(ZHEJIANG, r) for r in changed.values()} <= set(incremental)


def test_list_records_page_costs_a_fixed_number_of_queries(client, settings):
    settings.OAI_CACHE_SECONDS = 0  # the answer as made; served again from the cache: test_oai_cache.py

    def queries(page_size):
        settings.OAI_PAGE_SIZE = page_size
        with CaptureQueriesContext(connection) as first:
            root = harvest(client, NATIONAL, verb="ListRecords", metadataPrefix="culture")
        token = root.findtext("o:ListRecords/o:resumptionToken", namespaces=NS)
        with CaptureQueriesContext(connection) as resumed:
            root = harvest(client, NATIONAL, verb="ListRecords", resumptionToken=token)
        assert len(identifiers(root)) == min(page_size, len(records_of("national")) - page_size)
        return len(first), len(resumed)

    assert len(records_of("national")) > 20
    harvest(client, NATIONAL, verb="Identify")  # the host → tenant lookup is cached from now on
    small, large = queries(10), queries(100) if len(records_of("national")) > 100 else queries(20)
    assert small == large
    # First page: search_path, savepoint, records lock, high-water mark + size, release, the page.
    # A resumed page: search_path and the page.
    assert small == (6, 2)


# --- Errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "ListEverything"}, "badVerb"),
        ({"verb": ["Identify", "ListSets"]}, "badVerb"),
        ({"verb": "Identify", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": ["oai_dc", "culture"]}, "badArgument"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-02-30"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2026-01-01T10:00:00+08:00"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "colour:red"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "metadataPrefix": "marc21", "identifier": "oai:x:1"}, "cannotDisseminateFormat"),
        # empty or malformed arguments are badArgument, never a full list or "no such thing"
        ({"verb": "ListRecords", "metadataPrefix": ""}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai dc"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": ""}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": ""}, "badArgument"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": ""}, "badArgument"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "origin:330000:"}, "badArgument"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "type:新闻"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-1-1"}, "badArgument"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": ""}, "badArgument"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "not an identifier"}, "badArgument"),
        ({"verb": "GetRecord", "metadataPrefix": "", "identifier": "oai:x:1"}, "badArgument"),
        ({"verb": "ListMetadataFormats", "identifier": ""}, "badArgument"),
        ({"verb": "ListMetadataFormats", "identifier": "x"}, "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": ""}, "badArgument"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:elsewhere:1"}, "idDoesNotExist"),
        (
            {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "urn:culture:330000:news:0"},
            "idDoesNotExist",
        ),
        ({"verb": "ListMetadataFormats", "identifier": "urn:culture:1"}, "idDoesNotExist"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2999-01-01"}, "noRecordsMatch"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "origin:999999"}, "noRecordsMatch"),
        ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
    ],
)
def test_errors_per_the_protocol(client, params, code):
    root = harvest(client, NATIONAL, **params)
    assert error_of(root) == code
    message = root.findtext("o:error", namespaces=NS)
    assert message and ":" in message  # names the argument
    request = root.find("o:request", NS)
    if code in ("badVerb", "badArgument"):
        assert request.attrib == {}  # the spec: no echo of arguments that are not valid
    else:
        assert request.get("verb") == params["verb"]
    for verb in oai.VERBS:
        assert root.find(f"o:{verb}", NS) is None


def test_post_must_be_form_encoded(client):
    response = client.post("/oai/", "verb=Identify", content_type="text/plain", HTTP_HOST=NATIONAL)
    root = ET.fromstring(response.content)
    assert response.status_code == 200 and error_of(root) == "badArgument"
    assert "application/x-www-form-urlencoded" in root.findtext("o:error", namespaces=NS)


def test_control_characters_never_break_the_xml(client):
    page = pushed_resource("含控制字符\x0b的标题")
    record = records_of("national", uid=page.uid)[0]
    root = harvest(client, NATIONAL, verb="GetRecord", identifier=oai_id(NATIONAL, record), metadataPrefix="oai_dc")
    assert root.findtext(".//dc:title", namespaces=NS) == "含控制字符的标题"


def test_the_official_schemas_catch_an_answer_that_breaks_them(client):
    """The schema check every OAI answer of the suite goes through (tests/conftest.py) can fail."""
    from tests.oai_schema import validate

    good = client.get("/oai/", {"verb": "Identify"}, HTTP_HOST=NATIONAL).content
    validate(good)
    for broken in (
        good.replace(b"<protocolVersion>2.0<", b"<protocolVersion>2.1<"),
        good.replace(b'verb="Identify"', b'verb="Identify" metadataPrefix="oai dc"'),
        good.replace(b"<adminEmail>contact@national.culture.localhost<", b"<adminEmail>nobody<"),
        good.replace(b"<oai-identifier:scheme>oai<", b"<oai-identifier:scheme>OAI<"),
    ):
        assert broken != good
        with pytest.raises(AssertionError, match="does not validate"):
            validate(broken)
    record = records_of("national", status=Record.Status.LIVE)[0]
    answer = client.get(
        "/oai/",
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": oai_id(NATIONAL, record)},
        HTTP_HOST=NATIONAL,
    ).content
    validate(answer)
    with pytest.raises(AssertionError, match="does not validate"):
        validate(answer.replace(b"<dc:title>", b"<dc:heading>").replace(b"</dc:title>", b"</dc:heading>"))
