"""Courses get their search text again with the current segmentation (core.chinese: jieba words
plus character bigrams), so a course saved before the segmenter changed is found by 非遗 etc."""

from django.db import migrations


def resegment(apps, schema_editor):
    from training.services import reindex_courses

    reindex_courses(apps.get_model("training", "Course"), apps.get_model("training", "Lesson"))


class Migration(migrations.Migration):
    dependencies = [("training", "0002_reminders_once_per_person")]

    operations = [migrations.RunPython(resegment, migrations.RunPython.noop)]
