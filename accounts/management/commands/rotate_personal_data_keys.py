"""Re-encrypt every account's personal data with the primary key, and rebuild the blind indexes.

Key rotation: put the new key first in PERSONAL_DATA_KEYS (keep the old ones after it),
deploy, run this command, then drop the old keys. Changing PERSONAL_DATA_INDEX_KEY works
the same way: the indexes are recomputed from the decrypted values.

Idempotent: values already encrypted with the primary key and indexes already right are
left alone, so a second run (or a run resumed after an interruption) changes nothing.
Each batch is one transaction with its rows locked, so concurrent edits are not lost.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.db.models.functions import Cast

from accounts import crypto
from accounts.services import PERSONAL_DATA_INDEXES


class Command(BaseCommand):
    help = "Re-encrypt personal data with the primary key of PERSONAL_DATA_KEYS and rebuild the blind indexes."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="accounts per transaction (default 500)")

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        # Accounts live in the public schema.
        connection.set_schema_to_public()
        User = get_user_model()
        encrypted = [f.name for f in User._meta.concrete_fields if isinstance(f, crypto.EncryptedCharField)]
        # Cast to plain text: the raw tokens, without the field's automatic decryption.
        raw_columns = {f"raw_{name}": Cast(name, output_field=models.TextField()) for name in encrypted}
        index_fields = [index_field for index_field, _kind in PERSONAL_DATA_INDEXES.values()]

        counts = {"accounts": 0, "rotated": 0, "current": 0, "reindexed": 0}
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = list(
                    User.objects.filter(pk__gt=last_pk)
                    .order_by("pk")
                    .select_for_update()
                    .values("pk", *index_fields, **raw_columns)[:batch_size]
                )
                for row in rows:
                    updates = self._row_updates(row, encrypted, counts)
                    if updates:
                        User.objects.filter(pk=row["pk"]).update(**updates)
            if not rows:
                break
            last_pk = rows[-1]["pk"]
            counts["accounts"] += len(rows)
            self.stdout.write(f"… {counts['accounts']} accounts checked")

        self.stdout.write(
            self.style.SUCCESS(
                f"Accounts checked: {counts['accounts']}; values re-encrypted: {counts['rotated']}; "
                f"already on the primary key: {counts['current']}; blind indexes rebuilt: {counts['reindexed']}."
            )
        )

    def _row_updates(self, row: dict, encrypted: list[str], counts: dict[str, int]) -> dict:
        updates: dict = {}
        for name in encrypted:
            token = row[f"raw_{name}"] or ""
            try:
                if token:
                    if crypto.is_current(token):
                        counts["current"] += 1
                    else:
                        # An expression, so update() stores the new token as is instead of
                        # encrypting it a second time through the field.
                        updates[name] = models.Value(crypto.rotate(token), output_field=models.TextField())
                        counts["rotated"] += 1
                if name in PERSONAL_DATA_INDEXES:
                    index_field, kind = PERSONAL_DATA_INDEXES[name]
                    # Stored values were normalised before encryption, so the index of the
                    # decrypted value is the one set_personal_data would compute.
                    expected = crypto.blind_index(kind, crypto.decrypt(token)) if token else ""
                    if row[index_field] != expected:
                        updates[index_field] = expected
                        counts["reindexed"] += 1
            except crypto.PersonalDataDecryptionError as exc:
                # Earlier batches are committed and this one rolls back: fix the keys, run again.
                raise CommandError(
                    f"Account {row['pk']}: field {name} cannot be decrypted with any key. {exc}"
                ) from exc
        return updates
