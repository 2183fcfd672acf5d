from django.core.management.base import BaseCommand, CommandError

from tenants import services


class Command(BaseCommand):
    help = "Close a tenant site (it answers with a 'site closed' page) or reopen it."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--close", action="store_true")
        group.add_argument("--open", action="store_true")

    def handle(self, *, slug, close, open, **options):
        try:
            site = services.set_site_active(slug, active=open)
        except services.ProvisioningError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(f"{site.name}: {'open' if site.is_active else 'closed'}")
