"""Fill locale/zh_Hant from the project's Simplified message ids with OpenCC, keeping what a
translator already wrote, and compile it. Run after `makemessages -l zh_Hant` (docs/languages.md)."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand

from core.scripts import to_traditional


class Command(BaseCommand):
    help = "Convert the project's message catalogue to Traditional Chinese (OpenCC) where it is empty."

    def handle(self, **options):
        for domain in ("django", "djangojs"):
            path = Path(settings.BASE_DIR) / "locale" / "zh_Hant" / "LC_MESSAGES" / f"{domain}.po"
            if not path.exists():
                continue
            catalogue = polib.pofile(str(path))
            filled = 0
            for entry in catalogue:
                if entry.obsolete:
                    continue
                if entry.msgid_plural:
                    if not entry.msgstr_plural.get(0):
                        entry.msgstr_plural = {0: to_traditional(entry.msgid_plural)}
                        filled += 1
                elif not entry.msgstr or "fuzzy" in entry.flags:
                    entry.msgstr = to_traditional(entry.msgid)
                    filled += 1
                if "fuzzy" in entry.flags:
                    entry.flags.remove("fuzzy")
            catalogue.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
            catalogue.save(str(path))
            catalogue.save_as_mofile(str(path.with_suffix(".mo")))
            self.stdout.write(f"{path}: {filled} string(s) converted, {len(catalogue)} in all")
