"""News and activities get a permanent identifier like resources; all three can be pushed."""

import uuid

from django.db import migrations, models


def mint_uids(apps, schema_editor):
    # AddField evaluates a callable default once; each existing page needs its own identifier.
    for model_name in ("NewsPage", "ActivityPage"):
        model = apps.get_model("cms_pages", model_name)
        for pk in model.objects.values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(uid=uuid.uuid4())


PUSH = dict(
    default=False,
    help_text="发布、撤回或删除时同步到国家公共文化云目录；站点也可按内容类型统一设置",
    verbose_name="推送到国家平台",
)


class Migration(migrations.Migration):
    dependencies = [("cms_pages", "0002_content_pages")]

    operations = [
        migrations.AddField("newspage", "uid", models.UUIDField(null=True, editable=False)),
        migrations.AddField("activitypage", "uid", models.UUIDField(null=True, editable=False)),
        migrations.RunPython(mint_uids, migrations.RunPython.noop),
        migrations.AlterField(
            "newspage",
            "uid",
            models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="唯一标识符"),
        ),
        migrations.AlterField(
            "activitypage",
            "uid",
            models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="唯一标识符"),
        ),
        migrations.AddField("newspage", "push_to_national", models.BooleanField(**PUSH)),
        migrations.AddField("activitypage", "push_to_national", models.BooleanField(**PUSH)),
        migrations.AddField("resourcepage", "push_to_national", models.BooleanField(**PUSH)),
    ]
