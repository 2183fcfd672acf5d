"""Rebuild the search index of every site indexed with an older segmentation (make run does this)."""

from django.core.management.base import BaseCommand

from tenants import services


class Command(BaseCommand):
    help = "Rebuild the search index of every site whose index predates the current Chinese segmentation."

    def handle(self, **options):
        rebuilt = services.refresh_search_indexes(stdout=self.stdout)
        self.stdout.write(f"{len(rebuilt)} site(s) rebuilt." if rebuilt else "every search index is current.")
