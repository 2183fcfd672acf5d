#!/bin/sh
# Culture Cloud container entrypoint: one image, several roles, chosen by the first argument.
#
#   daphne ... | web [cmd...]   migrate and ensure the platform rows (unless RUN_MIGRATIONS=0),
#                               then exec the command (default: daphne on 0.0.0.0:8000)
#   worker | run_worker [args]  wait until the platform schema is migrated and no migration is
#                               running, then exec `manage.py run_worker [args]`
#   migrate                     migrate and ensure the platform rows, then exit (one-off job)
#   anything else               exec'd as is (e.g. `python manage.py createsuperuser`, `sh`)
#
# Migrations run under a PostgreSQL advisory lock, so several web containers starting at once
# migrate one after the other (the later ones find nothing left to do), and every step is
# idempotent: restarting on an already migrated database only re-checks.
set -eu

cd "${APP_DIR:-/app}"

log() {
    echo "entrypoint: $*" >&2
}

# platform_helper migrate|wait
platform_helper() {
    python - "$@" <<'PY'
import os
import subprocess
import sys
import time

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.utils import OperationalError  # noqa: E402

# Any constant bigint works; every container of this deployment must use the same one.
LOCK_KEY = 0x43756C747572654D  # "CultureM"
MODE = sys.argv[1]
DB_WAIT_SECONDS = float(os.environ.get("DB_WAIT_SECONDS", "60"))
MIGRATION_WAIT_SECONDS = float(os.environ.get("MIGRATION_WAIT_SECONDS", "900"))
ENSURE_PLATFORM = (
    "from tenants.services import ensure_platform_tenant, ensure_template, sync_default_roles; "
    "ensure_platform_tenant(); ensure_template(); sync_default_roles()"
)


def log(message):
    print(f"entrypoint: {message}", file=sys.stderr, flush=True)


def connect():
    deadline = time.monotonic() + DB_WAIT_SECONDS
    while True:
        try:
            connection.ensure_connection()
            return
        except OperationalError as exc:
            if time.monotonic() > deadline:
                log(f"database still unreachable after {DB_WAIT_SECONDS:.0f} s")
                raise
            log(f"waiting for the database ({exc.__class__.__name__})")
            time.sleep(2)


def manage(*args):
    log("manage.py " + " ".join(arg for arg in args if arg != ENSURE_PLATFORM))
    subprocess.run([sys.executable, "manage.py", *args], check=True, stdin=subprocess.DEVNULL)


def schemas_behind():
    from tenants.services import schemas_with_pending_migrations

    connection.set_schema_to_public()
    return schemas_with_pending_migrations()


def migrate():
    connect()
    with connection.cursor() as cursor:
        log("taking the migration lock")
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        behind = schemas_behind()
        if behind:
            log(f"{len(behind)} schema(s) behind: migrating")
            manage("migrate_schemas", "--shared", "--noinput")
            manage("migrate_schemas", "--executor=multiprocessing", "--noinput")
        else:
            log("every schema is up to date")
        manage("shell", "--no-imports", "-c", ENSURE_PLATFORM)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        connection.close()


def wait_for_migrations():
    connect()
    deadline = time.monotonic() + MIGRATION_WAIT_SECONDS
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            idle = cursor.fetchone()[0]
            if idle:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        if idle and "public" not in schemas_behind():
            connection.close()
            return
        if time.monotonic() > deadline:
            log(f"migrations still running or pending after {MIGRATION_WAIT_SECONDS:.0f} s; giving up")
            sys.exit(1)
        log("waiting for the web container to migrate the platform schema")
        time.sleep(3)


if MODE == "migrate":
    migrate()
elif MODE == "wait":
    wait_for_migrations()
else:
    sys.exit(f"unknown helper mode {MODE!r}")
PY
}

prepare_web() {
    case "$(echo "${RUN_MIGRATIONS:-1}" | tr '[:upper:]' '[:lower:]')" in
        0 | false | no | off)
            log "RUN_MIGRATIONS=${RUN_MIGRATIONS}: skipping migrations"
            ;;
        *)
            platform_helper migrate
            ;;
    esac
}

if [ "$#" -eq 0 ]; then
    set -- web
fi

case "$1" in
    worker | run_worker)
        shift
        platform_helper wait
        exec python manage.py run_worker "$@"
        ;;
    migrate)
        platform_helper migrate
        ;;
    web)
        shift
        if [ "$#" -eq 0 ]; then
            set -- daphne -b 0.0.0.0 -p 8000 core.asgi:application
        fi
        prepare_web
        exec "$@"
        ;;
    daphne)
        prepare_web
        exec "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
