"""Copies pulled before `original_url` existed get it from their catalogue record (rel=canonical)."""

from django.db import migrations

PAGE_MODELS = ("NewsPage", "ActivityPage", "ResourcePage")


def fill_original_urls(apps, schema_editor):
    Record = apps.get_model("federation", "Record")
    copies = Record.objects.filter(is_local=False, page__isnull=False).values_list("uid", "envelope")
    urls = {uid: (envelope or {}).get("canonical_url") or "" for uid, envelope in copies}
    for name in PAGE_MODELS:
        model = apps.get_model("cms_pages", name)
        for page in model.objects.filter(uid__in=[uid for uid, url in urls.items() if url], original_url=""):
            model.objects.filter(pk=page.pk).update(original_url=urls[page.uid][:500])


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0002_record_pending_index"),
        ("cms_pages", "0004_pulled_copies_original_url"),
    ]

    operations = [migrations.RunPython(fill_original_urls, migrations.RunPython.noop)]
