"""`make run`: migrate what is behind, provision the demo world, start the worker and daphne."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name

from core.page_cache import forget_pages_kept_on_disk
from core.urls_util import site_url
from languages.demo import provision_languages
from tenants import services
from tenants.demo import demo_logins, provision_demo
from tenants.models import CultureSite


def write_urls_with_port(port: str | int) -> None:
    """`--port` is also the port of every absolute URL written (README "Public URLs"): a site whose
    primary domain names no port is written with CULTURE_PORT, which this process, the web server
    and the worker (links in mails) all read; otherwise `run_platform --port 8112` would write
    links to :8000 that do not open."""
    port = str(port)
    if port != str(settings.PLATFORM_PORT):
        os.environ["CULTURE_PORT"] = port
        settings.PLATFORM_PORT = port


class Command(BaseCommand):
    help = "Run the whole platform locally: database, migrations, demo world, task worker and web server."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("CULTURE_BIND", "127.0.0.1"))
        parser.add_argument("--port", default=settings.PLATFORM_PORT)
        parser.add_argument("--no-serve", action="store_true", help="prepare everything, then exit")
        parser.add_argument(
            "--web-processes",
            type=int,
            default=int(os.environ.get("CULTURE_WEB_PROCESSES", "1")),
            help="daphne processes sharing the port (one listening socket; default 1)",
        )

    def handle(self, *, bind: str, port: str, no_serve: bool, web_processes: int, **options):
        started = time.monotonic()
        write_urls_with_port(port)
        self.migrate_what_is_behind()
        if not os.environ.get("REDIS_URL"):
            from core.embedded_redis import ensure_embedded_redis

            # Started once here, so the web server and the worker find it answering.
            ensure_embedded_redis()
        provision_demo(stdout=self.stdout)
        # Not part of provision_demo (the test suite's world stays one language): zh-Hant of every
        # page, English and Tibetan demo pages (languages/demo.py).
        provision_languages()
        services.refresh_search_indexes(stdout=self.stdout)
        forget_pages_kept_on_disk()
        self.stdout.write(f"ready in {time.monotonic() - started:.1f} s")
        if no_serve:
            return
        self.serve(bind, port, max(1, web_processes))

    def migrate_what_is_behind(self) -> None:
        pending = services.schemas_with_pending_migrations()
        if get_public_schema_name() in pending:
            self.stdout.write("migrating the platform (public schema)...")
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        services.ensure_platform_tenant()
        # The tenant schemas (the template among them) are brought up to date before anything reads
        # them: setting up the template's site content reads models a new release may have changed.
        pending = [s for s in services.schemas_with_pending_migrations() if s != get_public_schema_name()]
        if pending:
            self.stdout.write(f"migrating {len(pending)} tenant schema(s)...")
            call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
        services.ensure_template()
        if pending:
            services.sync_default_roles()

    def serve(self, bind: str, port: str, web_processes: int = 1) -> None:
        python = sys.executable
        children = [subprocess.Popen([python, "manage.py", "run_worker"])]  # noqa: S603
        if web_processes == 1:
            children.append(
                subprocess.Popen([python, "-m", "daphne", "-b", bind, "-p", str(port), "core.asgi:application"])  # noqa: S603
            )
        else:
            # One listening socket opened here and inherited by every daphne process (`--fd`):
            # the kernel hands each new connection to one of them. Each process subscribes to
            # a channel-layer group once and delivers to its own members, so a comment to
            # 1,000 viewers is written by all the processes at once (docs/live-and-campaigns.md).
            listener = socket.create_server((bind, int(port)), backlog=2048)
            listener.set_inheritable(True)
            fd = listener.fileno()
            for _ in range(web_processes):
                children.append(
                    subprocess.Popen(  # noqa: S603
                        [python, "-m", "daphne", "--fd", str(fd), "core.asgi:application"], pass_fds=[fd]
                    )
                )
            listener.close()  # the children hold it
        self.print_banner()

        def stop(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stderr.write("a platform process exited; stopping.")
        except KeyboardInterrupt:
            self.stdout.write("\nstopping...")
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
            if not os.environ.get("REDIS_URL"):
                from core.embedded_redis import stop_embedded_redis

                stop_embedded_redis()
            if not os.environ.get("DATABASE_URL"):
                from core.embedded_db import stop_embedded_postgres

                stop_embedded_postgres()
                self.stdout.write("embedded PostgreSQL stopped.")

    def print_banner(self) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS("\n文化云 Culture Cloud is running:"))
        out.write(f"  platform directory   {site_url(settings.PLATFORM_DOMAIN)}")
        out.write(f"  platform operator    {site_url(settings.PLATFORM_DOMAIN, '/operator/')}")
        sites = CultureSite.objects.filter(kind__in=CultureSite.SERVED_KINDS).prefetch_related("domains")
        for site in sites.order_by("region_code"):
            for domain in site.domains.all():
                out.write(
                    f"  {site.name:<10}  {site_url(domain.domain):<45} admin: {site_url(domain.domain, '/admin/')}"
                )
        out.write("\nDemo logins:")
        for site_name, role, username, password in demo_logins():
            out.write(f"  {site_name:<10} {role:<14} {username:<20} {password}")
        out.write("\nPress Ctrl-C to stop (the embedded PostgreSQL stops too).\n")
