# Payment, GatewayRefund, SandboxTrade and SandboxRefund moved here from orders without touching the
# database: their tables keep their orders_* names (Meta.db_table), this migration only tells
# Django's state that the models now belong to payments; refunds/0004 points Payout's foreign keys
# here, and orders/0002 removes the models from orders' state.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ["payment", "gatewayrefund", "sandboxtrade", "sandboxrefund"]


def move_content_types(apps, schema_editor, source="orders", target="payments"):
    """Admin history and permissions point at the content types: rename them, never recreate them."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            ContentType.objects.using(db).filter(app_label=source, model=model).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="payments", target="orders")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SandboxRefund",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key", models.CharField(max_length=80, unique=True)),
                        ("trade_no", models.CharField(max_length=64)),
                        ("amount", models.PositiveBigIntegerField()),
                        ("refund_no", models.CharField(max_length=64)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"db_table": "orders_sandboxrefund"},
                ),
                migrations.CreateModel(
                    name="SandboxTrade",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("out_trade_no", models.CharField(max_length=40, unique=True)),
                        ("subject", models.CharField(blank=True, max_length=120)),
                        ("amount", models.PositiveBigIntegerField()),
                        ("paid_amount", models.PositiveBigIntegerField(default=0)),
                        ("status", models.CharField(choices=[("waiting", "等待支付"), ("paid", "已支付"), ("failed", "支付失败")], default="waiting", max_length=10)),
                        ("trade_no", models.CharField(blank=True, max_length=64)),
                        ("paid_at", models.DateTimeField(blank=True, null=True)),
                        ("callbacks_sent", models.PositiveIntegerField(default=0)),
                        ("acknowledged", models.BooleanField(default=False)),
                    ],
                    options={"db_table": "orders_sandboxtrade"},
                ),
                migrations.CreateModel(
                    name="Payment",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("out_trade_no", models.CharField(max_length=40, unique=True, verbose_name="商户单号")),
                        ("purpose", models.CharField(choices=[("order", "订单支付"), ("topup", "余额充值")], max_length=10)),
                        ("method", models.CharField(choices=[("balance", "余额支付"), ("gateway", "在线支付")], max_length=10)),
                        ("gateway", models.CharField(blank=True, max_length=20)),
                        ("gateway_trade_no", models.CharField(blank=True, max_length=64, null=True, verbose_name="通道流水号")),
                        ("amount", models.PositiveBigIntegerField(verbose_name="金额（分）")),
                        ("status", models.CharField(choices=[("created", "待支付"), ("succeeded", "支付成功"), ("failed", "支付失败")], default="created", max_length=10)),
                        ("credited_to_balance", models.BooleanField(default=False)),
                        ("callbacks", models.PositiveIntegerField(default=0, verbose_name="回调次数")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("paid_at", models.DateTimeField(blank=True, null=True)),
                        ("order", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="payments", to="orders.order")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="payments", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name": "支付",
                        "verbose_name_plural": "支付",
                        "db_table": "orders_payment",
                        "ordering": ["created_at", "id"],
                        "constraints": [
                            models.UniqueConstraint(condition=models.Q(("gateway_trade_no__isnull", False)), fields=("gateway", "gateway_trade_no"), name="payment_gateway_trade_unique"),
                            models.CheckConstraint(condition=models.Q(("amount__gt", 0)), name="payment_amount_positive"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="GatewayRefund",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key", models.CharField(max_length=80, unique=True)),
                        ("amount", models.PositiveBigIntegerField()),
                        ("status", models.CharField(choices=[("pending", "处理中"), ("succeeded", "已退回"), ("failed", "失败，待重试")], default="pending", max_length=10)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("last_error", models.CharField(blank=True, max_length=200)),
                        ("gateway_refund_no", models.CharField(blank=True, max_length=64)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("payment", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="gateway_refunds", to="payments.payment")),
                    ],
                    options={
                        "verbose_name": "原路退款",
                        "verbose_name_plural": "原路退款",
                        "db_table": "orders_gatewayrefund",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
