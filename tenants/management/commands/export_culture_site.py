from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants import backup, services


class Command(BaseCommand):
    help = "Export one tenant site (its schema and media) to a .tar.gz archive, e.g. zhejiang --output var/backups/."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the site to export, e.g. zhejiang")
        parser.add_argument(
            "--output",
            default="var/backups/",
            help="folder for <slug>-<timestamp>.tar.gz, or the archive's own path ending in .tar.gz",
        )

    def handle(self, *, slug, output, **options):
        try:
            archive = backup.export_culture_site(slug, Path(output))
        except services.ProvisioningError as exc:
            raise CommandError("；".join(exc.messages)) from None
        except backup.BackupToolError as exc:
            raise CommandError(f"导出失败：{exc}") from None
        self.stdout.write(self.style.SUCCESS(f"exported {slug} to {archive}"))
