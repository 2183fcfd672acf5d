"""`manage.py federation_sync`: deliver pending pushes and run subscriptions, tenant by tenant.

    manage.py federation_sync                       # every site
    manage.py federation_sync --tenant zhejiang --push-only --limit 500

Safe to run twice and beside the worker: delivery and pulls commit item by item (outside any
transaction here), a delivered entry is never sent again and a pulled item moves its cursor.
Exits non-zero when a site failed; the others still run.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_tenants.utils import schema_context

from federation import sync


class TextProgress:
    """A tiny progress bar on the command's stdout (no extra dependency): `[#####-----] 50/100`."""

    WIDTH = 30

    def __init__(self, out, label: str, total: int | None):
        self.out, self.label, self.total, self.done = out, label, total, 0
        self._last = 0.0
        self._drawn: int | None = None

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= 0.2 or (self.total and self.done >= self.total):
            self._last = now
            self.draw()

    def finish(self) -> None:
        """Draw the final state unless it is already on screen (or there was nothing to do)."""
        if self._drawn != self.done and (self.done or self.total):
            self.draw()

    def draw(self) -> None:
        self._drawn = self.done
        if self.total:
            filled = min(self.WIDTH, self.WIDTH * self.done // self.total)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.out.write(f"  {self.label} [{bar}] {self.done}/{self.total}")
        else:
            self.out.write(f"  {self.label} {self.done}")


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        from argparse import ArgumentTypeError

        raise ArgumentTypeError(f"--limit must be a positive whole number, not {value!r}")
    return number


class Command(BaseCommand):
    help = "Deliver pending pushes to the national cloud and run subscriptions, for every site or the ones named."

    def add_arguments(self, parser):
        parser.add_argument(
            "--tenant", action="append", dest="tenants", metavar="SLUG", help="Only this site (repeatable)."
        )
        only = parser.add_mutually_exclusive_group()
        only.add_argument("--push-only", action="store_true", help="Only deliver the outbox.")
        only.add_argument("--pull-only", action="store_true", help="Only run subscriptions.")
        parser.add_argument("--limit", type=_positive, help="Deliver at most N outbox entries per site.")

    def handle(self, *, tenants, push_only: bool, pull_only: bool, limit: int | None, **options):
        connection.set_schema_to_public()
        try:
            schemas = sync.tenant_schemas(tenants)
        except ValueError as exc:
            raise CommandError(f"--tenant: {exc}") from None
        failed = []
        for schema in schemas:
            self.stdout.write(f"{schema}:")
            try:
                with schema_context(schema):
                    result = self._sync_one(push=not pull_only, pull=not push_only, limit=limit)
            except Exception as exc:  # one site's failure must not stop the others
                failed.append(schema)
                self.stderr.write(f"{schema}: FAILED {type(exc).__name__}: {exc}")
                continue
            self.stdout.write(f"{schema}: {sync.summary_line(result)}")
        self.stdout.write(f"{len(schemas) - len(failed)}/{len(schemas)} sites synced")
        if failed:
            raise CommandError(f"federation sync failed for: {', '.join(failed)}")

    def _sync_one(self, *, push: bool, pull: bool, limit: int | None) -> dict:
        result: dict = {"push": None, "pull": None}
        if push:
            total = sync.pending_count()
            if limit is not None:
                total = min(total, limit)
            bar = TextProgress(self.stdout, "push", total)
            result["push"] = sync.sync_here(push=True, pull=False, limit=limit, progress=bar)["push"]
            bar.finish()
        if pull:
            bar = TextProgress(self.stdout, "pull", None)
            result["pull"] = sync.sync_here(push=False, pull=True, progress=bar)["pull"]
            bar.finish()
        return result
