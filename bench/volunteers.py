"""Volunteers benchmark: the volunteer's page, the coordinator's dashboard and the star levels
with 10,000 volunteers and 200,000 hour records in one tenant; 200 parallel sign-ups for a
30-person shift against a live daphne server.

Run on demand from the repository root (it is not a test):

    .venv/bin/python bench/volunteers.py                  # builds the tenant the first time, then reuses it
    .venv/bin/python bench/volunteers.py --requests 200   # more timed requests per page
    .venv/bin/python bench/volunteers.py --port 8105      # daphne's port for the sign-up burst
    .venv/bin/python bench/volunteers.py --rebuild | --drop

It works in `culture_bench` (see bench/provision.py), tenant `benchvol`. Pages are requested
in-process through Django's test client (the whole middleware stack, a signed-in session, the
tenant resolved from the Host header); the baseline is the personal centre (/me/) measured in the
same run. Query counts come from connection.execute_wrapper. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import provision  # bench/provision.py: Django set-up

TENANT_SLUG = "benchvol"
TENANT_NAME = "文化云志愿者基准站"
TARGET_P95_MS = 150.0
TARGET_QUERIES = 12
VOLUNTEERS = 10_000
RECORDS = 200_000
PAST_SHIFTS = 1_000
BURST = 200
BURST_CAPACITY = 30
BATCH = 5_000
CSRF = "b" * 32


def host() -> str:
    from django.conf import settings

    return f"{TENANT_SLUG}.{settings.PLATFORM_DOMAIN}"


def tenant_exists() -> bool:
    from tenants.models import CultureSite

    return CultureSite.objects.filter(schema_name=TENANT_SLUG).exists()


def build(seed: int) -> float:
    """The tenant, its volunteers, shifts and hour records (bulk inserts); seconds taken."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone
    from django_tenants.utils import schema_context
    from serve import free_province_code

    from cms_pages.models import HomePage
    from roles.services import grant_role
    from tenants import services as tenants
    from volunteers import services
    from volunteers.models import HourRecord, OpportunityIndexPage, OpportunityPage, Shift, SignUp, Volunteer

    start = time.perf_counter()
    tenants.create_culture_site(
        tenants.NewSite(slug=TENANT_SLUG, name=TENANT_NAME, kind="province", region_code=free_province_code())
    )
    rng = random.Random(seed)
    User = get_user_model()
    # Accounts are global and outlive a dropped tenant: reused by a rebuild.
    names = [f"benchvol_{i:05d}" for i in range(VOLUNTEERS)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create(
        [User(username=name, password="!") for name in names if name not in existing], batch_size=BATCH
    )  # "!": an unusable password
    users = list(User.objects.filter(username__in=names).order_by("username"))
    coordinator = User.objects.filter(username="benchvol_coordinator").first() or User.objects.create_user(
        username="benchvol_coordinator"
    )
    now = timezone.now()
    with schema_context(TENANT_SLUG):
        grant_role(coordinator, "志愿者管理员")
        skills = ["guide", "reading", "performance", "first_aid", "order", "photography"]
        slots = [f"{d}_{p}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for p in ("am", "pm", "eve")]
        volunteers = [
            Volunteer(
                user=user,
                status="approved",
                number=f"BENCH-{i:06d}",
                real_name="基准测试",
                mobile="13800000000",
                emergency_contact_name="联系人",
                emergency_contact_phone="13900000000",
                skills=rng.sample(skills, 2),
                availability=rng.sample(slots, 8),
                consented_at=now,
                applied_at=now,
                decided_at=now,
            )
            for i, user in enumerate(users)
        ]
        with transaction.atomic():
            Volunteer.objects.bulk_create(volunteers, batch_size=BATCH)
        volunteer_ids = list(Volunteer.objects.order_by("pk").values_list("pk", flat=True))
        home = HomePage.objects.get(locale__language_code="zh-hans")
        index = home.add_child(instance=OpportunityIndexPage(title="志愿服务", slug="volunteering"))
        page = OpportunityPage(title="图书馆导读服务", slug="library", place="图书馆")
        index.add_child(instance=page)
        page.save_revision().publish()
        with transaction.atomic():
            past = Shift.objects.bulk_create(
                [
                    Shift(
                        opportunity=page,
                        starts_at=now - datetime.timedelta(days=1 + i % 700, hours=i % 5),
                        ends_at=now - datetime.timedelta(days=1 + i % 700, hours=i % 5) + datetime.timedelta(hours=3),
                        place="图书馆",
                        capacity=50,
                    )
                    for i in range(PAST_SHIFTS)
                ]
            )
            upcoming = Shift.objects.bulk_create(
                [
                    Shift(
                        opportunity=page,
                        starts_at=now + datetime.timedelta(days=1 + i, hours=1),
                        ends_at=now + datetime.timedelta(days=1 + i, hours=4),
                        place="图书馆",
                        capacity=20,
                        required_skills=["guide"],
                    )
                    for i in range(40)
                ]
            )
        for offset in range(0, RECORDS, BATCH):
            with transaction.atomic():
                HourRecord.objects.bulk_create(
                    [
                        HourRecord(
                            volunteer_id=volunteer_ids[i % VOLUNTEERS],
                            shift_id=past[(i % VOLUNTEERS + 37 * (i // VOLUNTEERS)) % PAST_SHIFTS].pk,  # each pair once
                            kind="checked" if i % 10 else "makeup",
                            reason="" if i % 10 else "补录",
                            minutes=rng.choice((60, 120, 180)),
                            served_on=(now - datetime.timedelta(days=1 + i % 700)).date(),
                            status="pending" if i % 100 == 0 else "approved",
                        )
                        for i in range(offset, min(offset + BATCH, RECORDS))
                    ],
                    batch_size=BATCH,
                )
            print(f"  hour records {min(offset + BATCH, RECORDS):>7}/{RECORDS}", flush=True)
        services.recompute_approved_minutes()
        # The measured volunteer holds 10 upcoming shifts; half of the upcoming shifts are short of people.
        SignUp.objects.bulk_create(
            [SignUp(shift=s, volunteer_id=volunteer_ids[0], status="confirmed") for s in upcoming[:10]]
            + [
                SignUp(shift=s, volunteer_id=volunteer_ids[1 + k], status="confirmed")
                for k, s in enumerate(upcoming[10:])
            ]
        )
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.perf_counter() - start


# --- measuring ------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class QueryCounter:
    """Counts the statements a block sends (connection.execute_wrapper: independent of DEBUG and of
    the debug log's length)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def time_page(client, path: str, count: int) -> tuple[list[float], int]:
    from django.db import connection

    for _ in range(3):  # warm-up
        response = client.get(path, HTTP_HOST=host())
        assert response.status_code == 200, (path, response.status_code)
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        client.get(path, HTTP_HOST=host())
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        client.get(path, HTTP_HOST=host())
        timings.append((time.perf_counter() - start) * 1000)
    return timings, counter.count


def time_star_levels(count: int) -> tuple[list[float], int]:
    from django.db import connection
    from django_tenants.utils import schema_context

    from volunteers import services

    timings = []
    with schema_context(TENANT_SLUG):
        services.star_level_distribution()
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            services.star_level_distribution()
        for _ in range(count):
            start = time.perf_counter()
            services.star_level_distribution()
            timings.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        services.recompute_approved_minutes()
        rebuild_ms = (time.perf_counter() - start) * 1000
    print(f"  (full rebuild of every total from {RECORDS} records, recompute_approved_minutes: {rebuild_ms:.0f} ms)")
    return timings, counter.count


def measure_pages(count: int) -> bool:
    from django.contrib.auth import get_user_model
    from django.test import Client

    User = get_user_model()
    volunteer = Client()
    volunteer.force_login(User.objects.get(username="benchvol_00000"))
    coordinator = Client()
    coordinator.force_login(User.objects.get(username="benchvol_coordinator"))
    rows = [
        ("personal centre /me/ (baseline)", *time_page(volunteer, "/me/", count)),
        ("volunteer's page /me/volunteer/", *time_page(volunteer, "/me/volunteer/", count)),
        ("coordinator dashboard", *time_page(coordinator, "/volunteers/manage/", count)),
        ("star levels (distribution)", *time_star_levels(count)),
    ]
    baseline = statistics.median(rows[0][1])
    ok = True
    print()
    print(f"{VOLUNTEERS} volunteers, {RECORDS} hour records; {count} timed runs each")
    print(f"  {'what':<34}{'queries':>8}{'p50 ms':>9}{'p95 ms':>9}{'× baseline':>12}  target")
    for label, timings, queries in rows:
        p95 = percentile(timings, 95)
        target = label.endswith("(baseline)") or (p95 <= TARGET_P95_MS and queries <= TARGET_QUERIES)
        ok = ok and target
        print(
            f"  {label:<34}{queries:>8}{statistics.median(timings):9.1f}{p95:9.1f}"
            f"{statistics.median(timings) / baseline:11.2f}×  {'' if label.endswith('(baseline)') else provision.mark(target)}"
        )
    return ok


def burst_sign_ups(port: int | None) -> bool:
    """BURST signed-in volunteers post the sign-up for one BURST_CAPACITY-place shift at once."""
    import datetime as dt

    import requests
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from volunteers.models import OpportunityPage, Shift, SignUp

    User = get_user_model()
    sessions = []
    for user in User.objects.filter(username__startswith="benchvol_0").order_by("username")[100 : 100 + BURST]:
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies["sessionid"].value)
    with schema_context(TENANT_SLUG):
        starts = timezone.now() + dt.timedelta(days=90, minutes=random.randint(0, 10_000))
        shift = Shift.objects.create(
            opportunity=OpportunityPage.objects.get(slug="library"),
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=1),
            place="图书馆",
            capacity=BURST_CAPACITY,
        )
    connection.set_schema_to_public()
    port = port or provision.free_port()
    # 200 requests at once exceed the connection pool: they queue (core.admission) for up to 120 s
    # rather than the default 20 s, so a loaded machine measures the guard, not the 503 page.
    env = dict(
        os.environ,
        CULTURE_PORT=str(port),
        DJANGO_SETTINGS_MODULE="core.settings.dev",
        DEBUG="0",
        REQUEST_QUEUE_SECONDS="120",
        DB_POOL_TIMEOUT="120",
    )
    log = open(provision.REPO_ROOT / "var" / "log" / "bench-volunteers-daphne.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "core.asgi:application"],
        cwd=provision.REPO_ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        provision.wait_until_up(server, port, host())
        barrier = threading.Barrier(len(sessions))

        def one(session_key: str) -> int:
            http = requests.Session()
            http.headers.update({"Host": f"{host()}:{port}", "X-CSRFToken": CSRF})
            http.cookies.set("sessionid", session_key)
            http.cookies.set("csrftoken", CSRF)
            barrier.wait()
            url = f"http://127.0.0.1:{port}/volunteers/shifts/{shift.pk}/sign-up/"
            return http.post(url, allow_redirects=False, timeout=300).status_code

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
            statuses = list(pool.map(one, sessions))
        seconds = time.perf_counter() - start
    finally:
        provision.stop(server)
        log.close()
    with schema_context(TENANT_SLUG):
        held = SignUp.objects.filter(shift=shift, status__in=["pending", "confirmed"]).count()
    errors = sum(1 for s in statuses if s >= 500)
    ok = held == BURST_CAPACITY and errors == 0
    print()
    print(f"{BURST} parallel sign-ups for a {BURST_CAPACITY}-place shift (daphne, port {port}): {seconds:.1f} s")
    print(
        f"  places taken {held} (over capacity: {max(held - BURST_CAPACITY, 0)}), server errors {errors}: {provision.mark(ok)}"
    )
    return ok


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page (default 100)")
    parser.add_argument("--port", type=int, default=None, help="daphne's port for the sign-up burst")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-burst", action="store_true", help="pages and star levels only")
    parser.add_argument("--rebuild", action="store_true", help="drop the tenant and build it again")
    parser.add_argument("--drop", action="store_true", help="remove the tenant and stop")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    provision.setup_django()
    from django.conf import settings

    if args.drop or args.rebuild:
        provision.drop_tenant(TENANT_SLUG)

        print(f"removed tenant {TENANT_SLUG}")
        if args.drop:
            return 0
    settings.DEBUG = False
    from serve import prepare_platform

    prepare_platform()  # public schema and template migrated (a fresh culture_bench too)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"database {provision.database_label()}, {os.cpu_count()} CPU(s), load average {load}")
    if tenant_exists():
        print(f"tenant {TENANT_SLUG}: reused; --rebuild to build again")
    else:
        print(f"tenant {TENANT_SLUG}: built in {build(args.seed):.0f} s")
    pages_ok = measure_pages(args.requests)
    burst_ok = True if args.skip_burst else burst_sign_ups(args.port)
    return 0 if pages_ok and burst_ok else 1


if __name__ == "__main__":
    sys.exit(main())
