"""Scale benchmark: one database growing to 1,000 tenants (schema per tenant).

Run on demand from the repository root (it is not a test), on a PostgreSQL of its own:

    export CULTURE_PGDATA=/work/scalepg                # its own embedded server (data directory)
    .venv/bin/python bench/scale.py                    # 10 (baseline), 100, 300 and 1,000 tenants
    .venv/bin/python bench/scale.py --sizes 10,100     # a quick run
    .venv/bin/python bench/scale.py --grow-only 980    # only create tenants (clone times every 50)
    .venv/bin/python bench/scale.py --sizes 1000       # then: the last 20 clones and every figure
    .venv/bin/python bench/scale.py --drop             # remove the benchmark database

It works in a database of its own, **`culture_scale`** (`--database` names another), on the
embedded PostgreSQL (created on first use, **kept between runs**: a second run at the same size
creates nothing and only measures again; `--drop` removes the whole database). With
`CULTURE_PGDATA` set, the embedded server is one of its own (core/embedded_db.py), so the
benchmark shares no PostgreSQL process with `make run` or the tests. Tenants are created exactly
as an operator creates them (`tenants.services.create_culture_site`, cloning the template): the
national site, bench provinces (`scp11`…), cities (`scc0001`…) and counties (`scx0001`…) with
real GB/T 2260 codes — 3,118 possible, enough for 1,000.

At each size N the clone figure is taken from 20 clones made at that moment: the database is
grown (untimed) to N − 20, then the last 20 tenants are created one after another and timed. So a
database pre-grown with `--grow-only 980` gives the 1,000-tenant clone figure from the 981st–1,000th
clones. A database that already has N tenants gives no clone figure at N ("-").

Printed at each size (served tenants: national + provinces + cities + counties):

| figure | how |
|---|---|
| clone s | median of the last 20 `create_culture_site` calls, made just now (max in brackets) |
| DB MiB, pg_class rows | `pg_database_size`, `count(*) FROM pg_class` (the catalog every clone and migration reads) |
| start-up check s | `make run`'s migration check before serving (`run_platform`'s `migrate_what_is_behind`) |
| no-op upgrade s | `manage.py migrate_schemas --executor=multiprocessing` with nothing to apply (a subprocess); `(check s)`: `manage.py check`, what any command costs before doing anything |
| +1 column s | the same applying one throw-away migration (`ALTER TABLE … ADD COLUMN`) to every tenant; then reversed and its file removed |
| RSS MiB | the web process (daphne, `core.asgi`) after every tenant's home page was served once |
| home p95 ms | uncached home pages of random tenants (a session cookie skips the page cache), 4 clients, 200 requests |

Targets (the issue's, for 1,000 tenants): clone ≤ 2 s, start-up check ≤ 5 s, no-op upgrade ≤ 60 s,
one column ≤ 5 min, RSS ≤ 1 GiB, home p95 within 1.5× of p95 at 10 tenants.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "culture_scale"  # --database changes it
TIMED_CLONES = 20
PROVINCE_PREFIX, CITY_PREFIX, COUNTY_PREFIX = "scp", "scc", "scx"
HOST_SUFFIX = "culture.localhost"
PROBE_MIGRATION = "9999_bench_scale_probe"
PROBE_APP = "themes"
rng = random.Random(7)  # noqa: S311


def database_url() -> str:
    from urllib.parse import quote

    from core.embedded_db import embedded_database_settings

    params = embedded_database_settings(DB_NAME)
    return f"postgres://{params['USER']}@{quote(params['HOST'], safe='')}:{params['PORT']}/{DB_NAME}"


def setup() -> None:
    sys.path.insert(0, str(REPO_ROOT))
    os.environ.update(DJANGO_SETTINGS_MODULE="core.settings.dev", LOG_LEVEL="WARNING")
    os.environ["DATABASE_URL"] = database_url()
    os.environ["CULTURE_PAGES_CACHE_DIR"] = str(REPO_ROOT / "var" / "cache" / f"pages-{DB_NAME}")
    import django

    django.setup()


def prepare() -> None:
    from django.core.management import call_command

    from tenants import services

    if "public" in services.schemas_with_pending_migrations():
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    services.ensure_platform_tenant()
    if services.TEMPLATE_SCHEMA in services.schemas_with_pending_migrations():  # before it is read
        call_command("migrate_schemas", schema_name=services.TEMPLATE_SCHEMA, interactive=False, verbosity=0)
    print("template schema (migrated on first use: a few minutes)...", flush=True)
    services.ensure_template()
    # A database kept from an earlier run may be behind the code (migrations landed since): bring
    # every schema up to date first, so that the figures measure this code on a current database.
    behind = services.schemas_with_pending_migrations()
    if behind:
        print(f"{len(behind)} schemas behind the code: migrating them first (not a figure)...", flush=True)
        started = time.perf_counter()
        manage("migrate_schemas", "--executor=multiprocessing", "--noinput")
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)


def served_count() -> int:
    from tenants.models import CultureSite

    return CultureSite.objects.filter(kind__in=CultureSite.SERVED_KINDS).count()


def plan() -> list:
    """Every tenant the benchmark can have, in creation order: the national site, province by
    province with its cities, then the counties (each under its prefecture's city, or under its
    province for the 省直辖县级行政区划). 1 + 27 + 333 + 2,2xx: enough for 1,000 and more."""
    import json

    from tenants.services import NewSite

    divisions = json.loads((REPO_ROOT / "core" / "data" / "gb2260.json").read_text(encoding="utf-8"))
    specs = [NewSite(slug="national", name="国家公共文化云（规模基准）", kind="national", region_code="100000")]
    parents: dict[str, str] = {}  # region code -> bench slug of the province or city
    city = 0
    for province in sorted(c for c in divisions if c.endswith("0000") and c != "100000"):
        prefectures = sorted(
            c for c in divisions if c[:2] == province[:2] and c.endswith("00") and not c.endswith("0000")
        )
        if not prefectures:
            continue
        slug = f"{PROVINCE_PREFIX}{province[:2]}"
        parents[province] = slug
        specs.append(
            NewSite(
                slug=slug,
                name=f"{divisions[province]}文化云",
                kind="province",
                region_code=province,
                parent_slug="national",
            )
        )
        for code in prefectures:
            city += 1
            parents[code] = f"{CITY_PREFIX}{city:04d}"
            specs.append(
                NewSite(
                    slug=parents[code],
                    name=f"{divisions[code]}文化云",
                    kind="city",
                    region_code=code,
                    parent_slug=slug,
                )
            )
    county = 0
    for code in sorted(c for c in divisions if not c.endswith("00")):
        parent = parents.get(code[:4] + "00") or (
            parents.get(code[:2] + "0000") if code[:4] + "00" not in divisions else None
        )
        if parent is None:  # the four municipalities' districts: their province is not in the plan
            continue
        county += 1
        specs.append(
            NewSite(
                slug=f"{COUNTY_PREFIX}{county:04d}",
                name=f"{divisions[code]}文化云",
                kind="county",
                region_code=code,
                parent_slug=parent,
            )
        )
    return specs


def _timed_schema_clones() -> list[float]:
    """Time tenants.clone.clone_schema (the schema copy inside each create_culture_site) without changing it."""
    from tenants import clone

    seconds: list[float] = []
    original = clone.clone_schema

    def timed(template, new_schema):
        started = time.perf_counter()
        original(template, new_schema)
        seconds.append(time.perf_counter() - started)

    clone.clone_schema = timed
    return seconds


def grow(size: int, *, timed: int = 0, log_every: int = 25) -> list[float]:
    """Create tenants until `size` are served; return the seconds of the last `timed` clones
    (all of them created now, one after another, at the sizes just below `size`)."""
    from tenants.models import CultureSite
    from tenants.services import create_culture_site

    existing = set(CultureSite.objects.values_list("schema_name", flat=True))
    specs = [s for s in plan() if s.slug not in existing]
    need = max(0, size - served_count())
    if need > len(specs):
        raise SystemExit(f"only {len(specs)} more tenants possible with distinct region codes")
    schema_seconds = _timed_schema_clones()
    clone_seconds: list[float] = []
    window = 0.0
    for i, spec in enumerate(specs[:need], 1):
        started = time.perf_counter()
        create_culture_site(spec)
        clone_seconds.append(time.perf_counter() - started)
        window += clone_seconds[-1]
        if i % log_every == 0 or i == need:
            last = clone_seconds[-log_every:]
            schema = schema_seconds[-log_every:]
            print(
                f"  {time.strftime('%H:%M:%S', time.gmtime())} UTC created {i}/{need} -> {size - need + i} served ({spec.slug}): "
                f"clone median {statistics.median(last):.2f} s (min {min(last):.2f}, max {max(last):.2f}) "
                f"of which schema copy median {statistics.median(schema):.2f} s (max {max(schema):.2f}); "
                f"{window:.0f} s for these {len(last)}; pg_class {catalog_figures()[1]}; "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            window = 0.0
    return clone_seconds[-timed:] if timed else []


def catalog_figures() -> tuple[float, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database()), (SELECT count(*) FROM pg_class)")
        size, rows = cursor.fetchone()
    return size / 2**20, rows


def startup_check_seconds() -> float:
    from tenants.management.commands.run_platform import Command

    command = Command()
    started = time.perf_counter()
    command.migrate_what_is_behind()
    return time.perf_counter() - started


def manage(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=os.environ, check=True, capture_output=True)  # noqa: S603
    return time.perf_counter() - started


def add_one_column_seconds() -> float:
    """Apply a throw-away migration adding a column to every tenant; then undo it and remove the file."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    leaf = loader.graph.leaf_nodes(PROBE_APP)[0][1]
    path = REPO_ROOT / PROBE_APP / "migrations" / f"{PROBE_MIGRATION}.py"
    path.write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [('{PROBE_APP}', '{leaf}')]\n"
        "    operations = [\n"
        "        migrations.RunSQL(\n"
        "            'ALTER TABLE themes_branding ADD COLUMN bench_scale_probe integer',\n"
        "            'ALTER TABLE themes_branding DROP COLUMN bench_scale_probe',\n"
        "        )\n"
        "    ]\n"
    )
    try:
        seconds = manage("migrate_schemas", "--executor=multiprocessing", "--noinput")
        with_column, tenant_schemas = probe_column_count()
        print(
            f"  the column is in {with_column} of {tenant_schemas} tenant schemas: "
            f"{seconds / max(1, tenant_schemas):.3f} s per schema (the command's start-up included)",
            flush=True,
        )
    finally:
        path.unlink(missing_ok=True)
        remove_probe_column()
    return seconds


def remove_probe_column() -> None:
    """Take the throw-away column and its migration record out of every schema directly.

    (Migrating backwards would go schema by schema through Django's own executor: minutes at
    1,000 tenants for a column that only this benchmark ever had.)"""
    from django.db import connection, transaction

    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.columns"
            " WHERE table_name = 'themes_branding' AND column_name = 'bench_scale_probe'"
        )
        schemas = [row[0] for row in cursor.fetchall()]
    for schema in schemas:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{schema}".themes_branding DROP COLUMN bench_scale_probe')
            cursor.execute(
                f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s',
                [PROBE_APP, PROBE_MIGRATION],
            )
    with connection.cursor() as cursor:  # the public schema records tenant apps' migrations too
        cursor.execute("DELETE FROM django_migrations WHERE app = %s AND name = %s", [PROBE_APP, PROBE_MIGRATION])


def probe_column_count() -> tuple[int, int]:
    """(tenant schemas that have the probe column, tenant schemas)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'themes_branding'"
            " AND column_name = 'bench_scale_probe' AND table_schema <> 'public'"
        )
        with_column = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM tenants_culturesite WHERE schema_name <> 'public'")
        return with_column, cursor.fetchone()[0]


def web_figures(tenants: list[str], port: int) -> tuple[float, float]:
    """RSS of daphne after each tenant's home page once; p95 of uncached home pages."""
    env = dict(os.environ)
    log_path = REPO_ROOT / "var" / "log" / "bench-scale-daphne.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)  # a fresh checkout has no var/log yet
    log = log_path.open("wb")
    cmd = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "core.asgi:application"]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)  # noqa: S603
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get(port, HOST_SUFFIX, "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("daphne did not start") from None
                time.sleep(0.5)
        for slug in tenants:
            status, _ = get(port, f"{slug}.{HOST_SUFFIX}", "/")
            assert status == 200, f"home of {slug}: {status}"
        rss = rss_mib(proc.pid)
        latencies: list[float] = []

        def client():
            for _ in range(50):
                slug = rng.choice(tenants)
                started = time.perf_counter()
                status, _ = get(port, f"{slug}.{HOST_SUFFIX}", "/", cookie="sessionid=bench-no-page-cache")
                latencies.append(time.perf_counter() - started)
                assert status == 200

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return rss, statistics.quantiles(latencies, n=20)[18] * 1000
    finally:
        proc.terminate()
        proc.wait(30)


def get(port: int, host: str, path: str, cookie: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": f"{host}:{port}"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def drop() -> int:
    import psycopg2

    from core.embedded_db import embedded_database_settings

    params = embedded_database_settings("postgres")
    conn = psycopg2.connect(dbname="postgres", user=params["USER"], host=params["HOST"], port=params["PORT"])
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    conn.close()
    print(f"dropped database {DB_NAME}")
    return 0


def main() -> int:
    global DB_NAME
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,300,1000", help="served tenants to measure at, ascending")
    parser.add_argument(
        "--grow-only",
        type=int,
        metavar="N",
        help="only create tenants until N are served (clone times logged every 50), no figures",
    )
    parser.add_argument("--database", default=DB_NAME, help=f"database on the embedded server (default {DB_NAME})")
    parser.add_argument("--port", type=int, default=8113)
    parser.add_argument("--skip-column", action="store_true", help="leave out the one-column migration")
    parser.add_argument("--skip-web", action="store_true", help="leave out RSS and home p95 (the web server)")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    DB_NAME = args.database
    # Stopped by Ctrl-C or `kill` (also when started in the background, where SIGINT is ignored):
    # raise in Python, so a clone in progress removes its half-made schema (create_culture_site).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.path.insert(0, str(REPO_ROOT))
    if args.drop:
        return drop()
    setup()
    prepare()
    from tenants.models import CultureSite

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start, {served_count()} served tenants")
    if args.grow_only is not None:
        grow(args.grow_only, log_every=50)
        print(f"{served_count()} served tenants; load average {os.getloadavg()[0]:.1f} at the end")
        return 0
    header = (
        f"{'tenants':>7} {'clone s':>13} {'DB MiB':>7} {'pg_class':>9} {'start-up s':>10} "
        f"{'no-op upg s':>11} {'(check s)':>9} {'+1 col s':>9} {'RSS MiB':>8} {'home p95 ms':>11}"
    )
    rows = []
    for size in [int(n) for n in args.sizes.split(",")]:
        # Untimed up to size - 20, then the 20 clones the figure is taken from, all at this moment.
        grow(size - TIMED_CLONES)
        last = grow(size, timed=TIMED_CLONES)
        if len(last) == TIMED_CLONES:
            clone = f"{statistics.median(last):.2f} ({max(last):.1f})"
        else:  # the database already had (nearly) this many: no clone figure for this size
            clone = f"- ({len(last)} made)" if last else "-"
        db_mib, pg_class = catalog_figures()
        startup = startup_check_seconds()
        noop = manage("migrate_schemas", "--executor=multiprocessing", "--noinput")
        # What any manage.py command costs before it does anything (imports, system checks).
        baseline = manage("check")
        # Each figure as soon as it is known: a later step that fails must not lose the earlier ones.
        print(
            f"  {size}: clone {clone}, DB {db_mib:.0f} MiB, pg_class {pg_class}, start-up {startup:.2f} s, "
            f"no-op upgrade {noop:.1f} s (check {baseline:.1f} s)",
            flush=True,
        )
        column = None if args.skip_column else add_one_column_seconds()
        print(f"  {size}: one added column {_figure(column, '.1f')} s", flush=True)
        tenants = list(
            CultureSite.objects.filter(kind__in=CultureSite.SERVED_KINDS).values_list("schema_name", flat=True)
        )
        rss, p95 = (None, None) if args.skip_web else web_figures(tenants, args.port)
        rows.append((served_count(), clone, db_mib, pg_class, startup, noop, baseline, column, rss, p95))
        print(header)
        for row in rows:
            size_, clone_, db_, cls_, st_, noop_, base_, col_, rss_, p95_ = row
            print(
                f"{size_:>7} {clone_:>13} {db_:>7.0f} {cls_:>9} {st_:>10.2f} {noop_:>11.1f} {base_:>9.1f} "
                f"{_figure(col_, '.1f'):>9} {_figure(rss_, '.0f'):>8} {_figure(p95_, '.0f'):>11}",
                flush=True,
            )
    if not args.skip_web and len(rows) > 1:
        base_p95 = rows[0][-1]
        print(f"\nhome p95 at {rows[-1][0]} tenants / at {rows[0][0]}: {rows[-1][-1] / base_p95:.2f}× (target ≤ 1.5×)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


def _figure(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


if __name__ == "__main__":
    sys.exit(main())
