"""A worker killed mid-task: the task runs again (idempotent tasks) or is marked failed, never lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context

from core.management.commands.run_worker import TenantWorker
from core.models import WorkerHeartbeat
from core.tasks import recover_interrupted_tasks
from tests.core.sample_tasks import hold_until_released, report_schema

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "tests.core.sample_tasks.report_schema"


def running_row(worker_id: str) -> DBTaskResult:
    with schema_context("zhejiang"):
        result = report_schema.enqueue()
    row = DBTaskResult.objects.get(id=result.id)
    row.claim(worker_id)
    return row


@pytest.mark.django_db
def test_only_the_tasks_of_workers_without_a_fresh_heartbeat_are_recovered(settings):
    settings.WORKER_HEARTBEAT_MAX_AGE = 60
    settings.CULTURE_RERUNNABLE_TASKS = {SAMPLE}
    WorkerHeartbeat.objects.create(worker_id="alive", last_seen=timezone.now())
    WorkerHeartbeat.objects.create(worker_id="silent", last_seen=timezone.now() - timedelta(minutes=5))
    alive, silent, vanished = running_row("alive"), running_row("silent"), running_row("vanished")

    recovered = recover_interrupted_tasks()

    assert sorted(recovered["requeued"]) == sorted([str(silent.id), str(vanished.id)])
    for row, status in ((alive, "RUNNING"), (silent, "READY"), (vanished, "READY")):
        row.refresh_from_db()
        assert row.status == status
    assert DBTaskResult.objects.ready().filter(id=silent.id).exists()  # the worker will take it again
    assert recover_interrupted_tasks() == {"requeued": [], "failed": []}  # nothing twice


@pytest.mark.django_db
def test_a_task_that_must_not_run_twice_is_marked_failed(settings):
    settings.CULTURE_RERUNNABLE_TASKS = set()  # as a mail would be
    row = running_row("vanished")
    assert recover_interrupted_tasks()["failed"] == [str(row.id)]
    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == "core.tasks.WorkerStopped"


def start_worker() -> subprocess.Popen:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="core.settings.test", CULTURE_DB_NAME=connection.settings_dict["NAME"])
    if env.get("DATABASE_URL"):
        pytest.skip("runs a worker on the embedded test database")
    cmd = [
        sys.executable,
        "manage.py",
        "run_worker",
        "--interval",
        "0.1",
        "--federation-every",
        "0",
        "--queue",
        "tests",
    ]
    return subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def wait_for(condition, seconds: float = 180):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.parametrize("rerunnable", [True, False], ids=["runs-again", "marked-failed"])
def test_a_worker_killed_mid_task(committed_db, settings, tmp_path, rerunnable):
    task_path = hold_until_released.module_path
    settings.CULTURE_RERUNNABLE_TASKS = {task_path} if rerunnable else set()
    with schema_context("zhejiang"):
        result = hold_until_released.enqueue(str(tmp_path))
    worker = start_worker()
    try:
        wait_for(lambda: (tmp_path / "runs").exists())
        row = DBTaskResult.objects.get(id=result.id)
        assert row.status == TaskResultStatus.RUNNING
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        time.sleep(0.5)
        row.refresh_from_db()
        assert row.status == TaskResultStatus.RUNNING  # without recovery it would stay so for ever

        settings.WORKER_HEARTBEAT_MAX_AGE = 0  # the killed worker's last beat is already too old
        recovered = recover_interrupted_tasks()
        (tmp_path / "release").touch()
        row.refresh_from_db()
        if rerunnable:
            assert recovered["requeued"] == [str(result.id)] and row.status == TaskResultStatus.READY
            TenantWorker(
                queue_names=["*"],
                interval=0,
                batch=True,
                backend_name="default",
                startup_delay=False,
                max_tasks=None,
                worker_id="survivor",
                excluded_queue_names=[],
            ).run_task(row)
            row.refresh_from_db()
            assert row.status == TaskResultStatus.SUCCESSFUL
            assert row.return_value == 2  # ran again, to the end
        else:
            assert recovered["failed"] == [str(result.id)] and row.status == TaskResultStatus.FAILED
            assert (tmp_path / "runs").read_text().count("run") == 1  # never a second time
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        connection.set_schema_to_public()
        DBTaskResult.objects.filter(id=result.id).delete()
        WorkerHeartbeat.objects.all().delete()
