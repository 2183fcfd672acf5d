import uuid

import pytest
from django.utils import timezone

from tests.websocket_helpers import hours, publish_under_home


@pytest.fixture
def live_page_in():
    """make(schema, **fields): a published live-stream page, live now unless told otherwise."""

    def make(schema: str = "zhejiang", **fields):
        from cms_pages.models import LiveStreamPage

        values = {
            "title": "云上群星奖直播",
            "slug": f"live-{uuid.uuid4().hex[:8]}",
            "start": hours(-1),
            "end": hours(1),
            "stream_url": "/media/demo/index.m3u8",
            **fields,
        }
        return publish_under_home(schema, LiveStreamPage(**values))

    return make


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch):
    from tests.websocket_helpers import keep_test_connection

    keep_test_connection(monkeypatch)
