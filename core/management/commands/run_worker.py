"""The task worker: django-tasks-db's worker, entering each task's tenant schema, with a heartbeat.

Three threads, so that none can hold up another:
* the main thread takes tasks from the queue and runs them;
* the heartbeat thread only beats (what /healthz and other workers read) and, every
  WORKER_HEARTBEAT_MAX_AGE seconds, recovers tasks left running by workers that died
  (core.tasks.recover_interrupted_tasks) — a long scheduled-publishing pass over hundreds of
  tenants can therefore never make a live worker look dead;
* the scheduler thread runs scheduled publishing and queues the periodic federation syncs.

PostgreSQL going away does not stop the worker: each loop waits and tries again, and once the
database is back the worker carries on under a new id, so whatever it was running when the
connection broke is recovered like the task of a dead worker (run again or marked failed).
"""

import logging
import os
import socket
import threading
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from core.models import WorkerHeartbeat
from core.scheduled import enqueue_periodic_everywhere, federation_sync_everywhere, publish_scheduled_everywhere
from core.tasks import recover_interrupted_tasks, run_in_recorded_tenant

logger = logging.getLogger("core.worker")
# Seconds between attempts while the database cannot be reached.
DATABASE_RETRY_SECONDS = 2.0


class TenantWorker(Worker):
    def run_task(self, db_task_result) -> None:
        run_in_recorded_tenant(db_task_result, super().run_task)


def beat(worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(worker_id=worker_id, defaults={"last_seen": timezone.now()})


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"[:64]


class Command(BaseCommand):
    help = "Run background tasks, each inside the tenant schema that enqueued it."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls when idle.")
        parser.add_argument("--batch", action="store_true", help="Exit when the queue is empty.")
        parser.add_argument(
            "--queue", action="append", dest="queues", help="Only take tasks of this queue (repeatable; default: all)."
        )
        parser.add_argument("--heartbeat", type=float, default=10.0, help="Seconds between heartbeats.")
        parser.add_argument(
            "--schedule-every", type=float, default=60.0, help="Seconds between scheduled-publishing runs."
        )
        parser.add_argument(
            "--federation-every",
            type=float,
            default=300.0,
            help="Seconds between federation syncs (push delivery and pulls, queued per tenant); 0 turns them off.",
        )

    def handle(
        self,
        *,
        interval: float,
        batch: bool,
        heartbeat: float,
        schedule_every: float,
        federation_every: float = 300.0,
        queues: list[str] | None = None,
        **options,
    ):
        worker = TenantWorker(
            queue_names=queues or ["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=new_worker_id(),
            excluded_queue_names=[],
        )
        stop = threading.Event()

        def heartbeat_loop():
            next_recovery = 0.0
            while not stop.is_set():
                try:
                    beat(worker.worker_id)
                    if time.monotonic() >= next_recovery:
                        next_recovery = time.monotonic() + settings.WORKER_HEARTBEAT_MAX_AGE
                        recovered = recover_interrupted_tasks()
                        if recovered["requeued"] or recovered["failed"]:
                            logger.warning("tasks of stopped workers: %s", recovered)
                except Exception:  # the next beat retries; /healthz shows the gap
                    logger.exception("worker heartbeat failed")
                finally:
                    close_old_connections()
                stop.wait(heartbeat)

        def scheduler_loop():
            next_schedule = 0.0
            next_federation = 0.0
            while not stop.is_set():
                try:
                    if time.monotonic() >= next_schedule:
                        next_schedule = time.monotonic() + schedule_every
                        publish_scheduled_everywhere()
                        enqueue_periodic_everywhere()  # bookings upkeep etc. (CULTURE_PERIODIC_TENANT_TASKS)
                    if federation_every and time.monotonic() >= next_federation:
                        next_federation = time.monotonic() + federation_every
                        federation_sync_everywhere()
                except Exception:  # tried again at the next period
                    logger.exception("scheduled work failed")
                finally:
                    close_old_connections()
                stop.wait(min(heartbeat, schedule_every))

        self.wait_for_database(lambda: beat(worker.worker_id))
        for name, loop in (("heartbeat", heartbeat_loop), ("scheduler", scheduler_loop)):
            threading.Thread(target=loop, daemon=True, name=name).start()
        logger.info("worker %s started", worker.worker_id)
        worker.configure_signals()
        try:
            while True:
                try:
                    worker.run()
                    break
                except DatabaseError:
                    if batch:
                        raise
                    logger.exception("database unavailable; the worker waits for it")
                    connections["default"].close()
                    stale_id, worker.worker_id = worker.worker_id, new_worker_id()
                    worker.running_task = False
                    self.wait_for_database(lambda: beat(worker.worker_id))
                    # What stale_id was running is now a dead worker's task: recovered, not lost.
                    WorkerHeartbeat.objects.filter(worker_id=stale_id).delete()
                    logger.info("database back; worker continues as %s", worker.worker_id)
        finally:
            stop.set()
            try:
                WorkerHeartbeat.objects.filter(worker_id=worker.worker_id).delete()
            except DatabaseError:
                logger.warning("could not remove the heartbeat of %s", worker.worker_id)

    @staticmethod
    def wait_for_database(attempt) -> None:
        while True:
            try:
                attempt()
                return
            except DatabaseError:
                connections["default"].close()
                time.sleep(DATABASE_RETRY_SECONDS)
