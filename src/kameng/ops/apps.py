from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operator commands that span apps: serve, tick, load_demo."""

    name = "kameng.ops"
    label = "ops"
