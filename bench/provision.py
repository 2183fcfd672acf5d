"""Provisioning benchmark: clone vs migrations, and the web process's memory with 20 tenants.

Run on demand from the repository root (it is not a test):

    .venv/bin/python bench/provision.py            # 20 tenants each way
    .venv/bin/python bench/provision.py --n 3      # a quick check
    .venv/bin/python bench/provision.py --keep     # leave the tenants in place afterwards

It works in its own database, `culture_bench` on the embedded PostgreSQL, so the demo
data in `culture` is never touched. When DATABASE_URL is set that server and database
are used as they are: the benchmark then creates (and removes) its tenants there.
See bench/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DB_NAME = "culture_bench"

# Every tenant this benchmark creates has a slug of this shape, so a later run can find
# and remove the leftovers of an interrupted one.
CLONE_PREFIX = "bc"  # bc001, bc002...: cities created by cloning the template
MIGRATE_PREFIX = "bm"  # bm001, bm002...: cities created by running the migrations
PROVINCE_PREFIX = "bench"  # bench13, bench14...: one province per GB 2260 province prefix
BENCH_SLUG = re.compile(rf"^({CLONE_PREFIX}\d{{3}}|{MIGRATE_PREFIX}\d{{3}}|{PROVINCE_PREFIX}\d{{2}})$")

TARGET_CLONE_MEDIAN_S = 2.0
TARGET_SPEEDUP = 5.0
SERVED_TENANTS = 20
MIB = 1024 * 1024


# --- Django -------------------------------------------------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.dev")
    if not os.environ.get("DATABASE_URL"):
        os.environ["CULTURE_DB_NAME"] = BENCH_DB_NAME
    # tenants.services logs every creation at INFO; keep the output to the figures.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def database_label() -> str:
    from django.db import connection

    settings = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"{settings['NAME']} (PostgreSQL {version})"


def prepare_database() -> None:
    """Public schema migrated, leftovers of an earlier run gone, template current."""
    from django.core.management import call_command

    from tenants import services

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    removed = remove_bench_tenants()
    if removed:
        print(f"removed {removed} tenant(s)/schema(s) left by an earlier run")
    if services.TEMPLATE_SCHEMA in services.schemas_with_pending_migrations():
        call_command("migrate_schemas", schema_name=services.TEMPLATE_SCHEMA, interactive=False, verbosity=0)
    services.ensure_platform_tenant()
    services.ensure_template()


def remove_bench_tenants() -> int:
    """Drop every tenant row, domain and schema whose name is one of the benchmark's slugs."""
    from django.db import connection

    from tenants.models import CultureSite, Domain

    connection.set_schema_to_public()
    slugs = [s for s in CultureSite.objects.values_list("schema_name", flat=True) if BENCH_SLUG.match(s)]
    sites = CultureSite.objects.filter(schema_name__in=slugs)
    Domain.objects.filter(tenant__in=sites).delete()
    sites.exclude(kind=CultureSite.Kind.PROVINCE).delete()  # cities first: `parent` is PROTECT
    sites.delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        schemas = [name for (name,) in cursor.fetchall() if BENCH_SLUG.match(name)]
        for schema in schemas:
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return len(set(slugs) | set(schemas))


def drop_tenant(slug: str) -> None:
    """Remove one benchmark tenant: its domains, its row and its schema."""
    from django.db import connection

    from tenants.models import CultureSite, Domain

    connection.set_schema_to_public()
    Domain.objects.filter(tenant__schema_name=slug).delete()
    CultureSite.objects.filter(schema_name=slug).delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE')


# --- regions and tenant specs -------------------------------------------------------------


def load_divisions() -> dict[str, str]:
    path = REPO_ROOT / "core" / "data" / "gb2260.json"
    return json.loads(path.read_text(encoding="utf-8"))


def prefectures_of(province: str, divisions: dict[str, str]) -> list[str]:
    prefix = province[:2]
    return sorted(c for c in divisions if c[:2] == prefix and c.endswith("00") and not c.endswith("0000"))


def plan_provinces(cities_needed: int, divisions: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Provinces without any tenant yet, each with the prefecture codes its cities will use."""
    from tenants.models import CultureSite

    taken_prefixes = {code[:2] for code in CultureSite.objects.values_list("region_code", flat=True) if code}
    plan = []
    for province in sorted(c for c in divisions if c.endswith("0000")):
        if cities_needed <= 0:
            break
        prefectures = prefectures_of(province, divisions)
        if province[:2] in taken_prefixes or not prefectures:
            continue
        plan.append((province, prefectures[:cities_needed]))
        cities_needed -= len(plan[-1][1])
    if cities_needed > 0:
        raise SystemExit(f"not enough free prefecture codes: {cities_needed} more cities than there are codes")
    return plan


def ensure_province(code: str, divisions: dict[str, str]) -> str:
    from tenants import services
    from tenants.models import CultureSite

    slug = f"{PROVINCE_PREFIX}{code[:2]}"
    if not CultureSite.objects.filter(schema_name=slug).exists():
        name = f"{divisions[code]}文化云（基准）"
        services.create_culture_site(services.NewSite(slug=slug, name=name, kind="province", region_code=code))
    return slug


def city_specs(n: int) -> tuple[list, list]:
    """Create the bench provinces; return the NewSite specs of n clone and n migration cities."""
    from tenants.services import NewSite

    divisions = load_divisions()
    cities = []
    for province, prefectures in plan_provinces(2 * n, divisions):
        parent = ensure_province(province, divisions)
        cities += [(parent, code) for code in prefectures]

    def spec(prefix: str, i: int, parent: str, code: str) -> NewSite:
        name = f"{divisions[code]}文化云（基准{prefix}{i:03d}）"
        return NewSite(slug=f"{prefix}{i:03d}", name=name, kind="city", region_code=code, parent_slug=parent)

    clones = [spec(CLONE_PREFIX, i, *city) for i, city in enumerate(cities[:n], 1)]
    migrated = [spec(MIGRATE_PREFIX, i, *city) for i, city in enumerate(cities[n:], 1)]
    return clones, migrated


# --- timing the two ways of creating a tenant ---------------------------------------------


@dataclass
class Timings:
    label: str
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def time_creations(label: str, specs: list, *, by_migrations: bool) -> Timings:
    from tenants.services import create_culture_site

    seconds = []
    for i, spec in enumerate(specs, 1):
        start = time.perf_counter()
        create_culture_site(spec, by_migrations=by_migrations)
        seconds.append(time.perf_counter() - start)
        print(f"  {label:<10} {i:>3}/{len(specs)}  {spec.slug}  {seconds[-1]:6.2f} s", flush=True)
    return Timings(label, seconds)


def mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report_provisioning(clone: Timings, migrations: Timings) -> bool:
    speedup = migrations.median / clone.median
    clone_ok = clone.median <= TARGET_CLONE_MEDIAN_S
    speedup_ok = speedup >= TARGET_SPEEDUP
    print()
    print(f"Provisioning, {len(clone.seconds)} tenants each way (seconds per tenant)")
    print(f"  {'':<22}{'median':>8}{'min':>8}{'max':>8}   {'target':<16}result")
    print(
        f"  {'clone':<22}{clone.median:8.2f}{min(clone.seconds):8.2f}{max(clone.seconds):8.2f}   "
        f"{f'≤ {TARGET_CLONE_MEDIAN_S:g} s median':<16}{mark(clone_ok)}"
    )
    print(
        f"  {'migrations':<22}{migrations.median:8.2f}{min(migrations.seconds):8.2f}"
        f"{max(migrations.seconds):8.2f}   {'-':<16}-"
    )
    print(f"  {'ratio migrations/clone':<22}{speedup:7.1f}×{'':16}   {f'≥ {TARGET_SPEEDUP:g}×':<16}{mark(speedup_ok)}")
    return clone_ok and speedup_ok


# --- memory of the web process ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, host: str, timeout: float = 30) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own server
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def wait_until_up(process: subprocess.Popen, port: int, host: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"daphne exited with status {process.returncode} before answering")
        try:
            http_get(port, host, timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"daphne did not answer on port {port} within {timeout:.0f} s")


def memory_mib(pid: int) -> dict[str, float]:
    """VmHWM (peak resident set) and VmRSS (current) of a process, in MiB."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            figures[key] = int(value.split()[0]) * 1024 / MIB  # the kernel reports kB
    return figures


def start_daphne(port: int, log) -> subprocess.Popen:
    """daphne as the platform runs it; its access log and warnings go to `log`, not the report."""
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "core.asgi:application"]
    return subprocess.Popen(command, cwd=REPO_ROOT, env=dict(os.environ), stdout=log, stderr=log)  # noqa: S603


def start_servers(count: int, port: int, log) -> list[subprocess.Popen]:
    """One daphne (as `make run`), or `count` sharing one listening socket (as run_platform --web-processes)."""
    if count <= 1:
        return [start_daphne(port, log)]
    listener = socket.create_server(("127.0.0.1", port), backlog=2048)
    listener.set_inheritable(True)
    fd = listener.fileno()
    command = [sys.executable, "-m", "daphne", "--fd", str(fd), "core.asgi:application"]
    servers = [
        subprocess.Popen(command, cwd=REPO_ROOT, env=dict(os.environ), stdout=log, stderr=log, pass_fds=[fd])  # noqa: S603
        for _ in range(count)
    ]
    listener.close()  # the servers hold it
    return servers


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int, *, with_exited_children: bool = False) -> float:
    """CPU time (user + system) a process has used so far, from /proc (Linux); with its exited
    children's (those it has waited for) when asked."""
    fields = _stat(pid)
    ticks = int(fields[11]) + int(fields[12])
    if with_exited_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds(postmaster: int | None) -> float:
    """CPU used so far by the PostgreSQL server: the postmaster, its live backends and the
    backends that have exited (0 when the database is not on this machine)."""
    if postmaster is None:
        return 0.0
    total = cpu_seconds(postmaster, with_exited_children=True)
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == postmaster:
                    total += cpu_seconds(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # exited meanwhile
    return total


def postmaster_pid() -> int | None:
    """The pid of the PostgreSQL server this process is connected to, when it runs on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        return int(_stat(backend)[1])
    except (OSError, IndexError, ValueError):
        return None  # a server elsewhere (DATABASE_URL)


def print_tail(log, lines: int = 20) -> None:
    log.seek(0)
    for line in log.read().decode("utf-8", "replace").splitlines()[-lines:]:
        print(f"    | {line}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def measure_web_memory(specs: list, port: int, rounds: int) -> bool:
    """Serve each tenant's home page `rounds` times from one daphne; report its memory."""
    from django.conf import settings

    from tenants.services import platform_hostname

    port = port or free_port()
    failures = []
    latencies = []
    with tempfile.TemporaryFile() as log:
        process = start_daphne(port, log)
        try:
            wait_until_up(process, port, settings.PLATFORM_DOMAIN)
            at_start = memory_mib(process.pid)
            for _ in range(rounds):
                for spec in specs:
                    start = time.perf_counter()
                    status, body = http_get(port, platform_hostname(spec.slug))
                    latencies.append(time.perf_counter() - start)
                    if status != 200 or spec.name not in body:
                        failures.append(f"{spec.slug}: HTTP {status}" + (", name not on page" if status == 200 else ""))
            at_end = memory_mib(process.pid)
        except BaseException:
            print("daphne's output:")
            print_tail(log)
            raise
        finally:
            stop(process)

    ok = not failures
    print()
    print(f"Web process (daphne, pid {process.pid}, port {port}): {len(specs)} tenants × {rounds} home-page requests")
    print(f"  RSS after start-up           {at_start['VmRSS']:7.1f} MiB")
    print(f"  peak RSS (VmHWM)             {at_end['VmHWM']:7.1f} MiB")
    print(f"  RSS at the end (VmRSS)       {at_end['VmRSS']:7.1f} MiB")
    print(f"  request time, median / max   {statistics.median(latencies) * 1000:7.0f} / {max(latencies) * 1000:.0f} ms")
    print(f"  every page 200 with its site name: {mark(ok)}")
    for failure in failures[:10]:
        print(f"    {failure}")
    return ok


# --- the run ------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="tenants to create each way (default 20)")
    parser.add_argument("--keep", action="store_true", help="leave the benchmark's tenants in place at the end")
    parser.add_argument("--port", type=int, default=0, help="port for daphne (default: a free one)")
    parser.add_argument("--rounds", type=int, default=3, help="home-page requests per tenant (default 3)")
    args = parser.parse_args()
    if not 1 <= args.n <= 999:
        parser.error("--n must be between 1 and 999")
    return args


def main() -> int:
    args = parse_args()
    setup_django()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"database {database_label()}, {os.cpu_count()} CPU(s), load average {load}, Python {sys.version.split()[0]}")
    prepare_database()
    try:
        clones, migrated = city_specs(args.n)
        print(f"creating {args.n} tenants by clone, then {args.n} by migrations")
        clone = time_creations("clone", clones, by_migrations=False)
        migrations = time_creations("migrations", migrated, by_migrations=True)
        provisioning_ok = report_provisioning(clone, migrations)
        serving_ok = measure_web_memory(clones[:SERVED_TENANTS], args.port, args.rounds)
    finally:
        if args.keep:
            print("\n--keep: tenants left in place (the next run removes them first)")
        else:
            remove_bench_tenants()
    return 0 if provisioning_ok and serving_ok else 1


if __name__ == "__main__":
    sys.exit(main())
