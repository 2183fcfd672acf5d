"""The federation inbox and pull trust nothing they receive: URLs must be http(s) and on the
origin's registered address, files come only from the sender's registered address (never a private
one unless the deployment allows it), HTML is sanitised before it is stored, and malformed input
gets a 4xx per item or per request — never a 500."""

from __future__ import annotations

import copy
import json
import uuid

import pytest
from django_tenants.utils import schema_context

from cms_pages import models as m
from federation import envelope as env
from federation import media, pull, signing
from federation.models import Peer, Record, Subscription

from .conftest import national_record, new_resource
from .test_media import asset_for, png_bytes
from .test_signing import INBOX, NATIONAL, _body, _envelope, _key, _post

pytestmark = pytest.mark.django_db


def push(client, *envelopes, key=None) -> list[dict]:
    key_id, secret = key or _key()
    body = _body(*envelopes)
    answer = _post(client, body, signing.sign("POST", INBOX, body, key_id, secret))
    assert answer.status_code == 200, answer.content
    return answer.json()["results"]


def with_uid(envelope: dict, **changes) -> dict:
    """A copy of `envelope` as a new item (its own uid), with `changes`."""
    changed = copy.deepcopy(envelope) | {"uid": str(uuid.uuid4())}
    for path, value in changes.items():
        target = changed
        *parents, last = path.split(".")
        for name in parents:
            target = target[int(name)] if name.isdigit() else target[name]
        target[int(last) if last.isdigit() else last] = value
    return changed


# --- 1. every URL http(s) and on the origin's registered address --------------------------------


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("canonical_url", "javascript:alert(document.cookie)", "canonical_url"),
        ("canonical_url", "https://evil.example/phish/", "canonical_url"),
        ("origin.base_url", "http://evil.example", "origin.base_url"),
        (
            "assets",
            [{"role": "cover_image", "sha256": "a" * 64, "url": "http://169.254.169.254/x.png"}],
            "assets[0].url",
        ),
        ("payload.stream_url", "javascript:alert(1)", "payload.stream_url"),
        ("payload.body", [{"type": "call_to_action", "value": {"url": "javascript:alert(1)"}}], "payload.body[0]"),
    ],
    ids=["javascript-canonical", "foreign-canonical", "foreign-origin", "foreign-asset", "javascript-stream", "cta"],
)
def test_an_envelope_with_a_bad_url_is_refused_and_its_batch_neighbours_land(client, path, value, field):
    good = _envelope()
    bad = with_uid(good, **{path: value})
    results = push(client, bad, good)
    assert results[0]["outcome"] == "rejected" and field in results[0]["message"]
    assert results[1]["outcome"] == "accepted"
    assert national_record(bad["uid"]) is None


def test_a_site_of_another_deployment_is_held_to_the_address_registered_with_its_key(client):
    from federation import services

    good = _envelope()
    with schema_context("national"):
        key_id, secret = services.issue_inbound_key(
            origin_code="330000", origin_slug="zj-remote", origin_name="浙江文化云", origin_url="https://zj.example.cn"
        )
    # Its envelopes name zhejiang.culture.localhost: not the address registered for this key.
    results = push(client, with_uid(good), key=(key_id, secret))
    assert results[0]["outcome"] == "rejected" and "registered" in results[0]["message"]
    moved = with_uid(
        good, canonical_url="https://zj.example.cn/resources/x/", **{"origin.base_url": "https://zj.example.cn"}
    )
    moved["assets"] = []
    assert push(client, moved, key=(key_id, secret))[0]["outcome"] == "accepted"


# --- 3. HTML sanitised before it is stored --------------------------------------------------------


def test_html_from_another_node_is_sanitised_before_it_is_stored(client):
    envelope = with_uid(_envelope())
    envelope["payload"]["body"] = [
        {
            "type": "paragraph",
            "value": '<p onclick="steal()">越剧<script>alert(1)</script><a href="javascript:alert(2)">看</a>'
            '<a href="https://www.example.cn/">链接</a><iframe src="https://evil.example"></iframe>'
            '<img src=x onerror="alert(3)"></p>',
        }
    ]
    assert push(client, envelope)[0]["outcome"] == "accepted"
    stored = national_record(envelope["uid"]).envelope["payload"]["body"][0]["value"]
    for bad in ("<script", "onclick", "javascript:", "<iframe", "onerror", "<img"):
        assert bad not in stored
    assert "越剧" in stored and 'href="https://www.example.cn/"' in stored


def test_a_pulled_copy_never_carries_script_or_javascript_links(zhejiang, client):
    with schema_context("national"):
        page = new_resource("国家资源·脚本测试", push=False)
        record = Record.objects.get(uid=page.uid)
        # What a compromised national node could have stored before this check existed.
        record.envelope["payload"]["body"] = [
            {"type": "paragraph", "value": '<p>正文<script>alert(1)</script><a href="javascript:x()">点</a></p>'}
        ]
        Record.objects.filter(pk=record.pk).update(envelope=record.envelope)
    subscription = pull.subscribe(
        peer=Peer.objects.get(is_uplink=True),
        set_spec="national-resources",
        parent_page=m.ResourceIndexPage.objects.get(),
        auto_publish=True,
    )
    pull.sync_subscription(subscription)
    copy_page = m.ResourcePage.objects.get(uid=page.uid)
    html = client.get(copy_page.url, HTTP_HOST="zhejiang.culture.localhost").content.decode()
    assert "正文" in html and "alert(1)" not in html and "javascript:" not in html


def test_a_pulled_item_with_a_javascript_canonical_url_is_not_imported(zhejiang):
    with schema_context("national"):
        page = new_resource("国家资源·伪造链接", push=False)
        record = Record.objects.get(uid=page.uid)
        record.envelope["canonical_url"] = "javascript:alert(1)"
        Record.objects.filter(pk=record.pk).update(envelope=record.envelope)
    subscription = pull.subscribe(
        peer=Peer.objects.get(is_uplink=True),
        set_spec="national-resources",
        parent_page=m.ResourceIndexPage.objects.get(),
        auto_publish=True,
    )
    counts = pull.sync_subscription(subscription)
    assert counts["failed"] >= 1
    assert not m.ResourcePage.objects.filter(uid=page.uid).exists()
    assert "canonical_url" in Record.objects.get(uid=page.uid).sync_message


# --- 2. files only from the registered address, never a private one unless allowed ---------------


def test_files_are_not_fetched_from_a_private_address_unless_the_deployment_allows_it(zhejiang, settings, tmp_path):
    from .test_media import FileNode

    settings.MEDIA_ROOT = tmp_path
    settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES = False
    node = FileNode()
    try:
        data = png_bytes()
        node.answer(200, data)
        peer = Peer(name="外部节点", base_url=node.url, key_id="k", is_uplink=False)
        peer.secret = "s"
        peer.save()
        with pytest.raises(media.MediaError, match="private"):
            media.fetch_asset(asset_for(data, node.url), peer=peer)
        assert node.requests == []  # not even asked

        settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES = True
        assert media.fetch_asset(asset_for(data, node.url), peer=peer).image_id
    finally:
        node.server.shutdown()


def test_a_file_is_fetched_only_from_the_senders_registered_address(zhejiang, settings):
    settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES = True
    peer = Peer(name="外部节点", base_url="http://127.0.0.1:9", key_id="k", is_uplink=False)
    with pytest.raises(media.MediaError, match="assets.url"):
        media.fetch_asset(asset_for(b"x", "http://10.0.0.1"), peer=peer)


# --- 4. malformed input: 4xx per item or per request, never a 500 --------------------------------


@pytest.mark.parametrize(
    "item",
    [
        "not an object",
        42,
        None,
        ["a", "list"],
        {"format": "culture-cloud/1", "uid": "x"},
    ],
    ids=["string", "number", "null", "list", "half"],
)
def test_a_non_object_or_incomplete_envelope_is_rejected_per_item(client, item):
    results = push(client, item, _envelope())
    assert results[0]["outcome"] == "rejected"
    assert results[1]["outcome"] == "accepted"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("version", 2**40, "version"),
        ("version", 10**30, "version"),
        ("payload.duration_seconds", 10**18, "payload.duration_seconds"),
        ("updated_at", "9999-12-31T23:59:59+00:00", "updated_at"),
        ("updated_at", "0001-01-01T00:00:00+14:00", "updated_at"),
        ("published_at", "0001-01-01T00:00:00-12:00", "published_at"),
        ("payload.title", "标题\x00", "payload.title"),
        ("origin.slug", 123, "origin.slug"),
        ("payload.dc", {"date": "99999-01-01"}, "payload.dc.date"),
    ],
)
def test_out_of_range_values_are_rejected_per_item(client, path, value, field):
    bad = with_uid(_envelope(), **{path: value})
    results = push(client, bad, _envelope())
    assert results[0]["outcome"] == "rejected" and field in results[0]["message"]
    assert results[1]["outcome"] == "accepted"


def test_deep_nesting_inside_an_envelope_is_rejected_per_item(client):
    nested: object = "底"
    for _ in range(60):
        nested = {"x": nested}
    bad = with_uid(_envelope(), **{"payload.extra": nested})
    results = push(client, bad, _envelope())
    assert results[0]["outcome"] == "rejected" and "nested" in results[0]["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 200_000 + b"]" * 200_000, "bad_json"),
        (b'{"envelopes": [{"version": NaN}]}', "bad_json"),
        (b'{"envelopes": [{"version": Infinity}]}', "bad_json"),
        (b"\xff\xfe not json", "bad_json"),
        (b'"just a string"', "bad_request"),
        (b'{"envelopes": {"not": "a list"}}', "bad_request"),
    ],
    ids=["deep", "nan", "infinity", "binary", "string", "object"],
)
def test_a_malformed_request_is_a_400(client, body, code):
    key_id, secret = _key()
    answer = _post(client, body, signing.sign("POST", INBOX, body, key_id, secret))
    assert answer.status_code == 400 and answer.json()["code"] == code


def test_a_bad_content_length_or_timestamp_is_a_4xx(client):
    key_id, secret = _key()
    body = _body()
    headers = signing.sign("POST", INBOX, body, key_id, secret)
    answer = _post(client, body, headers | {"X-Culture-Timestamp": "9" * 5000})
    assert answer.status_code == 401 and answer.json()["code"] == "bad_timestamp"
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    answer = client.generic(
        "POST", INBOX, body, content_type="application/json", HTTP_HOST=NATIONAL, CONTENT_LENGTH="12abc", **extra
    )
    assert answer.status_code == 400


def test_the_documented_body_limit_is_the_one_enforced(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024  # Django's own limit must not be what decides
    settings.FEDERATION_MAX_BODY_BYTES = 64 * 1024
    key_id, secret = _key()
    envelope = _envelope()
    envelope["payload"]["summary"] = "摘要" * 5000  # ~30 KB: over Django's limit, under ours
    body = _body(envelope)
    assert 1024 < len(body) < 64 * 1024
    answer = _post(client, body, signing.sign("POST", INBOX, body, key_id, secret))
    assert answer.status_code == 200 and answer.json()["results"][0]["outcome"] == "accepted"

    envelope = with_uid(envelope)
    envelope["payload"]["summary"] = "摘要" * 20000  # ~120 KB: over ours
    body = _body(envelope)
    answer = _post(client, body, signing.sign("POST", INBOX, body, key_id, secret))
    assert answer.status_code == 413 and answer.json()["code"] == "too_large"


def test_feed_cursor_out_of_range_is_a_400(client):
    from federation.transport import LoopbackTransport, TransportError

    with schema_context("zhejiang"):
        peer = Peer.objects.get(is_uplink=True)
    with pytest.raises(TransportError) as raised:
        LoopbackTransport(peer).request("GET", f"/federation/feed/?set=national-resources&after={10**20}")
    assert raised.value.status == 400


def test_a_feed_item_with_an_out_of_range_seq_is_a_bad_answer_not_a_crash(zhejiang):
    with pytest.raises(pull._BadFeed):
        pull._feed_items({"items": [{"seq": 2**70}]}, 0)


def test_validate_names_the_field_for_json_that_python_accepts_but_postgres_refuses():
    envelope = {"format": env.FORMAT, "uid": str(uuid.uuid4()), "payload": {"title": "\x00"}}
    with pytest.raises(env.EnvelopeError, match="NUL"):
        env.validate(envelope)
    assert json.dumps(envelope)  # plain JSON: only the database would have refused it (a 500 before)


def test_subscriptions_still_import_clean_items(zhejiang):
    """The checks let what a well-behaved national node sends through unchanged."""
    subscription = pull.subscribe(
        peer=Peer.objects.get(is_uplink=True),
        set_spec="national-resources",
        parent_page=m.ResourceIndexPage.objects.get(),
        auto_publish=True,
    )
    counts = pull.sync_subscription(subscription)
    assert counts["created"] >= 1 and counts["failed"] == 0
    assert Subscription.objects.get(pk=subscription.pk).last_error == ""


def test_a_key_of_another_site_is_told_the_origin_does_not_match_before_any_url_check(client):
    key = _key(origin_code="510000", slug="sichuan", name="四川文化云")
    result = push(client, _envelope(), key=key)[0]
    assert result["outcome"] == "rejected" and "origin.code does not match" in result["message"]
