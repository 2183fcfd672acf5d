"""Load benchmark: a realistic mix of requests against a live `make run`-style server.

Run on demand from the repository root (it is not a test):

    .venv/bin/python bench/load.py                          # 50, 100, 200 clients, 60 s each
    .venv/bin/python bench/load.py --levels 200 --seconds 600   # the 10-minute soak
    .venv/bin/python bench/load.py --drop                   # remove the benchmark database

What runs: the platform exactly as `make run` starts it (`manage.py run_platform`: migrations,
the demo world, the task worker and the web server it runs — daphne today — with
`core.settings.dev`), but on a database of its
own, **`culture_load`** (created and provisioned with the demo world on first use, kept between
runs, dropped by `--drop`), with its own page-cache folder, on 127.0.0.1 only (port 8103 unless
`--port`). Your `make run` database and the test databases are never touched.

Each level runs N clients for a fixed time; each client sends one request after the other
(keep-alive, like a browser tab) from an address of its own (X-Forwarded-For; the server trusts
one proxy, as behind the reverse proxy of docs/deployment.md, so per-address rate limits count
each person), drawn from this mix:

| share | request |
|---|---|
| 28 % | anonymous pages (home, news, activities, resources, articles) on 5 tenants: the page cache |
| 20 % | the same pages signed in (session cookie: no page cache) as editors of 5 tenants |
| 6 %  | the personal centre /me/, signed in |
| 9 %  | Chinese search (/search/?q=…) on the tenants |
| 7 %  | the national catalogue (/catalogue/?q=…) |
| 7 %  | OAI-PMH harvest pages (ListRecords, oai_dc) on the national site |
| 6 %  | admin pages (page explorer, edit form) signed in |
| 3 %  | admin saves: the branding settings form posted back unchanged (drops the tenant's cached pages) |
| 4 %  | bookings: one seat of one of 20 large sessions (zhejiang), by 200 bench people |
| 3 %  | votes on dalian's demo campaign (JSON; 409 once a person's votes of the day are used) |
| 7 %  | progress reports of a video lesson (zhejiang), as the training player sends them |

The 200 bench people (accounts `livebook_load_*` with real-name data and a session each) are made
in the benchmark database on first use and kept; their bookings and votes of earlier runs are
removed at the start of each run.

Printed per level: requests/s, latency p50/p95/p99, answers by status, the peak number of
PostgreSQL connections (all, and the web server's own: application_name culture-web-*) against
the configured bound (DB_POOL_SIZE), the web process's RSS at the start and end of the level.
The 5xx answers are listed by what they say (a rate limit, the busy page, an error). The exit
status is 1 when a 5xx answer or a connection error was seen, or when the web server held more
connections than its bound.
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
PEOPLE = 200  # bench accounts who book, vote and report progress
BOOKING_TENANT = TRAINING_TENANT = "zhejiang"
VOTE_TENANT = "dalian"
BOOKING_SESSIONS = 20
CSRF = "b" * 32  # the bench people's CSRF secret: cookie and form field (or X-CSRFToken) agree
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
        TRUSTED_PROXY_COUNT="1",  # the clients' X-Forwarded-For: an address per client (see `client`)
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
        if web_server_pid(proc.pid) and answers(port):
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


def web_server_pid(parent: int) -> int | None:
    """The web server run_platform started: its child that is not the task worker (whatever
    ASGI server it runs; with --web-processes the first of them)."""
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"run_worker" not in cmdline:
            return int(child)
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


class Browser:
    """One person's cookies on one tenant host, over http.client.

    Cookies are kept by hand: the session cookie carries `Domain=culture.localhost` (one sign-in
    for every subdomain, docs/unified-login.md), which a cookie jar refuses for a request sent to
    127.0.0.1 — the bench then ran "signed in" without a session."""

    def __init__(self, port: int, tenant: str):
        self.port, self.host = port, f"{tenant}.{HOST_SUFFIX}:{port}"
        self.cookies: dict[str, str] = {}

    @property
    def cookie(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        import http.client
        from http.cookies import SimpleCookie

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        sent = {"Host": self.host, **({"Cookie": self.cookie} if self.cookies else {}), **(headers or {})}
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for value in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        conn.close()
        return response.status, response.getheader("Location", ""), text


def sign_in(port: int, tenant: str, username: str) -> Browser:
    """A browser signed in as `username` through the tenant's login form."""
    from urllib.parse import urlencode

    browser = Browser(port, tenant)
    _, _, page = browser.request("GET", "/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    status, _, _ = browser.request(
        "POST",
        "/accounts/login/",
        urlencode({"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://{browser.host}/accounts/login/"},
    )
    assert status == 302 and "sessionid" in browser.cookies, f"sign-in of {username} failed: {status}"
    return browser


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


def service_entrance_fields(tenant: str) -> list[tuple[str, str]]:
    """The fields the admin's StreamField widget posts for the branding's service entrances.

    The widget is drawn by JavaScript from a JSON state, so the served HTML has no inputs for it
    (posting the form without them is a 500 in Wagtail's StreamBlock). The same fields a browser
    sends, made from the saved value (Django set up in this process, see `People`)."""
    from django_tenants.utils import schema_context

    from themes.models import Branding

    with schema_context(tenant):
        raw = list(Branding.objects.order_by("pk").first().service_entrances.raw_data)
    prefix = "service_entrances"
    fields = [(f"{prefix}-count", str(len(raw)))]
    for i, block in enumerate(raw):
        fields += [
            (f"{prefix}-{i}-type", block["type"]),
            (f"{prefix}-{i}-deleted", ""),
            (f"{prefix}-{i}-order", str(i)),
            (f"{prefix}-{i}-id", block.get("id") or ""),
        ]
        fields += [(f"{prefix}-{i}-value-{name}", str(value or "")) for name, value in block["value"].items()]
    return fields


def branding_form(browser: Browser, tenant: str) -> tuple[str, bytes] | None:
    """The tenant's branding settings form as served (path, urlencoded body), or None.

    /admin/settings/themes/branding/ redirects to the form of the tenant's (only) Site,
    /admin/settings/themes/branding/<site id>/ (Wagtail's generic edit view, form `w-editor-form`).
    Posted back unchanged it saves the same values (a real save: the tenant's cached pages are
    dropped) and answers 302 back to the form; a 200 would be the form again with errors."""
    import urllib.parse

    path = "/admin/settings/themes/branding/"
    status, location, page = browser.request("GET", path)
    if status == 302:
        path = urllib.parse.urlsplit(location).path
        status, location, page = browser.request("GET", path)
    start = page.find('id="w-editor-form"')
    if status != 200 or start < 0:
        print(f"  no branding form at {path} on {browser.host}: HTTP {status} {location}")
        return None
    form = page[start : page.find("</form>", start)]
    fields = [(name, value) for name, value in form_fields(form) if name != "csrfmiddlewaretoken"]
    fields += service_entrance_fields(tenant)
    body = urllib.parse.urlencode(fields).encode()
    token = browser.cookies.get("csrftoken", "")
    status, location, _ = browser.request(
        "POST",
        path,
        body + b"&csrfmiddlewaretoken=" + token.encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://{browser.host}{path}"},
    )
    if status != 302 or "/login/" in location:  # 200: the form came back with errors, nothing saved
        print(f"  the branding form of {browser.host} did not save: HTTP {status} {location}")
        return None
    return path, body


# --- people who book, vote and learn ----------------------------------------------------------


class People:
    """Bench accounts (real-name data, a session each) and what they act on, in the benchmark
    database: bookable sessions in BOOKING_TENANT, the demo campaign of VOTE_TENANT, a video
    lesson in TRAINING_TENANT — as bench/bookings.py, bench/ws_fanout.py and bench/training.py
    set them up. Kept between runs; their bookings and votes of earlier runs are removed first,
    so every run starts with seats free and the day's votes unused."""

    def __init__(self, count: int):
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection
        from django_tenants.utils import schema_context

        from bookings.models import Booking, Session
        from campaigns.models import CampaignEntry, Vote
        from cms_pages.models import CampaignPage
        from tests.bookings import live

        # Their passwords are never used (each gets a session): a fast hasher for creating them.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        connection.set_schema_to_public()
        people = live.make_people(count, "load")  # [(user id, session key)]
        self.session_keys = [key for _, key in people]
        ids = [user_id for user_id, _ in people]
        with schema_context(BOOKING_TENANT):
            earlier = set(Booking.objects.filter(user_id__in=ids).values_list("session_id", flat=True))
            Booking.objects.filter(session_id__in=earlier).delete()
            Session.objects.filter(pk__in=earlier).delete()
        self.booking_sessions = [live.make_session(100_000, schema=BOOKING_TENANT) for _ in range(BOOKING_SESSIONS)]
        with schema_context(VOTE_TENANT):
            Vote.objects.filter(voter_id__in=ids).delete()
            campaign = CampaignPage.objects.get(slug="campaign", locale__language_code="zh-hans")
            self.campaign = campaign.pk
            self.entries = list(
                CampaignEntry.objects.filter(campaign=campaign, status="approved").values_list("pk", flat=True)
            )
        self.lessons = self._lessons(ids)
        connection.close()

    @staticmethod
    def _lessons(user_ids: list[int]) -> list[tuple[int, str]]:
        """(progress id, player session) of each person in a one-hour video lesson."""
        from django.contrib.auth import get_user_model
        from django_tenants.utils import schema_context

        from training import services
        from training.models import Course, Enrollment, Lesson

        users = {u.pk: u for u in get_user_model().objects.filter(pk__in=user_ids)}
        with schema_context(TRAINING_TENANT):
            course = Course.objects.filter(title="负载基准课程").first()
            if course is None:
                course = services.save_course(Course(title="负载基准课程", status=Course.Status.PUBLISHED))
                chapter = services.add_chapter(course, "第一章")
                Lesson.objects.create(
                    chapter=chapter, title="一小时视频", duration_seconds=3600, video_url="https://example.cn/v.mp4"
                )
            lesson = Lesson.objects.get(chapter__course=course)
            have = set(Enrollment.objects.filter(course=course).values_list("user_id", flat=True))
            Enrollment.objects.bulk_create(
                [Enrollment(course=course, user=users[i]) for i in user_ids if i not in have]
            )
            enrollments = {e.user_id: e for e in Enrollment.objects.filter(course=course, user_id__in=user_ids)}
            lessons = []
            for user_id in user_ids:
                progress = services.start_lesson(enrollments[user_id], lesson)
                lessons.append((progress.pk, progress.session))
        return lessons


# --- the client ---------------------------------------------------------------------------


FORM = "Content-Type: application/x-www-form-urlencoded"


class Mix:
    """The requests, drawn by share. Each is (label, method, host, path, header lines, body)."""

    def __init__(self, port: int, browsers: dict[str, Browser], saves: dict[str, tuple[str, bytes]], people: People):
        self.port, self.browsers, self.saves, self.people = port, browsers, saves, people
        self.choices = [
            (28, self.anonymous_page),
            (20, self.signed_in_page),
            (6, self.personal_centre),
            (9, self.search),
            (7, self.catalogue),
            (7, self.oai),
            (6, self.admin_page),
            (3 if saves else 0, self.admin_save),
            (4, self.booking),
            (3, self.vote),
            (7, self.progress_report),
        ]
        self.weights = [w for w, _ in self.choices]
        self.serial = 0

    def host(self, tenant: str) -> str:
        return f"{tenant}.{HOST_SUFFIX}:{self.port}"

    def pick(self):
        return rng.choices(self.choices, self.weights)[0][1]()

    def signed_in(self, tenant: str) -> list[str]:
        return [f"Cookie: {self.browsers[tenant].cookie}"]

    def person(self) -> tuple[int, list[str]]:
        index = rng.randrange(len(self.people.session_keys))
        return index, [f"Cookie: sessionid={self.people.session_keys[index]}; csrftoken={CSRF}"]

    def anonymous_page(self):
        return "anonymous page", "GET", self.host(rng.choice(TENANTS)), rng.choice(PAGES), [], None

    def signed_in_page(self):
        tenant = rng.choice(TENANTS)
        return "signed-in page", "GET", self.host(tenant), rng.choice(PAGES), self.signed_in(tenant), None

    def personal_centre(self):
        tenant = rng.choice(TENANTS)
        return "personal centre", "GET", self.host(tenant), "/me/", self.signed_in(tenant), None

    def search(self):
        from urllib.parse import quote

        path = f"/search/?q={quote(rng.choice(SEARCHES))}"
        return "search", "GET", self.host(rng.choice(TENANTS)), path, [], None

    def catalogue(self):
        from urllib.parse import quote

        path = rng.choice(["/catalogue/", f"/catalogue/?q={quote(rng.choice(SEARCHES))}"])
        return "catalogue", "GET", self.host("national"), path, [], None

    def oai(self):
        return "oai", "GET", self.host("national"), "/oai/?verb=ListRecords&metadataPrefix=oai_dc", [], None

    def admin_page(self):
        tenant = rng.choice(TENANTS)
        path = rng.choice(["/admin/", "/admin/pages/", "/admin/pages/4/", "/admin/pages/5/edit/"])
        return "admin page", "GET", self.host(tenant), path, self.signed_in(tenant), None

    def admin_save(self):
        tenant = rng.choice(list(self.saves))
        path, body = self.saves[tenant]
        browser = self.browsers[tenant]
        body += b"&csrfmiddlewaretoken=" + browser.cookies.get("csrftoken", "").encode()
        headers = [*self.signed_in(tenant), FORM, f"Referer: http://{browser.host}{path}"]
        return "admin save", "POST", self.host(tenant), path, headers, body

    def booking(self):
        """One seat of a session, as the booking form posts it: 302 to the ticket (or the waiting
        list); a person who already holds a seat of that session is told so (409)."""
        from urllib.parse import urlencode

        index, cookie = self.person()
        self.serial += 1
        session = rng.choice(self.people.booking_sessions)
        body = urlencode(
            {"quantity": "1", "idempotency_key": f"load-{index}-{self.serial}", "csrfmiddlewaretoken": CSRF}
        ).encode()
        return "booking", "POST", self.host(BOOKING_TENANT), f"/bookings/sessions/{session}/", [*cookie, FORM], body

    def vote(self):
        """A vote on the demo campaign (JSON answer, as its page sends it): 200, or 409 once the
        person's votes of the day are used."""
        from urllib.parse import urlencode

        _, cookie = self.person()
        body = urlencode({"entry": rng.choice(self.people.entries)}).encode()
        headers = [*cookie, FORM, "Accept: application/json", f"X-CSRFToken: {CSRF}"]
        return "vote", "POST", self.host(VOTE_TENANT), f"/campaigns/{self.people.campaign}/vote/", headers, body

    def progress_report(self):
        """The video player's report of ten seconds watched (JSON), as training's player sends it."""
        import json

        index, cookie = self.person()
        progress, player = self.people.lessons[index]
        at = rng.randrange(0, 3590)
        seq = time.time_ns() // 1_000_000  # increasing across runs; a late one is ignored (200)
        body = json.dumps({"session": player, "seq": seq, "start": at, "end": at + 10}).encode()
        headers = [*cookie, "Content-Type: application/json", f"X-CSRFToken: {CSRF}"]
        return "progress report", "POST", self.host(TRAINING_TENANT), f"/training/progress/{progress}/", headers, body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
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
    body = b""
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            body += (await reader.readexactly(size + 2))[:-2]
            if size == 0:
                break
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body = await reader.read()
        close = True
    return status, close, body


def why_5xx(body: bytes) -> str:
    """What a 5xx answer says: a rate limit (OAI-PMH answers its limit with 503, the protocol's
    flow control), the front door's busy page, the database-unavailable page, or an error."""
    text = body.decode("utf-8", "replace")
    if "过于频繁" in text:
        return "rate limit"
    if "服务暂时不可用" in text or "繁忙" in text:
        return "busy / unavailable"
    return "error"


class Results:
    def __init__(self):
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.by_label: Counter = Counter()
        self.errors: Counter = Counter()
        self.causes: Counter = Counter()  # (label, status, what the answer says) of 5xx answers


async def client(number: int | None, mix: Mix, port: int, until: float, results: Results) -> None:
    """One person's browser tab. Each client has an address of its own (X-Forwarded-For, the
    server trusting one proxy as behind the reverse proxy of docs/deployment.md): per-address
    rate limits count each person, not all the clients as one address. `number` None: no
    header, every client is 127.0.0.1 (--one-address)."""
    reader = writer = None
    forwarded = [] if number is None else [f"X-Forwarded-For: 10.{number // 256 % 256}.{number % 256}.7"]
    while time.monotonic() < until:
        label, method, host, path, headers, body = mix.pick()
        head = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: culture-bench-load"]
        head += [*forwarded, *headers]
        if method == "POST":
            head += [f"Content-Length: {len(body)}"]
            if not any(line.startswith("Referer:") for line in headers):
                head.append(f"Referer: http://{host}{path}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")
        started = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            async with asyncio.timeout(REQUEST_TIMEOUT):
                status, close, answer = await read_response(reader)
        except (OSError, ConnectionError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            results.errors[type(exc).__name__] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        results.latencies.append(time.monotonic() - started)
        results.statuses[status] += 1
        results.by_label[(label, status)] += 1
        if status >= 500:
            results.causes[(label, status, why_5xx(answer))] += 1
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


def run_level(mix: Mix, port: int, clients: int, seconds: float, web_pid: int, one_address: bool = False) -> dict:
    results = Results()
    sampler = ConnectionSampler()
    sampler.start()
    rss_start = rss_mib(web_pid)

    async def main():
        until = time.monotonic() + seconds
        numbers = [None] * clients if one_address else range(clients)
        await asyncio.gather(*(client(number, mix, port, until, results) for number in numbers))

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
        "causes": results.causes,
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
    parser.add_argument(
        "--one-address",
        action="store_true",
        help="every client from 127.0.0.1 (no X-Forwarded-For): per-address rate limits count them as one",
    )
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
        web_pid = web_server_pid(proc.pid)
        browsers = {t: sign_in(args.port, t, f"{t}_editor") for t in TENANTS}
        admins = {t: sign_in(args.port, t, f"{t}_admin") for t in ("zhejiang", "dalian")}
        print(f"  preparing {PEOPLE} people: bookable sessions, the campaign, a video lesson...", flush=True)
        people = People(PEOPLE)
        saves = {}
        for tenant, browser in admins.items():
            form = branding_form(browser, tenant)
            if form:
                saves[tenant] = form
        browsers.update(admins)  # the admins' tenants: their pages and saves signed in as admin
        if not saves:
            print("  (no admin form saved: admin saves left out of the mix)")
        mix = Mix(args.port, browsers, saves, people)
        run_level(mix, args.port, 10, 10, web_pid)  # warm-up: templates, caches
        print(
            f"\nweb process pid {web_pid}, DB_POOL_SIZE (bound) {bound}, {os.cpu_count()} CPUs, "
            f"load average before: {os.getloadavg()[0]:.1f}"
        )
        header = f"{'clients':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'peak conn (web/all)':>20} {'RSS MiB start→end':>18}  statuses / errors"
        print(header)
        rows = []
        for clients in levels:
            row = run_level(mix, args.port, clients, args.seconds, web_pid, args.one_address)
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
        causes: Counter = Counter()
        for row in rows:
            causes.update(row["causes"])
        if causes:
            print("\n5xx answers by what they say (all levels):")
            for (label, status, cause), n in sorted(causes.items()):
                print(f"  {label:<16} {status} {cause}: {n}")
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
