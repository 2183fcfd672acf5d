from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants import backup, services


class Command(BaseCommand):
    help = "Restore one tenant site from an export_culture_site archive (--replace to overwrite an existing site)."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="path of the .tar.gz written by export_culture_site")
        parser.add_argument(
            "--replace", action="store_true", help="replace the site of the same slug (its content is discarded)"
        )

    def handle(self, *, archive, replace, **options):
        try:
            site = backup.restore_culture_site(Path(archive), replace=replace)
        except services.ProvisioningError as exc:
            raise CommandError(
                "\n".join(f"{field}: {'；'.join(msgs)}" for field, msgs in exc.message_dict.items())
            ) from None
        except backup.BackupToolError as exc:
            raise CommandError(f"恢复失败：{exc}") from None
        self.stdout.write(self.style.SUCCESS(f"restored {site.name} at {site.primary_url()}"))
