from django.core.management.base import BaseCommand

from languages.demo import provision_languages
from tenants.demo import demo_logins, provision_demo


class Command(BaseCommand):
    help = "Create the demo world (national, provinces, a city, demo logins). Safe to run again."

    def handle(self, **options):
        sites = provision_demo(stdout=self.stdout)
        provision_languages()  # zh-Hant of every page, English and Tibetan demo pages (languages/demo.py)
        self.stdout.write(self.style.SUCCESS(f"demo world ready: {', '.join(s.schema_name for s in sites)}"))
        for site, role, username, password in demo_logins():
            self.stdout.write(f"  {site:<10} {role:<14} {username:<20} {password}")
