# CardKey moved to inventory with its table (inventory/0001_initial). This removes it from orders'
# state only: the table orders_cardkey and its rows stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0001_initial"),
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="CardKey")],
            database_operations=[],
        ),
    ]
