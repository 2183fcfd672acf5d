from django.core.management.base import BaseCommand

from tenants import services


class Command(BaseCommand):
    help = "Give the default roles of every tenant (and the template) the permissions of this code version."

    def handle(self, **options):
        schemas = services.sync_default_roles()
        self.stdout.write(f"default roles up to date in {len(schemas)} schema(s)")
