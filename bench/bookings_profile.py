"""One booking POST, in process: milliseconds per request, its queries, and a cProfile of it.

Run on demand from the repository root (it is not a test; it needs no server):

    .venv/bin/python bench/bookings_profile.py              # 200 POSTs, the figures
    .venv/bin/python bench/bookings_profile.py --profile    # plus the top of a cProfile
    .venv/bin/python bench/bookings_profile.py --queries    # plus the SQL of one POST

It uses the benchmark database and tenant of bench/bookings.py (`benchserve`), signs in --posts
people and has each of them book one seat of a large session through Django's test client (the
same middleware as the live server, minus daphne and the ASGI thread hand-off). It also times
the 我的预约 page and the ticket page the POST redirects to. Wall-clock figures depend on the
machine's load: compare before/after on the same machine, and read the query counts, which do not.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import provision  # noqa: E402
import serve  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the POSTs")
    parser.add_argument("--queries", action="store_true", help="print the SQL of one POST")
    return parser.parse_args()


def timed(label: str, calls: list[float]) -> None:
    calls = sorted(calls)
    print(
        f"  {label:<28} {len(calls):>4} × median {statistics.median(calls) * 1000:6.1f} ms"
        f"  p95 {calls[int(len(calls) * 0.95) - 1] * 1000:6.1f} ms"
    )


def main() -> int:
    args = parse_args()
    provision.setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import schema_context

    from tests.bookings import live

    # The people's passwords are never used: a fast hasher keeps their creation out of the way.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    serve.prepare_platform()
    serve.ensure_tenant()
    schema = serve.TENANT_SLUG
    host = f"{schema}.{os.environ.get('CULTURE_PLATFORM_DOMAIN', 'culture.localhost')}"
    live.cleanup(schema)
    people = live.make_people(args.posts + 2, "profile")
    session_id = live.make_session(args.posts + 10, schema=schema)
    connection.set_schema_to_public()
    print(f"one booking POST in process on {provision.database_label()}, tenant {schema}")

    # One client (one handler: a new handler loads the middleware again), signed in as each person in turn.
    shared = Client(HTTP_HOST=host)
    shared.cookies["csrftoken"] = live.CSRF

    def client(session_key: str) -> Client:
        shared.cookies["sessionid"] = session_key
        return shared

    path = f"/bookings/sessions/{session_id}/"
    form = {"csrfmiddlewaretoken": live.CSRF, "quantity": "1"}
    try:
        # Warm up (imports, template loading, first connection) with the spare person.
        warm = client(people[-1][1])
        response = warm.post(path, form)
        assert response.status_code == 302, (response.status_code, response.content[:500])
        ticket_path = response["Location"]
        warm.get(ticket_path)
        warm.get("/me/bookings/")

        posts, cpu, tickets, mine = [], [], [], []
        profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waiting
        for index, (_, key) in enumerate(people[:-2]):
            c = client(key)
            if profiler:
                profiler.enable()
            started, started_cpu = time.perf_counter(), time.process_time()
            response = c.post(path, form)
            posts.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            if profiler:
                profiler.disable()
            assert response.status_code == 302, (response.status_code, response.content[:500])
            if index < 50:
                started = time.perf_counter()
                c.get(response["Location"])
                tickets.append(time.perf_counter() - started)
                started = time.perf_counter()
                c.get("/me/bookings/")
                mine.append(time.perf_counter() - started)

        timed("booking POST (wall)", posts)
        timed("booking POST (CPU, Python)", cpu)
        timed("ticket page (wall)", tickets)
        timed("我的预约 (wall)", mine)

        extra = client(people[-2][1])
        for label, method, url, data in (
            ("booking POST", "post", path, form),
            ("ticket page", "get", ticket_path, None),
            ("我的预约", "get", "/me/bookings/", None),
        ):
            one = client(people[-1][1]) if method == "get" else extra
            with CaptureQueriesContext(connection) as queries:
                (one.post(url, data) if method == "post" else one.get(url))
            print(f"  queries: {label:<28} {len(queries)}")
            if args.queries:
                for query in queries.captured_queries:
                    print(f"      {query['time']}s  {query['sql'][:220]}")
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(45)
            print(out.getvalue())
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
            print(out.getvalue())
    finally:
        connection.set_schema_to_public()
        live.cleanup(schema)
        with schema_context(schema):
            from bookings.models import Session

            Session.objects.filter(pk=session_id).delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
