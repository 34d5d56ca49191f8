# CardKey moved here from orders without touching the database: its table keeps the name
# orders_cardkey (Meta.db_table), this migration only tells Django's state that the model now
# belongs to inventory, and orders/0002 removes it from orders' state.

import django.db.models.deletion
from django.db import migrations, models

MOVED = ["cardkey"]


def move_content_types(apps, schema_editor, source="orders", target="inventory"):
    """Admin history and permissions point at the content type: rename it, never recreate it."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            ContentType.objects.using(db).filter(app_label=source, model=model).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="inventory", target="orders")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("catalog", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CardKey",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("secret_enc", models.TextField()),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("batch", models.CharField(blank=True, max_length=40, verbose_name="批次")),
                        ("status", models.CharField(choices=[("available", "可售"), ("assigned", "已发放"), ("revoked", "已撤回"), ("quarantined", "待核验")], default="available", max_length=12)),
                        ("assigned_at", models.DateTimeField(blank=True, null=True)),
                        ("viewed_at", models.DateTimeField(blank=True, null=True, verbose_name="首次查看")),
                        ("redeemed", models.BooleanField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("order", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="card_keys", to="orders.order")),
                        ("product", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="card_keys", to="catalog.product")),
                    ],
                    options={
                        "verbose_name": "卡密",
                        "verbose_name_plural": "卡密",
                        "db_table": "orders_cardkey",
                        "indexes": [models.Index(fields=["product", "status", "id"], name="orders_card_product_f94d9f_idx")],
                        "constraints": [
                            models.UniqueConstraint(fields=("product", "fingerprint"), name="cardkey_unique_per_product"),
                            models.CheckConstraint(condition=models.Q(models.Q(("order__isnull", False), ("status", "assigned")), models.Q(("status", "assigned"), _negated=True), _connector="OR"), name="cardkey_assigned_has_order"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
