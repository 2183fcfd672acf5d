"""Remind confirmed volunteers of their shifts starting within a day, in every tenant (once per shift).

Run it from cron or a scheduler every few minutes; a shift is claimed before its reminders go
out, so overlapping runs never remind twice.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from volunteers.services import send_shift_reminders


class Command(BaseCommand):
    help = "Send shift reminders (志愿服务提醒) in every tenant."

    def add_arguments(self, parser):
        parser.add_argument("--within-hours", type=int, default=24)

    def handle(self, *args, within_hours: int, **options):
        skip = {get_public_schema_name(), settings.TENANT_BASE_SCHEMA}
        for schema in get_tenant_model().objects.exclude(schema_name__in=skip).values_list("schema_name", flat=True):
            with schema_context(schema):
                sent = send_shift_reminders(within_hours=within_hours)
            if sent:
                self.stdout.write(f"{schema}: {sent} reminders")
