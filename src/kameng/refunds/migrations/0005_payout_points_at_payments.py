# Payment and GatewayRefund moved from orders to payments with their tables (see
# payments/0001_initial). Payout's foreign keys already point at those tables: only Django's state
# changes, the database is not touched.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("refunds", "0004_timer_and_decision_fields"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="payout",
                    name="gateway_refund",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="payments.gatewayrefund"),
                ),
                migrations.AlterField(
                    model_name="payout",
                    name="payment",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="payments.payment"),
                ),
            ],
            database_operations=[],
        ),
    ]
