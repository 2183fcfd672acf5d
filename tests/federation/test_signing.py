"""Never forged: signatures, clock skew, replayed nonces, unknown, expired and foreign keys.

Requests go through the real HTTP endpoint on the national host (Django's test client), signed
with the headers a peer sends; each refused request changes nothing in the catalogue.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from federation import services, signing
from federation.models import InboundKey, OutboxEntry, Record

from .conftest import national_record, new_resource

pytestmark = pytest.mark.django_db

NATIONAL = "national.culture.localhost"
INBOX = "/federation/inbox/"


def _key(origin_code="330000", slug="zhejiang", name="浙江文化云"):
    with schema_context("national"):
        return services.issue_inbound_key(origin_code=origin_code, origin_slug=slug, origin_name=name)


def _envelope(origin_code="330000", **overrides):
    with schema_context("zhejiang"):
        page = new_resource(f"签名测试 {uuid.uuid4().hex[:6]}")
        envelope = OutboxEntry.objects.get(record__uid=page.uid).envelope
    envelope = {**envelope, "origin": {**envelope["origin"], "code": origin_code}, **overrides}
    return envelope


def _post(client, body: bytes, headers: dict, path=INBOX):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.generic("POST", path, body, content_type="application/json", HTTP_HOST=NATIONAL, **extra)


def _body(*envelopes) -> bytes:
    return json.dumps({"envelopes": list(envelopes)}, ensure_ascii=False).encode()


def test_signed_push_over_http_is_accepted(client):
    key_id, secret = _key()
    envelope = _envelope()
    body = _body(envelope)
    answer = _post(client, body, signing.sign("POST", INBOX, body, key_id, secret))
    assert answer.status_code == 200
    assert answer.json()["results"][0]["outcome"] == "accepted"
    assert national_record(envelope["uid"]).catalogue_id == envelope["catalogue_id"]


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("signature", "bad_signature"),
        ("body", "bad_digest"),
        ("path", "bad_signature"),
        ("old_timestamp", "stale_timestamp"),
        ("future_timestamp", "stale_timestamp"),
        ("unknown_key", "unknown_key"),
        ("missing_header", "missing_header"),
    ],
)
def test_forged_or_stale_requests_are_refused_and_change_nothing(client, tamper, code):
    key_id, secret = _key()
    envelope = _envelope()
    body = _body(envelope)
    now = None
    if tamper == "old_timestamp":
        now = time.time() - 3600
    elif tamper == "future_timestamp":
        now = time.time() + 3600
    headers = signing.sign("POST", "/elsewhere/" if tamper == "path" else INBOX, body, key_id, secret, now=now)
    if tamper == "signature":
        headers[signing.SIGNATURE] = signing.signature("not-the-secret", b"whatever")
    elif tamper == "body":
        body = _body({**envelope, "version": 99})
    elif tamper == "unknown_key":
        headers[signing.KEY_ID] = "nobody-123"
    elif tamper == "missing_header":
        del headers[signing.NONCE]
    answer = _post(client, body, headers)
    assert answer.status_code == 401
    assert answer.json()["code"] == code
    assert national_record(envelope["uid"]) is None


def test_replayed_request_is_refused(client):
    key_id, secret = _key()
    envelope = _envelope()
    body = _body(envelope)
    headers = signing.sign("POST", INBOX, body, key_id, secret)
    assert _post(client, body, headers).status_code == 200
    with schema_context("national"):
        Record.objects.filter(uid=envelope["uid"]).delete()  # so a replay would be visible
    replay = _post(client, body, headers)
    assert replay.status_code == 401 and replay.json()["code"] == "replayed_nonce"
    assert national_record(envelope["uid"]) is None


def test_one_sites_key_cannot_push_for_another_site(client):
    sichuan_key, sichuan_secret = _key("510000", "sichuan", "四川文化云")
    envelope = _envelope()  # origin 330000 (zhejiang)
    body = _body(envelope)
    answer = _post(client, body, signing.sign("POST", INBOX, body, sichuan_key, sichuan_secret))
    result = answer.json()["results"][0]
    assert result["outcome"] == "rejected" and "origin" in result["message"]
    assert national_record(envelope["uid"]) is None


def test_a_site_cannot_overwrite_another_sites_item_by_reusing_its_uid(client):
    zhejiang_key, zhejiang_secret = _key()
    envelope = _envelope()
    body = _body(envelope)
    _post(client, body, signing.sign("POST", INBOX, body, zhejiang_key, zhejiang_secret))
    sichuan_key, sichuan_secret = _key("510000", "sichuan", "四川文化云")
    hijack = {**envelope, "version": 9, "origin": {**envelope["origin"], "code": "510000"}}
    hijack["payload"] = {**hijack["payload"], "title": "被冒用的标题"}
    body = _body(hijack)
    result = _post(client, body, signing.sign("POST", INBOX, body, sichuan_key, sichuan_secret)).json()["results"][0]
    assert result["outcome"] == "rejected"
    assert national_record(envelope["uid"]).title == envelope["payload"]["title"]


def test_rotated_key_works_during_grace_then_stops(client):
    from tenants.models import CultureSite

    zhejiang = CultureSite.objects.get(schema_name="zhejiang")
    with schema_context("zhejiang"):
        old_key_id, old_secret = services.uplink().key_id, services.uplink().secret
    new_key_id = services.rotate_key(zhejiang)
    assert new_key_id != old_key_id
    with schema_context("zhejiang"):
        assert services.uplink().key_id == new_key_id
        page = new_resource("轮换密钥后推送")
        assert services.deliver_pending()["delivered"] == 1  # signed with the new key
    assert national_record(page.uid) is not None

    envelope = _envelope()
    body = _body(envelope)
    assert _post(client, body, signing.sign("POST", INBOX, body, old_key_id, old_secret)).status_code == 200
    with schema_context("national"):
        InboundKey.objects.filter(key_id=old_key_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    envelope = _envelope()
    body = _body(envelope)
    answer = _post(client, body, signing.sign("POST", INBOX, body, old_key_id, old_secret))
    assert answer.status_code == 401 and answer.json()["code"] == "key_expired"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": 0}, "version"),
        ({"version": "2"}, "version"),
        ({"status": "published"}, "status"),
        ({"uid": "not-a-uuid"}, "uid"),
        ({"kind": "spaceship"}, "kind"),
        ({"format": "other/9"}, "format"),
        ({"updated_at": "yesterday"}, "updated_at"),
    ],
)
def test_malformed_envelopes_are_rejected_by_name(client, change, field):
    key_id, secret = _key()
    envelope = _envelope() | change
    body = _body(envelope)
    result = _post(client, body, signing.sign("POST", INBOX, body, key_id, secret)).json()["results"][0]
    assert result["outcome"] == "rejected"
    assert result["message"].startswith(field)
    with schema_context("national"):
        assert not Record.objects.filter(title__startswith="签名测试").exists()


def test_bad_json_and_oversized_batches_get_clear_errors(client):
    key_id, secret = _key()
    body = b"{not json"
    answer = _post(client, body, signing.sign("POST", INBOX, body, key_id, secret))
    assert answer.status_code == 400 and answer.json()["code"] == "bad_json"
    body = json.dumps({"envelopes": [{}] * 501}).encode()
    answer = _post(client, body, signing.sign("POST", INBOX, body, key_id, secret))
    assert answer.status_code == 413


def test_feed_needs_a_signature_and_a_known_set(client):
    answer = client.get("/federation/feed/?set=national-resources", HTTP_HOST=NATIONAL)
    assert answer.status_code == 401
    key_id, secret = _key()
    path = "/federation/feed/?set=everything&after=0"
    extra = {
        f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signing.sign("GET", path, b"", key_id, secret).items()
    }
    answer = client.get(path, HTTP_HOST=NATIONAL, **extra)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_set"
