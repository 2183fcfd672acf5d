"""Query budget of a tenant's home page once its caches are warm (full-page cache off).

What is left is Wagtail's own serving: the active locale, the home page itself and the two view
restriction lookups. The Site, branding, header, language switcher and the three lists come from
the tenant's cache (see tests/themes/test_fragment_cache.py for their invalidation).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

HOME_QUERY_BUDGET = 5


def test_warm_home_page_takes_at_most_five_queries(client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    client.get("/", HTTP_HOST="zhejiang.culture.localhost")
    client.get("/", HTTP_HOST="sichuan.culture.localhost")  # another tenant in between
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/", HTTP_HOST="zhejiang.culture.localhost")
    assert response.status_code == 200 and "<h1>浙江文化云</h1>" in response.content.decode()
    queries = [q["sql"][:120] for q in ctx.captured_queries]
    assert len(queries) <= HOME_QUERY_BUDGET, f"{len(queries)} queries:\n" + "\n".join(queries)
