import uuid

import pytest
from django_tenants.utils import schema_context

from tests.websocket_helpers import hours, publish_under_home


@pytest.fixture
def campaign_in():
    """make(schema, entries=3, **fields): a published campaign, open for voting, with entries."""

    def make(schema: str = "zhejiang", entries: int = 3, **fields):
        from campaigns.models import CampaignEntry
        from cms_pages.models import CampaignPage

        values = {
            "title": "“群文杯”原创歌曲大赛",
            "slug": f"vote-{uuid.uuid4().hex[:8]}",
            "start": hours(-1),
            "end": hours(72),
            "daily_vote_limit": 2,
            **fields,
        }
        page = publish_under_home(schema, CampaignPage(**values))
        with schema_context(schema):
            for number in range(1, entries + 1):
                CampaignEntry.objects.create(
                    campaign=page, number=number, title=f"作品{number}", author=f"作者{number}"
                )
        return page

    return make


def entries_of(schema: str, campaign) -> list:
    from campaigns.models import CampaignEntry

    with schema_context(schema):
        return list(CampaignEntry.objects.filter(campaign=campaign).order_by("number"))


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch):
    from tests.websocket_helpers import keep_test_connection

    keep_test_connection(monkeypatch)
