from django.db import connection
from django_tasks import task


@task()
def report_schema() -> str:
    return connection.schema_name


# On the tests' own queue: the worker a test starts takes nothing else.
@task(queue_name="tests")
def hold_until_released(folder: str) -> int:
    """Notes each run in `folder`/runs, then holds the worker until `folder`/release exists (60 s at most)."""
    import time
    from pathlib import Path

    runs = Path(folder) / "runs"
    with runs.open("a") as out:
        out.write("run\n")
    deadline = time.monotonic() + 60
    while not (Path(folder) / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(runs.read_text().splitlines())
