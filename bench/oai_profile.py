"""One OAI-PMH ListRecords page, in process: CPU milliseconds and queries, cache off and on.

Run on demand from the repository root (it is not a test; it needs no server):

    .venv/bin/python bench/oai_profile.py                  # 200 requests each way, national site
    .venv/bin/python bench/oai_profile.py --page-size 20   # pages of 20 records: a resumed page too

It uses bench/load.py's database (`culture_load`, the demo world; run bench/load.py once first)
and Django's test client (the middleware and view, no ASGI server), and requests the page
bench/load.py's mix requests: the first page of ListRecords in oai_dc on the national site, then
a resumed page. "uncached" is OAI_CACHE_SECONDS=0 (the answer made each time, as before the
cache); "cached" is every request after the first served from the cache.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--page-size", type=int, default=None, help="OAI_PAGE_SIZE (default: the setting, 100)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))
    os.environ.update(DJANGO_SETTINGS_MODULE="core.settings.dev", CULTURE_DB_NAME="culture_load", LOG_LEVEL="WARNING")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = ["*"]
    if args.page_size:
        settings.OAI_PAGE_SIZE = args.page_size
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "oai": ""}  # one address asks them all: no limit
    client = Client(HTTP_HOST="national.culture.localhost")
    first = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    answer = client.get("/oai/", first)
    token = re.search(rb"<resumptionToken[^>]*>([^<]+)<", answer.content)
    resumed = {"verb": "ListRecords", "resumptionToken": token.group(1).decode()} if token else None
    records = answer.content.count(b"<record>")
    print(f"national: first page {records} records, {len(answer.content) / 1024:.0f} KiB, resumed page: {bool(token)}")

    for label, seconds in (("uncached", 0), ("cached", 3600)):
        settings.OAI_CACHE_SECONDS = seconds
        for page, params in (("first page", first), ("resumed page", resumed)):
            if params is None:
                continue
            client.get("/oai/", params)  # stores it (cached), warms the tenant lookup
            cpu = []
            with CaptureQueriesContext(connection) as queries:
                response = client.get("/oai/", params)
            count = len(queries)  # now: every request empties the query log (DEBUG)
            assert response.status_code == 200 and b"<error" not in response.content, response.content[:500]
            for _ in range(args.requests):
                started = time.process_time()
                client.get("/oai/", params)
                cpu.append(time.process_time() - started)
            print(
                f"  {label:<9} {page:<13} CPU median {statistics.median(cpu) * 1000:6.2f} ms"
                f"  p95 {sorted(cpu)[int(len(cpu) * 0.95) - 1] * 1000:6.2f} ms  queries {count}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
