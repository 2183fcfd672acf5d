"""Remind people of assigned courses due in 7, 3 or 1 days, on every site (run once a day)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from training.services import send_due_reminders


class Command(BaseCommand):
    help = "Send due-date reminders of assigned training courses in every tenant (idempotent per day)."

    def handle(self, *args, **options):
        skip = {get_public_schema_name(), settings.TENANT_BASE_SCHEMA}
        for schema in get_tenant_model().objects.exclude(schema_name__in=skip).values_list("schema_name", flat=True):
            with schema_context(schema):
                sent = send_due_reminders()
            self.stdout.write(f"{schema}: {sent} reminders")
