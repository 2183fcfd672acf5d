"""Serving benchmark: a tenant's home page against a plain single-tenant Wagtail page.

Run on demand from the repository root (it is not a test):

    .venv/bin/python bench/serve.py                    # 4 clients × 200 requests per pass
    .venv/bin/python bench/serve.py --clients 8 --requests 100
    .venv/bin/python bench/serve.py --drop             # remove the tenant and the plain database

Both sides are served by daphne (one process each, started one after the other) with the same
Django settings style (DEBUG off unless --debug) and the same embedded PostgreSQL server:

* platform: tenant `benchserve` in `culture_bench`, created once with the demo content
  (tenants.services.create_culture_site + cms_pages.demo.seed_demo_content) and kept;
* plain:    a minimal Wagtail project generated in a temporary directory, database
  `culture_bench_plain`, one HomePage holding the same intro, titles and summaries.

Each side gets a warm-up, then two identical passes of N keep-alive clients. The platform has no
full-page cache (no cache middleware), so the second pass is only "the same request again".
See bench/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import provision  # bench/provision.py: Django set-up, daphne helpers

REPO_ROOT = provision.REPO_ROOT
TENANT_SLUG = "benchserve"
TENANT_NAME = "文化云服务基准站"
# CULTURE_DB_NAME chooses another benchmark database (runs side by side on one server);
# the plain project's database is named after it.
BENCH_DB_NAME = os.environ.get("CULTURE_DB_NAME", provision.BENCH_DB_NAME)
PLAIN_DB_NAME = f"{BENCH_DB_NAME}_plain"
TARGET_UNCACHED_VS_PLAIN = 0.9
TARGET_CACHED_VS_UNCACHED = 10.0
# A browser-like agent: requests without one are not counted as page views (stats.collect).
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) bench-serve/1.0"
# Page-view counting may cost cached pages at most this share of their throughput (issue 17).
TARGET_COUNTING_COST = 0.10
CACHE_MIDDLEWARE = ("UpdateCacheMiddleware", "FetchFromCacheMiddleware", "CacheMiddleware", "wagtailcache")


# --- the tenant ---------------------------------------------------------------------------


def free_province_code() -> str:
    """A province code no tenant uses (from the end of the list: bench/provision.py takes the start)."""
    from tenants.models import CultureSite

    taken = set(CultureSite.objects.values_list("region_code", flat=True))
    for code in sorted(provision.load_divisions(), reverse=True):
        if code.endswith("0000") and code != "100000" and code not in taken:
            return code
    raise SystemExit("no free province code for the benchmark tenant")


def prepare_platform() -> None:
    """Public schema and template current (without touching other benchmarks' tenants)."""
    from django.core.management import call_command

    from tenants import services

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    pending = services.schemas_with_pending_migrations()
    for schema in (services.TEMPLATE_SCHEMA, TENANT_SLUG):
        if schema in pending:
            call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=0)
    services.ensure_platform_tenant()
    services.ensure_template()


def ensure_tenant() -> float | None:
    """Create `benchserve` with the demo content unless it exists; seconds taken, None if reused."""
    from django_tenants.utils import schema_context

    from cms_pages.demo import seed_demo_content
    from cms_pages.models import HomePage
    from tenants import services
    from tenants.models import CultureSite

    if CultureSite.objects.filter(schema_name=TENANT_SLUG).exists():
        return None
    start = time.perf_counter()
    spec = services.NewSite(slug=TENANT_SLUG, name=TENANT_NAME, kind="province", region_code=free_province_code())
    services.create_culture_site(spec)
    with schema_context(TENANT_SLUG):
        home = HomePage.objects.get(locale__language_code="zh-hans")
        home.intro = (
            "<p>公共文化云汇聚图书馆、文化馆的数字资源与服务：广场舞展演、网络书香、图书馆公开课，一站直达。</p>"
        )
        home.save_revision().publish()
        seed_demo_content(TENANT_NAME, TENANT_SLUG)
    return time.perf_counter() - start


def tenant_content() -> dict[str, str]:
    """The tenant home page's intro and the lists it shows, as rich text for the plain page."""
    from django_tenants.utils import schema_context

    from cms_pages.models import ActivityPage, HomePage, NewsPage, ResourcePage

    with schema_context(TENANT_SLUG):
        home = HomePage.objects.get(locale__language_code="zh-hans")
        parts = []
        for heading, model in (("最新动态", NewsPage), ("近期活动", ActivityPage), ("数字资源", ResourcePage)):
            parts.append(f"<h2>{heading}</h2>")
            for page in model.objects.live().order_by("-first_published_at")[:4]:
                parts.append(f'<h3><a href="{page.url}">{page.title}</a></h3><p>{page.summary}</p>')
        return {"title": home.title, "intro": home.intro, "body": "".join(parts)}


def drop_tenant() -> None:
    provision.drop_tenant(TENANT_SLUG)


# --- the plain Wagtail project ------------------------------------------------------------

PLAIN_MODELS = """
from django.db import models
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    intro = RichTextField(blank=True)
    body = RichTextField(blank=True)
"""

PLAIN_TEMPLATE = """{% load wagtailcore_tags static %}<!DOCTYPE html>
<html lang="zh-hans">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ page.title }}</title>
  <link rel="canonical" href="{{ page.full_url }}">
  <link rel="stylesheet" href="{% static 'site.css' %}">
</head>
<body>
  <header><a href="/">{{ page.title }}</a>
    <form method="get" action="/search/"><input type="search" name="q"><button>搜索</button></form></header>
  <main>
    <h1>{{ page.title }}</h1>
    <div class="intro">{{ page.intro|richtext }}</div>
    {{ page.body|richtext }}
  </main>
  <footer>{{ page.title }}</footer>
</body>
</html>
"""

PLAIN_SETUP = """
import json, sys
import django
django.setup()
from wagtail.models import Page, Site
from home.models import HomePage

content = json.load(open(sys.argv[1], encoding="utf-8"))
root = Page.get_first_root_node()
home = HomePage.objects.first()
if home is None:
    home = root.add_child(instance=HomePage(title=content["title"], slug="bench-home", live=True))
home.title, home.intro, home.body = content["title"], content["intro"], content["body"]
home.save_revision().publish()
Site.objects.update_or_create(is_default_site=True, defaults={"root_page": home, "hostname": "localhost"})
Page.objects.exclude(pk__in=[root.pk, home.pk]).delete()
"""


def plain_settings(db: dict, debug: bool) -> str:
    database = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": PLAIN_DB_NAME,
        **{key: db[key] for key in ("USER", "PASSWORD", "HOST", "PORT")},
        "CONN_MAX_AGE": db.get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": db.get("CONN_HEALTH_CHECKS", False),
    }
    return textwrap.dedent(f"""
        from pathlib import Path
        BASE_DIR = Path(__file__).resolve().parent
        SECRET_KEY = "plain-wagtail-benchmark-only-0123456789-abcdefghijklmnopqrstuvwxyz"
        DEBUG = {debug!r}
        ALLOWED_HOSTS = ["*"]
        INSTALLED_APPS = [
            "home",
            "wagtail.contrib.redirects",
            "wagtail.sites", "wagtail.users", "wagtail.snippets", "wagtail.documents",
            "wagtail.images", "wagtail.search", "wagtail.admin", "wagtail",
            "modelcluster", "taggit",
            "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
            "django.contrib.messages", "django.contrib.staticfiles",
        ]
        MIDDLEWARE = [
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "wagtail.contrib.redirects.middleware.RedirectMiddleware",
        ]
        ROOT_URLCONF = "plainsite.urls"
        TEMPLATES = [{{
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {{"context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]}},
        }}]
        DATABASES = {{"default": {database!r}}}
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        LANGUAGE_CODE = "zh-hans"
        TIME_ZONE = "Asia/Shanghai"
        USE_TZ = True
        STATIC_URL = "/static/"
        MEDIA_URL = "/media/"
        MEDIA_ROOT = BASE_DIR / "media"
        WAGTAIL_SITE_NAME = "plain"
        WAGTAILADMIN_BASE_URL = "http://localhost"
    """)


def write_plain_project(root: Path, db: dict, debug: bool) -> None:
    files = {
        "plainsite/__init__.py": "",
        "plainsite/settings.py": plain_settings(db, debug),
        "plainsite/urls.py": "from django.urls import include, path\nfrom wagtail import urls\n\n"
        "urlpatterns = [path('', include(urls))]\n",
        "plainsite/asgi.py": "from django.core.asgi import get_asgi_application\n\napplication = get_asgi_application()\n",
        "home/__init__.py": "",
        "home/migrations/__init__.py": "",
        "home/models.py": PLAIN_MODELS,
        "home/templates/home/home_page.html": PLAIN_TEMPLATE,
        "setup_page.py": PLAIN_SETUP,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def admin_connection(db: dict):
    import psycopg2

    conn = psycopg2.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
    )
    conn.autocommit = True
    return conn


def ensure_plain_database(db: dict) -> None:
    conn = admin_connection(db)
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PLAIN_DB_NAME])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{PLAIN_DB_NAME}"')
    conn.close()


def drop_plain_database(db: dict) -> None:
    conn = admin_connection(db)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{PLAIN_DB_NAME}" WITH (FORCE)')
    conn.close()


def plain_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    return {**env, "PYTHONPATH": str(root), "DJANGO_SETTINGS_MODULE": "plainsite.settings"}


def set_up_plain_project(root: Path, db: dict, content: dict[str, str], debug: bool) -> float:
    """Generate, migrate (a no-op after the first run) and fill the plain project; seconds taken."""
    start = time.perf_counter()
    write_plain_project(root, db, debug)
    ensure_plain_database(db)
    env = plain_env(root)
    content_file = root / "content.json"
    content_file.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    for command in (
        [sys.executable, "-m", "django", "makemigrations", "home", "-v", "0"],
        [sys.executable, "-m", "django", "migrate", "-v", "0"],
        [sys.executable, "setup_page.py", str(content_file)],
    ):
        subprocess.run(command, cwd=root, env=env, check=True)  # noqa: S603 - our own commands
    return time.perf_counter() - start


# --- load generation ----------------------------------------------------------------------

DAPHNE = [sys.executable, "-m", "daphne", "-b", "127.0.0.1"]


@dataclass
class Server:
    application: str
    cwd: Path
    env: dict[str, str]


@dataclass
class Pass:
    label: str
    latencies: list[float]
    seconds: float
    failures: int
    size: int
    hits: int

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def client(port: int, host: str, count: int, expect: str, result: dict) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for _ in range(count):
            start = time.perf_counter()
            conn.request("GET", "/", headers={"Host": host, "User-Agent": USER_AGENT})
            response = conn.getresponse()
            body = response.read()
            result["latencies"].append(time.perf_counter() - start)
            result["sizes"].append(len(body))
            result["hits"] += response.getheader("X-Page-Cache") == "hit"
            if response.status != 200 or expect.encode() not in body:
                result["failures"] += 1
    finally:
        conn.close()


def run_pass(label: str, port: int, host: str, clients: int, requests: int, expect: str) -> Pass:
    result = {"latencies": [], "sizes": [], "hits": 0, "failures": 0}
    threads = [threading.Thread(target=client, args=(port, host, requests, expect, result)) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    return Pass(
        label, result["latencies"], seconds, result["failures"], int(statistics.median(result["sizes"])), result["hits"]
    )


def measure(server: Server, args, expect: str, labels: list[str]) -> list[Pass]:
    """Start daphne, warm up, run one pass per label (identical requests), stop it."""
    port = provision.free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [*DAPHNE, "-p", str(port), server.application], cwd=server.cwd, env=server.env, stdout=log, stderr=log
        )
        try:
            provision.wait_until_up(process, port, args.host)
            run_pass("warm-up", port, args.host, args.clients, args.warmup, expect)
            return [run_pass(label, port, args.host, args.clients, args.requests, expect) for label in labels]
        except BaseException:
            print(f"{server.application} daphne's output:")
            provision.print_tail(log)
            raise
        finally:
            provision.stop(process)


# --- report -------------------------------------------------------------------------------


def page_cache_setting() -> str | None:
    """The platform's full-page cache switch (core.page_cache), None when there is no such cache."""
    from django.conf import settings

    if not any("PageCache" in m or "CacheMiddleware" in m for m in settings.MIDDLEWARE):
        return None
    return "PAGE_CACHE_SECONDS" if hasattr(settings, "PAGE_CACHE_SECONDS") else None


def report(plain: Pass, uncached: Pass, cached: Pass, cache: str | None, args) -> bool:
    vs_plain = uncached.rate / plain.rate
    vs_uncached = cached.rate / uncached.rate
    print()
    print(f"Home page, {args.clients} keep-alive clients × {args.requests} requests per pass, Host {args.host}")
    print(f"  {'':<40}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'bytes':>8}{'hits':>7}{'errors':>8}")
    for row in (plain, uncached, cached):
        print(
            f"  {row.label:<40}{row.rate:8.1f}{row.percentile(50):9.1f}{row.percentile(95):9.1f}"
            f"{row.size:8d}{row.hits:7d}{row.failures:8d}"
        )
    print()
    ok_plain = vs_plain >= TARGET_UNCACHED_VS_PLAIN
    ok_cached = vs_uncached >= TARGET_CACHED_VS_UNCACHED
    errors = sum(p.failures for p in (plain, uncached, cached))
    print(f"  {'ratio':<44}{'value':>7}   {'target':<10}result")
    print(
        f"  {'platform uncached / plain Wagtail, req/s':<44}{vs_plain:6.2f}×   "
        f"{f'≥ {TARGET_UNCACHED_VS_PLAIN:g}×':<10}{provision.mark(ok_plain)}"
    )
    print(
        f"  {'platform cached / uncached, req/s':<44}{vs_uncached:6.2f}×   "
        f"{f'≥ {TARGET_CACHED_VS_UNCACHED:g}×':<10}{provision.mark(ok_cached)}"
    )
    print(f"  {'p95 platform uncached / plain Wagtail':<44}{uncached.percentile(95) / plain.percentile(95):6.2f}×")
    print(f"  {'p95 platform cached / uncached':<44}{cached.percentile(95) / uncached.percentile(95):6.2f}×")
    if cache is None:
        print("  note: the platform has no full-page cache (no cache middleware in MIDDLEWARE);")
        print("        'cached' is a second identical pass, rendered in full like the first.")
    else:
        print(f"  uncached: {cache}=0 for that daphne; cached: the platform's settings, after the warm-up")
    print(f"  every answer 200 with the page's title: {provision.mark(errors == 0)}")
    return ok_plain and ok_cached and errors == 0


# --- the run ------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="concurrent keep-alive clients (default 4)")
    parser.add_argument("--requests", type=int, default=200, help="requests per client per pass (default 200)")
    parser.add_argument("--warmup", type=int, default=25, help="warm-up requests per client (default 25)")
    parser.add_argument("--debug", action="store_true", help="serve both sides with DEBUG=True (default False)")
    parser.add_argument("--drop", action="store_true", help="remove the benchserve tenant and the plain database")
    parser.add_argument(
        "--page-view-counting",
        action="store_true",
        help="only compare cached throughput with page-view counting off and on (stats.collect), two rounds",
    )
    return parser.parse_args()


def platform_settings_module(root: Path, debug: bool) -> str:
    """The platform's settings (core.settings.dev unless DJANGO_SETTINGS_MODULE says otherwise), DEBUG as asked."""
    base = os.environ.get("DJANGO_SETTINGS_MODULE", "core.settings.dev")
    (root / "bench_serve_settings.py").write_text(f"from {base} import *  # noqa\nDEBUG = {debug!r}\n")
    return "bench_serve_settings"


def measure_platform(root: Path, args, title: str, cache: str | None) -> tuple[Pass, Pass]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), str(REPO_ROOT)]),
        "DJANGO_SETTINGS_MODULE": platform_settings_module(root, args.debug),
    }
    if cache is None:  # no page cache: the same server, the same request twice
        first, second = measure(Server("core.asgi:application", REPO_ROOT, env), args, title, ["first", "second"])
        first.label, second.label = "platform, first pass", "platform, second pass ('cached')"
        return first, second
    (uncached,) = measure(
        Server("core.asgi:application", REPO_ROOT, {**env, cache: "0"}), args, title, ["platform, page cache off"]
    )
    (cached,) = measure(Server("core.asgi:application", REPO_ROOT, env), args, title, ["platform, page cache on"])
    return uncached, cached


def measure_counting(args, title: str) -> bool:
    """Cached home page with page-view counting off, then on (CULTURE_STATS_PAGE_VIEWS), twice each."""
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        root = Path(tmp)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(root), str(REPO_ROOT)]),
            "DJANGO_SETTINGS_MODULE": platform_settings_module(root, args.debug),
        }
        rounds: dict[str, list[Pass]] = {"off": [], "on": []}
        for _ in range(2):
            for switch in ("off", "on"):
                server = Server(
                    "core.asgi:application",
                    REPO_ROOT,
                    {**env, "CULTURE_STATS_PAGE_VIEWS": "1" if switch == "on" else "0"},
                )
                (result,) = measure(server, args, title, [f"cached, page-view counting {switch}"])
                rounds[switch].append(result)
    best = {switch: max(passes, key=lambda p: p.rate) for switch, passes in rounds.items()}
    print()
    print(f"Cached home page, {args.clients} keep-alive clients × {args.requests} requests, best of two rounds")
    print(f"  {'':<40}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'hits':>7}{'errors':>8}")
    for row in (best["off"], best["on"]):
        print(
            f"  {row.label:<40}{row.rate:8.1f}{row.percentile(50):9.1f}{row.percentile(95):9.1f}{row.hits:7d}{row.failures:8d}"
        )
    cost = 1 - best["on"].rate / best["off"].rate
    ok = cost <= TARGET_COUNTING_COST and not any(p.failures for p in rounds["on"] + rounds["off"])
    print(
        f"  throughput lost to counting: {cost * 100:5.1f} %   target ≤ {TARGET_COUNTING_COST * 100:g} %   {provision.mark(ok)}"
    )
    return ok


def main() -> int:
    args = parse_args()
    provision.BENCH_DB_NAME = BENCH_DB_NAME
    provision.setup_django()
    from django.conf import settings

    from tenants.services import platform_hostname

    db = settings.DATABASES["default"]
    if args.drop:
        drop_tenant()
        drop_plain_database(db)
        print(f"removed tenant {TENANT_SLUG} and database {PLAIN_DB_NAME}")
        return 0
    args.host = platform_hostname(TENANT_SLUG)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"database {provision.database_label()}, {os.cpu_count()} CPU(s), load average {load}, DEBUG={args.debug}")
    prepare_platform()
    created = ensure_tenant()
    print(f"tenant {TENANT_SLUG}: " + (f"created with demo content in {created:.1f} s" if created else "reused"))
    content = tenant_content()
    if args.page_view_counting:
        return 0 if measure_counting(args, content["title"]) else 1
    cache = page_cache_setting()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        root = Path(tmp)
        seconds = set_up_plain_project(root / "plain", db, content, args.debug)
        print(f"plain Wagtail project: generated, migrated and filled in {seconds:.1f} s ({PLAIN_DB_NAME})")
        plain_server = Server("plainsite.asgi:application", root / "plain", plain_env(root / "plain"))
        (plain,) = measure(plain_server, args, content["title"], ["plain Wagtail"])
        uncached, cached = measure_platform(root, args, content["title"], cache)
    return 0 if report(plain, uncached, cached, cache, args) else 1


if __name__ == "__main__":
    sys.exit(main())
