# Payment, GatewayRefund, SandboxTrade and SandboxRefund moved to payments with their tables
# (payments/0001_initial). This removes them from orders' state only: the tables and their rows
# stay. It runs after refunds/0004, which points Payout's foreign keys at payments first.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_move_card_keys_out"),
        ("payments", "0001_initial"),
        ("refunds", "0005_payout_points_at_payments"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="GatewayRefund"),
                migrations.DeleteModel(name="Payment"),
                migrations.DeleteModel(name="SandboxRefund"),
                migrations.DeleteModel(name="SandboxTrade"),
            ],
            database_operations=[],
        ),
    ]
