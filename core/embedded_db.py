"""The embedded PostgreSQL that `make run`, `manage.py` and the tests share.

When ``DATABASE_URL`` is not set, the platform runs on a real PostgreSQL
started from the ``pgserver`` wheel (no system install). Its data directory
lives under ``var/pgdata`` and is reused between runs; the server is left
running after a command exits so the next ``manage.py`` call is instant, and
``make run`` stops it on Ctrl-C (see ``stop_embedded_postgres``).
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PGDATA = BASE_DIR / "var" / "pgdata"
START_WAIT_SECONDS = 30


def pgdata_dir() -> Path:
    return Path(os.environ.get("CULTURE_PGDATA", DEFAULT_PGDATA)).resolve()


def _server():
    # pgserver warns when XDG_RUNTIME_DIR is unset (it then uses /tmp); harmless.
    warnings.filterwarnings("ignore", module="platformdirs")
    # pgserver logs every start-up step at INFO; only problems are worth a line.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    import pgserver

    pgdata = pgdata_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # Right after Ctrl-C the previous server may still be shutting down: pgserver then finds a
    # postmaster that is not "ready" and gives up (AssertionError). Wait for it to go, then start.
    deadline = time.monotonic() + START_WAIT_SECONDS
    while True:
        try:
            return pgserver.get_server(pgdata, cleanup_mode=None)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def embedded_database_settings(name: str = "culture") -> dict:
    """Start (or reuse) the embedded server and return Django DATABASES settings for it."""
    server = _server()
    info = server.get_postmaster_info()
    _ensure_database(server, name)
    return {
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }


def _ensure_database(server, name: str) -> None:
    import psycopg2

    info = server.get_postmaster_info()
    conn = psycopg2.connect(dbname="postgres", user="postgres", host=str(info.socket_dir), port=info.port)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def postgres_bin(tool: str) -> str:
    """Path of a PostgreSQL client tool (pg_dump, psql...) shipped with pgserver.

    Used for tenant export/restore against any server: pgserver's tools are
    PostgreSQL 16, which can dump servers of that version and older.
    """
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / tool)


def stop_embedded_postgres() -> None:
    pgdata = pgdata_dir()
    if not (pgdata / "postmaster.pid").exists():
        return
    from pgserver._commands import POSTGRES_BIN_PATH

    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"]
    # pgserver runs the server as the unprivileged 'pgserver' user when started by root.
    user = "pgserver" if os.geteuid() == 0 else None
    subprocess.run(cmd, check=False, capture_output=True, user=user)  # noqa: S603
