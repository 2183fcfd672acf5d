"""Fault benchmark: PostgreSQL stopped under load, then started again.

Run on demand from the repository root (it is not a test; it stops and starts the embedded
PostgreSQL of this checkout, so run it when nothing else — tests, `make run` — uses it):

    .venv/bin/python bench/faults.py                  # 20 clients, 10 s before, 15 s down, 20 s after
    .venv/bin/python bench/faults.py --down 30

The platform is started as bench/load.py starts it (`run_platform` on the `culture_load`
database, 127.0.0.1:8103). Clients keep requesting, in turn, a page from the full-page cache
(anonymous), the same page signed in (needs the database), and /healthz. Printed per phase
(before / PostgreSQL down / after it is back): answers by kind and status, and whether the 503
answers carried Retry-After and the Chinese page; then the seconds from PostgreSQL accepting
connections again to the first signed-in page and the first healthy /healthz, and whether the
web server and the worker are still the processes started at the beginning (no restart).

Targets: no 500 in any phase; while PostgreSQL is down, pages that need it answer 503 with
Retry-After and a Chinese text, cached pages 200, /healthz 503; everything back within 10 s of
PostgreSQL, without restarting anything.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # bench/load.py: the platform, sessions, the HTTP client  # noqa: E402

RECOVERY_TARGET_SECONDS = 10


async def fetch(port: int, host: str, path: str, cookie: str | None) -> tuple[int, bytes, dict]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = [f"GET {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
        if cookie:
            head.append(f"Cookie: {cookie}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        async with asyncio.timeout(30):
            raw = await reader.read()
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), body, headers


class Observer:
    def __init__(self, port: int, cookie: str):
        self.port, self.cookie = port, cookie
        self.phase = "before"
        self.counts: Counter = Counter()
        self.unavailable_ok: Counter = Counter()
        self.first_ok: dict[str, float] = {}
        self.back_at: float | None = None

    async def client(self, until: float) -> None:
        host = f"zhejiang.{load.HOST_SUFFIX}:{self.port}"
        kinds = [
            ("cached page", "/news/", None),
            ("signed-in page", "/news/", self.cookie),
            ("healthz", "/healthz", None),
        ]
        turn = 0
        while time.monotonic() < until:
            kind, path, cookie = kinds[turn % 3]
            turn += 1
            try:
                status, body, headers = await fetch(self.port, host, path, cookie)
            except (OSError, TimeoutError, ValueError, IndexError) as exc:
                self.counts[(self.phase, kind, type(exc).__name__)] += 1
                await asyncio.sleep(0.05)
                continue
            self.counts[(self.phase, kind, status)] += 1
            if (
                status == 503
                and headers.get("retry-after")
                and ("暂时不可用" in body.decode(errors="replace") or path == "/healthz")
            ):
                self.unavailable_ok[(self.phase, kind)] += 1
            if self.back_at and status == 200 and kind not in self.first_ok:
                self.first_ok[kind] = time.monotonic() - self.back_at
            await asyncio.sleep(0.02)


def postgres(action: str) -> float:
    from core.embedded_db import stop_embedded_postgres

    started = time.monotonic()
    if action == "stop":
        stop_embedded_postgres()
    else:
        # A fresh process: pgserver remembers the server it started in this one and would not
        # start it again.
        code = "from core.embedded_db import embedded_database_settings as s; s('postgres')"
        subprocess.run([sys.executable, "-c", code], cwd=load.REPO_ROOT, check=True)  # noqa: S603
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--before", type=float, default=10)
    parser.add_argument("--down", type=float, default=15)
    parser.add_argument("--after", type=float, default=20)
    parser.add_argument("--port", type=int, default=8103)
    args = parser.parse_args()
    assert args.clients <= 100 and args.down <= 120, "bounded runs only"

    sys.path.insert(0, str(load.REPO_ROOT))
    os.environ.update(DJANGO_SETTINGS_MODULE="core.settings.dev", CULTURE_DB_NAME=load.DB_NAME, LOG_LEVEL="WARNING")
    log_path = load.REPO_ROOT / "var" / "log" / "bench-faults-server.log"
    print(f"starting the platform on 127.0.0.1:{args.port} (database {load.DB_NAME}; log {log_path})...", flush=True)
    proc = load.start_platform(args.port, None, log_path)
    failed = False
    try:
        web_pid = load.daphne_pid(proc.pid)
        worker_pids = worker_processes(proc.pid)
        observer = Observer(args.port, load.sign_in(args.port, "zhejiang", "zhejiang_editor"))
        host = f"zhejiang.{load.HOST_SUFFIX}:{args.port}"
        for _ in range(2):  # the anonymous page into the full-page cache
            asyncio.run(fetch(args.port, host, "/news/", None))

        async def scenario():
            total = args.before + args.down + args.after + 30
            until = time.monotonic() + total
            clients = [asyncio.create_task(observer.client(until)) for _ in range(args.clients)]
            await asyncio.sleep(args.before)
            observer.phase = "down"
            took = await asyncio.to_thread(postgres, "stop")
            print(f"PostgreSQL stopped ({took:.1f} s)", flush=True)
            await asyncio.sleep(args.down)
            took = await asyncio.to_thread(postgres, "start")
            observer.phase = "after"
            observer.back_at = time.monotonic()
            print(f"PostgreSQL started again ({took:.1f} s)", flush=True)
            await asyncio.sleep(args.after)
            for client in clients:
                client.cancel()
            await asyncio.gather(*clients, return_exceptions=True)

        asyncio.run(scenario())
        print("\nanswers (phase, kind, status or error): count   [503 with Retry-After and the Chinese page]")
        for key, n in sorted(observer.counts.items(), key=str):
            phase, kind, status = key
            extra = f"   [{observer.unavailable_ok[(phase, kind)]} proper]" if status == 503 else ""
            print(f"  {phase:<7} {kind:<15} {status}: {n}{extra}")
            if status == 500 or (isinstance(status, str) and phase != "down"):
                failed = True
        down_cached = observer.counts[("down", "cached page", 200)]
        print(f"\ncached page served while PostgreSQL was down: {down_cached} times")
        for kind in ("signed-in page", "healthz"):
            seconds = observer.first_ok.get(kind)
            print(
                f"first 200 of {kind} after PostgreSQL was back: "
                + (f"{seconds:.1f} s" if seconds is not None else "never")
            )
            if seconds is None or seconds > RECOVERY_TARGET_SECONDS:
                failed = True
        same = (
            load.daphne_pid(proc.pid) == web_pid and worker_processes(proc.pid) == worker_pids and proc.poll() is None
        )
        print(f"web server and worker still the original processes: {same}")
        failed = failed or not same or not down_cached
        print("RESULT:", "FAIL" if failed else "PASS")
    finally:
        load.stop_platform(proc)
    return 1 if failed else 0


def worker_processes(parent: int) -> list[int]:
    pids = []
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        try:
            if b"run_worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                pids.append(int(child))
        except OSError:
            continue
    return pids


if __name__ == "__main__":
    sys.exit(main())
