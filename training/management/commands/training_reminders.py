"""Send the due-date reminders of training courses now, on every site (the worker does this every
minute through training.tasks; this command is for a manual run)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context

from training.services import send_due_reminders


class Command(BaseCommand):
    help = "Send due-date reminders of assigned training courses in every tenant (each person once per reminder)."

    def handle(self, *args, **options):
        skip = {get_public_schema_name(), settings.TENANT_BASE_SCHEMA}
        for schema in get_tenant_model().objects.exclude(schema_name__in=skip).values_list("schema_name", flat=True):
            with schema_context(schema):
                sent = send_due_reminders()
            self.stdout.write(f"{schema}: {sent} reminders")
