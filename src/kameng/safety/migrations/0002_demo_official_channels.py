"""The demo platform's own channels (SPEC §9): what `make run` and a new install start with. Admins
change them in the admin. The normalised forms are written out here because a migration must not
depend on code that may change later."""

from django.db import migrations

DEFAULTS = [
    ("domain", "kameng.local", "kameng.local", "官方网站"),
    ("email", "support@kameng.local", "support@kameng.local", "官方客服邮箱"),
    ("phone", "400-820-6166", "4008206166", "官方客服热线"),
    ("social", "卡盟官方服务号", "卡盟官方服务号", "微信公众号"),
]


def add(apps, schema_editor):
    OfficialChannel = apps.get_model("safety", "OfficialChannel")
    for kind, value, normalized, name in DEFAULTS:
        OfficialChannel.objects.get_or_create(
            kind=kind, normalized=normalized, defaults={"value": value, "name": name}
        )


class Migration(migrations.Migration):
    dependencies = [("safety", "0001_official_channels")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
