"""Websocket fan-out and parallel voting against a live `make run`-style server.

Run on demand from the repository root (it is not a test):

    .venv/bin/python bench/ws_fanout.py                       # 1,000 viewers, 200 voters
    .venv/bin/python bench/ws_fanout.py --viewers 300 --voters 50

It starts the platform as bench/load.py does (`manage.py run_platform` on the benchmark
database `culture_load`, demo world, task worker, daphne, 127.0.0.1 only, port 8103 unless
`--port`), then:

1. opens N websocket viewers of zhejiang's live stream (/live-now/) in this process, has one
   signed-in person post comments (one every 3.2 s, the rate limit), and measures for every
   viewer the time from sending a comment to receiving it: p50 / p99 over all deliveries;
2. creates V voters (accounts and sessions straight in the benchmark database), and has them
   cast their two daily votes at once over HTTP on dalian's campaign: votes/s, then the counts
   in the database before and after — every vote counted once (0 lost, 0 extra).

Targets on the 2-core machine: delivery p99 ≤ 250 ms; exact vote counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import secrets
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.load import DB_NAME, daphne_pid, sign_in, start_platform, stop_platform  # noqa: E402

ZHEJIANG = "zhejiang.culture.localhost"
DALIAN = "dalian.culture.localhost"


def _get(port: int, host: str, path: str, cookie: str | None = None) -> str:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": f"{host}:{port}"}
    if cookie:
        headers["Cookie"] = f"sessionid={cookie}"
    conn.request("GET", path, headers=headers)
    body = conn.getresponse().read().decode()
    conn.close()
    return body


async def fanout(port: int, viewers: int, comments: int, cookie: str) -> list[float]:
    import websockets

    html = _get(port, ZHEJIANG, "/live-now/")
    socket_path = re.search(r'data-live-socket="([^"]+)"', html).group(1)
    uri = f"ws://{ZHEJIANG}:{port}{socket_path}"
    latencies: list[float] = []
    sent: dict[str, float] = {}
    received = asyncio.Event()
    expected = viewers * comments

    async def viewer(ready: asyncio.Event):
        async with websockets.connect(uri, host="127.0.0.1", port=port, open_timeout=120, max_queue=None) as ws:
            ready.set()
            async for message in ws:
                frame = json.loads(message)
                if frame["type"] == "comment" and frame["comment"]["body"] in sent:
                    latencies.append(time.perf_counter() - sent[frame["comment"]["body"]])
                    if len(latencies) >= expected:
                        received.set()

    tasks, started = [], time.perf_counter()
    for n in range(viewers):
        ready = asyncio.Event()
        task = asyncio.create_task(viewer(ready))
        tasks.append(task)
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():  # the viewer could not connect: say why instead of waiting forever
            waiter.cancel()
            raise SystemExit(f"viewer {n} could not connect: {task.exception()!r}")
        if n and n % 250 == 0:
            print(f"  {n} viewers connected ({time.perf_counter() - started:.1f} s)", flush=True)
    print(f"  {viewers} viewers connected in {time.perf_counter() - started:.1f} s", flush=True)
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://{ZHEJIANG}:{port}"}
    async with websockets.connect(uri, host="127.0.0.1", port=port, additional_headers=headers) as speaker:
        for n in range(comments):
            body = f"压测评论{n}-{uuid.uuid4().hex[:6]}"
            sent[body] = time.perf_counter()
            await speaker.send(json.dumps({"type": "comment", "body": body}))
            await asyncio.sleep(3.2)  # the per-person rate limit
        try:
            await asyncio.wait_for(received.wait(), timeout=60)
        except TimeoutError:
            print(f"  only {len(latencies)} of {expected} deliveries arrived", flush=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return latencies


def make_voters(count: int) -> list[str]:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    connection.set_schema_to_public()
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"bench-voter-{uuid.uuid4().hex[:10]}", password="!") for _ in range(count)]
    )
    keys = []
    for user in users:
        session = SessionStore()
        session.update(
            {
                "_auth_user_id": str(user.pk),
                "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
                "_auth_user_hash": user.get_session_auth_hash(),
            }
        )
        session.create()
        keys.append(session.session_key)
    return keys


def vote_counts() -> tuple[int, dict[int, int]]:
    from django.db.models import Count
    from django_tenants.utils import schema_context

    from campaigns.models import Vote
    from cms_pages.models import CampaignPage

    with schema_context("dalian"):
        campaign = CampaignPage.objects.get(slug="campaign", locale__language_code="zh-hans")
        per_entry = dict(
            Vote.objects.filter(campaign=campaign, voided_at__isnull=True)
            .values_list("entry_id")
            .annotate(n=Count("pk"))
            .values_list("entry_id", "n")
        )
        return campaign.pk, per_entry


def cast(port: int, page_id: int, entry_id: int, key: str) -> int:
    import http.client
    from urllib.parse import urlencode

    token = secrets.token_hex(16)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(
        "POST",
        f"/campaigns/{page_id}/vote/",
        body=urlencode({"entry": entry_id}),
        headers={
            "Host": f"{DALIAN}:{port}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "X-CSRFToken": token,
            "Cookie": f"sessionid={key}; csrftoken={token}",
        },
    )
    status = conn.getresponse().status
    conn.close()
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--comments", type=int, default=5)
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--port", type=int, default=8103)
    args = parser.parse_args()
    assert args.viewers <= 5000 and args.voters <= 2000 and args.comments <= 50, "bounded runs only"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.viewers * 2 + 512)), hard))
    os.environ.update(DJANGO_SETTINGS_MODULE="core.settings.dev", CULTURE_DB_NAME=DB_NAME, LOG_LEVEL="WARNING")
    os.environ.pop("DATABASE_URL", None)
    log_path = REPO_ROOT / "var" / "log" / "bench-ws-server.log"
    print(f"starting the platform on 127.0.0.1:{args.port} (database {DB_NAME}; log {log_path})...", flush=True)
    proc = start_platform(args.port, None, log_path)
    failed = False
    try:
        print(f"daphne pid {daphne_pid(proc.pid)}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        cookie = sign_in(args.port, "zhejiang", "zhejiang_editor")
        print(f"\n1. {args.viewers} websocket viewers, {args.comments} comments broadcast")
        latencies = sorted(asyncio.run(fanout(args.port, args.viewers, args.comments, cookie)))
        if latencies:
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
            print(
                f"  deliveries {len(latencies)} / {args.viewers * args.comments}: p50 {p50:.0f} ms, p99 {p99:.0f} ms (target p99 ≤ 250 ms)"
            )
            failed |= p99 > 250 or len(latencies) < args.viewers * args.comments
        else:
            failed = True

        print(f"\n2. {args.voters} voters casting their two daily votes at once (dalian's campaign)")
        keys = make_voters(args.voters)
        page_id, before = vote_counts()
        entries = sorted(before) or []
        if len(entries) < 2:
            from django_tenants.utils import schema_context

            from campaigns.models import CampaignEntry

            with schema_context("dalian"):
                entries = list(CampaignEntry.objects.filter(campaign_id=page_id).values_list("pk", flat=True)[:2])
        jobs = [(entries[0], key) for key in keys] + [(entries[1], key) for key in keys]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=64) as pool:
            statuses = list(pool.map(lambda job: cast(args.port, page_id, *job), jobs))
        elapsed = time.perf_counter() - started
        _, after = vote_counts()
        added = sum(after.values()) - sum(before.values())
        ok = statuses.count(200)
        print(
            f"  {len(jobs)} votes in {elapsed:.1f} s: {len(jobs) / elapsed:.0f} votes/s; answers {dict((s, statuses.count(s)) for s in set(statuses))}"
        )
        print(
            f"  accepted {ok}, counted {added} more in the database: lost {max(0, ok - added)}, extra {max(0, added - ok)}"
        )
        failed |= added != ok or ok != len(jobs)
        print("\nRESULT:", "FAIL" if failed else "PASS")
    finally:
        stop_platform(proc)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
