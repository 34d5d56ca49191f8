"""Deadline becomes Timer (it also holds supplier polls); a case's internal decision state moves out
of `facts` (shown to buyers and sellers) into its own columns."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INTERNAL = ("void_order", "revoke_keys", "payment_ids", "info_requested_by", "appealed_at")


def facts_to_fields(apps, schema_editor):
    from django.utils.dateparse import parse_datetime

    RefundCase = apps.get_model("refunds", "RefundCase")
    for case in RefundCase.objects.all().iterator():
        facts = dict(case.facts or {})
        if not any(key in facts for key in INTERNAL):
            continue
        case.void_order = bool(facts.pop("void_order", False))
        case.revoke_keys = bool(facts.pop("revoke_keys", False))
        case.payment_ids = list(facts.pop("payment_ids", None) or [])
        case.info_requested_by_id = facts.pop("info_requested_by", None)
        appealed = facts.pop("appealed_at", None)
        case.appealed_at = parse_datetime(appealed) if appealed else None
        case.facts = facts
        case.save(
            update_fields=[
                "void_order",
                "revoke_keys",
                "payment_ids",
                "info_requested_by",
                "appealed_at",
                "facts",
            ]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("refunds", "0003_clause_11_invalid_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel(old_name="Deadline", new_name="Timer"),
        migrations.AlterField(
            model_name="timer",
            name="case",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="timers", to="refunds.refundcase"
            ),
        ),
        migrations.AlterField(
            model_name="timer",
            name="kind",
            field=models.CharField(
                choices=[
                    ("seller_answer", "卖家答复时限"),
                    ("buyer_offer", "买家确认卖家方案时限"),
                    ("buyer_info", "买家补充材料时限"),
                    ("supplier_answer", "供应商答复时限"),
                    ("supplier_recheck", "向供应商再次查询"),
                    ("review", "平台审核时限"),
                    ("finance", "财务复核时限"),
                    ("appeal", "申诉处理时限"),
                    ("appeal_window", "申诉期"),
                    ("gateway_refund", "原路退款到账时限"),
                    ("escalated", "主管督办时限"),
                ],
                max_length=30,
            ),
        ),
        migrations.AlterField(
            model_name="refundcase",
            name="seller_offer",
            field=models.CharField(
                blank=True,
                choices=[("partial", "部分退款"), ("replacement", "更换商品（补发）")],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="refundcase",
            name="void_order",
            field=models.BooleanField(default=False, help_text="全额退款：订单作废，不再发货"),
        ),
        migrations.AddField(
            model_name="refundcase",
            name="revoke_keys",
            field=models.BooleanField(default=False, help_text="作废已发卡密"),
        ),
        migrations.AddField(
            model_name="refundcase",
            name="payment_ids",
            field=models.JSONField(blank=True, default=list, help_text="只退回这些付款（重复支付）"),
        ),
        migrations.AddField(
            model_name="refundcase",
            name="info_requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="refundcase",
            name="appealed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(facts_to_fields, migrations.RunPython.noop),
    ]
