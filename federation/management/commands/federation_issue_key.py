"""On the receiving node (the national site): issue a signing key for a site of another deployment.

    manage.py federation_issue_key --tenant national \\
        --origin-code 330000 --origin-slug zhejiang --origin-name 浙江文化云 \\
        --origin-url https://zhejiang.example.cn

prints the key id and the secret, once: hand them to the operator of that site, who runs
`federation_set_uplink` there. The secret is stored encrypted; it cannot be shown again.

Rotation between deployments: issue a new key with `--expire-old <old key id>` (the old key keeps
working for `--grace-hours`, 24 by default), then set the new key on the sending side.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_tenants.utils import schema_context

from federation import services
from federation.models import InboundKey

from ._common import get_site

REGION_CODE = re.compile(r"^\d{6}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


class Command(BaseCommand):
    help = "Issue a key a site of another deployment signs its federation requests to this site with."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the receiving site's schema (usually national)")
        parser.add_argument("--origin-code", required=True, help="the sending site's region code (6 digits)")
        parser.add_argument("--origin-slug", required=True, help="the sending site's short name, e.g. zhejiang")
        parser.add_argument("--origin-name", required=True, help="the sending site's name, e.g. 浙江文化云")
        parser.add_argument(
            "--origin-url",
            help="the sending site's public root URL (scheme, host, port): its envelopes' URLs must be on it",
        )
        parser.add_argument("--expire-old", metavar="KEY_ID", help="a key of the same site this one replaces")
        parser.add_argument(
            "--grace-hours", type=float, default=services.KEY_GRACE.total_seconds() / 3600,
            help="how long the replaced key keeps working (default 24)",
        )  # fmt: skip

    def handle(
        self, *, tenant, origin_code, origin_slug, origin_name, expire_old, grace_hours, origin_url=None, **options
    ):
        from .federation_set_uplink import normalised_base_url

        origin_url = normalised_base_url(origin_url, "--origin-url") if origin_url else ""
        origin_code, origin_slug, origin_name = origin_code.strip(), origin_slug.strip().lower(), origin_name.strip()
        if not REGION_CODE.match(origin_code):
            raise CommandError(f"--origin-code: a 6-digit region code is required, not {origin_code!r}")
        if not SLUG.match(origin_slug):
            raise CommandError("--origin-slug: lower-case letters, digits and '-', at most 41 characters")
        if not origin_name or len(origin_name) > 100:
            raise CommandError("--origin-name: between 1 and 100 characters")
        if grace_hours < 0:
            raise CommandError("--grace-hours: must not be negative")
        site = get_site(tenant)
        with schema_context(site.schema_name), transaction.atomic():
            old = None
            if expire_old:
                try:
                    old = services.expire_inbound_key(
                        expire_old, origin_code=origin_code, grace=timedelta(hours=grace_hours)
                    )
                except InboundKey.DoesNotExist:
                    raise CommandError(
                        f"--expire-old: no key {expire_old!r} of site {origin_code} on {site.schema_name}"
                    ) from None
            key_id, secret = services.issue_inbound_key(
                origin_code=origin_code, origin_slug=origin_slug, origin_name=origin_name, origin_url=origin_url
            )
        self.stdout.write(f"key id: {key_id}")
        self.stdout.write(f"secret: {secret}")
        if old is not None:
            self.stderr.write(f"old key {old.key_id} stops working at {old.expires_at.isoformat(timespec='seconds')}")
        self.stderr.write(
            f"Give both to the operator of {origin_name}; on that deployment: "
            f"manage.py federation_set_uplink --tenant {origin_slug} --name {site.name} "
            f"--url <this site's URL> --key-id {key_id}  (secret on stdin)"
        )
