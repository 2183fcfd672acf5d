from django.core.management.base import BaseCommand

from tenants.demo import demo_logins, provision_demo


class Command(BaseCommand):
    help = "Create the demo world (national, provinces, a city, demo logins). Safe to run again."

    def handle(self, **options):
        sites = provision_demo(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"demo world ready: {', '.join(s.schema_name for s in sites)}"))
        for site, role, username, password in demo_logins():
            self.stdout.write(f"  {site:<10} {role:<14} {username:<20} {password}")
