"""Bookings benchmark: many people booking one session at once on a live daphne server.

Run on demand from the repository root (it is not a test):

    .venv/bin/python bench/bookings.py                 # 200 clients, a 50-seat session
    .venv/bin/python bench/bookings.py --clients 400 --seats 100 --threads 60

It uses the benchmark database (culture_bench, or DATABASE_URL / CULTURE_DB_NAME) and the tenant
`benchserve` of bench/serve.py (created with the demo content if missing), starts one daphne
process as `make run` does, and measures, all over HTTP with signed-in people:

1. baseline: every client books a session of its own (no two requests want the same lock); the
   same POST as the next pass (with an idempotency key, as the booking form sends), without contention;
2. one session: every client books the same 50-seat session (joining the waiting list when full):
   confirmed seats, oversold seats (must be 0), bookings/s, p95 latency, ratio to the baseline;
3. cancellations: 20 confirmed people cancel at once; their seats must pass to the waiting list;
4. rooms: every client asks for the same room slot at once: exactly one must win.

Targets on the 2-core development machine: ≥ 100 bookings/s, p95 ≤ 500 ms, 0 oversold. The
clients are capped at --threads simultaneous requests: each in-flight request holds a database
connection, and PostgreSQL's default max_connections is 100. Figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import provision  # noqa: E402 - bench/provision.py: Django set-up, daphne helpers
import serve  # noqa: E402 - bench/serve.py: the `benchserve` tenant

TARGET_RATE = 100.0
TARGET_P95 = 0.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=40, help="simultaneous requests (database connections)")
    parser.add_argument("--cancellations", type=int, default=20)
    parser.add_argument(
        "--web-processes",
        type=int,
        default=1,
        help="daphne processes sharing the port, as `run_platform --web-processes N` runs them (default 1)",
    )
    return parser.parse_args()


class Meter:
    """CPU used by the server processes, the database and the clients (this process) during one pass."""

    def __init__(self, servers: list, postmaster: int | None):
        self.pids = [process.pid for process in servers]
        self.postmaster = postmaster

    def _servers(self) -> float:
        return sum(provision.cpu_seconds(pid) for pid in self.pids)

    def __enter__(self):
        self.server, self.clients = self._servers(), time.process_time()
        self.database = provision.database_cpu_seconds(self.postmaster)
        return self

    def __exit__(self, *exc):
        self.server = self._servers() - self.server
        self.clients = time.process_time() - self.clients
        self.database = provision.database_cpu_seconds(self.postmaster) - self.database


def report(label: str, outcome, requests_made: int, meter: Meter | None = None) -> float:
    rate = requests_made / outcome.elapsed
    cpu = (
        f"  CPU/request: server {meter.server / requests_made * 1000:5.1f} ms,"
        f" database {meter.database / requests_made * 1000:4.1f} ms, clients {meter.clients / requests_made * 1000:4.1f} ms"
        if meter
        else ""
    )
    print(
        f"  {label:<34} {requests_made:>4} requests in {outcome.elapsed:6.2f} s  {rate:7.1f} req/s"
        f"  p50 {statistics.median(outcome.latencies) * 1000:6.0f} ms  p95 {outcome.p95() * 1000:6.0f} ms{cpu}"
    )
    return rate


def main() -> int:
    args = parse_args()
    provision.setup_django()
    from django.conf import settings
    from django.db import connection
    from django_tenants.utils import schema_context

    from bookings.models import Booking
    from tests.bookings import live
    from tests.live_server import LiveServer

    serve.prepare_platform()
    serve.ensure_tenant()
    schema, host = (
        serve.TENANT_SLUG,
        f"{serve.TENANT_SLUG}.{os.environ.get('CULTURE_PLATFORM_DOMAIN', 'culture.localhost')}",
    )
    print(f"bookings benchmark on {provision.database_label()}, tenant {schema}")
    live.cleanup(schema)
    # The people's passwords are never used (they get a signed-in session): a fast hasher keeps
    # creating 200 accounts from taking minutes of PBKDF2 before the measurement.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    people = live.make_people(args.clients, "bench")
    postmaster = provision.postmaster_pid()
    connection.close()

    port = provision.free_port()
    log = tempfile.TemporaryFile()
    os.environ["CULTURE_PORT"] = str(port)
    daphnes = provision.start_servers(args.web_processes, port, log)
    print(f"  {len(daphnes)} daphne process(es), {os.cpu_count()} CPUs, {args.threads} requests in flight")
    ok = True
    try:
        for daphne in daphnes:  # a loaded machine starts them slowly
            provision.wait_until_up(daphne, port, host, timeout=180)
        server = [LiveServer(port=port, log_path=Path(os.devnull))]

        own = [live.make_session(5, schema=schema) for _ in people]
        with Meter(daphnes, postmaster) as base_cpu:
            base = live.fire(
                server,
                people,
                lambda i: f"/bookings/sessions/{own[i]}/",
                {"quantity": "1", "idempotency_key": live.idempotency_key},  # as the booking form sends
                threads=args.threads,
                host=host,
            )
        print(f"  (statuses {sorted(set(base.statuses))})")
        base_rate = report("baseline: a session each", base, len(people), base_cpu)

        shared = live.make_session(args.seats, schema=schema)
        form = {"quantity": "1", "join_waiting_list": "1", "idempotency_key": live.idempotency_key}
        with Meter(daphnes, postmaster) as one_cpu:
            one = live.fire(server, people, f"/bookings/sessions/{shared}/", form, threads=args.threads, host=host)
        rate = report("one session, everyone at once", one, len(people), one_cpu)
        held = live.seats_held(shared, schema)
        errors = sum(1 for s in one.statuses if s >= 500)
        with schema_context(schema):
            waiting = Booking.objects.filter(session_id=shared, status="waiting").count()
        oversold = max(held - args.seats, 0)
        print(f"  confirmed seats {held} of {args.seats}, oversold {oversold}, waiting list {waiting}, 5xx {errors}")
        print(f"  ratio to baseline {rate / base_rate:.2f}×")
        ok &= oversold == 0 and held == args.seats and errors == 0
        ok &= rate >= TARGET_RATE and one.p95() <= TARGET_P95
        print(
            f"  targets: ≥ {TARGET_RATE:.0f} bookings/s, p95 ≤ {TARGET_P95 * 1000:.0f} ms, 0 oversold → {provision.mark(ok)}"
        )

        with schema_context(schema):
            confirmed = list(
                Booking.objects.filter(session_id=shared, status="confirmed").values_list("user_id", "order_number")
            )[: args.cancellations]
        keys = dict(people)
        cancellers = [(uid, keys[uid]) for uid, _ in confirmed]
        orders = [order for _, order in confirmed]
        cancel = live.fire(
            server, cancellers, lambda i: f"/me/bookings/{orders[i]}/cancel/", {}, threads=args.threads, host=host
        )
        report("cancellations", cancel, len(cancellers))
        with schema_context(schema):
            refilled = Booking.objects.filter(session_id=shared, status="held").count()
        held_after = live.seats_held(shared, schema)
        print(
            f"  seats passed to the waiting list {refilled} of {len(cancellers)}, seats held {held_after} of {args.seats}"
        )
        ok &= refilled == len(cancellers) and held_after == args.seats

        room_id = live.first_room_id(schema)
        start = live.tomorrow_slot(room_id, hour=11, schema=schema)
        rooms = live.fire(
            server, people, f"/bookings/rooms/{room_id}/", {"start": start, "slots": "1", "purpose": "基准测试"},
            threads=args.threads, host=host,
        )  # fmt: skip
        report("one room slot, everyone at once", rooms, len(people))
        winners = rooms.count(302)
        print(
            f"  room slot winners {winners} (must be 1), refused {rooms.count(409)}, 5xx {sum(1 for s in rooms.statuses if s >= 500)}"
        )
        ok &= winners == 1
    finally:
        for daphne in daphnes:
            provision.stop(daphne)
        log.seek(0)
        tail = log.read().decode("utf-8", "replace")
        if re.search(r"Internal Server Error|Traceback", tail):
            print("  server errors:\n" + tail[-3000:])
        live.cleanup(schema)  # the people, their bookings and the sessions they booked
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"  (total {time.perf_counter() - started:.0f} s)")
    sys.exit(code)
