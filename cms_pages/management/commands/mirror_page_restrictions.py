"""`manage.py mirror_page_restrictions`: give every language version of a restricted page the
restrictions of its original, on every site (once after upgrading; docs/privacy.md).

Restrictions are copied to translations whenever they change (`cms_pages.privacy`); this brings
pages restricted before that rule — or written without signals (a restore, raw SQL) — in line.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection
from django_tenants.utils import schema_context

from federation import sync


class Command(BaseCommand):
    help = "Copy each original page's view restrictions to its language versions, on every site."

    def handle(self, **options):
        from wagtail.models import Locale, PageViewRestriction

        from cms_pages.privacy import mirror_restrictions

        connection.set_schema_to_public()
        for schema in sync.tenant_schemas(None):
            with schema_context(schema):
                default = Locale.get_default()
                page_ids = set(
                    PageViewRestriction.objects.filter(page__locale=default).values_list("page_id", flat=True)
                )
                for page_id in sorted(page_ids):
                    mirror_restrictions(page_id)
            self.stdout.write(f"{schema}: {len(page_ids)} restricted pages mirrored to their translations")
