"""The demo world's live streams and campaign: playable, with comments, entries and votes."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tests.websocket_helpers import ZHEJIANG

pytestmark = pytest.mark.django_db


def test_zhejiang_has_a_stream_live_now_that_plays_from_its_own_media(client):
    from cms_pages.models import LiveStreamPage
    from live.models import LiveComment

    with schema_context("zhejiang"):
        live = LiveStreamPage.objects.get(slug="live-now")
        replay = LiveStreamPage.objects.get(slug="live-replay")
        assert live.status == "live" and live.comments_open()
        assert replay.status == "ended" and replay.replay_url == live.stream_url
        assert LiveComment.objects.filter(page=live).count() >= 3
    assert live.stream_url == "/media/zhejiang/live/demo/index.m3u8"
    connection.set_schema_to_public()
    playlist = client.get(live.stream_url, HTTP_HOST=ZHEJIANG)
    assert playlist.status_code == 200
    text = b"".join(playlist.streaming_content).decode() if playlist.streaming else playlist.content.decode()
    assert text.startswith("#EXTM3U") and '#EXT-X-MAP:URI="init.mp4"' in text and "#EXT-X-ENDLIST" in text
    segment = client.get("/media/zhejiang/live/demo/seg000.m4s", HTTP_HOST=ZHEJIANG)
    assert segment.status_code == 200
    html = client.get("/live-now/", HTTP_HOST=ZHEJIANG).content.decode()
    assert 'data-hls-src="/media/zhejiang/live/demo/index.m3u8"' in html and "直播评论" in html


def test_every_demo_campaign_has_entries_with_posters_and_votes():
    from campaigns.models import CampaignEntry, Vote

    for schema in ("national", "zhejiang", "sichuan", "liaoning", "dalian"):
        with schema_context(schema):
            entries = CampaignEntry.objects.filter(campaign__slug="campaign", status="approved")
            assert entries.count() == 6, schema
            assert all(entry.image_id for entry in entries), schema
            assert Vote.objects.filter(campaign__slug="campaign").count() > 0, schema
    with schema_context("dalian"):
        assert CampaignEntry.objects.filter(title="海之韵", author="星海广场舞蹈队").exists()
