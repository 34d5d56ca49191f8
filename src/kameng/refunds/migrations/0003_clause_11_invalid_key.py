from django.db import migrations

TITLE = "卡密无效"
BODY = (
    "已查看的卡密无法使用，经供应商确认未被兑换或所属批次有问题的，平台立即补发；"
    "无库存或买家要求退款的，立即全额退款。同一订单自动补发以 1 次为限。"
)


def add(apps, schema_editor):
    # Data written here, not imported from the app, so this migration means the same thing forever.
    Clause = apps.get_model("refunds", "Clause")
    if not Clause.objects.filter(number=11).exists():
        Clause.objects.create(number=11, version=1, title=TITLE, body=BODY, params={"max_replacements_per_order": 1})


class Migration(migrations.Migration):
    dependencies = [("refunds", "0002_default_policy")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
