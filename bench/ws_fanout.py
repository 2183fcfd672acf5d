"""Websocket fan-out and parallel voting against a live `make run`-style server.

Run on demand from the repository root (it is not a test):

    .venv/bin/python bench/ws_fanout.py                       # 1,000 viewers, 200 voters
    .venv/bin/python bench/ws_fanout.py --viewers 300 --voters 50
    .venv/bin/python bench/ws_fanout.py --voters 0            # the fan-out only
    .venv/bin/python bench/ws_fanout.py --web-processes 2     # two daphne processes, one port

It starts the platform as bench/load.py does (`manage.py run_platform` on the benchmark
database `culture_load`, demo world, task worker, daphne, 127.0.0.1 only, port 8103 unless
`--port`), then:

1. fan-out, in two rounds of the same run: a baseline of 10 viewers, then N (1,000) viewers of
   zhejiang's live stream (/live-now/). The viewers run in separate client processes
   (`--client-processes`, default 2), each a lean asyncio protocol (handshake by hand, frames cut
   out of the byte stream, a timestamp per read before any parsing), so the clients' share of
   the CPU is small and not in the server's process. One signed-in person (in this process)
   posts comments carrying a mark unique to the run (one every 3.2 s, the rate limit); the
   latency of every delivery is its arrival time minus the time the comment was sent, both on
   the system-wide monotonic clock. Printed per round: p50 / p95 / p99, and the 1,000-viewer p99
   as a multiple of the baseline's (a ratio that holds better than absolute figures on a busy
   machine);
2. creates V voters (accounts and sessions straight in the benchmark database), and has them
   cast their two daily votes at once over HTTP on dalian's campaign: votes/s, then the counts
   in the database before and after — every vote counted once (0 lost, 0 extra).

Targets on the 2-core machine: delivery p99 ≤ 250 ms; exact vote counts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import re
import resource
import secrets
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


# --- fan-out: lean viewers in their own processes --------------------------------------------

MARK = re.compile(rb"bench#(\d+)#")
IN_FLIGHT = 2  # handshakes per client process at a time


class LeanViewer(asyncio.Protocol):
    """A websocket viewer with next to no per-frame work: the handshake by hand, then server
    frames (never masked) are cut out of the byte stream; a comment frame's bench mark and the
    time it arrived (taken once per read, before parsing) are all that is kept. Pings are
    answered (daphne drops a socket that does not pong)."""

    def __init__(self, request: bytes, arrivals: list, connected: asyncio.Future):
        self.request, self.arrivals, self.connected = request, arrivals, connected
        self.buffer = b""
        self.upgraded = False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc):
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(f"closed during the handshake: {exc!r}"))

    def data_received(self, data: bytes):
        now = time.monotonic()
        buffer = self.buffer + data
        if not self.upgraded:
            head, sep, rest = buffer.partition(b"\r\n\r\n")
            if not sep:
                self.buffer = buffer
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self.connected.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
                self.transport.close()
                return
            self.upgraded = True
            self.connected.set_result(True)
            buffer = rest
        while len(buffer) >= 2:
            opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    break
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    break
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                break
            payload, buffer = buffer[start : start + length], buffer[start + length :]
            if opcode == 0x1:
                mark = MARK.search(payload)
                if mark is not None:
                    self.arrivals.append((int(mark.group(1)), now))
            elif opcode == 0x9:  # ping → pong, masked as a client must (a zero mask)
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
            elif opcode == 0x8:
                self.transport.close()
        self.buffer = buffer


def viewer_process(port: int, host: str, path: str, count: int, pipe) -> None:
    """Runs in a child process: open `count` viewers, say so, collect arrivals until told to stop."""

    async def main():
        loop = asyncio.get_running_loop()
        arrivals: list[tuple[int, float]] = []
        transports = []

        async def open_one(attempts: int = 10):
            # daphne gives a handshake 5 s: on a loaded machine one may time out; a browser would
            # reconnect, and so does this viewer (the fan-out is measured once all are in).
            for attempt in range(attempts):
                try:
                    return await open_once()
                except (ConnectionError, TimeoutError):
                    if attempt == attempts - 1:
                        raise
                    await asyncio.sleep(1)

        async def open_once():
            key = base64.b64encode(os.urandom(16)).decode()
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
            connected = loop.create_future()
            transport, _ = await loop.create_connection(
                lambda: LeanViewer(request, arrivals, connected), "127.0.0.1", port
            )
            try:
                await asyncio.wait_for(connected, 120)
            except BaseException:
                transport.close()
                raise
            transports.append(transport)

        try:
            for first in range(0, count, IN_FLIGHT):
                await asyncio.gather(*(open_one() for _ in range(first, min(count, first + IN_FLIGHT))))
        except Exception as exc:  # noqa: BLE001 (reported to the parent, which stops)
            pipe.send(("failed", repr(exc)))
            return
        pipe.send(("ready", len(transports)))
        stop = asyncio.Event()
        loop.add_reader(pipe.fileno(), stop.set)
        await stop.wait()
        pipe.recv()
        pipe.send(("arrivals", arrivals))
        for transport in transports:
            transport.close()

    asyncio.run(main())


def report(label: str, viewers: int, comments: int, latencies: list[float]) -> None:
    if not latencies:
        print(f"  {label}: no deliveries arrived", flush=True)
        return
    p50, p95, p99 = (percentile(latencies, p) * 1000 for p in (0.5, 0.95, 0.99))
    print(
        f"  {label} ({viewers} viewers): deliveries {len(latencies)} / {viewers * comments}: "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms",
        flush=True,
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def fanout_round(port: int, path: str, speaker, viewers: int, comments: int, processes: int, label: str):
    """`viewers` lean viewers over `processes` child processes; `comments` comments spoken;
    returns the latencies (seconds) of every delivery, sent → received."""
    ctx = multiprocessing.get_context("spawn")
    children = []
    shares = [viewers // processes + (1 if n < viewers % processes else 0) for n in range(processes)]
    started = time.monotonic()
    for share in filter(None, shares):
        parent_end, child_end = ctx.Pipe()
        child = ctx.Process(target=viewer_process, args=(port, ZHEJIANG, path, share, child_end), daemon=True)
        child.start()
        children.append((child, parent_end))
    loop = asyncio.get_running_loop()
    for _child, pipe in children:
        status, detail = await loop.run_in_executor(None, pipe.recv)
        if status != "ready":
            raise SystemExit(f"{label}: a viewer process could not connect everyone: {detail}")
    print(
        f"  {label}: {viewers} viewers connected in {time.monotonic() - started:.1f} s "
        f"({len(children)} client process(es))",
        flush=True,
    )
    sent: dict[int, float] = {}
    for _ in range(comments):
        seq = RUN_MARK + len(SENT_TIMES)  # unique to this run: the hello frame replays old comments
        body = f"压测评论 bench#{seq}#"
        await speaker_wait_rate_limit()
        ECHOED.clear()
        sent[seq] = SENT_TIMES[seq] = time.monotonic()
        await speaker.send(json.dumps({"type": "comment", "body": body}))
    await asyncio.sleep(10)  # the last comment's deliveries (seconds on a loaded machine)
    latencies = []
    for child, pipe in children:
        pipe.send("stop")
        _, arrivals = await loop.run_in_executor(None, pipe.recv)
        latencies += [at - sent[seq] for seq, at in arrivals if seq in sent]
        child.join(30)
    return latencies


SENT_TIMES: dict[int, float] = {}
RUN_MARK = int(time.time()) * 1000
_last_comment = [0.0]
ECHOED = asyncio.Event()  # the speaker's last comment came back (it was stored by then)
ECHOED.set()


async def speaker_wait_rate_limit():
    # One comment every 3 s per person, counted by the server from when it stored the last one:
    # wait for its echo, then 3.2 s from there.
    await asyncio.wait_for(ECHOED.wait(), 60)
    wait = _last_comment[0] + 3.2 - time.monotonic()
    if wait > 0:
        await asyncio.sleep(wait)


async def fanout(port: int, viewers: int, comments: int, cookie: str, processes: int, baseline: int) -> dict:
    import websockets

    html = _get(port, ZHEJIANG, "/live-now/")
    path = re.search(r'data-live-socket="([^"]+)"', html).group(1)
    uri = f"ws://{ZHEJIANG}:{port}{path}"
    headers = {"Cookie": f"sessionid={cookie}", "Origin": f"http://{ZHEJIANG}:{port}"}
    async with websockets.connect(uri, host="127.0.0.1", port=port, additional_headers=headers) as speaker:

        async def drain():  # the speaker's own copies (and viewer counts): read and dropped
            async for message in speaker:
                if '"error"' in message:
                    print("  speaker got an error frame:", message, flush=True)
                    ECHOED.set()
                elif "bench#" in message and '"comment"' in message and '"hello"' not in message:
                    _last_comment[0] = time.monotonic()
                    ECHOED.set()

        drainer = asyncio.create_task(drain())
        results = {}
        for label, n in (("baseline", baseline), ("full", viewers)):
            latencies = await fanout_round(port, path, speaker, n, comments, min(processes, n), label)
            results[label] = (n, latencies)
            report(label, n, comments, latencies)
        drainer.cancel()
        await asyncio.gather(drainer, return_exceptions=True)
    return results


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
    parser.add_argument("--baseline", type=int, default=10, help="viewers of the baseline round")
    parser.add_argument("--client-processes", type=int, default=2, help="processes the viewers run in")
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--web-processes", type=int, default=1, help="daphne processes sharing the port")
    args = parser.parse_args()
    assert args.viewers <= 5000 and 1 <= args.client_processes <= 16 and args.voters <= 2000 and args.comments <= 50, (
        "bounded runs only"
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.viewers * 2 + 512)), hard))
    os.environ.update(DJANGO_SETTINGS_MODULE="core.settings.dev", CULTURE_DB_NAME=DB_NAME, LOG_LEVEL="WARNING")
    os.environ.pop("DATABASE_URL", None)
    os.environ["CULTURE_WEB_PROCESSES"] = str(args.web_processes)
    log_path = REPO_ROOT / "var" / "log" / "bench-ws-server.log"
    print(f"starting the platform on 127.0.0.1:{args.port} (database {DB_NAME}; log {log_path})...", flush=True)
    proc = start_platform(args.port, None, log_path)
    failed = False
    try:
        print(
            f"daphne pid {daphne_pid(proc.pid)} ({args.web_processes} process(es)), {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        cookie = sign_in(args.port, "zhejiang", "zhejiang_editor")
        print(
            f"\n1. {args.comments} comments broadcast to {args.baseline} viewers (baseline), then to "
            f"{args.viewers} viewers; viewers in {args.client_processes} separate client process(es)"
        )
        rounds = asyncio.run(
            fanout(args.port, args.viewers, args.comments, cookie, args.client_processes, args.baseline)
        )
        figures = {label: percentile(lat, 0.99) * 1000 for label, (_, lat) in rounds.items() if lat}
        failed |= "full" not in figures or any(len(lat) < n * args.comments for n, lat in rounds.values())
        if "full" in figures:
            ratio = figures["full"] / figures["baseline"] if figures.get("baseline") else float("nan")
            print(f"  p99 {figures['full']:.0f} ms (target ≤ 250 ms), {ratio:.1f}× the {args.baseline}-viewer baseline")
            failed |= figures["full"] > 250

        if not args.voters:
            print("\nRESULT:", "FAIL" if failed else "PASS")
            return 1 if failed else 0
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
