"""Load benchmark: a realistic mix of requests against a live `make run`-style server.

Run on demand from the repository root (it is not a test):

    .venv/bin/python bench/load.py                          # 50, 100, 200 clients, 60 s each
    .venv/bin/python bench/load.py --levels 200 --seconds 600   # the 10-minute soak
    .venv/bin/python bench/load.py --drop                   # remove the benchmark database

What runs: the platform exactly as `make run` starts it (`manage.py run_platform`: migrations,
the demo world, the task worker and daphne with `core.settings.dev`), but on a database of its
own, **`culture_load`** (created and provisioned with the demo world on first use, kept between
runs, dropped by `--drop`), with its own page-cache folder, on 127.0.0.1 only (port 8103 unless
`--port`). Your `make run` database and the test databases are never touched.

Each level runs N clients for a fixed time; each client sends one request after the other
(keep-alive, like a browser tab), drawn from this mix:

| share | request |
|---|---|
| 30 % | anonymous pages (home, news, activities, resources, articles) on 5 tenants: the page cache |
| 25 % | the same pages signed in (session cookie: no page cache) as editors of 5 tenants |
| 8 %  | the personal centre /me/, signed in |
| 10 % | Chinese search (/search/?q=…) on the tenants |
| 8 %  | the national catalogue (/catalogue/?q=…) |
| 7 %  | OAI-PMH harvest pages (ListRecords, oai_dc) on the national site |
| 7 %  | admin pages (page explorer, edit form) signed in |
| 5 %  | admin saves: the branding settings form posted back (drops the tenant's cached pages) |

Printed per level: requests/s, latency p50/p95/p99, answers by status, the peak number of
PostgreSQL connections (all, and the web server's own: application_name culture-web-*) against
the configured bound (DB_POOL_SIZE), the web process's RSS at the start and end of the level.
The exit status is 1 when a 5xx answer or a connection error was seen, or when the web server
held more connections than its bound.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from html import unescape
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "culture_load"
HOST_SUFFIX = "culture.localhost"
TENANTS = ["national", "zhejiang", "sichuan", "liaoning", "dalian"]
PAGES = ["/", "/news/", "/activities/", "/resources/", "/news/wangluo-shuxiang/", "/activities/guangchangwu/"]
SEARCHES = ["广场舞", "图书馆", "阅读", "戏曲", "年画", "文化"]
PASSWORD = "Wenhua-2026"
REQUEST_TIMEOUT = 60.0
rng = random.Random(20261202)  # noqa: S311 (a benchmark mix, not security)


# --- the server ---------------------------------------------------------------------------


def database_url() -> str:
    """The benchmark database on the embedded server, as a URL: with DATABASE_URL set, stopping
    run_platform leaves the embedded PostgreSQL running (other work may be using it)."""
    from urllib.parse import quote

    from core.embedded_db import embedded_database_settings

    params = embedded_database_settings(DB_NAME)  # starts the server, creates the database
    return f"postgres://{params['USER']}@{quote(params['HOST'], safe='')}:{params['PORT']}/{DB_NAME}"


def server_env(port: int, pool_size: int | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        DJANGO_SETTINGS_MODULE="core.settings.dev",
        CULTURE_PORT=str(port),
        CULTURE_BIND="127.0.0.1",
        CULTURE_PAGES_CACHE_DIR=str(REPO_ROOT / "var" / "cache" / f"pages-{DB_NAME}"),
        LOG_LEVEL="WARNING",
    )
    if pool_size:
        env["DB_POOL_SIZE"] = str(pool_size)
    return env


def start_platform(port: int, pool_size: int | None, log_path: Path) -> subprocess.Popen:
    """`manage.py run_platform` (what `make run` runs) on the benchmark database; ready when it answers."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    cmd = [sys.executable, "manage.py", "run_platform", "--port", str(port), "--bind", "127.0.0.1"]
    proc = subprocess.Popen(  # noqa: S603
        cmd, cwd=REPO_ROOT, env=server_env(port, pool_size), stdout=log, stderr=log, start_new_session=True
    )
    deadline = time.monotonic() + 1800  # the first run provisions the demo world
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"run_platform exited with {proc.returncode}; see {log_path}")
        if daphne_pid(proc.pid) and answers(port):
            return proc
        time.sleep(1)
    stop_platform(proc)
    raise SystemExit("the platform did not start in 30 minutes")


def stop_platform(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def daphne_pid(parent: int) -> int | None:
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        try:
            if b"daphne" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
        except OSError:
            continue
    return None


def answers(port: int) -> bool:
    import http.client

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/healthz", headers={"Host": HOST_SUFFIX})
        conn.getresponse().read()
        return True
    except OSError:
        return False


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- sessions and the admin form -------------------------------------------------------------


def sign_in(port: int, tenant: str, username: str) -> str:
    """A session cookie for `username`, signed in through the tenant's login form."""
    import requests

    session = requests.Session()
    host = f"{tenant}.{HOST_SUFFIX}:{port}"
    session.headers["Host"] = host
    url = f"http://127.0.0.1:{port}/accounts/login/"
    page = session.get(url, timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        url,
        data={"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD},
        headers={"Referer": f"http://{host}/accounts/login/"},
        allow_redirects=False,
        timeout=60,
    )
    assert answer.status_code == 302, f"sign-in of {username} failed: {answer.status_code}"
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


_INPUT = re.compile(r"<input\b[^>]*>", re.S)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


def form_fields(html: str) -> list[tuple[str, str]]:
    """The fields a browser would post back unchanged (inputs, textareas, selected options)."""
    fields = []
    for tag in _INPUT.findall(html):
        attrs = dict(_ATTR.findall(tag))
        kind = attrs.get("type", "text")
        if "name" not in attrs or kind in {"submit", "button", "file", "image"}:
            continue
        if kind in {"checkbox", "radio"} and "checked" not in tag:
            continue
        fields.append((attrs["name"], unescape(attrs.get("value", "on" if kind == "checkbox" else ""))))
    for name, body in re.findall(r'<textarea\b[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields.append((name, unescape(body)))
    for name, body in re.findall(r'<select\b[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', body)
        if chosen:
            fields.append((name, unescape(chosen.group(1))))
    return fields


def branding_form(port: int, tenant: str, cookie: str) -> tuple[str, bytes] | None:
    """The branding settings form of `tenant` (path, urlencoded body as served), or None."""
    import urllib.parse

    import requests

    headers = {"Host": f"{tenant}.{HOST_SUFFIX}:{port}", "Cookie": cookie}
    # The settings index redirects to the edit form of the tenant's (only) Site.
    page = requests.get(f"http://127.0.0.1:{port}/admin/settings/themes/branding/", headers=headers, timeout=60)
    path = urllib.parse.urlsplit(page.url).path
    start = page.text.find('id="w-editor-form"')
    if page.status_code != 200 or "/branding/" not in path or start < 0:
        return None
    form = page.text[start : page.text.find("</form>", start)]
    return path, urllib.parse.urlencode(form_fields(form)).encode()


# --- the client ---------------------------------------------------------------------------


class Mix:
    def __init__(self, port: int, cookies: dict[str, str], saves: dict[str, tuple[str, bytes]]):
        self.port, self.cookies, self.saves = port, cookies, saves
        self.choices = [
            (30, self.anonymous_page),
            (25, self.signed_in_page),
            (8, self.personal_centre),
            (10, self.search),
            (8, self.catalogue),
            (7, self.oai),
            (7, self.admin_page),
            (5 if saves else 0, self.admin_save),
        ]
        self.weights = [w for w, _ in self.choices]

    def host(self, tenant: str) -> str:
        return f"{tenant}.{HOST_SUFFIX}:{self.port}"

    def pick(self):
        return rng.choices(self.choices, self.weights)[0][1]()

    # each returns (label, method, host, path, cookie, body)
    def anonymous_page(self):
        return "anonymous page", "GET", self.host(rng.choice(TENANTS)), rng.choice(PAGES), None, None

    def signed_in_page(self):
        tenant = rng.choice(TENANTS)
        return "signed-in page", "GET", self.host(tenant), rng.choice(PAGES), self.cookies[tenant], None

    def personal_centre(self):
        tenant = rng.choice(TENANTS)
        return "personal centre", "GET", self.host(tenant), "/me/", self.cookies[tenant], None

    def search(self):
        from urllib.parse import quote

        path = f"/search/?q={quote(rng.choice(SEARCHES))}"
        return "search", "GET", self.host(rng.choice(TENANTS)), path, None, None

    def catalogue(self):
        from urllib.parse import quote

        path = rng.choice(["/catalogue/", f"/catalogue/?q={quote(rng.choice(SEARCHES))}"])
        return "catalogue", "GET", self.host("national"), path, None, None

    def oai(self):
        return "oai", "GET", self.host("national"), "/oai/?verb=ListRecords&metadataPrefix=oai_dc", None, None

    def admin_page(self):
        tenant = rng.choice(TENANTS)
        path = rng.choice(["/admin/", "/admin/pages/", "/admin/pages/4/", "/admin/pages/5/edit/"])
        return "admin page", "GET", self.host(tenant), path, self.cookies[tenant], None

    def admin_save(self):
        tenant = rng.choice(list(self.saves))
        path, body = self.saves[tenant]
        return "admin save", "POST", self.host(tenant), path, self.cookies[tenant], body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, chunked, close = None, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        close = True
    return status, close


class Results:
    def __init__(self):
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.by_label: Counter = Counter()
        self.errors: Counter = Counter()


async def client(mix: Mix, port: int, until: float, results: Results, csrf: dict[str, str]) -> None:
    reader = writer = None
    while time.monotonic() < until:
        label, method, host, path, cookie, body = mix.pick()
        head = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: culture-bench-load"]
        if cookie:
            head.append(f"Cookie: {cookie}")
        if method == "POST":
            head += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body) + len(csrf[host]) + 21}",
                f"Referer: http://{host}{path}",
            ]
            body = body + b"&csrfmiddlewaretoken=" + csrf[host].encode()
        request = ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")
        started = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            async with asyncio.timeout(REQUEST_TIMEOUT):
                status, close = await read_response(reader)
        except (OSError, ConnectionError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            results.errors[type(exc).__name__] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        results.latencies.append(time.monotonic() - started)
        results.statuses[status] += 1
        results.by_label[(label, status)] += 1
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


# --- PostgreSQL connections ----------------------------------------------------------------


class ConnectionSampler(threading.Thread):
    """Counts connections to the benchmark database every 0.1 s (its own connection excluded)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peak_all = self.peak_web = 0

    def run(self):
        import psycopg2

        from core.embedded_db import embedded_database_settings

        params = embedded_database_settings(DB_NAME)
        conn = psycopg2.connect(
            dbname=DB_NAME, user=params["USER"], host=params["HOST"], port=params["PORT"], application_name="bench"
        )
        conn.autocommit = True
        with conn.cursor() as cursor:
            while not self.stop.is_set():
                cursor.execute(
                    "SELECT count(*), count(*) FILTER (WHERE application_name LIKE 'culture-web-%%') "
                    "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    [DB_NAME],
                )
                total, web = cursor.fetchone()
                self.peak_all, self.peak_web = max(self.peak_all, total), max(self.peak_web, web)
                time.sleep(0.1)
        conn.close()


# --- a level --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def csrf_tokens(port: int, cookies: dict[str, str]) -> dict[str, str]:
    tokens = {}
    for tenant, cookie in cookies.items():
        match = re.search(r"csrftoken=([^;]+)", cookie)
        tokens[f"{tenant}.{HOST_SUFFIX}:{port}"] = match.group(1) if match else ""
    return tokens


def run_level(mix: Mix, port: int, clients: int, seconds: float, web_pid: int, csrf) -> dict:
    results = Results()
    sampler = ConnectionSampler()
    sampler.start()
    rss_start = rss_mib(web_pid)

    async def main():
        until = time.monotonic() + seconds
        await asyncio.gather(*(client(mix, port, until, results, csrf) for _ in range(clients)))

    started = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - started
    sampler.stop.set()
    sampler.join()
    return {
        "clients": clients,
        "seconds": elapsed,
        "requests": len(results.latencies),
        "rps": len(results.latencies) / elapsed,
        "p50": percentile(results.latencies, 50) * 1000,
        "p95": percentile(results.latencies, 95) * 1000,
        "p99": percentile(results.latencies, 99) * 1000,
        "statuses": dict(sorted(results.statuses.items())),
        "errors": dict(results.errors),
        "by_label": results.by_label,
        "peak_connections": sampler.peak_all,
        "peak_web_connections": sampler.peak_web,
        "rss_start": rss_start,
        "rss_end": rss_mib(web_pid),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="50,100,200", help="concurrent clients per level")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of each level")
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--pool-size", type=int, default=None, help="DB_POOL_SIZE of the web server")
    parser.add_argument("--drop", action="store_true", help="drop the benchmark database and exit")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO_ROOT))
    os.environ.update(DJANGO_SETTINGS_MODULE="core.settings.dev", CULTURE_DB_NAME=DB_NAME, LOG_LEVEL="WARNING")
    os.environ.pop("DATABASE_URL", None)
    if args.drop:
        return drop_database()

    levels = [int(n) for n in args.levels.split(",")]
    assert max(levels) <= 400 and args.seconds <= 900, "bounded runs only"
    bound = args.pool_size or int(os.environ.get("DB_POOL_SIZE", "20"))
    log_path = REPO_ROOT / "var" / "log" / "bench-load-server.log"
    print(f"starting the platform on 127.0.0.1:{args.port} (database {DB_NAME}; log {log_path})...", flush=True)
    proc = start_platform(args.port, args.pool_size, log_path)
    failed = False
    try:
        web_pid = daphne_pid(proc.pid)
        tenants_users = {t: f"{t}_editor" for t in TENANTS}
        cookies = {t: sign_in(args.port, t, user) for t, user in tenants_users.items()}
        admin_cookies = {t: sign_in(args.port, t, f"{t}_admin") for t in ("zhejiang", "dalian")}
        saves = {}
        for tenant, cookie in admin_cookies.items():
            form = branding_form(args.port, tenant, cookie)
            if form:
                saves[tenant] = form
        cookies.update({t: c for t, c in admin_cookies.items()})
        mix = Mix(args.port, cookies, saves)
        if not saves:
            print("  (no admin form found: admin saves left out of the mix)")
        csrf = csrf_tokens(args.port, cookies)
        run_level(mix, args.port, 10, 10, web_pid, csrf)  # warm-up: templates, caches
        print(
            f"\nweb process pid {web_pid}, DB_POOL_SIZE (bound) {bound}, {os.cpu_count()} CPUs, "
            f"load average before: {os.getloadavg()[0]:.1f}"
        )
        header = f"{'clients':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'peak conn (web/all)':>20} {'RSS MiB start→end':>18}  statuses / errors"
        print(header)
        rows = []
        for clients in levels:
            row = run_level(mix, args.port, clients, args.seconds, web_pid, csrf)
            rows.append(row)
            growth = (row["rss_end"] / row["rss_start"] - 1) * 100 if row["rss_start"] else 0
            print(
                f"{clients:>7} {row['rps']:>7.1f} {row['p50']:>8.0f} {row['p95']:>8.0f} {row['p99']:>8.0f} "
                f"{row['peak_web_connections']:>9}/{row['peak_connections']:<10} "
                f"{row['rss_start']:>7.0f}→{row['rss_end']:<5.0f}({growth:+.1f}%)  {row['statuses']} {row['errors'] or ''}",
                flush=True,
            )
            fives = sum(n for status, n in row["statuses"].items() if status >= 500)
            if fives or row["errors"] or row["peak_web_connections"] > bound:
                failed = True
        print("\nanswers by kind of request (all levels):")
        totals: Counter = Counter()
        for row in rows:
            totals.update(row["by_label"])
        for (label, status), n in sorted(totals.items()):
            print(f"  {label:<16} {status}: {n}")
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")
        median_p95 = statistics.median(r["p95"] for r in rows)
        print(f"median p95 over the levels: {median_p95:.0f} ms")
        print("targets: 0 5xx and no connection errors at every level; web connections ≤ bound; RSS growth < 10 %")
        print("RESULT:", "FAIL" if failed else "PASS")
    finally:
        stop_platform(proc)
    return 1 if failed else 0


def drop_database() -> int:
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


if __name__ == "__main__":
    sys.exit(main())
