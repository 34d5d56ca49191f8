"""A notice becomes a sentence kept as data (kameng.sentences), shown in the reader's language.
Notices stored before stay as they were written, as a JSON string."""

from django.db import migrations, models


def copy_text(apps, schema_editor):
    Notice = apps.get_model("accounts", "Notice")
    batch = []
    for notice in Notice.objects.only("pk", "text").iterator(chunk_size=2000):
        notice.said = notice.text
        batch.append(notice)
        if len(batch) == 2000:
            Notice.objects.bulk_update(batch, ["said"])
            batch = []
    Notice.objects.bulk_update(batch, ["said"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_role_groups")]

    operations = [
        migrations.AddField(model_name="notice", name="said", field=models.JSONField(default=str)),
        migrations.RunPython(copy_text, migrations.RunPython.noop),
        migrations.RemoveField(model_name="notice", name="text"),
        migrations.RenameField(model_name="notice", old_name="said", new_name="text"),
    ]
