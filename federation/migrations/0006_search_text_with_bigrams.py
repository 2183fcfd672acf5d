"""Catalogue records get their search text again: jieba's words plus character bigrams
(core.chinese, docs/search.md), so a word jieba cut wrongly is still found."""

from django.db import migrations


def resegment(apps, schema_editor):
    from federation.services import searchable_text

    Record = apps.get_model("federation", "Record")
    for record in Record.objects.only("pk", "envelope").iterator(chunk_size=500):
        envelope = record.envelope or {}
        if not envelope.get("payload") or not envelope.get("origin"):
            continue
        Record.objects.filter(pk=record.pk).update(search_text=searchable_text(envelope))


class Migration(migrations.Migration):
    dependencies = [("federation", "0005_subscription_courses_set")]

    operations = [migrations.RunPython(resegment, migrations.RunPython.noop)]
