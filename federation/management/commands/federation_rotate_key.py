"""Inside one deployment: give a site a new key on the national site of the same deployment.

    manage.py federation_rotate_key --tenant zhejiang

The old key keeps working for a day (services.KEY_GRACE), so deliveries signed just before land.
A site whose uplink is another deployment cannot be rotated from here: issue a new key there
(`federation_issue_key --expire-old <old key id>`) and set it here with `federation_set_uplink`.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model, schema_context

from federation import services
from federation.models import InboundKey

from ._common import get_site


class Command(BaseCommand):
    help = "Rotate a site's signing key with the national site of this deployment (old key valid one more day)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the sending site's schema, e.g. zhejiang")

    def handle(self, *, tenant, **options):
        site = get_site(tenant)
        if site.kind not in get_tenant_model().REPORTING_KINDS:
            raise CommandError(
                f"--tenant: {site.schema_name} is a {site.kind} site; only provinces, cities and counties push"
            )
        with schema_context(site.schema_name):
            peer = services.uplink()
        if peer is None:
            raise CommandError(f"--tenant: {site.schema_name} has no uplink; link it with federation_set_uplink")
        if not peer.is_loopback:
            raise CommandError(
                f"{site.schema_name} pushes to another deployment ({peer.base_url}): run "
                f"federation_issue_key --expire-old {peer.key_id} there, then federation_set_uplink here"
            )
        national = get_tenant_model().objects.filter(kind="national").first()
        if national is None:
            raise CommandError("no national site in this deployment")
        key_id = services.rotate_key(site)
        with schema_context(national.schema_name):
            old = InboundKey.objects.filter(key_id=peer.key_id).first()
        self.stdout.write(f"key id: {key_id}")
        if old is not None and old.expires_at:
            self.stdout.write(f"old key {old.key_id} stops working at {old.expires_at.isoformat(timespec='seconds')}")
