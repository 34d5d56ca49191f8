from django.db import migrations


def load(apps, schema_editor):
    from kameng.refunds.policy import DEFAULT_CLAUSES, DEFAULT_EVIDENCE

    Clause = apps.get_model("refunds", "Clause")
    EvidenceRule = apps.get_model("refunds", "EvidenceRule")
    for number, title, body, params in DEFAULT_CLAUSES:
        Clause.objects.get_or_create(number=number, version=1, defaults={"title": title, "body": body, "params": params})
    for reason, kind, items, note in DEFAULT_EVIDENCE:
        EvidenceRule.objects.get_or_create(reason=reason, kind=kind, defaults={"items": items, "note": note})


class Migration(migrations.Migration):
    dependencies = [("refunds", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
