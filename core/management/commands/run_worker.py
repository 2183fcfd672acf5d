"""The task worker: django-tasks-db's worker, entering each task's tenant schema, with a heartbeat."""

import logging
import os
import socket
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from core.models import WorkerHeartbeat
from core.scheduled import federation_sync_everywhere, publish_scheduled_everywhere
from core.tasks import run_in_recorded_tenant

logger = logging.getLogger("core.worker")


class TenantWorker(Worker):
    def run_task(self, db_task_result) -> None:
        run_in_recorded_tenant(db_task_result, super().run_task)


def beat(worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(worker_id=worker_id, defaults={"last_seen": timezone.now()})


class Command(BaseCommand):
    help = "Run background tasks, each inside the tenant schema that enqueued it."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls when idle.")
        parser.add_argument("--batch", action="store_true", help="Exit when the queue is empty.")
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
        **options,
    ):
        worker_id = f"{socket.gethostname()}-{os.getpid()}"[:64]
        worker = TenantWorker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        stop = threading.Event()

        def heartbeat_loop():
            next_schedule = 0.0
            next_federation = 0.0
            while not stop.is_set():
                try:
                    beat(worker_id)
                    if time.monotonic() >= next_schedule:
                        publish_scheduled_everywhere()
                        next_schedule = time.monotonic() + schedule_every
                    if federation_every and time.monotonic() >= next_federation:
                        next_federation = time.monotonic() + federation_every
                        federation_sync_everywhere()
                except Exception:  # the next beat retries; /healthz shows the gap
                    logger.exception("worker heartbeat failed")
                finally:
                    close_old_connections()
                stop.wait(heartbeat)

        beat(worker_id)
        thread = threading.Thread(target=heartbeat_loop, daemon=True, name="heartbeat")
        thread.start()
        logger.info("worker %s started", worker_id)
        worker.configure_signals()
        try:
            worker.run()
        finally:
            stop.set()
            WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
