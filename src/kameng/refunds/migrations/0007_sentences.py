"""A case's stage reason and what happens at its deadline become sentences kept as data
(kameng.sentences), shown in the reader's language. Text stored before stays as it was written,
as a JSON string, and is shown as it is."""

from django.db import migrations, models


def copy_text(apps, schema_editor):
    RefundCase = apps.get_model("refunds", "RefundCase")
    batch = []
    for case in RefundCase.objects.only("pk", "stage_reason", "deadline_action").iterator(chunk_size=2000):
        case.stage_reason_said = case.stage_reason
        case.deadline_action_said = case.deadline_action
        batch.append(case)
        if len(batch) == 2000:
            RefundCase.objects.bulk_update(batch, ["stage_reason_said", "deadline_action_said"])
            batch = []
    RefundCase.objects.bulk_update(batch, ["stage_reason_said", "deadline_action_said"])


class Migration(migrations.Migration):
    dependencies = [("refunds", "0006_payout_retry_backoff")]

    operations = [
        migrations.AddField(
            model_name="refundcase",
            name="stage_reason_said",
            field=models.JSONField(blank=True, default=str, verbose_name="原因说明"),
        ),
        migrations.AddField(
            model_name="refundcase",
            name="deadline_action_said",
            field=models.JSONField(blank=True, default=str, verbose_name="逾期后"),
        ),
        migrations.RunPython(copy_text, migrations.RunPython.noop),
        migrations.RemoveField(model_name="refundcase", name="stage_reason"),
        migrations.RemoveField(model_name="refundcase", name="deadline_action"),
        migrations.RenameField(model_name="refundcase", old_name="stage_reason_said", new_name="stage_reason"),
        migrations.RenameField(
            model_name="refundcase", old_name="deadline_action_said", new_name="deadline_action"
        ),
    ]
