from django.core.management.base import BaseCommand, CommandError

from tenants import services


class Command(BaseCommand):
    help = (
        "Set a tenant's primary public URL (the host, and optionally scheme and port, that every "
        "absolute URL of the site uses) and/or its contact email (OAI-PMH adminEmail)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--domain", help="primary host, e.g. wenhua.hangzhou.gov.cn (added if new)")
        parser.add_argument("--scheme", default="", choices=["", "http", "https"], help="empty: CULTURE_SCHEME")
        parser.add_argument("--port", type=int, default=None, help="empty: CULTURE_PORT")
        parser.add_argument("--contact-email", dest="contact_email", default=None)

    def handle(self, *, slug, domain, scheme, port, contact_email, **options):
        if domain is None and contact_email is None:
            raise CommandError("nothing to set: give --domain and/or --contact-email")
        try:
            if domain is not None:
                services.set_primary_address(slug, domain, scheme=scheme, port=port)
            if contact_email is not None:
                services.set_contact_email(slug, contact_email)
        except services.ProvisioningError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(f"{slug}: {services.public_base_url(slug)}/")
