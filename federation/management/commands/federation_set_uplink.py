"""On a sending site: where its uplink (the national site) is and the key it signs with.

    echo "$SECRET" | manage.py federation_set_uplink --tenant zhejiang \\
        --name 国家公共文化云 --url https://national.example/ --key-id zhejiang-3f2a…

The secret is read from stdin (or from the environment variable named by `--secret-env`), never
from the command line, where other users could see it in the process list. `--loopback` instead
of `--url` links the site to the national site of this same deployment. Running it again with the
same values changes nothing; with a new key it replaces the old one (see federation_issue_key for
rotation between deployments). `--check` sends an empty signed batch to prove the link works.
"""

from __future__ import annotations

import getpass
import os
import sys
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from django.db import transaction
from django_tenants.utils import get_tenant_model, schema_context

from federation import services
from federation.transport import TransportError, for_peer

from ._common import get_site


def normalised_base_url(url: str, option: str = "--url") -> str:
    """The root URL of the other node (scheme, host, port); a path would break the signature."""
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise CommandError(f"{option}: an http:// or https:// URL is required, not {url!r}") from None
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise CommandError(f"{option}: give the site's root URL (scheme, host and port), without a path or query")
    return f"{parts.scheme}://{parts.netloc}"


class Command(BaseCommand):
    help = "Set a site's uplink (the national site it pushes to) and the key it signs with."
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the sending site's schema, e.g. zhejiang")
        parser.add_argument("--name", required=True, help="the uplink's name, e.g. 国家公共文化云")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--url", help="the uplink's root URL, e.g. https://national.example/")
        where.add_argument("--loopback", action="store_true", help="the national site of this deployment")
        parser.add_argument(
            "--public-url",
            help="where the uplink publishes its pages and files, when not at --url (e.g. reached by address)",
        )
        parser.add_argument("--key-id", required=True, help="the key id issued by the uplink")
        parser.add_argument("--secret-env", metavar="VAR", help="read the secret from this environment variable")
        parser.add_argument("--check", action="store_true", help="send an empty signed batch to test the link")

    def handle(self, *, tenant, name, url, loopback, key_id, secret_env, check, public_url=None, **options):
        name, key_id = name.strip(), key_id.strip()
        if not name or len(name) > 100:
            raise CommandError("--name: between 1 and 100 characters")
        if not key_id or len(key_id) > 64:
            raise CommandError("--key-id: between 1 and 64 characters")
        base_url = "" if loopback else normalised_base_url(url)
        public_url = normalised_base_url(public_url, "--public-url") if public_url and not loopback else ""
        secret = self._secret(secret_env, options.get("stdin"))
        site = get_site(tenant)
        if site.kind not in get_tenant_model().REPORTING_KINDS:
            raise CommandError(
                f"--tenant: {site.schema_name} is a {site.kind} site; only provinces, cities and counties push"
            )
        with schema_context(site.schema_name):
            with transaction.atomic():
                peer = services.set_uplink(
                    name=name, base_url=base_url, key_id=key_id, secret=secret, public_url=public_url
                )
            where = peer.base_url or "this deployment (loopback)"
            self.stdout.write(f"uplink of {site.schema_name}: {peer.name} at {where}, key {peer.key_id}")
            if check:
                self._check(peer)

    def _secret(self, secret_env: str | None, stdin) -> str:
        if secret_env:
            secret = os.environ.get(secret_env, "")
            if not secret.strip():
                raise CommandError(f"--secret-env: the environment variable {secret_env} is not set or empty")
            return secret.strip()
        stdin = stdin or sys.stdin
        if stdin.isatty():
            secret = getpass.getpass("secret: ")
        else:
            secret = stdin.readline()
        secret = secret.strip()
        if not secret:
            raise CommandError("secret: pipe it on stdin (or use --secret-env VAR); it was empty")
        if len(secret) > 200:
            raise CommandError("secret: longer than 200 characters; is this the secret?")
        return secret

    def _check(self, peer) -> None:
        try:
            answer = for_peer(peer).request("POST", "/federation/inbox/", {"envelopes": []})
        except TransportError as exc:
            raise CommandError(f"check failed: {exc}") from None
        self.stdout.write(f"check: the uplink accepted a signed request (HTTP {answer.status})")
