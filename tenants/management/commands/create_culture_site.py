from django.core.management.base import BaseCommand, CommandError

from tenants import services


class Command(BaseCommand):
    help = "Create a tenant site, cloned from the migrated template (e.g. --slug hangzhou --name 杭州 --kind city --parent zhejiang --region 330100)."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="subdomain and schema name: lowercase letters and digits")
        parser.add_argument("--name", required=True, help="display name, e.g. 杭州文化云")
        parser.add_argument("--kind", required=True, choices=["national", "province", "city", "county"])
        parser.add_argument("--region", required=True, help="GB/T 2260 administrative region code, e.g. 330100")
        parser.add_argument("--parent", default=None, help="slug of the parent site (a province for a city)")
        parser.add_argument("--domain", action="append", default=[], help="an extra domain of the site (repeatable)")
        parser.add_argument(
            "--by-migrations", action="store_true", help="run every migration instead of cloning (slow)"
        )

    def handle(self, *, slug, name, kind, region, parent, domain, by_migrations, **options):
        spec = services.NewSite(
            slug=slug, name=name, kind=kind, region_code=region, parent_slug=parent, extra_domains=domain
        )
        try:
            site = services.create_culture_site(spec, by_migrations=by_migrations)
        except services.ProvisioningError as exc:
            raise CommandError(
                "\n".join(f"{field}: {'；'.join(msgs)}" for field, msgs in exc.message_dict.items())
            ) from None
        self.stdout.write(self.style.SUCCESS(f"created {site.name} at {site.primary_url()}"))
